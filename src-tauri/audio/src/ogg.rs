//! Ogg pages (RFC 3533), written and read here: a recording is Ogg pages end to end, a piece of
//! it is whole pages, and seeking reads the pages' granule positions. The format is a 27-byte
//! header, a table of segment lengths and the body; a CRC-32 covers the page.

use crate::AudioError;

/// `continued`: the page's first packet began on the page before.
pub(crate) const CONTINUED: u8 = 1;
/// `bos`: the first page of the stream.
pub(crate) const BOS: u8 = 2;
/// `eos`: the last page of the stream.
pub(crate) const EOS: u8 = 4;

const fn crc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = (i as u32) << 24;
        let mut j = 0;
        while j < 8 {
            r = if r & 0x8000_0000 != 0 {
                (r << 1) ^ 0x04c1_1db7
            } else {
                r << 1
            };
            j += 1;
        }
        t[i] = r;
        i += 1;
    }
    t
}

static CRC: [u32; 256] = crc_table();

fn crc(data: &[u8]) -> u32 {
    crc_more(0, data)
}

fn crc_more(c: u32, data: &[u8]) -> u32 {
    data.iter()
        .fold(c, |c, &b| (c << 8) ^ CRC[(((c >> 24) as u8) ^ b) as usize])
}

/// Appends one page holding whole `packets` (each under 255 × 255 bytes, at most 255 lacing
/// values in all) to `out`.
pub(crate) fn write_page(
    out: &mut Vec<u8>,
    serial: u32,
    seq: u32,
    granule: u64,
    flags: u8,
    packets: &[&[u8]],
) {
    let mut lacing = Vec::new();
    for p in packets {
        let mut n = p.len();
        while n >= 255 {
            lacing.push(255u8);
            n -= 255;
        }
        lacing.push(u8::try_from(n).expect("under 255"));
    }
    debug_assert!(lacing.len() <= 255, "too many packets for one page");
    let body: Vec<u8> = packets.concat();
    write_raw_page(out, serial, seq, granule, flags, &lacing, &body);
    zeroize::Zeroize::zeroize(&mut { body });
}

/// Appends one page with the given lacing values and body (a packet may be left unfinished).
pub(crate) fn write_raw_page(
    out: &mut Vec<u8>,
    serial: u32,
    seq: u32,
    granule: u64,
    flags: u8,
    lacing: &[u8],
    body: &[u8],
) {
    let start = out.len();
    out.extend_from_slice(b"OggS");
    out.push(0);
    out.push(flags);
    out.extend_from_slice(&granule.to_le_bytes());
    out.extend_from_slice(&serial.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(u8::try_from(lacing.len()).unwrap_or(255));
    out.extend_from_slice(lacing);
    out.extend_from_slice(body);
    let c = crc(&out[start..]);
    out[start + 22..start + 26].copy_from_slice(&c.to_le_bytes());
}

/// Lacing values a packet of `len` bytes takes.
pub(crate) fn lacing_len(len: usize) -> usize {
    len / 255 + 1
}

/// One page read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page<'a> {
    /// Where the page starts.
    pub offset: usize,
    pub flags: u8,
    /// Granule position: for Opus, 48 kHz samples decoded by the end of the page (with
    /// pre-skip); `u64::MAX` when no packet ends on it.
    pub granule: u64,
    pub serial: u32,
    lacing: &'a [u8],
    body: &'a [u8],
}

impl<'a> Page<'a> {
    /// The page's packet pieces: each with whether it ends a packet (a packet may continue on
    /// the next page).
    pub(crate) fn pieces(&self) -> Vec<(&'a [u8], bool)> {
        let mut out = Vec::new();
        let (mut start, mut at) = (0usize, 0usize);
        for &l in self.lacing {
            at += usize::from(l);
            if l < 255 {
                out.push((&self.body[start..at], true));
                start = at;
            }
        }
        if start < at {
            out.push((&self.body[start..at], false));
        }
        out
    }

    /// Bytes the page takes.
    pub(crate) fn len(&self) -> usize {
        27 + self.lacing.len() + self.body.len()
    }
}

/// Reads the page at `at`.
pub(crate) fn page_at(data: &[u8], at: usize) -> Result<Page<'_>, AudioError> {
    let bad = |why: &str| AudioError::Format(format!("damaged Ogg page at byte {at}: {why}"));
    let h = data.get(at..at + 27).ok_or_else(|| bad("cut short"))?;
    if &h[..4] != b"OggS" || h[4] != 0 {
        return Err(bad("not an Ogg page"));
    }
    let nseg = usize::from(h[26]);
    let lacing = data
        .get(at + 27..at + 27 + nseg)
        .ok_or_else(|| bad("cut short"))?;
    let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
    let body_at = at + 27 + nseg;
    let body = data
        .get(body_at..body_at + body_len)
        .ok_or_else(|| bad("cut short"))?;
    // The CRC covers the page with its own field as zeros (computed in place: no copy of the
    // plaintext is made).
    let c = crc_more(
        crc_more(crc(&h[..22]), &[0; 4]),
        &data[at + 26..body_at + body_len],
    );
    let want = u32::from_le_bytes(h[22..26].try_into().expect("4 bytes"));
    if c != want {
        return Err(bad("checksum does not match"));
    }
    Ok(Page {
        offset: at,
        flags: h[5],
        granule: u64::from_le_bytes(h[6..14].try_into().expect("8 bytes")),
        serial: u32::from_le_bytes(h[14..18].try_into().expect("4 bytes")),
        lacing,
        body,
    })
}

/// The pages of `data`, in order. A stream cut short inside its last page (a recording a crash
/// interrupted is whole pages; another program's file may not be) ends at the last whole page.
/// The first page must be whole.
pub(crate) fn pages(data: &[u8]) -> Result<Pages<'_>, AudioError> {
    page_at(data, 0)?;
    Ok(Pages { data, at: 0 })
}

/// The pages of a stream, read one at a time (never all held at once).
pub(crate) struct Pages<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Pages<'a> {
    type Item = Page<'a>;

    fn next(&mut self) -> Option<Page<'a>> {
        let p = page_at(self.data, self.at).ok()?;
        self.at += p.len();
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_written_reads_back_and_a_changed_byte_is_found() {
        let mut out = Vec::new();
        let big = vec![7u8; 600];
        write_page(&mut out, 42, 3, 960, BOS, &[b"abc", &big, b""]);
        let p = page_at(&out, 0).unwrap();
        assert_eq!((p.serial, p.granule, p.flags), (42, 960, BOS));
        let pieces = p.pieces();
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces[1].0.len(), 600);
        assert!(pieces.iter().all(|(_, whole)| *whole));
        assert_eq!(p.len(), out.len());
        out[40] ^= 1;
        assert!(page_at(&out, 0).is_err());
    }

    #[test]
    fn the_checksum_is_oggs_own() {
        // The capture pattern's CRC under Ogg's polynomial (no reflection, initial 0).
        assert_eq!(crc(b"OggS"), 0x5fb0_a94f);
    }
}
