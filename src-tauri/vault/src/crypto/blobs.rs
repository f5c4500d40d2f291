//! Attachments on disk: `blobs/<2 hex>/<32 random hex>.age`, each a standard age file encrypted to
//! the vault's own X25519 identity (so `age -d -i <identity> file` opens it, docs/recovery.md).
//!
//! Files are streamed in: one thread reads and hashes, another encrypts and writes, with a small
//! bounded queue between them, so memory stays constant whatever the size and both cores work;
//! a third writes the encrypted file around the page cache (super::sink).
//! Names are random (R11): not the hash, not the file name.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use super::agefile::{self, HeaderError};
use super::{Hash, Sink};
use crate::error::{Error, Result};
use crate::fsutil;

/// Chunk size handed from the reading thread to the encrypting thread.
const CHUNK: usize = 256 * 1024;
/// Chunks in flight between the threads (bounds memory to `CHUNK * (QUEUE + 2)`).
const QUEUE: usize = 4;

/// An encrypted blob just written (not yet referenced in the database).
#[derive(Debug)]
pub(crate) struct NewBlob {
    pub sha256: String,
    pub size: u64,
    /// Path relative to the vault folder, e.g. `blobs/3f/9a…e1.age`.
    pub rel: String,
    /// SHA-256 of the file's age payload (everything after its header): what a bundle binds
    /// the attachment by when it re-addresses the file (super::agefile).
    pub payload_sha256: String,
}

pub(super) fn blobs_dir(vault: &Path) -> PathBuf {
    vault.join("blobs")
}

/// Told a new file's relative path before the file takes it, so the caller can note it as not
/// yet part of the vault (`doomed_files`): a file a crash leaves behind before the database
/// refers to it is then removed at the next unlock, never forgotten.
pub(crate) type Announce<'a> = &'a mut dyn FnMut(&str) -> Result<()>;

/// Streams `input` into a new encrypted blob file. The file is durable (fsynced, renamed,
/// folders fsynced) when this returns.
pub(crate) fn write(
    vault: &Path,
    recipient: &age::x25519::Recipient,
    mut input: impl Read + Send,
    announce: Announce<'_>,
) -> Result<NewBlob> {
    let dir = blobs_dir(vault);
    fs::create_dir_all(&dir).map_err(Error::io("creating the blobs folder"))?;
    let tmp = dir.join(format!(".tmp-{}", fsutil::random_name()));
    let result = (|| -> Result<(String, u64, String)> {
        let mut w = encrypt_to_new(&tmp, recipient)?;
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUE);
        let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
        let reader = std::thread::scope(|s| -> Result<(String, u64)> {
            let hashing = s.spawn(move || {
                let mut hasher = Sha256::new();
                let mut size = 0u64;
                let result = loop {
                    // Buffers come back from the writer and are overwritten by the next read.
                    let mut buf = back_rx.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK]);
                    buf.resize(CHUNK, 0);
                    let n = match read_full(&mut input, &mut buf) {
                        Ok(n) => n,
                        Err(e) => {
                            buf.zeroize();
                            break Err(e);
                        }
                    };
                    if n == 0 {
                        buf.zeroize();
                        break Ok((hex::encode(hasher.finalize()), size));
                    }
                    buf.truncate(n);
                    hasher.update(&buf);
                    size += n as u64;
                    if tx.send(buf).is_err() {
                        break Ok((String::new(), size)); // the writer failed; reported below
                    }
                };
                (result, back_rx)
            });
            let mut write_err = None;
            for buf in rx.iter() {
                if write_err.is_none() {
                    if let Err(e) = w.write_all(&buf) {
                        write_err = Some(e);
                    }
                }
                let _ = back_tx.send(buf);
            }
            let (read, back_rx) = hashing.join().expect("the hashing thread does not panic");
            // Wipe every plaintext buffer before it is freed.
            drop(back_tx);
            for mut buf in back_rx.iter() {
                buf.zeroize();
            }
            if let Some(e) = write_err {
                return Err(Error::io("writing an attachment")(e));
            }
            read.map_err(Error::io("reading the file to attach"))
        })?;
        let payload = finish(w)?;
        Ok((reader.0, reader.1, payload))
    })();
    placed(vault, &tmp, announce, result)
}

/// The blob written to `tmp` (its content's hash and size, its payload's hash), moved to its
/// random final name; or, when writing failed, the temp file removed.
fn placed(
    vault: &Path,
    tmp: &Path,
    announce: Announce<'_>,
    written: Result<(String, u64, String)>,
) -> Result<NewBlob> {
    let (sha256, size, payload_sha256) = match written {
        Ok(v) => v,
        Err(e) => {
            let _ = fs::remove_file(tmp);
            return Err(e);
        }
    };
    let rel = place(vault, tmp, announce)?;
    Ok(NewBlob {
        sha256,
        size,
        rel,
        payload_sha256,
    })
}

/// A new temp file (which must not exist) taking age-encrypted data, written on its own thread
/// (super::sink).
fn encrypt_to_new(
    tmp: &Path,
    recipient: &age::x25519::Recipient,
) -> Result<age::stream::StreamWriter<Sink>> {
    let sink =
        Sink::create(tmp, Hash::AgePayload).map_err(Error::io("creating an attachment file"))?;
    let enc = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
        .map_err(|e| Error::Crypto(e.to_string()))?;
    enc.wrap_output(sink)
        .map_err(Error::io("writing an attachment"))
}

/// Ends the age stream and makes the file durable; returns its payload's SHA-256.
fn finish(w: age::stream::StreamWriter<Sink>) -> Result<String> {
    w.finish()
        .and_then(Sink::finish)
        .map(|w| hex::encode(w.sha256.expect("asked for")))
        .map_err(Error::io("writing an attachment"))
}

/// Moves a finished temp file to its random final name, durably, once that name is announced.
/// Returns its relative path.
fn place(vault: &Path, tmp: &Path, announce: Announce<'_>) -> Result<String> {
    let rel = new_rel();
    let finish = announce(&rel).and_then(|()| place_as(vault, tmp, &rel, true));
    if let Err(e) = finish {
        let _ = fs::remove_file(tmp);
        return Err(e);
    }
    Ok(rel)
}

/// A new random file name under `blobs/`, relative to the vault folder.
pub(crate) fn new_rel() -> String {
    let name = fsutil::random_name();
    format!("blobs/{}/{}.age", &name[..2], name)
}

/// Moves a finished temp file to `rel` (already announced), the folders synced if `sync`
/// (else the caller makes the file system durable later).
pub(super) fn place_as(vault: &Path, tmp: &Path, rel: &str, sync: bool) -> Result<()> {
    let path = vault.join(rel);
    let sub = path.parent().expect("under blobs/");
    fs::create_dir_all(sub).map_err(Error::io("creating a blobs folder"))?;
    fs::rename(tmp, &path).map_err(Error::io("storing an attachment"))?;
    if sync {
        fsutil::sync_dir(sub)?;
        fsutil::sync_dir(&blobs_dir(vault))?;
    }
    Ok(())
}

/// Like [`write`], on the calling thread, for inputs that cannot move to another thread (an
/// entry of a tar stream being read).
pub(crate) fn write_serial(
    vault: &Path,
    recipient: &age::x25519::Recipient,
    input: &mut dyn Read,
    announce: Announce<'_>,
) -> Result<NewBlob> {
    let dir = blobs_dir(vault);
    fs::create_dir_all(&dir).map_err(Error::io("creating the blobs folder"))?;
    let tmp = dir.join(format!(".tmp-{}", fsutil::random_name()));
    let result = (|| -> Result<(String, u64, String)> {
        let mut w = encrypt_to_new(&tmp, recipient)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; CHUNK];
        let res = (|| -> io::Result<()> {
            loop {
                let n = read_full(input, &mut buf)?;
                if n == 0 {
                    return Ok(());
                }
                hasher.update(&buf[..n]);
                size += n as u64;
                w.write_all(&buf[..n])?;
            }
        })();
        buf.zeroize();
        res.map_err(Error::io("reading the attachment"))?;
        let payload = finish(w)?;
        Ok((hex::encode(hasher.finalize()), size, payload))
    })();
    placed(vault, &tmp, announce, result)
}

/// Opens a blob's file at its payload, with a new header giving its file key to `to` alone
/// (super::agefile): the file re-addressed, at the cost of its header.
pub(crate) fn readdressed(
    vault: &Path,
    rel: &str,
    from: &age::x25519::Identity,
    to: &age::x25519::Recipient,
) -> Result<(Vec<u8>, io::BufReader<fs::File>)> {
    let f = fs::File::open(vault.join(rel)).map_err(Error::io("opening an attachment"))?;
    let mut r = io::BufReader::with_capacity(256 << 10, f);
    let header = agefile::readdress(&mut r, from, to).map_err(damaged_header)?;
    Ok((header, r))
}

/// The size and SHA-256 of a blob file's payload (for files stored before the payload hash
/// was kept: computed once, then stored).
pub(crate) fn payload_hash(vault: &Path, rel: &str) -> Result<(u64, String)> {
    let f = fs::File::open(vault.join(rel)).map_err(Error::io("opening an attachment"))?;
    let mut r = io::BufReader::with_capacity(256 << 10, f);
    agefile::read_header(&mut r).map_err(damaged_header)?;
    let mut h = Sha256::new();
    let n = io::copy(&mut r, &mut h).map_err(Error::io("reading an attachment"))?;
    Ok((n, hex::encode(h.finalize())))
}

fn damaged_header(e: HeaderError) -> Error {
    match e {
        HeaderError::Io(e) => Error::io("reading an attachment")(e),
        e => Error::Crypto(format!(
            "an attachment in this vault is damaged ({e}): run `kuager verify`"
        )),
    }
}

/// Reads until `buf` is full or the input ends; returns how much was read.
pub(crate) fn read_full<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Opens a blob for streaming decryption.
pub(crate) fn open(
    vault: &Path,
    rel: &str,
    identity: &age::x25519::Identity,
) -> Result<Box<dyn Read + Send>> {
    let path = vault.join(rel);
    let f = fs::File::open(&path).map_err(Error::io("opening an attachment"))?;
    let dec = age::Decryptor::new_buffered(io::BufReader::new(f))
        .map_err(|e| Error::Crypto(format!("attachment damaged: {e}")))?;
    let r = dec
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| Error::Crypto(format!("attachment cannot be decrypted: {e}")))?;
    Ok(Box::new(r))
}

/// Removes leftovers of interrupted writes (`.tmp-*` files: encrypted, never plaintext) that
/// nobody has written to for ten minutes (another process may be attaching right now).
pub(crate) fn sweep_temp(vault: &Path) {
    let stale = |e: &fs::DirEntry| {
        e.metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 600)
    };
    // Attachments, and pieces of recordings (super::chunks).
    for dir in [blobs_dir(vault), vault.join(super::chunks::DIR)] {
        if let Ok(rd) = fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with(".tmp-") && stale(&e) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }
}
