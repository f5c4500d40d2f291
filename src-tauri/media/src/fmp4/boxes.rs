//! ISO BMFF boxes: reading them out of a file held in memory, and writing new ones. Every length
//! is checked against what holds it before anything is read or allocated: the file may come from
//! anyone (an attachment in another organisation's bundle).

use super::Mp4Error;

/// One box: its four-character kind and its body (the bytes after its header).
#[derive(Clone, Copy)]
pub(super) struct Atom<'a> {
    pub kind: [u8; 4],
    pub body: &'a [u8],
    /// The whole box, header included (copied as it is into the new file).
    pub whole: &'a [u8],
}

/// The boxes one after another in `data` (a file, or a box's body).
pub(super) fn atoms(data: &[u8]) -> Atoms<'_> {
    Atoms { rest: data }
}

pub(super) struct Atoms<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Atoms<'a> {
    type Item = Result<Atom<'a>, Mp4Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let r = self.rest;
        let bad = || {
            Some(Err(Mp4Error::Malformed(
                "a box runs past the box or file that holds it",
            )))
        };
        if r.len() < 8 {
            self.rest = &[];
            return bad();
        }
        let size32 = u32::from_be_bytes([r[0], r[1], r[2], r[3]]);
        let kind = [r[4], r[5], r[6], r[7]];
        let (size, header) = match size32 {
            0 => (r.len() as u64, 8),
            1 if r.len() >= 16 => (u64::from_be_bytes(r[8..16].try_into().unwrap()), 16),
            1 => (u64::MAX, 16),
            n => (u64::from(n), 8),
        };
        if size < header as u64 || size > r.len() as u64 {
            self.rest = &[];
            return bad();
        }
        let (whole, rest) = r.split_at(size as usize);
        self.rest = rest;
        Some(Ok(Atom {
            kind,
            body: &whole[header..],
            whole,
        }))
    }
}

/// The first box of `kind` among the boxes in `data`.
pub(super) fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Result<Option<Atom<'a>>, Mp4Error> {
    for a in atoms(data) {
        let a = a?;
        if &a.kind == kind {
            return Ok(Some(a));
        }
    }
    Ok(None)
}

/// The box at the end of `path` below `data`, which must be there.
pub(super) fn find<'a>(data: &'a [u8], path: &[&'static [u8; 4]]) -> Result<Atom<'a>, Mp4Error> {
    let mut here = data;
    let mut found = None;
    for kind in path {
        let name = std::str::from_utf8(*kind).unwrap_or("box");
        let a = child(here, kind)?.ok_or(Mp4Error::Missing(name))?;
        here = a.body;
        found = Some(a);
    }
    found.ok_or(Mp4Error::Missing("box"))
}

/// Reads numbers from a box's body, never past its end.
pub(super) struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Cursor { b, at: 0 }
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Mp4Error> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or(Mp4Error::Malformed(
                "a box is shorter than what it says it holds",
            ))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8, Mp4Error> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u32(&mut self) -> Result<u32, Mp4Error> {
        Ok(u32::from_be_bytes(self.bytes(4)?.try_into().unwrap()))
    }

    #[cfg(test)]
    pub fn u64(&mut self) -> Result<u64, Mp4Error> {
        Ok(u64::from_be_bytes(self.bytes(8)?.try_into().unwrap()))
    }

    /// What is left: a table of `count` entries of `size` bytes must fit in it.
    pub fn table(&mut self, count: u32, size: usize) -> Result<&'a [u8], Mp4Error> {
        let n = (count as usize)
            .checked_mul(size)
            .ok_or(Mp4Error::Malformed("a table is larger than the file"))?;
        self.bytes(n)
    }
}

/// Appends a box of `kind` whose body `body` writes; its size is filled in after.
pub(super) fn put(out: &mut Vec<u8>, kind: &[u8; 4], body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(kind);
    body(out);
    let size = u32::try_from(out.len() - start).expect("boxes of a previewed file fit 32 bits");
    out[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

/// Appends a full box (version and flags first).
pub(super) fn put_full(
    out: &mut Vec<u8>,
    kind: &[u8; 4],
    version: u8,
    flags: u32,
    body: impl FnOnce(&mut Vec<u8>),
) {
    put(out, kind, |o| {
        o.push(version);
        o.extend_from_slice(&flags.to_be_bytes()[1..]);
        body(o);
    });
}
