//! The age layer of an incoming bundle, on its own thread: one thread reads, hashes and decrypts
//! the file while the calling one takes the tar apart ([`super::entries`]), hashing and
//! re-encrypting attachments (and a third writes them, `crate::crypto::Sink`): the work of an
//! import spread over both cores, a few pieces in flight.

use std::fs;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::entries::{self, Staged};
use super::header::{Header, HeaderError, MAX_HEADER_BYTES};
use super::Source;
use crate::crypto::blobs;
use crate::crypto::keys::Passphrase;
use crate::error::{Error, RejectReason, Rejection, Result};

/// The highest scrypt work factor accepted in a file from outside (2^20 ≈ 1 GiB of memory, a few
/// seconds).
///
/// # Security
/// A passphrase-encrypted file names its own work factor; without a cap a hostile file could ask
/// for hours of work and tens of GiB (age's default cap is ~16 s on the current machine).
pub const MAX_OUTSIDE_WORK_FACTOR: u8 = 20;

/// Size of the pieces handed from the decrypting thread to the tar reader.
const PIECE: usize = 256 * 1024;

/// The longest refusal reason, in characters.
///
/// # Security
/// A refusal may quote a bundle's own text (a format name, an entry's path, a parser's
/// complaint), read before any signature is checked. It reaches the user's terminal and the
/// coordinator's permanent audit log, so it is cut short and its control characters (terminal
/// escapes, new lines) are shown escaped.
pub const MAX_REASON_CHARS: usize = 300;

pub(super) fn reject(reason: impl Into<String>) -> Error {
    reject_as(RejectReason::Invalid, reason)
}

/// A refusal of a kind the user is told in their own words ([`RejectReason`]).
pub(super) fn reject_as(why: RejectReason, reason: impl Into<String>) -> Error {
    Error::Rejected(Rejection::new(why, inert(&reason.into())))
}

/// `s`, at most [`MAX_REASON_CHARS`] characters, control characters escaped.
fn inert(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= MAX_REASON_CHARS {
            out.push('…');
            break;
        }
        // Control characters, and the invisible ones that reorder or hide text (bidi
        // overrides and isolates, zero-width marks): a refusal may quote a bundle's own text.
        let invisible = matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}');
        if c.is_control() || invisible {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn damaged(e: impl std::fmt::Display) -> Error {
    reject_as(
        RejectReason::Damaged,
        format!(
            "the bundle is damaged, cut short or was altered after export ({e}): ask for it again"
        ),
    )
}

/// A file that does not even begin like a whole age file: empty, something else, or cut
/// short within its header.
fn not_age(e: impl std::fmt::Display) -> Error {
    reject_as(RejectReason::NotABundle, format!(
        "this is not a Kuager bundle, or it was cut short: not a complete age file ({e}); ask for it again"
    ))
}

/// Our decryption path for every age file from outside the vault: ASCII armor or binary,
/// the given X25519 identities and, only when given, a passphrase (scrypt, work factor capped at
/// [`MAX_OUTSIDE_WORK_FACTOR`]), a header of at most [`MAX_HEADER_BYTES`]. Errors are refusals with a reason; the returned reader fails
/// on a chunk that does not authenticate, so its output is trusted only once fully read.
pub fn decrypt_outside<R: Read>(
    input: R,
    identities: &[age::x25519::Identity],
    passphrase: Option<&Passphrase>,
) -> Result<impl Read> {
    // Whitespace before an armored file is allowed (C2SP age); the age crate only detects armor
    // at the very start, so skip it here when the armor marker follows.
    let mut input = BufReader::new(input);
    {
        use std::io::BufRead;
        let head = input
            .fill_buf()
            .map_err(|e| reject(format!("the file cannot be read: {e}")))?;
        let ws = head.iter().take_while(|b| b.is_ascii_whitespace()).count();
        if ws > 0 && head[ws..].starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----") {
            input.consume(ws);
        }
    }
    let armored = age::armor::ArmoredReader::new(input);
    let header = Header::read(armored).map_err(|e| match e {
        HeaderError::TooLarge => reject(format!(
            "not a valid age file: its header is longer than the {} KiB allowed",
            MAX_HEADER_BYTES / 1024
        )),
        HeaderError::Io(e) => not_age(e),
    })?;
    // A whole header that age cannot parse (a character base64 does not have, say) is damage;
    // anything else at this point is not an age file at all.
    let dec = age::Decryptor::new_buffered(header).map_err(|e| match e {
        age::DecryptError::InvalidHeader => damaged(e),
        e => not_age(e),
    })?;
    let scrypt = passphrase.map(|p| {
        let mut id = age::scrypt::Identity::new(p.secret());
        id.set_max_work_factor(MAX_OUTSIDE_WORK_FACTOR);
        id
    });
    let mut ids: Vec<&dyn age::Identity> =
        identities.iter().map(|i| i as &dyn age::Identity).collect();
    if let Some(s) = &scrypt {
        ids.push(s);
    }
    dec.decrypt(ids.into_iter()).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => reject_as(
            RejectReason::NotForThisVault,
            "this bundle is not addressed to this vault's key, or its header was damaged: ask the caseworker to export to your organisation key and send it again",
        ),
        age::DecryptError::DecryptionFailed if passphrase.is_some() => {
            reject_as(RejectReason::WrongPassphrase, "the passphrase does not open this file")
        }
        age::DecryptError::ExcessiveWork { required, .. } => reject(format!(
            "the file asks for an unreasonable amount of work to decrypt (scrypt work factor {required}, the limit is {MAX_OUTSIDE_WORK_FACTOR})"
        )),
        e @ (age::DecryptError::InvalidMac | age::DecryptError::InvalidHeader) => damaged(e),
        other => reject(format!("the file cannot be decrypted: {other}")),
    })
}

/// The SHA-256 of a file, read through once.
pub(super) fn hash_file(f: &Path) -> Result<String> {
    let mut h = Sha256::new();
    let mut file = fs::File::open(f).map_err(Error::io(format!("opening {}", f.display())))?;
    io::copy(&mut file, &mut h).map_err(Error::io("reading the bundle"))?;
    Ok(hex::encode(h.finalize()))
}

/// What to decrypt, and with what.
pub(super) struct Input<'a> {
    pub source: &'a Source<'a>,
    pub identities: &'a [age::x25519::Identity],
    pub passphrase: Option<&'a Passphrase>,
    /// Bytes of the file read so far, for a progress bar.
    pub progress: Option<&'a AtomicU64>,
    /// Set to stop reading: the import ends with [`Error::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
}

/// A piece of the decrypted bundle on its way from the decrypting thread to the tar reader.
enum Piece {
    Data(Zeroizing<Vec<u8>>),
    /// The decrypting thread stopped with this error (reported instead of the tar reader's).
    Failed,
}

/// Reads the decrypted bundle from the channel.
struct Pieces<'r> {
    rx: &'r mpsc::Receiver<Piece>,
    back: mpsc::Sender<Zeroizing<Vec<u8>>>,
    cur: Zeroizing<Vec<u8>>,
    pos: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.cur.len() {
            match self.rx.recv() {
                Ok(Piece::Data(b)) => {
                    let used = std::mem::replace(&mut self.cur, b);
                    let _ = self.back.send(used);
                    self.pos = 0;
                }
                Ok(Piece::Failed) => {
                    return Err(io::Error::other("the bundle could not be decrypted"))
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Hashes what is read through it, until told to stop, and counts it.
struct HashingReader<'s, R> {
    inner: R,
    hasher: Sha256,
    /// Cleared once the bundle is seen to be format 2, which is known by its manifest's hash.
    hashing: &'s AtomicBool,
    /// Bytes read so far, for whoever shows progress.
    progress: Option<&'s AtomicU64>,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.hashing.load(Ordering::Relaxed) {
            self.hasher.update(&buf[..n]);
        }
        if let Some(p) = self.progress {
            p.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Whether a decrypted bundle begins as format 2 does: with `manifest.json`'s tar header.
fn starts_format2(plain: &[u8]) -> bool {
    let name = format!("{}/manifest.json\0", crate::bundle::ROOT);
    plain.starts_with(name.as_bytes())
}

/// Decrypts and stages the bundle; returns the SHA-256 of the file as read (format 1: what
/// recognises it when it comes again), or nothing for format 2 (its manifest's hash does; the
/// file is not hashed) and for a format-2 bundle imported before, of which only the manifest
/// is read (`Staged::stopped`).
pub(super) fn stage(
    input: &Input<'_>,
    sink: &entries::Sink<'_>,
    staged: &mut Staged,
) -> Result<Option<String>> {
    let file = match input.source {
        Source::File(file) => *file,
        #[cfg(fuzzing)]
        Source::Plain(bytes) => {
            entries::stage_tar(*bytes, sink, staged)?;
            return Ok(Some(hex::encode(Sha256::digest(bytes))));
        }
    };
    let f = fs::File::open(file).map_err(Error::io(format!("opening {}", file.display())))?;
    let (tx, rx) = mpsc::sync_channel::<Piece>(4);
    let (back_tx, back_rx) = mpsc::channel::<Zeroizing<Vec<u8>>>();
    std::thread::scope(|s| -> Result<Option<String>> {
        let reading = s.spawn(move || decrypt_into(f, file, input, &tx, &back_rx));
        let mut pieces = Pieces {
            rx: &rx,
            back: back_tx,
            cur: Zeroizing::new(Vec::new()),
            pos: 0,
        };
        let staged_res = entries::stage_tar(&mut pieces, sink, staged).and_then(|()| {
            if staged.stopped() {
                return Ok(()); // nothing more is read
            }
            // The tar ends before the age stream does (padding): read on to its end, so
            // that its last chunk is authenticated too.
            io::copy(&mut pieces, &mut io::sink())
                .map(drop)
                .map_err(damaged)
        });
        drop(pieces);
        drop(rx);
        let read_res = reading
            .join()
            .unwrap_or_else(|_| Err(Error::Verify("the bundle reader failed".into())));
        match (read_res, staged_res) {
            (_, Ok(())) if staged.stopped() => Ok(None),
            // A decryption failure explains whatever the tar reader saw.
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(e),
            (Ok(Some(sha)), Ok(())) => Ok(sha),
            (Ok(None), Ok(())) => Err(reject_as(RejectReason::Damaged, "the bundle ended early")),
        }
    })
}

/// The decrypting thread: reads, hashes and decrypts `f` into pieces. Returns the file's
/// SHA-256 (none for format 2), or `None` when the tar reader stopped first (its error is
/// reported).
fn decrypt_into(
    f: fs::File,
    file: &Path,
    input: &Input<'_>,
    tx: &mpsc::SyncSender<Piece>,
    back_rx: &mpsc::Receiver<Zeroizing<Vec<u8>>>,
) -> Result<Option<Option<String>>> {
    let hashing = AtomicBool::new(true);
    let mut raw = HashingReader {
        inner: f,
        hasher: Sha256::new(),
        hashing: &hashing,
        progress: input.progress,
    };
    let res = (|| -> Result<bool> {
        let mut dec = decrypt_outside(&mut raw, input.identities, input.passphrase)?;
        let mut first = true;
        loop {
            if input.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(Error::Cancelled);
            }
            let mut buf = back_rx.try_recv().unwrap_or_default();
            buf.resize(PIECE, 0);
            let n = blobs::read_full(&mut dec, &mut buf).map_err(damaged)?;
            if n == 0 {
                return Ok(true);
            }
            if std::mem::take(&mut first) && starts_format2(&buf[..n]) {
                hashing.store(false, Ordering::Relaxed);
            }
            buf.truncate(n);
            if tx.send(Piece::Data(buf)).is_err() {
                return Ok(false); // the tar reader stopped; its error is reported
            }
        }
    })();
    match res {
        Ok(true) if !hashing.load(Ordering::Relaxed) => Ok(Some(None)),
        Ok(true) => {
            // Anything after the age stream is part of the file and of its hash.
            io::copy(&mut raw, &mut io::sink())
                .map_err(Error::io(format!("reading {}", file.display())))?;
            Ok(Some(Some(hex::encode(raw.hasher.finalize()))))
        }
        Ok(false) => Ok(None),
        Err(e) => {
            let _ = tx.send(Piece::Failed);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_shows_no_invisible_or_reordering_character_of_the_bundle() {
        let quoted = "entry \"a\u{202E}gpj.exe\u{200B}\n\u{1b}[31m\" is unexpected";
        let shown = inert(quoted);
        for c in ['\u{202E}', '\u{200B}', '\n', '\u{1b}'] {
            assert!(!shown.contains(c), "{c:?} left in {shown:?}");
        }
        assert!(
            shown.contains("\\u{202e}") && shown.contains("\\u{200b}"),
            "{shown}"
        );
        assert_eq!(
            inert(&"x".repeat(MAX_REASON_CHARS + 5)).chars().count(),
            MAX_REASON_CHARS + 1
        );
    }
}
