//! An attachment arriving already encrypted (a format-2 bundle's, docs/bundle-format.md): a new
//! header for this vault, then the payload copied as it is into a new file under a random name,
//! as for every attachment (super::blobs), its payload hashed by the sink. The content is
//! checked too: as the payload passes, another thread decrypts it in memory through the new
//! header and hashes the plaintext (a payload of at most 1 MiB is held whole and all of this
//! happens on the calling thread), so that what is stored under an attachment's name is that
//! content, not what a signer says it is (docs/threat-model.md "Attachments a signer vouches
//! for"). Plaintext exists only in that thread's buffers, wiped as they are freed.

use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;
use std::sync::mpsc;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::blobs::{blobs_dir, place_as, read_full};
use super::{Hash, Sink};
use crate::error::{Error, Result};
use crate::fsutil;

/// Pieces of payload handed to the checking thread.
const PIECE: usize = 256 * 1024;
/// Payloads up to this size are held whole and stored on the calling thread
/// ([`store_held`]).
const HELD_UP_TO: u64 = 1 << 20;

/// What was stored: the file, its payload's size and SHA-256, its content's size and SHA-256.
pub(crate) struct Arrived {
    pub rel: String,
    pub payload_size: u64,
    pub payload_sha256: String,
    pub size: u64,
    pub sha256: String,
}

/// Reads the new header, then the payload pieces from the channel.
struct Pieces {
    head: io::Cursor<Vec<u8>>,
    rx: mpsc::Receiver<Vec<u8>>,
    cur: io::Cursor<Vec<u8>>,
}

impl Read for Pieces {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.head.read(out)?;
        if n > 0 {
            return Ok(n);
        }
        loop {
            let n = self.cur.read(out)?;
            if n > 0 || out.is_empty() {
                return Ok(n);
            }
            match self.rx.recv() {
                Ok(p) => self.cur = io::Cursor::new(p),
                Err(_) => return Ok(0),
            }
        }
    }
}

/// The checking thread: the file (header, then payload pieces) decrypted with `identity`, its
/// plaintext hashed: (size, SHA-256), or why it does not decrypt.
fn content_of(pieces: Pieces, identity: &age::x25519::Identity) -> io::Result<(u64, String)> {
    let dec = age::Decryptor::new_buffered(BufReader::with_capacity(PIECE, pieces))
        .map_err(io::Error::other)?;
    hash_plaintext(dec, identity, PIECE)
}

/// The plaintext `dec` decrypts to with `identity`, read `piece` bytes at a time into a buffer
/// wiped when freed: (size, SHA-256).
fn hash_plaintext<R: io::BufRead>(
    dec: age::Decryptor<R>,
    identity: &age::x25519::Identity,
    piece: usize,
) -> io::Result<(u64, String)> {
    let mut r = dec
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(io::Error::other)?;
    let mut buf = Zeroizing::new(vec![0u8; piece]);
    let (mut h, mut n) = (Sha256::new(), 0u64);
    loop {
        let k = read_full(&mut r, &mut buf)?;
        if k == 0 {
            return Ok((n, hex::encode(h.finalize())));
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
}

/// Stores the age file `header` + `payload` (the header addressed to `identity`, this vault's;
/// the payload `expected` to be that many bytes)
/// as `rel` (a random name, already noted as not yet part of the vault), and checks what it
/// holds. Not synced: the caller makes the file system durable once for all the files of an
/// import (`crate::fsutil::sync_filesystem`) — one flush instead of four per file. Fails,
/// leaving nothing, when reading or writing fails or the payload does not decrypt; the caller
/// compares the sizes and hashes with what it expected before the file becomes part of the
/// vault.
pub(crate) fn store(
    vault: &Path,
    rel: &str,
    header: &[u8],
    payload: &mut dyn Read,
    expected: u64,
    identity: &age::x25519::Identity,
) -> Result<Arrived> {
    let dir = blobs_dir(vault);
    fs::create_dir_all(&dir).map_err(Error::io("creating the blobs folder"))?;
    let tmp = dir.join(format!(".tmp-{}", fsutil::random_name()));
    if expected <= HELD_UP_TO {
        return store_held(vault, rel, &tmp, header, payload, expected, identity);
    }
    type Hashed = io::Result<(u64, String)>;
    let result = std::thread::scope(|s| -> io::Result<(Hashed, Hashed)> {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4);
        let pieces = Pieces {
            head: io::Cursor::new(header.to_vec()),
            rx,
            cur: io::Cursor::new(Vec::new()),
        };
        let checking = s.spawn(move || content_of(pieces, identity));
        let copied = (|| -> io::Result<(u64, String)> {
            let mut sink = Sink::create_unsynced(&tmp, Hash::AgePayload, expected)?;
            sink.write_all(header)?;
            let mut n = 0u64;
            loop {
                let mut buf = vec![0u8; PIECE];
                let k = read_full(payload, &mut buf)?;
                if k == 0 {
                    break;
                }
                buf.truncate(k);
                sink.write_all(&buf)?;
                n += k as u64;
                if tx.send(buf).is_err() {
                    // The checking thread stopped: its error is the one to report.
                    break;
                }
            }
            drop(tx);
            let w = sink.finish()?;
            Ok((n, hex::encode(w.sha256.expect("asked for"))))
        })();
        let checked = checking
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the checking thread failed")));
        Ok((copied, checked))
    });
    // Writing failed (this computer's fault), or the payload did not decrypt (the file's).
    let outcome = match result {
        Ok((Ok(copied), Ok(content))) => Ok((copied, content)),
        Ok((Err(e), _)) | Err(e) => Err(Error::io("storing an attachment")(e)),
        Ok((Ok(_), Err(e))) => Err(Error::Verify(format!("it does not decrypt: {e}"))),
    };
    let ((payload_size, payload_sha256), (size, sha256)) = match outcome {
        Ok(v) => v,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    };
    placed(
        &tmp,
        rel,
        place_as(vault, &tmp, rel, false),
        (payload_size, payload_sha256),
        (size, sha256),
    )
}

/// The file `tmp`, stored as `rel` if `written` (else removed), and what it holds.
fn placed(
    tmp: &Path,
    rel: &str,
    written: Result<()>,
    (payload_size, payload_sha256): (u64, String),
    (size, sha256): (u64, String),
) -> Result<Arrived> {
    if let Err(e) = written {
        let _ = fs::remove_file(tmp);
        return Err(e);
    }
    Ok(Arrived {
        rel: rel.to_owned(),
        payload_size,
        payload_sha256,
        size,
        sha256,
    })
}

/// [`store`] for a payload of at most [`HELD_UP_TO`] bytes, on the calling thread: read whole,
/// hashed, decrypted in memory to check its content, written through the page cache. Two
/// threads and their hand-offs per file cost more than such a file's bytes: 4096 attachments
/// of 256 KiB took 12 s with them (docs/benchmarks.md).
fn store_held(
    vault: &Path,
    rel: &str,
    tmp: &Path,
    header: &[u8],
    payload: &mut dyn Read,
    expected: u64,
    identity: &age::x25519::Identity,
) -> Result<Arrived> {
    // Never more than the manifest states (at most HELD_UP_TO), and one more byte to tell.
    let mut bytes = Vec::with_capacity(header.len() + expected as usize + 1);
    bytes.extend_from_slice(header);
    payload
        .take(expected + 1)
        .read_to_end(&mut bytes)
        .map_err(Error::io("storing an attachment"))?;
    let payload_size = (bytes.len() - header.len()) as u64;
    if payload_size > expected {
        return Err(Error::Verify("it is longer than the manifest says".into()));
    }
    let payload_sha256 = hex::encode(Sha256::digest(&bytes[header.len()..]));
    let (size, sha256) = content_of_held(&bytes, identity)
        .map_err(|e| Error::Verify(format!("it does not decrypt: {e}")))?;
    let written = (|| -> Result<()> {
        let mut f = fsutil::private_file()
            .open(tmp)
            .map_err(Error::io("storing an attachment"))?;
        f.write_all(&bytes)
            .map_err(Error::io("storing an attachment"))?;
        place_as(vault, tmp, rel, false)
    })();
    placed(
        tmp,
        rel,
        written,
        (payload_size, payload_sha256),
        (size, sha256),
    )
}

/// The content of a whole age file in memory, decrypted with `identity`: (size, SHA-256).
fn content_of_held(file: &[u8], identity: &age::x25519::Identity) -> io::Result<(u64, String)> {
    let dec = age::Decryptor::new_buffered(file).map_err(io::Error::other)?;
    hash_plaintext(dec, identity, 64 * 1024)
}
