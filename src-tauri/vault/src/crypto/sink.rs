//! Writing a large new file (a bundle, an attachment) on its own thread, around the page cache.
//!
//! The bytes written here are always ciphertext. On this kind of machine, copying 1 GiB into the
//! page cache and flushing it with `fsync` costs more than encrypting it (measured in
//! docs/benchmarks.md: 2.7 s buffered vs 0.6 s direct for 1 GiB), and that copy sat on the same
//! thread as the encryption. So a [`Sink`] hands full, 4 KiB-aligned buffers to a writer thread
//! which (on Linux, where the file system allows it) writes them with `O_DIRECT`; the last,
//! partial block goes through an ordinary handle. Where `O_DIRECT` is refused (tmpfs, some
//! network file systems, other systems) the same thread writes through the page cache instead.
//! Either way the encrypting thread only fills buffers, and `finish` returns after `fsync`.
//!
//! The writer can also hash what it writes, off the encrypting thread: the whole file (the
//! SHA-256 an export prints) or, for an age file, its payload alone (what a bundle's manifest
//! binds an attachment by, fixed when the attachment is stored: super::agefile).

use std::fs::{self, File};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use super::agefile::MAX_HEADER_BYTES;

/// Alignment of buffers, offsets and lengths for direct writes (covers 512 B and 4 KiB sectors).
const ALIGN: usize = 4096;
/// Size of one buffer handed to the writer thread.
const BUF: usize = 1 << 20;
/// Buffers in flight (memory: `BUF * (QUEUE + 2)`).
const QUEUE: usize = 2;
/// The size from which a file made durable later is written around the page cache
/// ([`Sink::create_unsynced`]).
pub(crate) const DIRECT_FROM: u64 = 16 << 20;

/// What a sink hashes as it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    /// Nothing.
    None,
    /// Every byte.
    All,
    /// The payload of the age file being written: everything after its header (which must
    /// be whole in the first buffer: headers are at most `agefile::MAX_HEADER_BYTES`).
    AgePayload,
}

/// What a finished sink wrote.
#[derive(Debug)]
pub(crate) struct Written {
    /// Bytes written.
    pub size: u64,
    /// SHA-256 of them (or of the age payload among them), if asked for.
    pub sha256: Option<[u8; 32]>,
}

/// A buffer of `cap` bytes (a multiple of [`ALIGN`]) starting at a 4 KiB boundary.
struct Aligned {
    mem: Vec<u8>,
    off: usize,
    cap: usize,
    len: usize,
}

impl Aligned {
    fn new(cap: usize) -> Self {
        let mem = vec![0u8; cap + ALIGN];
        let off = mem.as_ptr().align_offset(ALIGN);
        Aligned {
            mem,
            off,
            cap,
            len: 0,
        }
    }
    fn data(&self) -> &[u8] {
        &self.mem[self.off..self.off + self.len]
    }
    fn spare(&mut self) -> &mut [u8] {
        &mut self.mem[self.off + self.len..self.off + self.cap]
    }
}

/// A new file written on a background thread (see the module notes).
pub(crate) struct Sink {
    cur: Aligned,
    tx: Option<mpsc::SyncSender<Aligned>>,
    back: mpsc::Receiver<Aligned>,
    writer: Option<JoinHandle<io::Result<Written>>>,
}

/// Opens `path` (which must not exist, mode 0600) for direct writes where possible and wanted.
fn open_new(path: &Path, want_direct: bool) -> io::Result<(File, bool)> {
    #[cfg(target_os = "linux")]
    if want_direct {
        let mut o = crate::fsutil::private_file();
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut o, libc::O_DIRECT);
        match o.open(path) {
            Ok(f) => return Ok((f, true)),
            // The file system does not do direct I/O: use the page cache.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => return Err(e),
        }
    }
    // Direct I/O is asked of Linux only (O_DIRECT); elsewhere every file uses the page cache.
    #[cfg(not(target_os = "linux"))]
    let _ = want_direct;
    Ok((crate::fsutil::private_file().open(path)?, false))
}

impl Sink {
    /// Creates `path` (failing if it exists) and starts the writer thread.
    pub(crate) fn create(path: &Path, hash: Hash) -> io::Result<Sink> {
        Self::open(path, hash, true, true, BUF)
    }

    /// [`Sink::create`] for one of many files made durable together afterwards (one `syncfs`,
    /// `crate::crypto::harden::sync_new_files`): `finish` does not fsync, and a file expected
    /// to be under [`DIRECT_FROM`] bytes goes through the page cache. A direct write returns
    /// only when the device has the bytes, so thousands of small files written directly one
    /// after the other wait for the device thousands of times (4096 attachments of 256 KiB:
    /// 15 s, the cores mostly idle); through the cache they are flushed together at the end.
    pub(crate) fn create_unsynced(path: &Path, hash: Hash, expected: u64) -> io::Result<Sink> {
        // Buffers no larger than the file (and its age header): a small file's are not
        // zeroed a megabyte at a time, thousands of times over.
        let cap = expected
            .saturating_add(MAX_HEADER_BYTES as u64 + 1)
            .min(BUF as u64)
            .next_multiple_of(ALIGN as u64) as usize;
        Self::open(path, hash, false, expected >= DIRECT_FROM, cap)
    }

    /// A sink whose `finish` fsyncs if `sync`, writing directly where possible if
    /// `want_direct`, with buffers of `cap` bytes.
    fn open(
        path: &Path,
        hash: Hash,
        sync: bool,
        want_direct: bool,
        cap: usize,
    ) -> io::Result<Sink> {
        let (file, direct) = open_new(path, want_direct)?;
        let (tx, rx) = mpsc::sync_channel::<Aligned>(QUEUE);
        let (back_tx, back) = mpsc::channel::<Aligned>();
        let path = path.to_path_buf();
        let writer = std::thread::Builder::new()
            .name("kuager-sink".into())
            .spawn(move || write_all_from(file, direct, &path, (hash, sync), &rx, &back_tx))?;
        Ok(Sink {
            cur: Aligned::new(cap),
            tx: Some(tx),
            back,
            writer: Some(writer),
        })
    }

    fn send_current(&mut self) -> io::Result<()> {
        let cap = self.cur.cap;
        let next = self.back.try_recv().unwrap_or_else(|_| Aligned::new(cap));
        let full = std::mem::replace(&mut self.cur, next);
        self.cur.len = 0;
        let sent = self.tx.as_ref().map(|tx| tx.send(full));
        if sent.is_some_and(|r| r.is_ok()) {
            Ok(())
        } else {
            // The writer stopped: its error is the one to report.
            Err(self
                .stop()
                .err()
                .unwrap_or_else(|| io::Error::other("the file writer stopped")))
        }
    }

    fn stop(&mut self) -> io::Result<Written> {
        self.tx = None;
        match self.writer.take() {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the file writer failed"))),
            None => Err(io::Error::other("the file writer already stopped")),
        }
    }

    /// Writes what is buffered, waits for the writer, fsyncs. The file is complete and durable
    /// (its folder is not synced: the caller renames it and syncs the folder).
    pub(crate) fn finish(mut self) -> io::Result<Written> {
        if self.cur.len > 0 {
            self.send_current()?;
        }
        self.stop()
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let spare = self.cur.spare();
        let n = spare.len().min(buf.len());
        spare[..n].copy_from_slice(&buf[..n]);
        self.cur.len += n;
        if self.cur.len == self.cur.cap {
            self.send_current()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Not finished (an error upstream): stop the writer; the caller removes the file.
        if self.writer.is_some() {
            let _ = self.stop();
        }
    }
}

/// The writer thread: buffers in order, aligned ones directly, the rest through the cache.
fn write_all_from(
    mut file: File,
    mut direct: bool,
    path: &Path,
    (hash, sync): (Hash, bool),
    rx: &mpsc::Receiver<Aligned>,
    back: &mpsc::Sender<Aligned>,
) -> io::Result<Written> {
    let mut hasher = (hash != Hash::None).then(Sha256::new);
    // Whether the age header (never hashed) is behind us.
    let mut past_header = hash != Hash::AgePayload;
    let mut size = 0u64;
    // An ordinary handle for whatever cannot go directly (opened when first needed).
    let mut cached: Option<File> = None;
    for buf in rx {
        let data = buf.data();
        if let Some(h) = hasher.as_mut() {
            let from = if past_header {
                0
            } else {
                past_header = true;
                super::agefile::header_len(data).map_err(io::Error::other)?
            };
            h.update(&data[from..]);
        }
        let mut rest = data;
        if direct {
            let whole = rest.len() - rest.len() % ALIGN;
            let mut done = 0;
            while done < whole {
                match file.write(&rest[done..whole]) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    // A short direct write ends on a block boundary on Linux; go on.
                    Ok(n) if n % ALIGN == 0 => done += n,
                    Ok(n) => {
                        // Not block-aligned any more: the rest through the cache.
                        done += n;
                        direct = false;
                        break;
                    }
                    Err(e) if e.raw_os_error() == Some(EINVAL) && done == 0 && size == 0 => {
                        // Refused at the first write (alignment the device does not accept).
                        direct = false;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            size += done as u64;
            rest = &rest[done..];
        }
        if !rest.is_empty() {
            let f = match cached.as_mut() {
                Some(f) => f,
                None => {
                    let mut f = fs::OpenOptions::new().write(true).open(path)?;
                    f.seek(SeekFrom::Start(size))?;
                    cached.insert(f)
                }
            };
            f.write_all(rest)?;
            size += rest.len() as u64;
            if direct {
                // Only the last buffer may be partial; after it nothing more is direct.
                direct = false;
            }
        }
        let _ = back.send(buf);
    }
    if sync {
        if let Some(f) = cached.as_mut() {
            f.sync_all()?;
        }
        file.sync_all()?;
    }
    Ok(Written {
        size,
        sha256: hasher.map(|h| h.finalize().into()),
    })
}

#[cfg(target_os = "linux")]
const EINVAL: i32 = libc::EINVAL;
#[cfg(not(target_os = "linux"))]
const EINVAL: i32 = 22;

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(len: usize, pieces: usize) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 4096) as u8).collect();
        let mut s = Sink::create(&p, Hash::All).unwrap();
        for c in data.chunks(pieces.max(1)) {
            s.write_all(c).unwrap();
        }
        let w = s.finish().unwrap();
        assert_eq!(w.size, len as u64);
        assert_eq!(w.sha256.unwrap(), <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(fs::read(&p).unwrap(), data);
    }

    #[test]
    fn sizes_around_block_and_buffer_edges() {
        for len in [
            0,
            1,
            4095,
            4096,
            4097,
            BUF - 1,
            BUF,
            BUF + 1,
            2 * BUF + 12345,
        ] {
            roundtrip(len, 65_536 + 17);
        }
        roundtrip(3 * BUF + 1, 1 << 20);
    }

    /// An age file's payload hash, as the sink computes it, is that of the bytes after the
    /// header, whatever the file's size.
    #[test]
    fn hashes_an_age_payload_alone() {
        let id = age::x25519::Identity::generate();
        for len in [0usize, 1, BUF - 300, BUF, 3 * BUF + 7] {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("f");
            let enc = age::Encryptor::with_recipients(std::iter::once(
                &id.to_public() as &dyn age::Recipient
            ))
            .unwrap();
            let mut w = enc
                .wrap_output(Sink::create(&p, Hash::AgePayload).unwrap())
                .unwrap();
            w.write_all(&vec![7u8; len]).unwrap();
            let written = w.finish().unwrap().finish().unwrap();
            let file = fs::read(&p).unwrap();
            let header = crate::crypto::agefile::header_len(&file).unwrap();
            assert_eq!(
                written.sha256.unwrap(),
                <[u8; 32]>::from(Sha256::digest(&file[header..])),
                "{len}"
            );
        }
    }

    #[test]
    fn refuses_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"x").unwrap();
        assert!(Sink::create(&p, Hash::None).is_err());
        assert_eq!(fs::read(&p).unwrap(), b"x");
    }
}
