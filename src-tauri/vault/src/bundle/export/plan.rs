//! What an export is for and what goes in, decided before a byte is written.

use std::collections::BTreeSet;

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::{ExportOptions, ExportScope};
use crate::bundle::Recipient;
use crate::error::{Error, Result};
use crate::model;
use crate::revision::Revision;
use crate::store::{self, audit, blobs, peers, revisions};

/// How a passphrase bundle's recipient is named in its manifest and report.
pub const PASSPHRASE_RECIPIENT: &str = "passphrase (scrypt)";

/// Whom a bundle is encrypted to.
pub(super) struct Addressees {
    /// The keys (none for a passphrase bundle).
    pub recipients: Vec<Recipient>,
    /// Their names as the manifest lists them, sorted.
    pub names: Vec<String>,
    /// The key under which what they have is remembered (the export cursor).
    pub key: String,
}

/// The vault's recipients plus any given now — or the passphrase alone.
pub(super) fn addressees(conn: &Connection, opts: &ExportOptions) -> Result<Addressees> {
    let mut recipients: Vec<Recipient> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    if opts.passphrase.is_some() {
        names.push(PASSPHRASE_RECIPIENT.to_owned());
    } else {
        for r in peers::recipients(conn)? {
            recipients.push(r.recipient.parse()?);
        }
        // A key the vault was not told about is a new way out: only with the passphrase again.
        let known: Vec<String> = recipients.iter().map(ToString::to_string).collect();
        let new_key = opts
            .extra_recipients
            .iter()
            .any(|r| !known.contains(&r.to_string()));
        if new_key && opts.confirmed.is_none() {
            return Err(Error::NeedsPassphrase);
        }
        recipients.extend(opts.extra_recipients.iter().cloned());
        names = recipients.iter().map(ToString::to_string).collect();
        names.sort();
        names.dedup();
    }
    if names.is_empty() {
        return Err(Error::NoRecipients);
    }
    let key = recipients_key(&names);
    Ok(Addressees {
        recipients,
        names,
        key,
    })
}

/// The key under which the export cursor of a set of recipients is kept.
fn recipients_key(recipients: &[String]) -> String {
    let mut sorted = recipients.to_vec();
    sorted.sort();
    sorted.dedup();
    hex::encode(Sha256::digest(sorted.join("\n").as_bytes()))
}

/// What goes into a bundle.
pub(super) struct Contents {
    /// Revisions, by local sequence number, oldest first.
    pub seqs: Vec<i64>,
    /// Where a since-last export started: (revision seq, audit seq).
    pub since: (i64, i64),
    /// Records with revisions in the bundle.
    pub records: BTreeSet<String>,
    /// `records.jsonl`: its size and SHA-256 (its lines are generated again while writing).
    pub records_size: u64,
    pub records_sha256: String,
    /// Attachments the revisions refer to: (sha256, file, size).
    pub blobs: Vec<(String, String, u64)>,
    /// `audit.jsonl`, and how many events it holds.
    pub audit: Vec<u8>,
    pub audit_events: usize,
    /// The newest audit event of the vault (where the next since-last export starts).
    pub last_audit: i64,
}

/// One line of `records.jsonl`.
pub(super) fn revision_line(rev: &Revision) -> Result<Vec<u8>> {
    let mut line = serde_json::to_vec(rev).map_err(|e| Error::Verify(e.to_string()))?;
    line.push(b'\n');
    Ok(line)
}

pub(super) fn contents(conn: &Connection, scope: &ExportScope, key: &str) -> Result<Contents> {
    let since = match scope {
        ExportScope::SinceLast => peers::export_cursor(conn, key)?.unwrap_or((0, 0)),
        _ => (0, 0),
    };
    let seqs = revision_seqs(conn, scope, since.0)?;
    if seqs.is_empty() {
        return Err(Error::NothingToExport);
    }
    let mut blob_set = BTreeSet::new();
    let mut records = BTreeSet::new();
    let (mut records_size, mut hash) = (0u64, Sha256::new());
    for &seq in &seqs {
        let rev = revisions::by_seq(conn, seq)?;
        let line = revision_line(&rev)?;
        records_size += line.len() as u64;
        hash.update(&line);
        records.insert(rev.record.to_string());
        if let Some(d) = &rev.data {
            blob_set.extend(model::attachment_blobs(d).map(str::to_owned));
        }
    }
    let mut blob_rows = Vec::new();
    for sha in blob_set {
        let (file, size) = blobs::file_and_size(conn, &sha)?.ok_or_else(|| {
            Error::Verify(format!(
                "attachment {} is referenced but not stored: verify the vault",
                &sha[..12]
            ))
        })?;
        blob_rows.push((sha, file, size));
    }
    let (audit, audit_events, last_audit) = audit_lines(conn, scope, since.1, &records)?;
    Ok(Contents {
        seqs,
        since,
        records,
        records_size,
        records_sha256: hex::encode(hash.finalize()),
        blobs: blob_rows,
        audit,
        audit_events,
        last_audit,
    })
}

/// The revisions in scope (never purged ones: their content no longer exists).
fn revision_seqs(conn: &Connection, scope: &ExportScope, since: i64) -> Result<Vec<i64>> {
    match scope {
        ExportScope::All | ExportScope::SinceLast => store::collect(
            conn.prepare("SELECT seq FROM revisions WHERE seq > ?1 AND purged = 0 ORDER BY seq")?
                .query_map([since], |r| r.get(0))?,
        ),
        ExportScope::Records(ids) => {
            let mut all = BTreeSet::new();
            for id in ids {
                store::record_kind(conn, *id)?;
                all.extend(
                    revisions::ancestry(conn, *id)?
                        .into_iter()
                        .filter(|r| !r.purged)
                        .map(|r| r.seq),
                );
            }
            Ok(all.into_iter().collect())
        }
    }
}

/// Fields of an audit event that stay in this vault: why a record was purged is the purging
/// caseworker's note (a court order, what the witness said), not the coordinators'.
const LOCAL_ONLY: &[(&str, &str)] = &[("record_purged", "reason")];

/// An audit event as it travels: its local-only fields removed (its hash is the local chain's,
/// so a reader of `audit.jsonl` cannot recompute it for such an event).
fn travelling(e: &audit::AuditEvent) -> audit::AuditEvent {
    let mut e = e.clone();
    let kind = e
        .event
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or("")
        .to_owned();
    if let Some(o) = e.event.as_object_mut() {
        for (event, field) in LOCAL_ONLY {
            if kind == *event {
                o.remove(*field);
            }
        }
    }
    e
}

/// The audit events covered, as `audit.jsonl`; their count; the vault's newest event.
fn audit_lines(
    conn: &Connection,
    scope: &ExportScope,
    since: i64,
    records: &BTreeSet<String>,
) -> Result<(Vec<u8>, usize, i64)> {
    let all = audit::all(conn)?;
    let last = all.last().map_or(0, |e| e.seq);
    let covered = |e: &audit::AuditEvent| match scope {
        ExportScope::Records(_) => e
            .event
            .get("record")
            .and_then(|r| r.as_str())
            .is_some_and(|r| records.contains(r)),
        _ => e.seq > since,
    };
    let mut bytes = Vec::new();
    let mut n = 0;
    for e in all.iter().filter(|e| covered(e)) {
        let e = travelling(e);
        serde_json::to_writer(&mut bytes, &e).map_err(|e| Error::Verify(e.to_string()))?;
        bytes.push(b'\n');
        n += 1;
    }
    Ok((bytes, n, last))
}
