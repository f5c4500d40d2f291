//! A track's sample tables (`stts`, `ctts`, `stss`, `stsz`, `stsc`, `stco`/`co64`) read into one
//! list: where each sample is in the file, how long it lasts, when it is shown, and whether
//! playback may start at it. Counts are checked against the bytes that hold them and against
//! [`MAX_SAMPLES`] before anything is allocated.

use super::boxes::{child, Cursor};
use super::Mp4Error;

/// Most samples a file may have, all tracks together: ten hours of 60 fps video with 48 kHz
/// AAC is 3.9 million. (Each is 40 bytes here while the file is rewritten: at most 160 MB.)
pub const MAX_SAMPLES: usize = 4_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Sample {
    /// Where its bytes start in the file.
    pub offset: u64,
    pub size: u32,
    /// Decode time, in the track's timescale.
    pub dts: u64,
    pub duration: u32,
    /// Presentation time minus decode time, as `ctts` stored it: read as signed whatever its
    /// version (muxers write negative offsets into version 0 too, and players read them so).
    pub cts: u32,
    pub sync: bool,
}

/// The samples of a track whose sample table (`stbl`'s body) is `stbl`, in a file of
/// `file_len` bytes; `budget` is how many samples the file may still have.
pub(super) fn read(stbl: &[u8], file_len: u64, budget: usize) -> Result<Vec<Sample>, Mp4Error> {
    let need = |kind: &'static [u8; 4]| -> Result<&[u8], Mp4Error> {
        let name = std::str::from_utf8(kind).unwrap_or("box");
        Ok(child(stbl, kind)?.ok_or(Mp4Error::Missing(name))?.body)
    };
    // Sizes first: they say how many samples there are.
    let mut c = Cursor::new(need(b"stsz")?);
    c.bytes(4)?;
    let fixed = c.u32()?;
    let count = c.u32()?;
    if count as usize > budget {
        return Err(Mp4Error::TooLarge);
    }
    // One size for all: they must fit in the file (a 20-byte table could claim millions).
    if fixed > 0 && u64::from(count) * u64::from(fixed) > file_len {
        return Err(Mp4Error::Malformed(
            "the samples add up to more than the file",
        ));
    }
    let sizes: Vec<u32> = if fixed == 0 {
        c.table(count, 4)?
            .chunks_exact(4)
            .map(|b| u32::from_be_bytes(b.try_into().unwrap()))
            .collect()
    } else {
        vec![fixed; count as usize]
    };
    let mut samples: Vec<Sample> = sizes
        .iter()
        .map(|&size| Sample {
            offset: 0,
            size,
            dts: 0,
            duration: 0,
            cts: 0,
            sync: true,
        })
        .collect();
    durations(need(b"stts")?, &mut samples)?;
    if let Some(a) = child(stbl, b"ctts")? {
        offsets(a.body, &mut samples)?;
    }
    if let Some(a) = child(stbl, b"stss")? {
        sync(a.body, &mut samples)?;
    }
    let chunks = match (child(stbl, b"stco")?, child(stbl, b"co64")?) {
        (Some(a), _) => chunk_offsets(a.body, 4)?,
        (None, Some(a)) => chunk_offsets(a.body, 8)?,
        (None, None) => return Err(Mp4Error::Missing("stco")),
    };
    place(need(b"stsc")?, &chunks, &mut samples)?;
    let outside = |s: &Sample| {
        s.offset
            .checked_add(u64::from(s.size))
            .is_none_or(|e| e > file_len)
    };
    if samples.iter().any(outside) {
        return Err(Mp4Error::Malformed("a sample lies outside the file"));
    }
    Ok(samples)
}

/// `stts`: runs of samples of one duration; decode times follow from them.
fn durations(stts: &[u8], samples: &mut [Sample]) -> Result<(), Mp4Error> {
    let mut c = Cursor::new(stts);
    c.bytes(4)?;
    let n = c.u32()?;
    let mut i = 0usize;
    let mut dts = 0u64;
    for e in c.table(n, 8)?.chunks_exact(8) {
        let count = u32::from_be_bytes(e[..4].try_into().unwrap()) as usize;
        let delta = u32::from_be_bytes(e[4..].try_into().unwrap());
        let end = i.saturating_add(count).min(samples.len());
        for s in &mut samples[i..end] {
            s.dts = dts;
            s.duration = delta;
            dts += u64::from(delta);
        }
        i = end;
    }
    if i != samples.len() {
        return Err(Mp4Error::Malformed(
            "the sample durations do not cover every sample",
        ));
    }
    Ok(())
}

/// `ctts`: runs of samples shown that long after (or before) they are decoded.
fn offsets(ctts: &[u8], samples: &mut [Sample]) -> Result<(), Mp4Error> {
    let mut c = Cursor::new(ctts);
    c.bytes(4)?;
    let n = c.u32()?;
    let mut i = 0usize;
    for e in c.table(n, 8)?.chunks_exact(8) {
        let count = u32::from_be_bytes(e[..4].try_into().unwrap()) as usize;
        let offset = u32::from_be_bytes(e[4..].try_into().unwrap());
        let end = i.saturating_add(count).min(samples.len());
        for s in &mut samples[i..end] {
            s.cts = offset;
        }
        i = end;
    }
    Ok(())
}

/// `stss`: the samples playback may start at (without it, every sample).
fn sync(stss: &[u8], samples: &mut [Sample]) -> Result<(), Mp4Error> {
    let mut c = Cursor::new(stss);
    c.bytes(4)?;
    let n = c.u32()?;
    for s in samples.iter_mut() {
        s.sync = false;
    }
    for e in c.table(n, 4)?.chunks_exact(4) {
        let number = u32::from_be_bytes(e.try_into().unwrap()) as usize;
        if let Some(s) = number.checked_sub(1).and_then(|i| samples.get_mut(i)) {
            s.sync = true;
        }
    }
    Ok(())
}

fn chunk_offsets(body: &[u8], width: usize) -> Result<Vec<u64>, Mp4Error> {
    let mut c = Cursor::new(body);
    c.bytes(4)?;
    let n = c.u32()?;
    Ok(c.table(n, width)?
        .chunks_exact(width)
        .map(|b| match width {
            4 => u64::from(u32::from_be_bytes(b.try_into().unwrap())),
            _ => u64::from_be_bytes(b.try_into().unwrap()),
        })
        .collect())
}

/// `stsc`: how many samples each chunk holds; with the chunks' offsets and the samples' sizes,
/// where each sample is. Only one sample description is played (`trex` names one).
fn place(stsc: &[u8], chunks: &[u64], samples: &mut [Sample]) -> Result<(), Mp4Error> {
    let mut c = Cursor::new(stsc);
    c.bytes(4)?;
    let n = c.u32()?;
    let runs: Vec<(u32, u32, u32)> = c
        .table(n, 12)?
        .chunks_exact(12)
        .map(|e| {
            let w = |k: usize| u32::from_be_bytes(e[k..k + 4].try_into().unwrap());
            (w(0), w(4), w(8))
        })
        .collect();
    if runs.iter().any(|r| r.2 != 1) {
        return Err(Mp4Error::Unsupported(
            "several sample descriptions in one track".into(),
        ));
    }
    let mut next = 0usize;
    for (k, run) in runs.iter().enumerate() {
        let first = run.0 as usize;
        let last = runs.get(k + 1).map_or(chunks.len() + 1, |r| r.0 as usize);
        if first == 0 || last < first {
            return Err(Mp4Error::Malformed("the chunk table goes backwards"));
        }
        for chunk in first..last.min(chunks.len() + 1) {
            let mut at = chunks[chunk - 1];
            for _ in 0..run.1 {
                let Some(s) = samples.get_mut(next) else {
                    return Ok(());
                };
                s.offset = at;
                at = at.saturating_add(u64::from(s.size));
                next += 1;
            }
        }
    }
    if next != samples.len() {
        return Err(Mp4Error::Malformed("the chunks do not hold every sample"));
    }
    Ok(())
}
