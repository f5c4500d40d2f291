//! The age header of a file from outside, read by us before the age crate sees it: capped in
//! size, and handed over whole.
//!
//! The age crate reads a header line by line and parses everything read so far after every
//! line, with no limit: a file with a valid first line followed by millions of stanza lines
//! held an import for hours before any key was needed, and even 64 KiB of the smallest
//! stanzas took 20 s (docs/threat-model.md, "Hardening after an outside review", item 9).
//! [`Header::read`] reads up to the header's last line, refusing a header over
//! [`MAX_HEADER_BYTES`]; the age crate then gets the whole header from one `read_until`, so it
//! parses once.

use std::io::{self, BufRead, Read};

/// The largest age header accepted from outside, in bytes.
///
/// # Security
/// A bundle's header holds one stanza per recipient, about 100 bytes each: 64 KiB is room for
/// hundreds of recipients.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Where the reader is in the header. The header ends with the new line of the first line
/// that starts with `---` (stanza lines start with `->`, stanza bodies are base64, which has
/// no `-`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line, this many of its leading `-` seen (0 to 2).
    Start(u8),
    /// Inside an ordinary line.
    Line,
    /// Inside the line that starts with `---`.
    Last,
}

impl State {
    /// Follows the header through `bytes`: how many of them belong to it, and whether it ended.
    fn follow(&mut self, bytes: &[u8]) -> (usize, bool) {
        for (i, &b) in bytes.iter().enumerate() {
            *self = match (*self, b) {
                (State::Last, b'\n') => return (i + 1, true),
                (State::Last, _) => State::Last,
                (_, b'\n') => State::Start(0),
                (State::Start(2), b'-') => State::Last,
                (State::Start(n), b'-') => State::Start(n + 1),
                _ => State::Line,
            };
        }
        (bytes.len(), false)
    }
}

/// The header's bytes, read ahead, then the rest of the file: what the age crate reads.
pub(super) struct Header<R> {
    header: Vec<u8>,
    pos: usize,
    rest: R,
}

/// Why a header was not read.
#[derive(Debug)]
pub(super) enum HeaderError {
    /// No header's end within [`MAX_HEADER_BYTES`].
    TooLarge,
    /// The file could not be read (or its armor is damaged).
    Io(io::Error),
}

impl<R: BufRead> Header<R> {
    /// Reads `input` up to the end of its age header. A file that ends first is handed on as
    /// it is, for the age crate to refuse.
    pub(super) fn read(mut input: R) -> Result<Self, HeaderError> {
        let mut header = Vec::new();
        let mut state = State::Start(0);
        loop {
            let buf = input.fill_buf().map_err(HeaderError::Io)?;
            if buf.is_empty() {
                break;
            }
            let (n, ended) = state.follow(buf);
            if header.len() + n > MAX_HEADER_BYTES {
                return Err(HeaderError::TooLarge);
            }
            header.extend_from_slice(&buf[..n]);
            input.consume(n);
            if ended {
                break;
            }
        }
        Ok(Header {
            header,
            pos: 0,
            rest: input,
        })
    }
}

impl<R: BufRead> Read for Header<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Header<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos < self.header.len() {
            Ok(&self.header[self.pos..])
        } else {
            self.rest.fill_buf()
        }
    }

    fn consume(&mut self, amt: usize) {
        if self.pos < self.header.len() {
            self.pos += amt;
        } else {
            self.rest.consume(amt);
        }
    }

    /// Hands out what is left of the header at once (it ends with the delimiter, `\n`), so
    /// that the age crate, which parses after every `read_until`, parses the header once.
    /// Past the header, the usual `read_until`.
    fn read_until(&mut self, byte: u8, into: &mut Vec<u8>) -> io::Result<usize> {
        if self.pos < self.header.len() && self.header.ends_with(&[byte]) {
            let left = &self.header[self.pos..];
            into.extend_from_slice(left);
            self.pos = self.header.len();
            return Ok(left.len());
        }
        let mut n = 0;
        loop {
            let (done, used) = {
                let buf = self.fill_buf()?;
                match buf.iter().position(|&b| b == byte) {
                    Some(i) => {
                        into.extend_from_slice(&buf[..=i]);
                        (true, i + 1)
                    }
                    None => {
                        into.extend_from_slice(buf);
                        (buf.is_empty(), buf.len())
                    }
                }
            };
            self.consume(used);
            n += used;
            if done {
                return Ok(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], piece: usize) -> Result<Vec<u8>, HeaderError> {
        let mut r = Header::read(io::BufReader::with_capacity(piece, bytes))?;
        let mut out = Vec::new();
        r.read_to_end(&mut out).map_err(HeaderError::Io)?;
        Ok(out)
    }

    #[test]
    fn a_header_within_the_cap_passes_whole_and_so_does_what_follows() {
        let mut file = b"age-encryption.org/v1\n-> X25519 abc\nQUJD\n--- mac\n".to_vec();
        file.extend(std::iter::repeat_n(b'x', 3 * MAX_HEADER_BYTES));
        for piece in [1, 7, 4096, 1 << 20] {
            assert_eq!(read_all(&file, piece).unwrap(), file, "pieces of {piece}");
        }
        let mut r = Header::read(&file[..]).unwrap();
        let mut first = Vec::new();
        r.read_until(b'\n', &mut first).unwrap();
        assert_eq!(
            first,
            b"age-encryption.org/v1\n-> X25519 abc\nQUJD\n--- mac\n"
        );
        first.clear();
        r.read_until(b'x', &mut first).unwrap();
        assert_eq!(first, b"x");
        // Past the header, lines come one at a time, each consumed.
        let mut r = Header::read(&b"age-encryption.org/v1\n--- mac\nab\ncd\nef"[..]).unwrap();
        let mut lines = Vec::new();
        loop {
            let mut line = Vec::new();
            let n = r.read_until(b'\n', &mut line).unwrap();
            assert_eq!(n, line.len());
            if n == 0 {
                break;
            }
            lines.push(line);
        }
        let want: [&[u8]; 4] = [b"age-encryption.org/v1\n--- mac\n", b"ab\n", b"cd\n", b"ef"];
        assert_eq!(lines, want);
    }

    #[test]
    fn a_header_without_its_last_line_fails_at_the_cap() {
        let mut file = b"age-encryption.org/v1\n".to_vec();
        while file.len() <= MAX_HEADER_BYTES {
            // Lines that start with one or two dashes are not the last line.
            file.extend_from_slice(b"-> a\n--\n-\n\n");
        }
        for piece in [1, 4096, 1 << 20] {
            let e = read_all(&file, piece).unwrap_err();
            assert!(matches!(e, HeaderError::TooLarge), "pieces of {piece}");
        }
        // One byte past the cap is too late; the cap itself is fine.
        let mut late = vec![b'a'; MAX_HEADER_BYTES - 6];
        late.extend_from_slice(b"\n--- m\n");
        assert!(matches!(read_all(&late, 4096), Err(HeaderError::TooLarge)));
        let mut just = vec![b'a'; MAX_HEADER_BYTES - 7];
        just.extend_from_slice(b"\n--- m\n");
        assert_eq!(just.len(), MAX_HEADER_BYTES);
        just.extend_from_slice(b"after");
        assert_eq!(read_all(&just, 1).unwrap(), just);
        // A file that ends inside its header is handed on whole.
        assert_eq!(
            read_all(b"age-encryption.org/v1\n-> a\n", 3).unwrap(),
            b"age-encryption.org/v1\n-> a\n"
        );
    }
}
