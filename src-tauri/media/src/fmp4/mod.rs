//! Video for Media Source Extensions: an MP4 or QuickTime file rewritten, in memory, as a
//! fragmented MP4 (an init segment, then a `moof`+`mdat` pair from each key frame a second or
//! more after the last), the only MP4 layout MSE plays.
//!
//! Why: a `<video>` element given a URL buffers what it plays — WebKitGTK's player copies it to
//! an unlinked file in `/var/tmp` (docs/threat-model.md, issue #10 item 1). Given a MediaSource,
//! it plays only what the page appends, from memory. Phones and cameras write ordinary
//! (unfragmented) MP4 and MOV; this turns one into the other without decoding anything: the
//! samples are the original's bytes, in the original's order, with their original timing
//! (edit lists kept), so what plays is the attachment as it was recorded. The attachment in the
//! vault is never changed.
//!
//! Only the boxes playback needs are carried over (movie and track headers, edit lists, media
//! headers, sample descriptions): user data, GPS tags and the like stay in the vault and never
//! reach the window's media stack. Only video and audio tracks are kept (not timecode or text).
//! The file may come from anyone: every length is checked before it is used, at most
//! [`MAX_SAMPLES`] samples are read, and a codec this module cannot name is refused.

mod boxes;
mod codec;
mod samples;
mod write;

pub use samples::MAX_SAMPLES;

use boxes::{atoms, child, find, Atom, Cursor};
use samples::Sample;

/// Why a file cannot be played through Media Source Extensions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mp4Error {
    #[error("not an MP4 or QuickTime file: {0}")]
    Malformed(&'static str),
    #[error("the file has no {0}")]
    Missing(&'static str),
    #[error("not playable in the window: {0}")]
    Unsupported(String),
    #[error("the file is too large to be played here (2 GB, or {MAX_SAMPLES} samples)")]
    TooLarge,
}

/// A file ready for a SourceBuffer.
pub struct Fragmented {
    /// The fragmented MP4: init segment, then fragments.
    pub bytes: Vec<u8>,
    /// The tracks' codecs, for `addSourceBuffer('video/mp4; codecs="…"')`.
    pub codecs: String,
    /// Whether a video track is among them (else it is sound only: `audio/mp4`).
    pub video: bool,
}

/// A track kept for playing.
struct Track<'a> {
    trak: Atom<'a>,
    id: u32,
    timescale: u32,
    video: bool,
    samples: Vec<Sample>,
    /// The track's edit list, applied: how much earlier (in its timescale) each sample is shown
    /// than its decode time and `ctts` say. A fragmented file carries it in the samples' own
    /// composition offsets, which every player reads, rather than in an edit list, which MSE
    /// players handle each their own way.
    shift: i64,
}

/// Rewrites an MP4 or QuickTime file as a fragmented MP4: its first video track and its first
/// sound track (a file with several of either is an edited one; the others are not played).
/// A file that is fragmented already is refused: its fragments would reach the window as they
/// are, with whatever else they carry.
pub fn fragment(file: &[u8]) -> Result<Fragmented, Mp4Error> {
    // Every box written then fits 32 bits (and offsets in a fragment too).
    if file.len() as u64 > u64::from(u32::MAX / 2) {
        return Err(Mp4Error::TooLarge);
    }
    let moov = child(file, b"moov")?.ok_or(Mp4Error::Missing("moov (not an MP4 file)"))?;
    if child(moov.body, b"mvex")?.is_some() {
        return Err(Mp4Error::Unsupported(
            "a file cut in fragments already".into(),
        ));
    }
    let mvhd = child(moov.body, b"mvhd")?.ok_or(Mp4Error::Missing("mvhd"))?;
    let mut m = Cursor::new(mvhd.body);
    let skip = if m.u8()? == 1 { 3 + 16 } else { 3 + 8 };
    m.bytes(skip)?;
    let movie_timescale = m.u32()?;
    let mut tracks: Vec<Track> = Vec::new();
    for a in atoms(moov.body) {
        let a = a?;
        if &a.kind != b"trak" || !wanted(a, &tracks)? {
            continue;
        }
        let budget = MAX_SAMPLES - tracks.iter().map(|t| t.samples.len()).sum::<usize>();
        if let Some(t) = track(a, file.len() as u64, budget, movie_timescale)? {
            tracks.push(t);
        }
    }
    if tracks.is_empty() {
        return Err(Mp4Error::Missing("video or audio track"));
    }
    if tracks.len() == 2 && tracks[0].id == tracks[1].id {
        return Err(Mp4Error::Malformed("two tracks have the same number"));
    }
    // Samples may not overlap into more bytes than the file has (a few bytes' file could
    // otherwise name the same bytes millions of times over).
    let payload: u64 = tracks
        .iter()
        .flat_map(|t| &t.samples)
        .map(|s| u64::from(s.size))
        .sum();
    if payload > file.len() as u64 {
        return Err(Mp4Error::Malformed(
            "the samples add up to more than the file",
        ));
    }
    let mut codecs = Vec::new();
    for t in &tracks {
        let stsd = find(t.trak.body, &[b"mdia", b"minf", b"stbl", b"stsd"])?;
        codecs.push(codec::codecs(stsd.body)?);
    }
    let video = tracks.iter().any(|t| t.video);
    let bytes = write::fragmented(file, mvhd, &tracks)?;
    Ok(Fragmented {
        bytes,
        codecs: codecs.join(","),
        video,
    })
}

/// Whether `trak` is the first video or the first sound track (other kinds are left out).
fn wanted(trak: Atom, kept: &[Track]) -> Result<bool, Mp4Error> {
    Ok(match handler(trak)? {
        Some(video) => !kept.iter().any(|t| t.video == video),
        None => false,
    })
}

/// Some(true) for a video track, Some(false) for sound, None for any other.
fn handler(trak: Atom) -> Result<Option<bool>, Mp4Error> {
    let hdlr = find(trak.body, &[b"mdia", b"hdlr"])?;
    Ok(match Cursor::new(hdlr.body).bytes(12)?.get(8..12) {
        Some(b"vide") => Some(true),
        Some(b"soun") => Some(false),
        _ => None,
    })
}

/// A video or sound track with its samples; None if it has none.
fn track<'a>(
    trak: Atom<'a>,
    file_len: u64,
    budget: usize,
    movie_timescale: u32,
) -> Result<Option<Track<'a>>, Mp4Error> {
    let video = handler(trak)? == Some(true);
    let mut tkhd = Cursor::new(find(trak.body, &[b"tkhd"])?.body);
    let id = match tkhd.u8()? {
        1 => {
            tkhd.bytes(3 + 16)?;
            tkhd.u32()?
        }
        _ => {
            tkhd.bytes(3 + 8)?;
            tkhd.u32()?
        }
    };
    if id == 0 {
        return Err(Mp4Error::Malformed("a track has no number"));
    }
    let mut mdhd = Cursor::new(find(trak.body, &[b"mdia", b"mdhd"])?.body);
    let skip = if mdhd.u8()? == 1 { 3 + 16 } else { 3 + 8 };
    mdhd.bytes(skip)?;
    let timescale = mdhd.u32()?;
    if timescale == 0 {
        return Err(Mp4Error::Malformed("a track has no timescale"));
    }
    let stbl = find(trak.body, &[b"mdia", b"minf", b"stbl"])?;
    let samples = samples::read(stbl.body, file_len, budget)?;
    if samples.is_empty() {
        return Ok(None);
    }
    let shift = match child(trak.body, b"edts")? {
        Some(edts) => edit_shift(edts.body, movie_timescale, timescale)?,
        None => 0,
    };
    // Every presentation offset, the edit applied, must fit `trun`'s signed 32 bits.
    let fits = |s: &Sample| i32::try_from(i64::from(s.cts as i32) - shift).is_ok();
    if !samples.iter().all(fits) {
        return Err(Mp4Error::Malformed("an edit list moves a track too far"));
    }
    Ok(Some(Track {
        trak,
        id,
        timescale,
        video,
        samples,
        shift,
    }))
}

/// The edit list (`edts`/`elst`) as one shift of presentation times: empty edits at the start
/// delay the track (in the movie's timescale), the first real edit starts it at `media_time`
/// (in the track's). Later edits (rare outside editing software) are not applied.
fn edit_shift(edts: &[u8], movie_timescale: u32, timescale: u32) -> Result<i64, Mp4Error> {
    let Some(elst) = child(edts, b"elst")? else {
        return Ok(0);
    };
    let mut c = Cursor::new(elst.body);
    let version = c.u8()?;
    c.bytes(3)?;
    let n = c.u32()?;
    let width = if version == 1 { 20 } else { 12 };
    let mut delay = 0i128;
    for e in c.table(n, width)?.chunks_exact(width) {
        let (duration, media_time) = if version == 1 {
            (
                i128::from(u64::from_be_bytes(e[..8].try_into().unwrap())),
                i128::from(i64::from_be_bytes(e[8..16].try_into().unwrap())),
            )
        } else {
            (
                i128::from(u32::from_be_bytes(e[..4].try_into().unwrap())),
                i128::from(i32::from_be_bytes(e[4..8].try_into().unwrap())),
            )
        };
        if media_time == -1 {
            delay += duration;
            continue;
        }
        let delay = delay * i128::from(timescale) / i128::from(movie_timescale.max(1));
        // Within ±2^31 (the offsets it is applied to are 32-bit).
        return i32::try_from(media_time - delay)
            .map(i64::from)
            .map_err(|_| Mp4Error::Malformed("an edit list moves a track too far"));
    }
    Ok(0)
}

#[cfg(test)]
pub(crate) mod tests;
