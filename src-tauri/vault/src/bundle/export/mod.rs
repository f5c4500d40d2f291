//! Writing a bundle: vault → tar → age → temporary file in the destination folder → fsync →
//! rename, in one pass and constant memory (docs/bundle-format.md "Writing").
//!
//! In phases: whom it is for and what goes in ([`plan`]), where it goes (`destination`), the
//! file itself ([`write`]), then what the vault remembers (`record`): the export cursor of
//! these recipients and an audit event. A failed or cancelled export removes its partial file
//! and records nothing.

mod plan;
mod write;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rusqlite::Connection;
use serde::Serialize;

use super::share::{self, PartnerPlan};
use super::{BundleLimits, Recipient};
use crate::crypto::keys::VaultSecrets;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::model::RecordId;
use crate::revision;
use crate::store::{audit, partners, peers};

pub use plan::PASSPHRASE_RECIPIENT;

/// What to put in a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportScope {
    /// Every revision and the whole audit log.
    All,
    /// What is new since the last export to the same set of recipients.
    SinceLast,
    /// The whole history of these records.
    Records(Vec<RecordId>),
}

/// How to export.
#[derive(Debug)]
pub struct ExportOptions {
    /// Scope.
    pub scope: ExportScope,
    /// Recipients in addition to the vault's configured ones. Any that is not among them
    /// needs `confirmed`.
    pub extra_recipients: Vec<Recipient>,
    /// The passphrase was typed again for this export (needed for keys not configured).
    pub confirmed: Option<crate::crypto::keys::Confirmed>,
    /// A folder (the file gets its standard name) or a file path.
    pub output: PathBuf,
    /// ASCII armor instead of binary age.
    pub armor: bool,
    /// Encrypt to this passphrase (scrypt) alone, instead of to the recipients; only where the
    /// vault's policy allows it ([`crate::Vault::set_passphrase_bundles`]).
    pub passphrase: Option<crate::crypto::keys::Passphrase>,
    /// Set (from another thread) to stop the export: the partial file is removed and nothing
    /// is recorded.
    pub cancel: Option<Arc<AtomicBool>>,
    /// What one bundle may hold: the importer's caps (tests use smaller ones on both sides).
    pub limits: BundleLimits,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// The bundle files, in the order they are to be imported: one, unless one bundle would
    /// hold more than an importer accepts (docs/bundle-format.md "Caps").
    pub bundles: Vec<ExportedBundle>,
    /// Distinct records with revisions in the bundles.
    pub records: usize,
    /// Revisions.
    pub revisions: usize,
    /// Attachments.
    pub blobs: usize,
    /// Audit events.
    pub audit_events: usize,
    /// Recipients it is encrypted to.
    pub recipients: Vec<String>,
}

/// One bundle file an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedBundle {
    /// The file.
    pub path: PathBuf,
    /// SHA-256 of the file, to compare after copying it.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// The bundle id (also in the manifest).
    pub bundle_id: String,
}

/// The configured recipients.
pub(crate) fn list_recipients(conn: &Connection) -> Result<Vec<super::RecipientEntry>> {
    Ok(peers::recipients(conn)?
        .into_iter()
        .map(|r| super::RecipientEntry {
            recipient: r.recipient,
            label: r.label,
            added_at: r.added_at,
        })
        .collect())
}

/// Where a bundle goes: its folder, its final name, and the partial file written first.
struct Destination {
    dir: PathBuf,
    path: PathBuf,
    partial: PathBuf,
}

/// A bundle's id, creation time and file name (a time stamp, its place among the bundles of
/// the export, the id's first digits: nothing about who made it or what it holds).
struct Identity {
    bundle_id: String,
    created_at: String,
    file_name: String,
    mtime: u64,
    /// Its place: (number, of how many).
    part: (usize, usize),
}

impl Identity {
    fn new(part: (usize, usize)) -> Self {
        let bundle_id = uuid::Uuid::new_v4().to_string();
        let now = time::OffsetDateTime::now_utc();
        let stamp = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        Identity {
            file_name: format!(
                "kuager-{stamp}{}-{}.kuager.age",
                part_tag(part),
                &bundle_id[..8]
            ),
            bundle_id,
            created_at: revision::now(),
            mtime: now.unix_timestamp().max(0) as u64,
            part,
        }
    }
}

/// `-2of3` in the names of the bundles of an export that needed several; nothing for one.
fn part_tag((number, of): (usize, usize)) -> String {
    if of == 1 {
        return String::new();
    }
    let width = of.to_string().len();
    format!("-{number:0width$}of{of}")
}

/// A file path given for an export of several bundles: `name-2of3.kuager.age` for the second.
fn numbered(path: &Path, part: (usize, usize)) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = match name.strip_suffix(".kuager.age") {
        Some(stem) => (stem.to_owned(), ".kuager.age".to_owned()),
        None => match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem.to_owned(), format!(".{ext}")),
            _ => (name.clone(), String::new()),
        },
    };
    path.with_file_name(format!("{stem}{}{ext}", part_tag(part)))
}

fn destination(output: &Path, id: &Identity) -> Result<Destination> {
    let (dir, path) = if output.is_dir() {
        (output.to_owned(), output.join(&id.file_name))
    } else {
        let parent = output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        if !parent.is_dir() {
            return Err(Error::invalid(
                "output",
                format!("the folder {} does not exist", parent.display()),
            ));
        }
        let path = match id.part {
            (_, 1) => output.to_owned(),
            part => numbered(output, part),
        };
        (parent, path)
    };
    if path.exists() {
        return Err(Error::invalid(
            "output",
            format!("{} already exists: choose another name", path.display()),
        ));
    }
    let partial = dir.join(format!(".kuager-export-{}.partial", fsutil::random_name()));
    Ok(Destination { dir, path, partial })
}

/// Writes the bundles of an export, in order. `progress` receives the bytes written so far.
/// A failure or a cancel removes every file this export wrote and records nothing.
///
/// A bundle to a partner organisation (`partner`, planned by `crate::bundle::share`) is
/// encrypted to that partner alone and holds the revisions its plan made.
pub(crate) fn export(
    conn: &Connection,
    secrets: &VaultSecrets,
    vault_dir: &Path,
    opts: &ExportOptions,
    partner: Option<&PartnerPlan>,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportReport> {
    let (to, contents) = match partner {
        None => {
            let to = plan::addressees(conn, opts)?;
            let contents = plan::contents(conn, &opts.scope, &to, &opts.limits)?;
            (to, contents)
        }
        Some(p) => {
            let to = plan::Addressees {
                recipients: vec![p.recipient.parse()?],
                names: vec![p.recipient.clone()],
                key: String::new(),
            };
            let contents = plan::partner_contents(conn, p, &to, &opts.limits)?;
            (to, contents)
        }
    };
    let n = contents.parts.len();
    let ids: Vec<Identity> = (1..=n).map(|k| Identity::new((k, n))).collect();
    let dests = ids
        .iter()
        .map(|id| destination(&opts.output, id))
        .collect::<Result<Vec<_>>>()?;
    let mut bundles: Vec<ExportedBundle> = Vec::new();
    let mut before = 0u64;
    for ((part, id), dest) in contents.parts.iter().zip(&ids).zip(&dests) {
        let job = write::Job {
            conn,
            secrets,
            vault_dir,
            opts,
            partner,
            to: &to,
            contents: &contents,
            part,
            id,
        };
        match write_one(&job, dest, &mut |b| progress(before + b)) {
            Ok(b) => {
                before += b.size;
                bundles.push(b);
            }
            Err(e) => return Err(remove_all(&bundles, &dest.dir, e)),
        }
    }
    // What left is on record, or nothing left.
    let recorded = match partner {
        None => record(conn, secrets, opts, &to, &contents, &bundles),
        Some(p) => record_partner(conn, secrets, p, &bundles),
    };
    if let Err(e) = recorded {
        return Err(remove_all(&bundles, &dests[0].dir, e));
    }
    let records: BTreeSet<&String> = contents.parts.iter().flat_map(|p| &p.records).collect();
    Ok(ExportReport {
        records: records.len(),
        revisions: contents
            .parts
            .iter()
            .map(|p| p.seqs.len() + p.lines.len())
            .sum(),
        blobs: contents.parts.iter().map(|p| p.blobs.len()).sum(),
        audit_events: contents.parts.iter().map(|p| p.audit_events).sum(),
        recipients: to.names,
        bundles,
    })
}

/// Removes the bundles an export wrote before `e` stopped it; returns `e`.
fn remove_all(bundles: &[ExportedBundle], dir: &Path, e: Error) -> Error {
    for b in bundles {
        let _ = fs::remove_file(&b.path);
    }
    if !bundles.is_empty() {
        let _ = fsutil::sync_dir(dir);
    }
    e
}

/// One bundle: written to its partial file, then named (a reader never sees a half-written
/// bundle under its final name).
fn write_one(
    job: &write::Job<'_>,
    dest: &Destination,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportedBundle> {
    let cancelled = || {
        job.opts
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    };
    let (sha256, size) = match write::bundle(job, &dest.partial, progress) {
        Ok(_) if cancelled() => {
            let _ = fs::remove_file(&dest.partial);
            return Err(Error::Cancelled);
        }
        Ok(v) => v,
        Err(e) => {
            let _ = fs::remove_file(&dest.partial);
            return Err(if cancelled() { Error::Cancelled } else { e });
        }
    };
    if let Err(e) = fs::rename(&dest.partial, &dest.path) {
        let _ = fs::remove_file(&dest.partial);
        return Err(Error::io(format!("naming {}", dest.path.display()))(e));
    }
    if let Err(e) = fsutil::sync_dir(&dest.dir) {
        let _ = fs::remove_file(&dest.path);
        return Err(e);
    }
    Ok(ExportedBundle {
        path: dest.path.clone(),
        sha256,
        size,
        bundle_id: job.id.bundle_id.clone(),
    })
}

/// Remembers what the partner now has of each record, and records each bundle written: to
/// whom, and which of our records went (or were withdrawn).
fn record_partner(
    conn: &Connection,
    secrets: &VaultSecrets,
    p: &PartnerPlan,
    bundles: &[ExportedBundle],
) -> Result<()> {
    let tx = conn.unchecked_transaction()?;
    for o in &p.outgoing {
        partners::set_sent(&tx, &p.partner_id, &o.ours.to_string(), &o.sent)?;
    }
    let sent: BTreeSet<String> = p
        .preview
        .going
        .iter()
        .filter(|l| l.going != Some(share::Going::Unchanged))
        .map(|l| l.record.to_string())
        .collect();
    let withdrawn: Vec<String> = p
        .preview
        .withdrawn
        .iter()
        .map(|l| l.record.to_string())
        .collect();
    let of = bundles.len();
    for (k, b) in bundles.iter().enumerate() {
        audit::append(
            &tx,
            &secrets.device_id().to_string(),
            &revision::now(),
            "partner_bundle_exported",
            serde_json::json!({
                "bundle_id": b.bundle_id,
                "part": { "number": k + 1, "of": of },
                "partner": p.label,
                "recipient": p.recipient,
                "sent": sent,
                "withdrawn": withdrawn,
                "withheld": p.preview.withheld.len(),
                "sha256": b.sha256,
            }),
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Remembers what these recipients have, and records each bundle written.
fn record(
    conn: &Connection,
    secrets: &VaultSecrets,
    opts: &ExportOptions,
    to: &plan::Addressees,
    contents: &plan::Contents,
    bundles: &[ExportedBundle],
) -> Result<()> {
    let tx = conn.unchecked_transaction()?;
    if !matches!(opts.scope, ExportScope::Records(_)) {
        let now = revision::now();
        peers::advance_export_cursor(&tx, &to.key, contents.last_seq(), contents.last_audit, &now)?;
    }
    let of = bundles.len();
    for (k, (b, part)) in bundles.iter().zip(&contents.parts).enumerate() {
        audit::append(
            &tx,
            &secrets.device_id().to_string(),
            &revision::now(),
            "bundle_exported",
            serde_json::json!({
                "bundle_id": b.bundle_id,
                "part": { "number": k + 1, "of": of },
                "recipients": to.names,
                "revisions": part.seqs.len(),
                "records": part.records.len(),
                "blobs": part.blobs.len(),
                "sha256": b.sha256,
            }),
        )?;
    }
    tx.commit()?;
    Ok(())
}
