//! What an export is for and what goes in, decided before a byte is written.

use std::collections::BTreeSet;

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::{ExportOptions, ExportScope};
use crate::bundle::{BundleLimits, Recipient, MAX_REVISION_LINE_BYTES, README};
use crate::crypto::agefile::readdressed_size;
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

/// What an export writes: one bundle, or several where one would exceed the caps
/// (`crate::bundle::BundleLimits`), each importable once the earlier ones are in.
pub(super) struct Contents {
    /// The bundles, in the order they are to be imported.
    pub parts: Vec<Part>,
    /// Where a since-last export started: (revision seq, audit seq).
    pub since: (i64, i64),
    /// The newest audit event of the vault (where the next since-last export starts).
    pub last_audit: i64,
}

impl Contents {
    /// The newest revision exported.
    pub fn last_seq(&self) -> i64 {
        self.parts
            .iter()
            .filter_map(|p| p.seqs.last())
            .max()
            .copied()
            .unwrap_or(0)
    }
}

/// What goes into one bundle.
#[derive(Default)]
pub(super) struct Part {
    /// Revisions, by local sequence number, oldest first.
    pub seqs: Vec<i64>,
    /// Revisions made for this bundle alone (a partner's, `crate::bundle::share`), as lines
    /// of `records.jsonl`; after `seqs`.
    pub lines: Vec<Vec<u8>>,
    /// Records with revisions in this bundle.
    pub records: BTreeSet<String>,
    /// `records.jsonl`: its size and SHA-256 (its lines are generated again while writing).
    pub records_size: u64,
    pub records_sha256: String,
    /// Attachments its revisions refer to that no earlier bundle carries: (sha256, file, size).
    pub blobs: Vec<(String, String, u64)>,
    /// `audit.jsonl`, and how many events it holds.
    pub audit: Vec<u8>,
    pub audit_events: usize,
}

/// An upper bound of `manifest.json` without its entries: names, ids, recipients, scope.
fn manifest_base(names: &[String], scope: &ExportScope) -> u64 {
    let recipients: usize = names.iter().map(|n| n.len() + 16).sum();
    let ids = match scope {
        ExportScope::Records(ids) => ids.len() * 48,
        _ => 0,
    };
    (4096 + recipients + ids) as u64
}
/// An upper bound of one entry of `manifest.json`, pretty-printed (an attachment's has a path,
/// two sizes and two SHA-256s).
const MANIFEST_ENTRY: u64 = 512;
/// An upper bound of `manifest.json.minisig`.
const SIGNATURE: u64 = 1024;
/// The entries every bundle has besides attachments.
const FIXED_ENTRIES: usize = 6;
/// An upper bound of `bundle.key`.
const KEY_FILE: u64 = 512;

/// What a bundle would hold: its attachments (count, bytes), `records.jsonl` and `audit.jsonl`.
struct Load {
    blobs: usize,
    blob_bytes: u64,
    records: u64,
    audit: u64,
}

/// Fills bundles in order within the caps, starting another where the next revision (with the
/// attachments it brings) or the next audit event does not fit.
struct Planner<'l> {
    limits: &'l BundleLimits,
    manifest_base: u64,
    parts: Vec<Part>,
    part: Part,
    hash: Sha256,
    /// Attachments already in a bundle of this export.
    carried: BTreeSet<String>,
}

impl<'l> Planner<'l> {
    fn new(limits: &'l BundleLimits, manifest_base: u64) -> Self {
        Planner {
            limits,
            manifest_base,
            parts: Vec::new(),
            part: Part::default(),
            hash: Sha256::new(),
            carried: BTreeSet::new(),
        }
    }

    /// Whether the current bundle can take `more` within every cap.
    fn fits(&self, more: &Load) -> bool {
        let (l, p) = (self.limits, &self.part);
        let entries = FIXED_ENTRIES + p.blobs.len() + more.blobs;
        let manifest = self.manifest_base + entries as u64 * MANIFEST_ENTRY;
        let records = p.records_size + more.records;
        let audit = p.audit.len() as u64 + more.audit;
        let total = README.len() as u64
            + KEY_FILE
            + records
            + audit
            + p.blobs.iter().map(|b| readdressed_size(b.2)).sum::<u64>()
            + more.blob_bytes
            + manifest
            + SIGNATURE;
        entries <= l.entries
            && records <= l.records_bytes
            && audit <= l.small_bytes
            && manifest <= l.small_bytes
            && total <= l.total_bytes
    }

    /// Makes room for `more`: in the current bundle, else in a new one; `too_big` when not
    /// even an empty bundle can take it.
    fn room_for(&mut self, more: &Load, too_big: impl FnOnce() -> String) -> Result<()> {
        if self.fits(more) {
            return Ok(());
        }
        self.next_part();
        if self.fits(more) {
            return Ok(());
        }
        Err(Error::invalid(
            "export",
            format!("{}: it cannot leave in a bundle", too_big()),
        ))
    }

    /// Closes the current bundle (if it holds anything) and starts another.
    fn next_part(&mut self) {
        if self.part.seqs.is_empty() && self.part.lines.is_empty() && self.part.audit.is_empty() {
            return;
        }
        let mut done = std::mem::take(&mut self.part);
        done.records_sha256 = hex::encode(std::mem::take(&mut self.hash).finalize());
        self.parts.push(done);
    }

    /// The attachments of `rev` no bundle of this export carries yet.
    fn new_blobs(&self, conn: &Connection, rev: &Revision) -> Result<Vec<(String, String, u64)>> {
        let mut new: Vec<(String, String, u64)> = Vec::new();
        for sha in rev.data.iter().flat_map(model::attachment_blobs) {
            if self.carried.contains(sha) || new.iter().any(|(s, _, _)| s == sha) {
                continue;
            }
            let (file, size) = blobs::file_and_size(conn, sha)?.ok_or_else(|| {
                Error::Verify(format!(
                    "attachment {} is referenced but not stored: verify the vault",
                    &sha[..12]
                ))
            })?;
            if readdressed_size(size) > self.limits.blob_bytes {
                return Err(Error::invalid(
                    "export",
                    format!(
                        "attachment {} is larger than the {} bytes an importer accepts: it cannot leave in a bundle",
                        &sha[..12],
                        self.limits.blob_bytes
                    ),
                ));
            }
            new.push((sha.to_owned(), file, size));
        }
        Ok(new)
    }

    /// A stored revision (`seq`), or one made for this bundle.
    fn revision(&mut self, conn: &Connection, rev: &Revision, seq: Option<i64>) -> Result<()> {
        let line = revision_line(rev)?;
        if line.len() as u64 > MAX_REVISION_LINE_BYTES {
            return Err(Error::invalid(
                "export",
                format!(
                    "revision {} is longer than an importer reads: it cannot leave in a bundle",
                    rev.id.short()
                ),
            ));
        }
        let new = self.new_blobs(conn, rev)?;
        let more = Load {
            blobs: new.len(),
            blob_bytes: new.iter().map(|b| readdressed_size(b.2)).sum(),
            records: line.len() as u64,
            audit: 0,
        };
        self.room_for(&more, || {
            format!(
                "revision {} with its attachments is larger than one bundle may be",
                rev.id.short()
            )
        })?;
        let p = &mut self.part;
        p.records_size += line.len() as u64;
        self.hash.update(&line);
        match seq {
            Some(seq) => p.seqs.push(seq),
            None => p.lines.push(line),
        }
        p.records.insert(rev.record.to_string());
        self.carried.extend(new.iter().map(|b| b.0.clone()));
        p.blobs.extend(new);
        Ok(())
    }

    /// Audit events go after the revisions, into the last bundle while they fit.
    fn audit_event(&mut self, line: &[u8]) -> Result<()> {
        let more = Load {
            blobs: 0,
            blob_bytes: 0,
            records: 0,
            audit: line.len() as u64,
        };
        self.room_for(&more, || {
            "an audit event is larger than one bundle may hold".into()
        })?;
        self.part.audit.extend_from_slice(line);
        self.part.audit_events += 1;
        Ok(())
    }
}

/// One line of `records.jsonl`.
pub(super) fn revision_line(rev: &Revision) -> Result<Vec<u8>> {
    let mut line = serde_json::to_vec(rev).map_err(|e| Error::Verify(e.to_string()))?;
    line.push(b'\n');
    Ok(line)
}

/// What goes in, planned into bundles within `limits`.
pub(super) fn contents(
    conn: &Connection,
    scope: &ExportScope,
    to: &Addressees,
    limits: &BundleLimits,
) -> Result<Contents> {
    let since = match scope {
        ExportScope::SinceLast => peers::export_cursor(conn, &to.key)?.unwrap_or((0, 0)),
        _ => (0, 0),
    };
    let seqs = revision_seqs(conn, scope, since.0)?;
    if seqs.is_empty() {
        return Err(Error::NothingToExport);
    }
    let mut plan = Planner::new(limits, manifest_base(&to.names, scope));
    for seq in seqs {
        plan.revision(conn, &revisions::by_seq(conn, seq)?, Some(seq))?;
    }
    let records: BTreeSet<String> = plan
        .parts
        .iter()
        .chain(std::iter::once(&plan.part))
        .flat_map(|p| p.records.iter().cloned())
        .collect();
    let last_audit = audit_lines(conn, scope, since.1, &records, &mut |line| {
        plan.audit_event(line)
    })?;
    plan.next_part();
    Ok(Contents {
        parts: plan.parts,
        since,
        last_audit,
    })
}

/// What a partner bundle holds: the revisions its plan made, and no audit events (the
/// organisation's log is its own).
pub(super) fn partner_contents(
    conn: &Connection,
    partner: &crate::bundle::share::PartnerPlan,
    to: &Addressees,
    limits: &BundleLimits,
) -> Result<Contents> {
    if partner.outgoing.is_empty() {
        return Err(Error::NothingToExport);
    }
    let ids = partner.scope.as_ref().map_or(0, Vec::len);
    let mut plan = Planner::new(
        limits,
        manifest_base(&to.names, &ExportScope::All) + ids as u64 * 48,
    );
    for o in &partner.outgoing {
        plan.revision(conn, &o.rev, None)?;
    }
    plan.next_part();
    Ok(Contents {
        parts: plan.parts,
        since: (0, 0),
        last_audit: 0,
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

/// The audit events covered, each handed to `line` as a line of `audit.jsonl`; returns the
/// vault's newest event.
fn audit_lines(
    conn: &Connection,
    scope: &ExportScope,
    since: i64,
    records: &BTreeSet<String>,
    line: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<i64> {
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
    for e in all.iter().filter(|e| covered(e)) {
        let mut bytes =
            serde_json::to_vec(&travelling(e)).map_err(|e| Error::Verify(e.to_string()))?;
        bytes.push(b'\n');
        line(&bytes)?;
    }
    Ok(last)
}
