//! The bundle file itself (format 2, docs/bundle-format.md): a tar stream inside age, written in
//! one pass and constant memory, the signed manifest first. Attachments are not decrypted: each
//! vault file is re-addressed to the bundle's own key by a new header, its payload copied as it
//! is (`crate::crypto::agefile`). Three threads share the work: one reads the vault's files and
//! checks their payloads, this one builds the tar and encrypts it, and the sink's writes and
//! hashes the file (`crate::crypto::Sink`).

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
use crate::crypto::agefile::{payload_size, readdressed_size, X25519_HEADER_BYTES};
use crate::crypto::keys::{self, VaultSecrets};
use crate::crypto::{blobs, Sink};
use crate::error::{Error, Result};
use crate::store::{self, meta, revisions};

/// Everything an export writes from.
pub(super) struct Job<'a> {
    pub conn: &'a Connection,
    pub secrets: &'a VaultSecrets,
    pub vault_dir: &'a Path,
    pub opts: &'a ExportOptions,
    /// A bundle to a partner organisation.
    pub partner: Option<&'a crate::bundle::share::PartnerPlan>,
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

/// One attachment as the manifest lists it: its entry, its content, its payload.
#[derive(Serialize)]
struct Attachment {
    /// `blobs/<32 random hex>.age`: nothing about the content.
    path: String,
    /// SHA-256 and size of the content (the attachment's name in records).
    sha256: String,
    size: u64,
    /// SHA-256 and size of the age payload after the header (what the signature binds).
    payload_sha256: String,
    payload_size: u64,
    /// The vault file it is read from.
    #[serde(skip)]
    file: String,
}

/// A piece of an attachment file on its way from the reading thread to the tar: ciphertext.
enum Chunk {
    Data(Vec<u8>),
    End,
    Fail(String),
}

/// Size of the pieces handed from the reading thread to the writer.
const CHUNK: usize = 256 * 1024;

/// Generates `records.jsonl` line by line from revision `seq`s (never all in memory),
/// counting and hashing what it gives, to be compared with the plan the manifest states.
struct RecordLines<'c> {
    conn: &'c Connection,
    seqs: std::slice::Iter<'c, i64>,
    lines: std::slice::Iter<'c, Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
    size: u64,
    hash: Sha256,
}

impl Read for RecordLines<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            self.buf = match (self.seqs.next(), self.lines.next()) {
                (Some(&seq), _) => revisions::by_seq(self.conn, seq)
                    .and_then(|r| revision_line(&r))
                    .map_err(io::Error::other)?,
                (None, Some(line)) => line.clone(),
                (None, None) => return Ok(0),
            };
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
    let sink = Sink::create(partial, crate::crypto::Hash::All).map_err(Error::io(format!(
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

/// Writes the whole bundle to `partial`; returns its SHA-256 and size.
pub(super) fn bundle(
    job: &Job<'_>,
    partial: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<(String, u64)> {
    let (c, mtime) = (job.part, job.id.mtime);
    // The bundle's own key: every attachment is re-addressed to it, whoever the bundle is for.
    let bundle_key = age::x25519::Identity::generate();
    let key_file = key_file(&bundle_key);
    let attachments = attachments_listed(job)?;
    let mut entries = Vec::new();
    listed(&mut entries, "README.txt", README.as_bytes());
    listed(&mut entries, "bundle.key", &key_file);
    entries.push(ManifestEntry {
        path: "records.jsonl".into(),
        size: c.records_size,
        sha256: c.records_sha256.clone(),
    });
    listed(&mut entries, "audit.jsonl", &c.audit);
    // The manifest and its signature first: an importer checks them before reading on.
    let manifest = manifest(job, &entries, &attachments)?;
    let device_key = job.secrets.device_public_key();
    let sig = job.secrets.sign_minisign(
        &manifest,
        &format!(
            "kuager bundle {} device {}",
            job.id.bundle_id, device_key.key_id
        ),
    )?;
    let mut tar = tar::Builder::new(encrypted(job, partial, progress)?);
    put(&mut tar, "manifest.json", &mut &manifest[..], mtime)?;
    put(
        &mut tar,
        "manifest.json.minisig",
        &mut sig.as_bytes(),
        mtime,
    )?;
    put(&mut tar, "README.txt", &mut README.as_bytes(), mtime)?;
    put(&mut tar, "bundle.key", &mut &key_file[..], mtime)?;
    let mut lines = RecordLines {
        conn: job.conn,
        seqs: c.seqs.iter(),
        lines: c.lines.iter(),
        buf: Vec::new(),
        pos: 0,
        size: 0,
        hash: Sha256::new(),
    };
    put_sized(&mut tar, "records.jsonl", c.records_size, mtime, &mut lines)?;
    // The tar pads what falls short of its header: a revision changed since the plan (another
    // program on the vault) would give a bundle every importer refuses. Said here instead.
    if lines.size != c.records_size || hex::encode(lines.hash.finalize()) != c.records_sha256 {
        return Err(Error::Verify(
            "the vault changed while the bundle was written: export again".into(),
        ));
    }
    put(&mut tar, "audit.jsonl", &mut &c.audit[..], mtime)?;
    write_attachments(job, tar.get_mut(), &attachments, &bundle_key.to_public())?;
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

/// Appends one entry read from `data`, of `size` bytes.
fn put_sized(
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

/// Appends one entry held in memory.
fn put(
    tar: &mut tar::Builder<impl Write>,
    path: &str,
    bytes: &mut &[u8],
    mtime: u64,
) -> Result<()> {
    put_sized(tar, path, bytes.len() as u64, mtime, bytes)
}

/// A line of the manifest for an entry held in memory.
fn listed(entries: &mut Vec<ManifestEntry>, path: &str, bytes: &[u8]) {
    entries.push(ManifestEntry {
        path: path.to_owned(),
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
    });
}

/// `bundle.key`: the bundle's X25519 identity as `age-keygen` writes it, for `age -d -i`.
fn key_file(key: &age::x25519::Identity) -> Zeroizing<Vec<u8>> {
    use age::secrecy::ExposeSecret;
    let mut out = Zeroizing::new(Vec::with_capacity(256));
    out.extend_from_slice(
        b"# Opens this bundle's attachments: age -d -i bundle.key blobs/<name>.age\n",
    );
    out.extend_from_slice(format!("# public key: {}\n", key.to_public()).as_bytes());
    out.extend_from_slice(key.to_string().expose_secret().as_bytes());
    out.push(b'\n');
    out
}

/// The attachments of this bundle as the manifest lists them, under new random names, with
/// their payload hashes (kept since they were stored; for files stored before that, computed
/// now and kept).
fn attachments_listed(job: &Job<'_>) -> Result<Vec<Attachment>> {
    let mut out = Vec::with_capacity(job.part.blobs.len());
    for (sha, file, size) in &job.part.blobs {
        let payload_sha256 = match store::blobs::payload_of(job.conn, sha)? {
            Some(p) => p,
            None => {
                let (n, p) = blobs::payload_hash(job.vault_dir, file)?;
                if n != payload_size(*size) {
                    return Err(damaged_attachment(sha));
                }
                store::blobs::set_payload(job.conn, sha, &p)?;
                p
            }
        };
        out.push(Attachment {
            path: format!("blobs/{}.age", crate::fsutil::random_name()),
            sha256: sha.clone(),
            size: *size,
            payload_sha256,
            payload_size: payload_size(*size),
            file: file.clone(),
        });
    }
    Ok(out)
}

fn damaged_attachment(sha: &str) -> Error {
    Error::Verify(format!(
        "attachment {} in this vault is not what was stored: run `kuager verify`",
        &sha[..12.min(sha.len())]
    ))
}

/// `manifest.json`: what the bundle is, who made it, for whom, and every other entry, in the
/// order they follow it, with sizes and SHA-256s.
fn manifest(
    job: &Job<'_>,
    entries: &[ManifestEntry],
    attachments: &[Attachment],
) -> Result<Vec<u8>> {
    let (c, s) = (job.part, job.secrets);
    let device_key = s.device_public_key();
    // The vault's label is for the organisation's coordinators, not for partners.
    let label = match job.partner {
        Some(_) => None,
        None => meta::get(job.conn, meta::LABEL)?,
    };
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
        "scope": match (&job.opts.scope, job.partner) {
            (_, Some(p)) => match &p.scope {
                Some(ids) => serde_json::json!({ "records": ids }),
                None => serde_json::json!({ "records": "all", "since": serde_json::Value::Null }),
            },
            (ExportScope::Records(ids), None) => serde_json::json!({ "records": ids }),
            (ExportScope::All, None) => serde_json::json!({ "records": "all", "since": serde_json::Value::Null }),
            (ExportScope::SinceLast, None) => serde_json::json!({ "records": "all", "since": { "revision_seq": since_rev, "audit_seq": since_audit } }),
        },
        "entries": entries,
        "attachments": attachments,
        "counts": {
            "records": c.records.len(),
            "revisions": c.seqs.len() + c.lines.len(),
            "blobs": c.blobs.len(),
            "audit_events": c.audit_events,
        },
    });
    let mut manifest = manifest;
    if job.partner.is_some() {
        // A bundle to a partner organisation: its records are the partner's copies
        // (docs/bundle-format.md "Partner bundles"). Absent from every other bundle.
        manifest["audience"] = serde_json::json!("partner");
    }
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

/// Attachments: one thread reads the vault's files, re-addressed to the bundle key, while this
/// one writes them into the tar and encrypts the bundle: both cores, a few chunks in flight,
/// constant memory. Each file's payload is checked against the hash the manifest states
/// (fixed when it was stored) as it passes; a file that differs fails the export.
fn write_attachments(
    job: &Job<'_>,
    w: &mut impl Write,
    list: &[Attachment],
    to: &age::x25519::Recipient,
) -> Result<()> {
    let (tx, rx) = mpsc::sync_channel::<Chunk>(4);
    let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
    let (vault_dir, identity) = (job.vault_dir, job.secrets.identity());
    std::thread::scope(|s| -> Result<()> {
        s.spawn(move || read_attachments(list, vault_dir, identity, to, &tx, &back_rx));
        let written = (|| -> Result<()> {
            for a in list {
                write_attachment(w, a, job.id.mtime, &rx, &back_tx)?;
            }
            Ok(())
        })();
        // Unblocks the reading thread if writing stopped early.
        drop(rx);
        written
    })
}

/// The reading thread: every attachment's new header and payload, in pieces, then `End` for
/// each, or `Fail` when a file cannot be read or is not what was stored.
fn read_attachments(
    list: &[Attachment],
    vault_dir: &Path,
    identity: &age::x25519::Identity,
    to: &age::x25519::Recipient,
    tx: &mpsc::SyncSender<Chunk>,
    back_rx: &mpsc::Receiver<Vec<u8>>,
) {
    for a in list {
        let (header, mut r) = match blobs::readdressed(vault_dir, &a.file, identity, to) {
            Ok(v) => v,
            Err(e) => {
                let _ = tx.send(Chunk::Fail(e.to_string()));
                return;
            }
        };
        if tx.send(Chunk::Data(header)).is_err() {
            return;
        }
        let (mut hash, mut count) = (Sha256::new(), 0u64);
        loop {
            // A recycled piece, overwritten below.
            let mut buf = back_rx.try_recv().unwrap_or_default();
            buf.resize(CHUNK, 0);
            let chunk = match blobs::read_full(&mut r, &mut buf) {
                Ok(0)
                    if count == a.payload_size
                        && hex::encode(std::mem::take(&mut hash).finalize())
                            == a.payload_sha256 =>
                {
                    Chunk::End
                }
                Ok(0) => Chunk::Fail(damaged_attachment(&a.sha256).to_string()),
                Ok(n) => {
                    buf.truncate(n);
                    hash.update(&buf);
                    count += n as u64;
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

/// One attachment entry: tar header, the file's new header and payload, padding, straight
/// into the age stream.
fn write_attachment(
    w: &mut impl Write,
    a: &Attachment,
    mtime: u64,
    rx: &mpsc::Receiver<Chunk>,
    back_tx: &mpsc::Sender<Vec<u8>>,
) -> Result<()> {
    let err = |e: io::Error| Error::io(format!("writing {} into the bundle", a.path))(e);
    let size = readdressed_size(a.size);
    let mut h = tar_header(size, mtime);
    h.set_path(format!("{ROOT}/{}", a.path)).map_err(err)?;
    h.set_cksum();
    w.write_all(h.as_bytes()).map_err(err)?;
    let mut got = 0u64;
    loop {
        match rx.recv() {
            Ok(Chunk::Data(b)) => {
                if got == 0 && b.len() as u64 != X25519_HEADER_BYTES {
                    return Err(err(io::Error::other("unexpected header length")));
                }
                got += b.len() as u64;
                if got > size {
                    return Err(damaged_attachment(&a.sha256));
                }
                let r = w.write_all(&b);
                let _ = back_tx.send(b);
                r.map_err(err)?;
            }
            Ok(Chunk::End) => break,
            Ok(Chunk::Fail(m)) => return Err(Error::Verify(m)),
            Err(_) => return Err(err(io::Error::other("the attachment reader stopped"))),
        }
    }
    if got != size {
        return Err(damaged_attachment(&a.sha256));
    }
    let pad = (512 - (got % 512) as usize) % 512;
    w.write_all(&[0u8; 512][..pad]).map_err(err)
}
