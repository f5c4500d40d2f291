//! Writing a bundle: vault → tar → age → temporary file in the destination folder → fsync →
//! rename, in one pass and constant memory (BUNDLE.md "Writing").

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{Recipient, FORMAT, README, ROOT, VERSION};
use crate::blobs;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::keys::VaultSecrets;
use crate::model::RecordId;
use crate::revision;
use crate::store::audit;

/// How a passphrase bundle's recipient is named in its manifest and report.
pub const PASSPHRASE_RECIPIENT: &str = "passphrase (scrypt)";

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
    /// Recipients in addition to the vault's configured ones.
    pub extra_recipients: Vec<Recipient>,
    /// A folder (the file gets its standard name) or a file path.
    pub output: PathBuf,
    /// ASCII armor instead of binary age.
    pub armor: bool,
    /// Encrypt to this passphrase (scrypt) alone, instead of to the recipients; only where the
    /// vault's policy allows it ([`crate::Vault::set_passphrase_bundles`]).
    pub passphrase: Option<crate::Passphrase>,
    /// Set (from another thread) to stop the export: the partial file is removed and nothing
    /// is recorded.
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
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

#[derive(Serialize)]
struct ManifestEntry {
    path: String,
    size: u64,
    sha256: String,
}

/// A piece of an attachment's plaintext on its way from the decrypting thread to the tar.
enum Chunk {
    Data(Zeroizing<Vec<u8>>),
    End,
    Fail(String),
}

/// Size of the plaintext pieces handed from the decrypting thread to the writer.
const CHUNK: usize = 256 * 1024;

/// Generates `records.jsonl` line by line from revision `seq`s (never all in memory).
struct RecordLines<'c> {
    conn: &'c Connection,
    seqs: std::vec::IntoIter<i64>,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for RecordLines<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            let Some(seq) = self.seqs.next() else {
                return Ok(0);
            };
            self.buf = record_line(self.conn, seq).map_err(io::Error::other)?;
            self.pos = 0;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn record_line(c: &Connection, seq: i64) -> Result<Vec<u8>> {
    revision_line(&crate::vault::revision_by_seq(c, seq)?)
}

/// One line of `records.jsonl`.
fn revision_line(rev: &revision::Revision) -> Result<Vec<u8>> {
    let mut line = serde_json::to_vec(rev).map_err(|e| Error::Verify(e.to_string()))?;
    line.push(b'\n');
    Ok(line)
}

/// The key under which the export cursor of a set of recipients is kept.
fn recipients_key(recipients: &[String]) -> String {
    let mut sorted = recipients.to_vec();
    sorted.sort();
    sorted.dedup();
    hex::encode(Sha256::digest(sorted.join("\n").as_bytes()))
}

fn tar_header(size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o600);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

/// Writes a bundle. `progress` receives the bytes of the bundle written so far.
pub(crate) fn export(
    conn: &Connection,
    secrets: &VaultSecrets,
    vault_dir: &Path,
    opts: &ExportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportReport> {
    // Recipients: the vault's own list plus any given now — or the passphrase alone.
    let mut recipients: Vec<Recipient> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    if opts.passphrase.is_some() {
        names.push(PASSPHRASE_RECIPIENT.to_owned());
    } else {
        let mut st = conn.prepare("SELECT recipient FROM recipients ORDER BY added_at")?;
        let rows: Vec<String> = st
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for r in rows {
            recipients.push(r.parse()?);
        }
        recipients.extend(opts.extra_recipients.iter().cloned());
        names = recipients.iter().map(ToString::to_string).collect();
        names.sort();
        names.dedup();
    }
    if names.is_empty() {
        return Err(Error::invalid(
            "recipients",
            "no recipients: add the coordinators' keys with `kuager recipients add age1…` (or give --to)",
        ));
    }
    let rkey = recipients_key(&names);

    // What goes in.
    let (since_rev, since_audit): (i64, i64) = match opts.scope {
        ExportScope::SinceLast => conn
            .query_row(
                "SELECT revision_seq, audit_seq FROM export_cursors WHERE recipients_key = ?1",
                [&rkey],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, 0)),
        _ => (0, 0),
    };
    let seqs: Vec<i64> = match &opts.scope {
        ExportScope::All | ExportScope::SinceLast => conn
            .prepare("SELECT seq FROM revisions WHERE seq > ?1 AND purged = 0 ORDER BY seq")?
            .query_map([since_rev], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?,
        ExportScope::Records(ids) => {
            let mut all = BTreeSet::new();
            let mut st = conn.prepare(
                "WITH RECURSIVE h(id) AS ( \
                     SELECT value FROM json_each((SELECT heads FROM records WHERE id = ?1)) \
                     UNION SELECT p.value FROM h CROSS JOIN revisions v ON v.id = h.id, json_each(v.parents) p) \
                 SELECT v.seq FROM h CROSS JOIN revisions v ON v.id = h.id WHERE v.purged = 0",
            )?;
            for id in ids {
                let exists: bool = conn.query_row(
                    "SELECT count(*) FROM records WHERE id = ?1",
                    [id.to_string()],
                    |r| r.get::<_, i64>(0).map(|n| n > 0),
                )?;
                if !exists {
                    return Err(Error::NotFound(format!("record {id}")));
                }
                for s in st.query_map([id.to_string()], |r| r.get::<_, i64>(0))? {
                    all.insert(s?);
                }
            }
            all.into_iter().collect()
        }
    };
    if seqs.is_empty() {
        return Err(Error::NothingToExport);
    }
    // Attachments referenced by the exported revisions, and how many records they cover.
    let mut blob_set = BTreeSet::new();
    let mut record_set = BTreeSet::new();
    let (mut rec_size, mut rec_hash) = (0u64, Sha256::new());
    for &seq in &seqs {
        let rev = crate::vault::revision_by_seq(conn, seq)?;
        let line = revision_line(&rev)?;
        rec_size += line.len() as u64;
        rec_hash.update(&line);
        record_set.insert(rev.record.to_string());
        for a in rev
            .data
            .as_ref()
            .and_then(|d| d.get("attachments"))
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(b) = a.get("blob").and_then(|b| b.as_str()) {
                blob_set.insert(b.to_owned());
            }
        }
    }
    let mut blob_rows = Vec::new();
    for sha in &blob_set {
        let row: Option<(String, i64)> = conn
            .query_row(
                "SELECT file, size FROM blobs WHERE sha256 = ?1",
                [sha],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (file, size) = row.ok_or_else(|| {
            Error::Verify(format!(
                "attachment {} is referenced but not stored; run `kuager verify`",
                &sha[..12]
            ))
        })?;
        blob_rows.push((sha.clone(), file, size as u64));
    }
    // Audit events covered.
    let events: Vec<audit::AuditEvent> = audit::all(conn)?
        .into_iter()
        .filter(|e| match &opts.scope {
            ExportScope::Records(_) => e
                .event
                .get("record")
                .and_then(|r| r.as_str())
                .is_some_and(|r| record_set.contains(r)),
            _ => e.seq > since_audit,
        })
        .collect();
    let mut audit_bytes = Vec::new();
    for e in &events {
        serde_json::to_writer(&mut audit_bytes, e).map_err(|e| Error::Verify(e.to_string()))?;
        audit_bytes.push(b'\n');
    }
    let last_audit = audit::all(conn)?.last().map_or(0, |e| e.seq);

    // Names and folders.
    let bundle_id = uuid::Uuid::new_v4().to_string();
    let created_at = revision::now();
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
    let file_name = format!("kuager-{stamp}-{}.kuager.age", &bundle_id[..8]);
    let (dest_dir, final_path) = if opts.output.is_dir() {
        (opts.output.clone(), opts.output.join(&file_name))
    } else {
        let parent = opts
            .output
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
        (parent, opts.output.clone())
    };
    if final_path.exists() {
        return Err(Error::invalid(
            "output",
            format!(
                "{} already exists: choose another name",
                final_path.display()
            ),
        ));
    }
    let tmp = dest_dir.join(format!(".kuager-export-{}.partial", fsutil::random_name()));

    let device_key = secrets.device_public_key();
    let label: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'label'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let mtime = now.unix_timestamp().max(0) as u64;
    let result = (|| -> Result<(String, u64)> {
        // The bundle file fills on its own thread, which also hashes it (crate::sink).
        let sink = crate::sink::Sink::create(&tmp, true).map_err(Error::io(format!(
            "creating a file in {}",
            dest_dir.display()
        )))?;
        let format = if opts.armor {
            age::armor::Format::AsciiArmor
        } else {
            age::armor::Format::Binary
        };
        let armored = age::armor::ArmoredWriter::wrap_output(sink, format)
            .map_err(Error::io("writing the bundle"))?;
        let enc = match &opts.passphrase {
            Some(p) => {
                // age's ~1 s calibration, kept within what importers accept from outside files.
                let mut r = age::scrypt::Recipient::new(p.secret());
                r.set_work_factor(crate::keys::calibrated_work_factor(p)?.clamp(
                    crate::keys::MIN_WORK_FACTOR,
                    super::import::MAX_OUTSIDE_WORK_FACTOR,
                ));
                age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
            }
            None => age::Encryptor::with_recipients(recipients.iter().map(Recipient::as_age)),
        }
        .map_err(|e| Error::Crypto(e.to_string()))?;
        let stream = enc
            .wrap_output(armored)
            .map_err(Error::io("writing the bundle"))?;
        let mut tar = tar::Builder::new(ProgressWriter {
            inner: stream,
            written: 0,
            last_report: 0,
            progress,
            cancel: opts.cancel.as_deref(),
        });
        let io_err = Error::io("writing the bundle");
        let mut entries = Vec::new();
        let put = |tar: &mut tar::Builder<_>,
                   path: String,
                   size: u64,
                   data: &mut dyn Read|
         -> Result<()> {
            let mut h = tar_header(size, mtime);
            tar.append_data(&mut h, format!("{ROOT}/{path}"), data)
                .map_err(Error::io(format!("writing {path} into the bundle")))
        };
        put(
            &mut tar,
            "README.txt".into(),
            README.len() as u64,
            &mut README.as_bytes(),
        )?;
        entries.push(ManifestEntry {
            path: "README.txt".into(),
            size: README.len() as u64,
            sha256: hex::encode(Sha256::digest(README.as_bytes())),
        });
        let mut lines = RecordLines {
            conn,
            seqs: seqs.clone().into_iter(),
            buf: Vec::new(),
            pos: 0,
        };
        put(&mut tar, "records.jsonl".into(), rec_size, &mut lines)?;
        entries.push(ManifestEntry {
            path: "records.jsonl".into(),
            size: rec_size,
            sha256: hex::encode(rec_hash.clone().finalize()),
        });
        put(
            &mut tar,
            "audit.jsonl".into(),
            audit_bytes.len() as u64,
            &mut &audit_bytes[..],
        )?;
        entries.push(ManifestEntry {
            path: "audit.jsonl".into(),
            size: audit_bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&audit_bytes)),
        });
        // Attachments: one thread decrypts them from the vault while this one writes them into
        // the tar and encrypts the bundle, and the sink's thread writes and hashes the file:
        // both cores, a few chunks in flight, constant memory. Each vault file is authenticated
        // by age as it is decrypted; its size is checked here and its SHA-256 by every importer
        // (the entry is named by it), and `kuager verify` checks both in the vault itself.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(4);
        let (back_tx, back_rx) = std::sync::mpsc::channel::<Zeroizing<Vec<u8>>>();
        let identity = secrets.identity();
        let rows = &blob_rows;
        std::thread::scope(|s| -> Result<()> {
            s.spawn(move || {
                for (_, file, _) in rows {
                    let mut r = match blobs::open(vault_dir, file, identity) {
                        Ok(r) => r,
                        Err(e) => {
                            let _ = tx.send(Chunk::Fail(e.to_string()));
                            return;
                        }
                    };
                    loop {
                        let mut buf = back_rx.try_recv().unwrap_or_default();
                        // (a recycled piece: overwritten below)
                        buf.resize(CHUNK, 0);
                        match blobs::read_full(&mut r, &mut buf) {
                            Ok(0) => {
                                if tx.send(Chunk::End).is_err() {
                                    return;
                                }
                                break;
                            }
                            Ok(n) => {
                                buf.truncate(n);
                                if tx.send(Chunk::Data(buf)).is_err() {
                                    return;
                                }
                            }
                            Err(e) => {
                                let _ = tx.send(Chunk::Fail(e.to_string()));
                                return;
                            }
                        }
                    }
                }
            });
            let written = (|| -> Result<()> {
                for (sha, _, size) in rows {
                    let path = format!("blobs/{sha}");
                    let err =
                        |e: io::Error| Error::io(format!("writing {path} into the bundle"))(e);
                    let mut h = tar_header(*size, mtime);
                    h.set_path(format!("{ROOT}/{path}")).map_err(&err)?;
                    h.set_cksum();
                    // Header, data, padding straight into the age stream (no intermediate copy).
                    let w = tar.get_mut();
                    w.write_all(h.as_bytes()).map_err(&err)?;
                    let mut got = 0u64;
                    loop {
                        match rx.recv() {
                            Ok(Chunk::Data(b)) => {
                                got += b.len() as u64;
                                let r = w.write_all(&b);
                                // Overwritten by the next piece; wiped when dropped.
                                let _ = back_tx.send(b);
                                r.map_err(&err)?;
                            }
                            Ok(Chunk::End) => break,
                            Ok(Chunk::Fail(m)) => return Err(err(io::Error::other(m))),
                            Err(_) => {
                                return Err(err(io::Error::other("the attachment reader stopped")))
                            }
                        }
                    }
                    if got != *size {
                        return Err(Error::Verify(format!(
                            "attachment {} has {got} bytes in this vault, {size} expected; run `kuager verify`",
                            &sha[..12]
                        )));
                    }
                    let pad = (512 - (got % 512) as usize) % 512;
                    w.write_all(&[0u8; 512][..pad]).map_err(&err)?;
                    entries.push(ManifestEntry {
                        path,
                        size: *size,
                        sha256: sha.clone(),
                    });
                }
                Ok(())
            })();
            // Unblocks the decrypting thread if writing stopped early.
            drop(rx);
            written
        })?;
        let manifest = serde_json::json!({
            "format": FORMAT,
            "version": VERSION,
            "bundle_id": bundle_id,
            "created_at": created_at,
            "source": {
                "vault_id": secrets.vault_id().to_string(),
                "device_id": secrets.device_id().to_string(),
                "device_public_key": device_key.minisign,
                "label": label,
            },
            "recipients": names,
            "scope": match &opts.scope {
                ExportScope::Records(ids) => serde_json::json!({ "records": ids }),
                ExportScope::All => serde_json::json!({ "records": "all", "since": serde_json::Value::Null }),
                ExportScope::SinceLast => serde_json::json!({ "records": "all", "since": { "revision_seq": since_rev, "audit_seq": since_audit } }),
            },
            "entries": entries,
            "counts": {
                "records": record_set.len(),
                "revisions": seqs.len(),
                "blobs": blob_rows.len(),
                "audit_events": events.len(),
            },
        });
        let mut manifest_bytes =
            serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Verify(e.to_string()))?;
        manifest_bytes.push(b'\n');
        let sig = secrets.sign_minisign(
            &manifest_bytes,
            &format!("kuager bundle {bundle_id} device {}", device_key.key_id),
        )?;
        put(
            &mut tar,
            "manifest.json".into(),
            manifest_bytes.len() as u64,
            &mut &manifest_bytes[..],
        )?;
        put(
            &mut tar,
            "manifest.json.minisig".into(),
            sig.len() as u64,
            &mut sig.as_bytes(),
        )?;
        tar.finish().map_err(Error::io("writing the bundle"))?;
        let stream = tar
            .into_inner()
            .map_err(Error::io("writing the bundle"))?
            .inner;
        let armored = stream.finish().map_err(Error::io("writing the bundle"))?;
        let sink = armored.finish().map_err(io_err)?;
        let written = sink.finish().map_err(Error::io("writing the bundle"))?;
        let sha = hex::encode(written.sha256.expect("asked for"));
        let size = written.size;
        Ok((sha, size))
    })();
    let cancelled = || {
        opts.cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    };
    let (sha256, size) = match result {
        Ok(_) if cancelled() => {
            let _ = fs::remove_file(&tmp);
            return Err(Error::Cancelled);
        }
        Ok(v) => v,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(if cancelled() { Error::Cancelled } else { e });
        }
    };
    // A reader never sees a half-written bundle under its final name.
    if let Err(e) = fs::rename(&tmp, &final_path) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(format!("naming {}", final_path.display()))(e));
    }
    fsutil::sync_dir(&dest_dir)?;

    // Remember what these recipients have, and record the export.
    let last_seq = *seqs.last().expect("not empty");
    let tx = conn.unchecked_transaction()?;
    if !matches!(opts.scope, ExportScope::Records(_)) {
        tx.execute(
            "INSERT INTO export_cursors(recipients_key, revision_seq, audit_seq, at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(recipients_key) DO UPDATE SET revision_seq = max(revision_seq, ?2), audit_seq = max(audit_seq, ?3), at = ?4",
            params![rkey, last_seq, last_audit, created_at],
        )?;
    }
    audit::append(
        &tx,
        &secrets.device_id().to_string(),
        &revision::now(),
        "bundle_exported",
        serde_json::json!({
            "bundle_id": bundle_id,
            "recipients": names,
            "revisions": seqs.len(),
            "records": record_set.len(),
            "blobs": blob_rows.len(),
            "sha256": sha256,
        }),
    )?;
    tx.commit()?;
    Ok(ExportReport {
        path: final_path,
        sha256,
        size,
        bundle_id,
        records: record_set.len(),
        revisions: seqs.len(),
        blobs: blob_rows.len(),
        audit_events: events.len(),
        recipients: names,
    })
}

struct ProgressWriter<'p, W> {
    inner: W,
    written: u64,
    last_report: u64,
    progress: &'p mut dyn FnMut(u64),
    cancel: Option<&'p std::sync::atomic::AtomicBool>,
}

impl<W: Write> Write for ProgressWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self
            .cancel
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
        {
            return Err(io::Error::other("cancelled"));
        }
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        if self.written - self.last_report >= 8 << 20 {
            (self.progress)(self.written);
            self.last_report = self.written;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The configured recipients.
pub(crate) fn list_recipients(conn: &Connection) -> Result<Vec<super::RecipientEntry>> {
    let mut st =
        conn.prepare("SELECT recipient, label, added_at FROM recipients ORDER BY added_at")?;
    let rows = st.query_map([], |r| {
        Ok(super::RecipientEntry {
            recipient: r.get(0)?,
            label: r.get(1)?,
            added_at: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
