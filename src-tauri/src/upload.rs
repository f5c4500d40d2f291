//! Attachments streamed in from the webview in pieces (a file picked or dropped there), into
//! `Vault::attach` on a worker thread: never a temporary file, memory bounded by the queue.

use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use zeroize::Zeroize;

/// Pieces waiting between the webview and the encrypting thread.
const QUEUE: usize = 4;
/// An upload that receives nothing for this long is abandoned (the window was closed).
const STALL: Duration = Duration::from_secs(60);

/// A piece of an attachment, or its end.
pub enum Piece {
    /// Bytes.
    Data(Vec<u8>),
    /// All bytes were sent.
    End,
}

/// An upload in progress.
pub struct Upload {
    /// Where pieces go.
    pub tx: SyncSender<Piece>,
    /// The thread attaching it; its result once the last piece is in.
    pub worker: JoinHandle<vault::Result<vault::Saved>>,
}

/// Reads the pieces; an upload that stops without `End` is an error, never a short file.
pub struct PieceReader {
    rx: Receiver<Piece>,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl PieceReader {
    /// Reads from `rx`.
    pub fn new(rx: Receiver<Piece>) -> Self {
        PieceReader {
            rx,
            buf: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl Read for PieceReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.buf.len() {
            if self.done {
                return Ok(0);
            }
            // Wiped before it is replaced (zeroize also empties it).
            self.buf.zeroize();
            self.pos = 0;
            match self.rx.recv_timeout(STALL) {
                Ok(Piece::Data(b)) => {
                    self.buf = b;
                    self.pos = 0;
                }
                Ok(Piece::End) => self.done = true,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(std::io::Error::other("the upload stalled"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(std::io::Error::other("the upload was interrupted"))
                }
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Drop for PieceReader {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

/// A channel for a new upload.
pub fn channel() -> (SyncSender<Piece>, Receiver<Piece>) {
    sync_channel(QUEUE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_read_in_order_and_a_missing_end_is_an_error() {
        let (tx, rx) = channel();
        let t = std::thread::spawn(move || {
            for p in [&b"abc"[..], b"", b"defgh"] {
                tx.send(Piece::Data(p.to_vec())).unwrap();
            }
            tx.send(Piece::End).unwrap();
        });
        let mut out = Vec::new();
        PieceReader::new(rx).read_to_end(&mut out).unwrap();
        t.join().unwrap();
        assert_eq!(out, b"abcdefgh");

        let (tx, rx) = channel();
        tx.send(Piece::Data(b"partial".to_vec())).unwrap();
        drop(tx);
        let mut out = Vec::new();
        assert!(PieceReader::new(rx).read_to_end(&mut out).is_err());
    }
}
