//! Writing a bundle: vault → tar → age → temporary file in the destination folder → fsync →
//! rename, in one pass and constant memory (docs/bundle-format.md "Writing").
//!
//! In phases: whom it is for and what goes in ([`plan`]), where it goes (`destination`), the
//! file itself ([`write`]), then what the vault remembers (`record`): the export cursor of
//! these recipients and an audit event. A failed or cancelled export removes its partial file
//! and records nothing.

mod plan;
mod write;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rusqlite::Connection;
use serde::Serialize;

use super::Recipient;
use crate::crypto::keys::VaultSecrets;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::model::RecordId;
use crate::revision;
use crate::store::{audit, peers};

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
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// The bundle file.
    pub path: PathBuf,
    /// SHA-256 of the file, to compare after copying it.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// The bundle id (also in the manifest).
    pub bundle_id: String,
    /// Distinct records with revisions in the bundle.
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

/// Where the bundle goes: its folder, its final name, and the partial file written first.
struct Destination {
    dir: PathBuf,
    path: PathBuf,
    partial: PathBuf,
}

/// The bundle's id, creation time and file name (a time stamp and the id's first digits:
/// nothing about who made it or what it holds).
struct Identity {
    bundle_id: String,
    created_at: String,
    file_name: String,
    mtime: u64,
}

impl Identity {
    fn new() -> Self {
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
            file_name: format!("kuager-{stamp}-{}.kuager.age", &bundle_id[..8]),
            bundle_id,
            created_at: revision::now(),
            mtime: now.unix_timestamp().max(0) as u64,
        }
    }
}

fn destination(output: &Path, file_name: &str) -> Result<Destination> {
    let (dir, path) = if output.is_dir() {
        (output.to_owned(), output.join(file_name))
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
        (parent, output.to_owned())
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

/// Writes a bundle. `progress` receives the bytes of the bundle written so far.
pub(crate) fn export(
    conn: &Connection,
    secrets: &VaultSecrets,
    vault_dir: &Path,
    opts: &ExportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportReport> {
    let to = plan::addressees(conn, opts)?;
    let contents = plan::contents(conn, &opts.scope, &to.key)?;
    let id = Identity::new();
    let dest = destination(&opts.output, &id.file_name)?;
    let job = write::Job {
        conn,
        secrets,
        vault_dir,
        opts,
        to: &to,
        contents: &contents,
        id: &id,
    };
    let cancelled = || {
        opts.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    };
    let (sha256, size) = match write::bundle(&job, &dest.partial, progress) {
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
    // A reader never sees a half-written bundle under its final name.
    if let Err(e) = fs::rename(&dest.partial, &dest.path) {
        let _ = fs::remove_file(&dest.partial);
        return Err(Error::io(format!("naming {}", dest.path.display()))(e));
    }
    fsutil::sync_dir(&dest.dir)?;
    record(&job, &sha256)?;
    Ok(ExportReport {
        path: dest.path,
        sha256,
        size,
        bundle_id: id.bundle_id,
        records: contents.records.len(),
        revisions: contents.seqs.len(),
        blobs: contents.blobs.len(),
        audit_events: contents.audit_events,
        recipients: to.names,
    })
}

/// Remembers what these recipients have, and records the export.
fn record(job: &write::Job<'_>, sha256: &str) -> Result<()> {
    let (c, to) = (job.contents, job.to);
    let last_seq = *c.seqs.last().expect("not empty");
    let tx = job.conn.unchecked_transaction()?;
    if !matches!(job.opts.scope, ExportScope::Records(_)) {
        peers::advance_export_cursor(&tx, &to.key, last_seq, c.last_audit, &job.id.created_at)?;
    }
    audit::append(
        &tx,
        &job.secrets.device_id().to_string(),
        &revision::now(),
        "bundle_exported",
        serde_json::json!({
            "bundle_id": job.id.bundle_id,
            "recipients": to.names,
            "revisions": c.seqs.len(),
            "records": c.records.len(),
            "blobs": c.blobs.len(),
            "sha256": sha256,
        }),
    )?;
    tx.commit()?;
    Ok(())
}
