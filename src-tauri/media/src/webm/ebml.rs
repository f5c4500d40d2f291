//! EBML, the element format of Matroska and WebM: reading elements out of a file held in memory,
//! and writing new ones. An element is an ID (1–4 bytes, its length marker kept), a size (1–8
//! bytes, marker removed; all ones means "unknown", allowed here only where [`elements`]' caller
//! says), then the body. Every length is checked against what holds it before it is used: the
//! file may come from anyone.

use super::WebmError;

/// The IDs this module reads or writes (Matroska's element table).
pub(super) mod id {
    pub const EBML: u32 = 0x1A45_DFA3;
    pub const DOC_TYPE: u32 = 0x4282;
    pub const SEGMENT: u32 = 0x1853_8067;
    pub const INFO: u32 = 0x1549_A966;
    pub const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
    pub const DURATION: u32 = 0x4489;
    pub const TRACKS: u32 = 0x1654_AE6B;
    pub const TRACK_ENTRY: u32 = 0xAE;
    pub const TRACK_NUMBER: u32 = 0xD7;
    pub const TRACK_TYPE: u32 = 0x83;
    pub const CODEC_ID: u32 = 0x86;
    pub const CONTENT_ENCODINGS: u32 = 0x6D80;
    pub const CLUSTER: u32 = 0x1F43_B675;
    pub const TIMESTAMP: u32 = 0xE7;
    pub const SIMPLE_BLOCK: u32 = 0xA3;
    pub const BLOCK_GROUP: u32 = 0xA0;
    pub const BLOCK: u32 = 0xA1;
    /// The elements a Segment holds: one of them ends a Cluster of unknown size.
    pub const TOP: [u32; 8] = [
        0x114D_9B74, // SeekHead
        INFO,
        TRACKS,
        CLUSTER,
        0x1C53_BB6B, // Cues
        0x1941_A469, // Attachments
        0x1043_A770, // Chapters
        0x1254_C367, // Tags
    ];
}

/// One element: its ID, the bytes of its header and body together, and where the body starts.
#[derive(Clone, Copy)]
pub(super) struct Element<'a> {
    pub id: u32,
    pub whole: &'a [u8],
    pub body: &'a [u8],
}

/// Why [`header`] fails when the bytes end inside a header (a file cut off).
const CUT: &str = "an element is cut off";

/// The size of an element whose size is "unknown" (all ones): it runs on to its parent's end,
/// or, for a Cluster, to the next element a Segment holds.
pub(super) const UNKNOWN: u64 = u64::MAX;

/// An element's header at the start of `b`: its ID, its size ([`UNKNOWN`] for all ones) and the
/// header's length.
pub(super) fn header(b: &[u8]) -> Result<(u32, u64, usize), WebmError> {
    let short = WebmError::Malformed(CUT);
    let first = *b.first().ok_or(short.clone())?;
    let id_len = first.leading_zeros() as usize + 1;
    if id_len > 4 {
        return Err(WebmError::Malformed("an element ID longer than 4 bytes"));
    }
    let id_bytes = b.get(..id_len).ok_or(short.clone())?;
    let id = id_bytes.iter().fold(0u32, |v, &x| (v << 8) | u32::from(x));
    let rest = &b[id_len..];
    let first = *rest.first().ok_or(short.clone())?;
    let size_len = first.leading_zeros() as usize + 1;
    if size_len > 8 {
        return Err(WebmError::Malformed("an element size longer than 8 bytes"));
    }
    let size_bytes = rest.get(..size_len).ok_or(short)?;
    let mask = if size_len == 8 { 0 } else { 0xFFu8 >> size_len };
    let mut size = u64::from(first & mask);
    for &x in &size_bytes[1..] {
        size = (size << 8) | u64::from(x);
    }
    let all_ones = (1u64 << (7 * size_len)) - 1;
    let size = if size == all_ones { UNKNOWN } else { size };
    Ok((id, size, id_len + size_len))
}

/// The elements one after another in `data` (a body of known size). An element of unknown size
/// is malformed here: only a Segment and its Clusters may have one, and those are read apart.
pub(super) fn elements(data: &[u8]) -> Elements<'_> {
    Elements { rest: data }
}

pub(super) struct Elements<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Element<'a>, WebmError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let r = self.rest;
        let got = header(r).and_then(|(id, size, head)| {
            if size == UNKNOWN {
                return Err(WebmError::Malformed("an element of unknown size"));
            }
            let end = (head as u64)
                .checked_add(size)
                .filter(|&e| e <= r.len() as u64)
                .ok_or(WebmError::Malformed(
                    "an element runs past the element or file that holds it",
                ))? as usize;
            Ok(Element {
                id,
                whole: &r[..end],
                body: &r[head..end],
            })
        });
        match got {
            Ok(e) => {
                self.rest = &r[e.whole.len()..];
                Some(Ok(e))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// The first element `id` among the elements in `data`.
pub(super) fn child<'a>(data: &'a [u8], id: u32) -> Result<Option<Element<'a>>, WebmError> {
    for e in elements(data) {
        let e = e?;
        if e.id == id {
            return Ok(Some(e));
        }
    }
    Ok(None)
}

/// An unsigned integer's body (0–8 bytes, big-endian).
pub(super) fn uint(body: &[u8]) -> Result<u64, WebmError> {
    if body.len() > 8 {
        return Err(WebmError::Malformed("a number longer than 8 bytes"));
    }
    Ok(body.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

/// The head of a Block's or SimpleBlock's body: its track number (a size-like number) and its
/// time from its cluster's (signed 16 bits), checked to be followed by its flags byte.
pub(super) fn block_head(body: &[u8]) -> Result<(u64, i16), WebmError> {
    let first = *body.first().ok_or(WebmError::Malformed("an empty block"))?;
    let len = first.leading_zeros() as usize + 1;
    let b = body
        .get(..len + 3)
        .filter(|_| len <= 8)
        .ok_or(WebmError::Malformed("a block's head is cut off"))?;
    let mask = if len == 8 { 0 } else { 0xFFu8 >> len };
    let track = b[1..len]
        .iter()
        .fold(u64::from(first & mask), |v, &x| (v << 8) | u64::from(x));
    Ok((track, i16::from_be_bytes([b[len], b[len + 1]])))
}

/// A float's body (4 or 8 bytes, big-endian); None for any other length.
pub(super) fn float(body: &[u8]) -> Option<f64> {
    match body.len() {
        4 => Some(f64::from(f32::from_be_bytes(body.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(body.try_into().ok()?)),
        _ => None,
    }
}

/// How many bytes a size takes when written by [`put_head`]: as few as hold it (all ones is
/// "unknown", so a byte holds at most 126).
fn len_of_size(size: u64) -> usize {
    (1..8).find(|&n| size < (1u64 << (7 * n)) - 1).unwrap_or(8)
}

fn id_len(id: u32) -> usize {
    4 - (id.leading_zeros() / 8) as usize
}

/// The length of the header [`put_head`] writes for an element `id` whose body is `size` bytes.
pub(super) fn head_len(id: u32, size: u64) -> usize {
    id_len(id) + len_of_size(size)
}

/// Appends the header of an element `id` whose body is `size` bytes, its size in as few bytes as
/// hold it (never longer than a muxer's, so the new file is not larger than the old; and the
/// same size is always written the same way, so a rewritten file rewrites to itself).
pub(super) fn put_head(out: &mut Vec<u8>, id: u32, size: u64) {
    out.extend_from_slice(&id.to_be_bytes()[4 - id_len(id)..]);
    let n = len_of_size(size);
    let marked = size | (1u64 << (7 * n));
    out.extend_from_slice(&marked.to_be_bytes()[8 - n..]);
}

/// Appends an element `id` with `body`.
pub(super) fn put(out: &mut Vec<u8>, id: u32, body: &[u8]) {
    put_head(out, id, body.len() as u64);
    out.extend_from_slice(body);
}

/// Appends an unsigned integer element.
pub(super) fn put_uint(out: &mut Vec<u8>, id: u32, v: u64) {
    put(out, id, &v.to_be_bytes());
}
