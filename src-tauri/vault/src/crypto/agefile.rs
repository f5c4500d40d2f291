//! Re-addressing an age file: the same payload, behind a new header for another recipient.
//!
//! An age v1 file ([C2SP age](https://c2sp.org/age)) is a header — stanzas, each wrapping the
//! same random 16-byte file key to one recipient, then an HMAC over the header keyed from that
//! file key — followed by the payload: a 16-byte nonce and STREAM chunks under a key derived
//! from the file key and that nonce. Nothing in the payload depends on the header. So a file is
//! addressed to someone else by unwrapping its file key with an identity that can, wrapping it
//! to the new recipient, writing a new header and its MAC, and copying the payload's bytes
//! untouched: the cost is the header's, whatever the file's size (docs/bundle-format.md
//! "Format 2").
//!
//! age and age-core do the cryptography here: the stanza grammar (`age_core::format::read`),
//! unwrapping (`age::Identity`), wrapping (`age::Recipient`), HKDF (`age_core::primitives`).
//! This file reads and writes only the header's lines and its MAC. Tests prove it against Go
//! `age` and the C2SP/CCTV vectors (`tests/readdress.rs`, `tests/age_testkit.rs`), not against
//! our own reader alone.

use std::io::{self, BufRead, Read};

use age::secrecy::ExposeSecret;
use age_core::format::{FileKey, Stanza};
use base64::prelude::{Engine, BASE64_STANDARD_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The first line of every age v1 file.
const MAGIC: &[u8] = b"age-encryption.org/v1\n";
/// The largest header read from an inner file (ours are under 400 bytes: one X25519 stanza,
/// and one random "grease" stanza from the age crate).
pub(crate) const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Plaintext bytes per STREAM chunk, and the tag each chunk adds.
const CHUNK: u64 = 64 * 1024;
const TAG: u64 = 16;
/// The nonce that begins the payload.
const NONCE: u64 = 16;
/// `--- ` + 43 base64 characters + `\n`.
const MAC_LINE: usize = 4 + 43 + 1;

/// Why a header could not be read or opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeaderError {
    /// Reading failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Past [`MAX_HEADER_BYTES`].
    #[error("its age header is larger than {MAX_HEADER_BYTES} bytes")]
    TooLarge,
    /// Not a well-formed age v1 header.
    #[error("it is not a well-formed age file ({0})")]
    Invalid(&'static str),
    /// No stanza is for the identity given.
    #[error("it is not encrypted to the expected key")]
    NotForUs,
    /// The stanza for the identity did not open, or the MAC does not match.
    #[error("its age header was altered")]
    Altered,
}

/// The size of the payload of an age file of `plain` bytes: the nonce, the plaintext, and a
/// tag per chunk (an empty file has one empty chunk).
pub(crate) fn payload_size(plain: u64) -> u64 {
    NONCE + plain + plain.div_ceil(CHUNK).max(1) * TAG
}

/// The length of a header [`header_for`] writes: the first line, one X25519 stanza (its
/// argument and body, 32 bytes each, in 43 base64 characters), the MAC line.
pub(crate) const X25519_HEADER_BYTES: u64 = 22 + (10 + 43 + 1) + (43 + 1) + MAC_LINE as u64;

/// The size of an age file of `plain` bytes behind a header from [`header_for`].
pub(crate) fn readdressed_size(plain: u64) -> u64 {
    X25519_HEADER_BYTES + payload_size(plain)
}

/// A header as read: its stanzas, the bytes its MAC covers, the MAC, and its length.
pub(crate) struct Header {
    stanzas: Vec<Stanza>,
    /// Everything up to and including `---` (what the MAC covers).
    signed: Vec<u8>,
    mac: [u8; 32],
}

impl Header {
    /// Its length in bytes, up to and including the MAC line's end: where the payload starts.
    pub(crate) fn len(&self) -> usize {
        self.signed.len() + MAC_LINE - 3
    }

    /// The file key, unwrapped with `identity`, once the header's MAC holds under it.
    pub(crate) fn file_key(&self, identity: &dyn age::Identity) -> Result<FileKey, HeaderError> {
        let key = match identity.unwrap_stanzas(&self.stanzas) {
            None => return Err(HeaderError::NotForUs),
            Some(Err(_)) => return Err(HeaderError::Altered),
            Some(Ok(k)) => k,
        };
        let mut mac = header_mac(&key);
        mac.update(&self.signed);
        mac.verify_slice(&self.mac)
            .map_err(|_| HeaderError::Altered)?;
        Ok(key)
    }
}

/// HMAC-SHA-256 keyed with HKDF-SHA-256(file key, salt empty, info "header") (age spec,
/// "Header MAC").
fn header_mac(key: &FileKey) -> Hmac<Sha256> {
    let mac_key = Zeroizing::new(age_core::primitives::hkdf(
        &[],
        b"header",
        key.expose_secret(),
    ));
    Hmac::<Sha256>::new_from_slice(&mac_key[..]).expect("HMAC takes any key length")
}

/// Appends one line (through its `\n`) to `raw`, within [`MAX_HEADER_BYTES`] in all.
fn read_line(r: &mut impl BufRead, raw: &mut Vec<u8>) -> Result<(), HeaderError> {
    let room = MAX_HEADER_BYTES.saturating_sub(raw.len()) as u64;
    (&mut *r).take(room).read_until(b'\n', raw)?;
    if raw.last() == Some(&b'\n') {
        Ok(())
    } else if raw.len() >= MAX_HEADER_BYTES {
        Err(HeaderError::TooLarge)
    } else {
        Err(HeaderError::Invalid("the header is cut short"))
    }
}

/// Reads a binary age v1 header from `r`, leaving `r` at the payload's first byte.
pub(crate) fn read_header(r: &mut impl BufRead) -> Result<Header, HeaderError> {
    let mut raw = Vec::with_capacity(512);
    read_line(r, &mut raw)?;
    if raw != MAGIC {
        return Err(HeaderError::Invalid("not an age v1 file"));
    }
    let mut stanzas = Vec::new();
    loop {
        let start = raw.len();
        read_line(r, &mut raw)?;
        if raw[start..].starts_with(b"---") {
            let line = &raw[start..];
            if line.len() != MAC_LINE || line[3] != b' ' {
                return Err(HeaderError::Invalid("a malformed MAC line"));
            }
            let mac = decode_mac(&line[4..MAC_LINE - 1])?;
            raw.truncate(start + 3);
            return Ok(Header {
                stanzas,
                signed: raw,
                mac,
            });
        }
        if !raw[start..].starts_with(b"-> ") {
            return Err(HeaderError::Invalid(
                "a line that is neither a stanza nor the MAC",
            ));
        }
        // The body: full 64-column lines, then a shorter one (empty if need be).
        loop {
            let line_start = raw.len();
            read_line(r, &mut raw)?;
            if raw.len() - line_start != 65 {
                break;
            }
        }
        match age_core::format::read::age_stanza(&raw[start..]) {
            Ok((b"", stanza)) => stanzas.push(stanza.into()),
            _ => return Err(HeaderError::Invalid("a malformed stanza")),
        }
    }
}

/// The MAC's 43 characters: canonical base64 of 32 bytes, no padding.
fn decode_mac(text: &[u8]) -> Result<[u8; 32], HeaderError> {
    let bad = || HeaderError::Invalid("a malformed MAC");
    let bytes = BASE64_STANDARD_NO_PAD.decode(text).map_err(|_| bad())?;
    let mac: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
    // Non-canonical encodings (stray low bits in the last character) are refused, as age does.
    if BASE64_STANDARD_NO_PAD.encode(mac).as_bytes() != text {
        return Err(bad());
    }
    Ok(mac)
}

/// Appends one stanza: `-> tag args…`, then the body in canonical base64 wrapped at 64
/// columns, ending with a short line (empty if the body fills its last line).
fn write_stanza(out: &mut Vec<u8>, s: &Stanza) {
    out.extend_from_slice(b"-> ");
    out.extend_from_slice(s.tag.as_bytes());
    for a in &s.args {
        out.push(b' ');
        out.extend_from_slice(a.as_bytes());
    }
    out.push(b'\n');
    let body = BASE64_STANDARD_NO_PAD.encode(&s.body);
    let mut rest = body.as_bytes();
    while rest.len() >= 64 {
        out.extend_from_slice(&rest[..64]);
        out.push(b'\n');
        rest = &rest[64..];
    }
    out.extend_from_slice(rest);
    out.push(b'\n');
}

/// A new binary header giving `key` to `recipient` alone, with its MAC.
pub(crate) fn header_for(
    recipient: &age::x25519::Recipient,
    key: &FileKey,
) -> Result<Vec<u8>, HeaderError> {
    let (stanzas, _) = age::Recipient::wrap_file_key(recipient, key)
        .map_err(|_| HeaderError::Invalid("the key could not be wrapped"))?;
    let mut out = MAGIC.to_vec();
    for s in &stanzas {
        write_stanza(&mut out, s);
    }
    out.extend_from_slice(b"---");
    let mut mac = header_mac(key);
    mac.update(&out);
    out.push(b' ');
    out.extend_from_slice(
        BASE64_STANDARD_NO_PAD
            .encode(mac.finalize().into_bytes())
            .as_bytes(),
    );
    out.push(b'\n');
    Ok(out)
}

/// The length of the binary age header at the start of `data` (which holds all of it).
pub(crate) fn header_len(data: &[u8]) -> Result<usize, HeaderError> {
    read_header(&mut &data[..]).map(|h| h.len())
}

/// Reads the header of the age file `input`, opens it with `from` and returns a new header for
/// `to` with the same file key; `input` is left at the payload, to be copied as it is.
pub(crate) fn readdress(
    input: &mut impl BufRead,
    from: &age::x25519::Identity,
    to: &age::x25519::Recipient,
) -> Result<Vec<u8>, HeaderError> {
    let key = read_header(input)?.file_key(from)?;
    header_for(to, &key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn encrypt(to: &age::x25519::Recipient, plain: &[u8]) -> Vec<u8> {
        let enc =
            age::Encryptor::with_recipients(std::iter::once(to as &dyn age::Recipient)).unwrap();
        let mut out = Vec::new();
        let mut w = enc.wrap_output(&mut out).unwrap();
        w.write_all(plain).unwrap();
        w.finish().unwrap();
        out
    }

    fn decrypt(id: &age::x25519::Identity, file: &[u8]) -> Vec<u8> {
        let d = age::Decryptor::new(file).unwrap();
        let mut r = d
            .decrypt(std::iter::once(id as &dyn age::Identity))
            .unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn a_readdressed_file_opens_with_the_new_key_and_keeps_its_payload() {
        let (a, b) = (
            age::x25519::Identity::generate(),
            age::x25519::Identity::generate(),
        );
        for size in [0usize, 1, 65_535, 65_536, 65_537, 200_000] {
            let plain: Vec<u8> = (0..size).map(|i| (i * 31) as u8).collect();
            let file = encrypt(&a.to_public(), &plain);
            let mut input = &file[..];
            let header = readdress(&mut input, &a, &b.to_public()).unwrap();
            assert_eq!(input.len() as u64, payload_size(size as u64), "{size}");
            let mut moved = header.clone();
            moved.extend_from_slice(input);
            assert_eq!(decrypt(&b, &moved), plain, "{size}");
            assert_eq!(header_len(&moved).unwrap(), header.len());
            assert_eq!(moved.len() as u64, readdressed_size(size as u64));
            // The old key no longer opens it.
            let mut again = &moved[..];
            assert!(matches!(
                read_header(&mut again).unwrap().file_key(&a),
                Err(HeaderError::NotForUs)
            ));
        }
    }

    #[test]
    fn an_altered_header_or_mac_is_refused() {
        let a = age::x25519::Identity::generate();
        let file = encrypt(&a.to_public(), b"testimony");
        let len = header_len(&file).unwrap();
        // Every byte of the header, changed to another base64 character or letter.
        for i in MAGIC.len()..len - 1 {
            let mut bad = file.clone();
            bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
            let mut r = &bad[..];
            let opened = read_header(&mut r).and_then(|h| h.file_key(&a));
            assert!(opened.is_err(), "byte {i} changed and still opened");
        }
    }

    #[test]
    fn headers_past_the_cap_or_cut_short_are_refused() {
        let mut big = MAGIC.to_vec();
        big.extend_from_slice(b"-> x\n");
        big.extend(std::iter::repeat_n(b'A', MAX_HEADER_BYTES));
        assert!(matches!(
            read_header(&mut &big[..]),
            Err(HeaderError::TooLarge)
        ));
        let a = age::x25519::Identity::generate();
        let file = encrypt(&a.to_public(), b"x");
        let len = header_len(&file).unwrap();
        for cut in [0, 5, MAGIC.len(), len - 20, len - 1] {
            assert!(read_header(&mut &file[..cut]).is_err(), "{cut}");
        }
    }

    #[test]
    fn payload_sizes_follow_the_stream_chunks() {
        assert_eq!(payload_size(0), 32);
        assert_eq!(payload_size(1), 16 + 1 + 16);
        assert_eq!(payload_size(65_536), 16 + 65_536 + 16);
        assert_eq!(payload_size(65_537), 16 + 65_537 + 32);
    }
}
