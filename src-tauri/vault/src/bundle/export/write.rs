//! The bundle file itself: a tar stream inside age, written in one pass and constant memory.
//! Three threads share the work: one decrypts attachments from the vault, this one builds the
//! tar and encrypts it, and the sink's writes and hashes the file (`crate::crypto::Sink`).

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::plan::{revision_line, Addressees, Contents, Part};
use super::{ExportOptions, ExportScope, Identity};
use crate::bundle::{import::MAX_OUTSIDE_WORK_FACTOR, Recipient, FORMAT, README, ROOT, VERSION};
use crate::crypto::blobs;
use crate::crypto::keys::{self, VaultSecrets};
use crate::crypto::Sink;
use crate::error::{Error, Result};
use crate::store::{meta, revisions};

/// Everything an export writes from.
pub(super) struct Job<'a> {
    pub conn: &'a Connection,
    pub secrets: &'a VaultSecrets,
    pub vault_dir: &'a Path,
    pub opts: &'a ExportOptions,
    pub to: &'a Addressees,
    /// The whole export.
    pub contents: &'a Contents,
    /// This bundle's share of it.
    pub part: &'a Part,
    pub id: &'a Identity,
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

/// Generates `records.jsonl` line by line from revision `seq`s (never all in memory),
/// counting and hashing what it gives, to be compared with the plan the manifest states.
struct RecordLines<'c> {
    conn: &'c Connection,
    seqs: std::slice::Iter<'c, i64>,
    buf: Vec<u8>,
    pos: usize,
    size: u64,
    hash: Sha256,
}

impl Read for RecordLines<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            let Some(&seq) = self.seqs.next() else {
                return Ok(0);
            };
            self.buf = revisions::by_seq(self.conn, seq)
                .and_then(|r| revision_line(&r))
                .map_err(io::Error::other)?;
            self.pos = 0;
            self.size += self.buf.len() as u64;
            self.hash.update(&self.buf);
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
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

/// Counts what is written, reports progress every 8 MiB, and stops when cancelled.
struct ProgressWriter<'p, W> {
    inner: W,
    written: u64,
    last_report: u64,
    progress: &'p mut dyn FnMut(u64),
    cancel: Option<&'p AtomicBool>,
}

impl<W: Write> Write for ProgressWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
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

type Stream<'p> = ProgressWriter<'p, age::stream::StreamWriter<age::armor::ArmoredWriter<Sink>>>;

/// The age layer over a new file at `partial`: to the recipients, or to the passphrase alone.
fn encrypted<'p>(
    job: &'p Job<'_>,
    partial: &Path,
    progress: &'p mut dyn FnMut(u64),
) -> Result<Stream<'p>> {
    let io_err = || Error::io("writing the bundle");
    // The bundle file fills on its own thread, which also hashes it.
    let sink = Sink::create(partial, true).map_err(Error::io(format!(
        "creating a file in {}",
        partial.parent().unwrap_or(Path::new(".")).display()
    )))?;
    let format = if job.opts.armor {
        age::armor::Format::AsciiArmor
    } else {
        age::armor::Format::Binary
    };
    let armored = age::armor::ArmoredWriter::wrap_output(sink, format).map_err(io_err())?;
    let enc = match &job.opts.passphrase {
        Some(p) => {
            // age's ~1 s calibration, kept within what importers accept from outside files.
            let mut r = age::scrypt::Recipient::new(p.secret());
            r.set_work_factor(
                keys::calibrated_work_factor(p)?
                    .clamp(keys::MIN_WORK_FACTOR, MAX_OUTSIDE_WORK_FACTOR),
            );
            age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
        }
        None => age::Encryptor::with_recipients(job.to.recipients.iter().map(Recipient::as_age)),
    }
    .map_err(|e| Error::Crypto(e.to_string()))?;
    let stream = enc.wrap_output(armored).map_err(io_err())?;
    Ok(ProgressWriter {
        inner: stream,
        written: 0,
        last_report: 0,
        progress,
        cancel: job.opts.cancel.as_deref(),
    })
}

/// Appends one entry read from `data`.
fn put(
    tar: &mut tar::Builder<impl Write>,
    path: &str,
    size: u64,
    mtime: u64,
    data: &mut dyn Read,
) -> Result<()> {
    let mut h = tar_header(size, mtime);
    tar.append_data(&mut h, format!("{ROOT}/{path}"), data)
        .map_err(Error::io(format!("writing {path} into the bundle")))
}

/// Appends one entry held in memory, and its line of the manifest.
fn put_listed(
    tar: &mut tar::Builder<impl Write>,
    path: &str,
    bytes: &[u8],
    mtime: u64,
    entries: &mut Vec<ManifestEntry>,
) -> Result<()> {
    put(tar, path, bytes.len() as u64, mtime, &mut &bytes[..])?;
    entries.push(ManifestEntry {
        path: path.to_owned(),
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
    });
    Ok(())
}

/// Writes the whole bundle to `partial`; returns its SHA-256 and size.
pub(super) fn bundle(
    job: &Job<'_>,
    partial: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<(String, u64)> {
    let (c, mtime) = (job.part, job.id.mtime);
    let mut tar = tar::Builder::new(encrypted(job, partial, progress)?);
    let mut entries = Vec::new();
    put_listed(
        &mut tar,
        "README.txt",
        README.as_bytes(),
        mtime,
        &mut entries,
    )?;
    let mut lines = RecordLines {
        conn: job.conn,
        seqs: c.seqs.iter(),
        buf: Vec::new(),
        pos: 0,
        size: 0,
        hash: Sha256::new(),
    };
    put(&mut tar, "records.jsonl", c.records_size, mtime, &mut lines)?;
    // The tar pads what falls short of its header: a revision changed since the plan (another
    // program on the vault) would give a bundle every importer refuses. Said here instead.
    if lines.size != c.records_size || hex::encode(lines.hash.finalize()) != c.records_sha256 {
        return Err(Error::Verify(
            "the vault changed while the bundle was written: export again".into(),
        ));
    }
    entries.push(ManifestEntry {
        path: "records.jsonl".into(),
        size: c.records_size,
        sha256: c.records_sha256.clone(),
    });
    put_listed(&mut tar, "audit.jsonl", &c.audit, mtime, &mut entries)?;
    entries.extend(attachments(job, tar.get_mut())?);
    let manifest = manifest(job, &entries)?;
    let device_key = job.secrets.device_public_key();
    let sig = job.secrets.sign_minisign(
        &manifest,
        &format!(
            "kuager bundle {} device {}",
            job.id.bundle_id, device_key.key_id
        ),
    )?;
    put(
        &mut tar,
        "manifest.json",
        manifest.len() as u64,
        mtime,
        &mut &manifest[..],
    )?;
    put(
        &mut tar,
        "manifest.json.minisig",
        sig.len() as u64,
        mtime,
        &mut sig.as_bytes(),
    )?;
    tar.finish().map_err(Error::io("writing the bundle"))?;
    let stream = tar
        .into_inner()
        .map_err(Error::io("writing the bundle"))?
        .inner;
    let armored = stream.finish().map_err(Error::io("writing the bundle"))?;
    let sink = armored.finish().map_err(Error::io("writing the bundle"))?;
    let written = sink.finish().map_err(Error::io("writing the bundle"))?;
    Ok((
        hex::encode(written.sha256.expect("asked for")),
        written.size,
    ))
}

/// `manifest.json`: what the bundle is, who made it, for whom, and every other entry with its
/// size and SHA-256.
fn manifest(job: &Job<'_>, entries: &[ManifestEntry]) -> Result<Vec<u8>> {
    let (c, s) = (job.part, job.secrets);
    let device_key = s.device_public_key();
    let label = meta::get(job.conn, meta::LABEL)?;
    let (since_rev, since_audit) = job.contents.since;
    let (number, of) = job.id.part;
    let manifest = serde_json::json!({
        "format": FORMAT,
        "version": VERSION,
        "bundle_id": job.id.bundle_id,
        "created_at": job.id.created_at,
        "source": {
            "vault_id": s.vault_id().to_string(),
            "device_id": s.device_id().to_string(),
            "device_public_key": device_key.minisign,
            "label": label,
        },
        "recipients": job.to.names,
        "part": { "number": number, "of": of },
        "scope": match &job.opts.scope {
            ExportScope::Records(ids) => serde_json::json!({ "records": ids }),
            ExportScope::All => serde_json::json!({ "records": "all", "since": serde_json::Value::Null }),
            ExportScope::SinceLast => serde_json::json!({ "records": "all", "since": { "revision_seq": since_rev, "audit_seq": since_audit } }),
        },
        "entries": entries,
        "counts": {
            "records": c.records.len(),
            "revisions": c.seqs.len(),
            "blobs": c.blobs.len(),
            "audit_events": c.audit_events,
        },
    });
    let mut bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Verify(e.to_string()))?;
    bytes.push(b'\n');
    // The plan keeps the manifest within the cap; checked here so that an estimate gone wrong
    // fails the export, not every import.
    if bytes.len() as u64 > job.opts.limits.small_bytes {
        return Err(Error::invalid(
            "export",
            "the bundle's manifest would be larger than an importer accepts",
        ));
    }
    Ok(bytes)
}

/// Attachments: one thread decrypts them from the vault while this one writes them into the
/// tar and encrypts the bundle: both cores, a few chunks in flight, constant memory. Each vault
/// file is authenticated by age as it is decrypted; its size is checked here and its SHA-256 by
/// every importer (the entry is named by it), and `verify` checks both in the vault itself.
fn attachments(job: &Job<'_>, w: &mut impl Write) -> Result<Vec<ManifestEntry>> {
    let (tx, rx) = mpsc::sync_channel::<Chunk>(4);
    let (back_tx, back_rx) = mpsc::channel::<Zeroizing<Vec<u8>>>();
    let rows = &job.part.blobs;
    let (vault_dir, identity) = (job.vault_dir, job.secrets.identity());
    std::thread::scope(|s| -> Result<Vec<ManifestEntry>> {
        s.spawn(move || decrypt_attachments(rows, vault_dir, identity, &tx, &back_rx));
        let mut entries = Vec::new();
        let written = (|| -> Result<()> {
            for (sha, _, size) in rows {
                write_attachment(w, sha, *size, job.id.mtime, &rx, &back_tx)?;
                entries.push(ManifestEntry {
                    path: format!("blobs/{sha}"),
                    size: *size,
                    sha256: sha.clone(),
                });
            }
            Ok(())
        })();
        // Unblocks the decrypting thread if writing stopped early.
        drop(rx);
        written.map(|()| entries)
    })
}

/// The decrypting thread: every attachment's plaintext, in pieces, then `End` for each.
fn decrypt_attachments(
    rows: &[(String, String, u64)],
    vault_dir: &Path,
    identity: &age::x25519::Identity,
    tx: &mpsc::SyncSender<Chunk>,
    back_rx: &mpsc::Receiver<Zeroizing<Vec<u8>>>,
) {
    for (_, file, _) in rows {
        let mut r = match blobs::open(vault_dir, file, identity) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Chunk::Fail(e.to_string()));
                return;
            }
        };
        loop {
            // A recycled piece, overwritten below.
            let mut buf = back_rx.try_recv().unwrap_or_default();
            buf.resize(CHUNK, 0);
            let chunk = match blobs::read_full(&mut r, &mut buf) {
                Ok(0) => Chunk::End,
                Ok(n) => {
                    buf.truncate(n);
                    Chunk::Data(buf)
                }
                Err(e) => Chunk::Fail(e.to_string()),
            };
            let last = !matches!(chunk, Chunk::Data(_));
            let failed = matches!(chunk, Chunk::Fail(_));
            if tx.send(chunk).is_err() || failed {
                return;
            }
            if last {
                break;
            }
        }
    }
}

/// One attachment entry: header, data, padding straight into the age stream (no intermediate
/// copy).
fn write_attachment(
    w: &mut impl Write,
    sha: &str,
    size: u64,
    mtime: u64,
    rx: &mpsc::Receiver<Chunk>,
    back_tx: &mpsc::Sender<Zeroizing<Vec<u8>>>,
) -> Result<()> {
    let path = format!("blobs/{sha}");
    let err = |e: io::Error| Error::io(format!("writing {path} into the bundle"))(e);
    let mut h = tar_header(size, mtime);
    h.set_path(format!("{ROOT}/{path}")).map_err(err)?;
    h.set_cksum();
    w.write_all(h.as_bytes()).map_err(err)?;
    let mut got = 0u64;
    loop {
        match rx.recv() {
            Ok(Chunk::Data(b)) => {
                got += b.len() as u64;
                let r = w.write_all(&b);
                // Overwritten by the next piece; wiped when dropped.
                let _ = back_tx.send(b);
                r.map_err(err)?;
            }
            Ok(Chunk::End) => break,
            Ok(Chunk::Fail(m)) => return Err(err(io::Error::other(m))),
            Err(_) => return Err(err(io::Error::other("the attachment reader stopped"))),
        }
    }
    if got != size {
        return Err(Error::Verify(format!(
            "attachment {} has {got} bytes in this vault, {size} expected: verify the vault",
            &sha[..12]
        )));
    }
    let pad = (512 - (got % 512) as usize) % 512;
    w.write_all(&[0u8; 512][..pad]).map_err(err)
}
