//! Video for Media Source Extensions, second container: a WebM (or Matroska) file rewritten, in
//! memory, as a plain WebM: its header, what playback needs of the file's information and track
//! list, then its clusters, each with a known size, holding only the first video track's and the
//! first sound track's blocks. The window's media stack is given nothing else.
//!
//! Why: as for MP4 (`fmp4/mod.rs`), a `<video>` given a URL buffers what it plays to a file in
//! `/var/tmp` (docs/threat-model.md, issue #10 item 1); given a MediaSource it plays only what
//! the page appends, from memory. WebM is close to what MSE takes as it is, but not quite: a
//! browser's or a phone app's recording has a segment and clusters of unknown size (the page
//! could not find the clusters to append one at a time), and a file from elsewhere may carry
//! tags, chapters, attached pictures and the date and program it was made with — which stay in
//! the vault. Nothing is decoded: every block is the original's bytes, in the original's order,
//! with its original time, so what plays is the attachment as it was recorded. The attachment
//! in the vault is never changed.
//!
//! WebM's codecs only (VP8, VP9; Opus, Vorbis): a Matroska file holding H.264 or AAC (a screen
//! recorder's `.mkv`) is refused with the codec named, and is exported to be watched. The file
//! may come from anyone: every length is checked before it is used, at most [`MAX_BLOCKS`]
//! blocks are read, a cluster may hold at most [`MAX_CLUSTER`] bytes, and the new file's size is
//! reckoned before it is allocated, once.

mod ebml;
mod tracks;

use std::ops::Range;

use ebml::{child, elements, header, id, put, put_head, put_uint, UNKNOWN};
use tracks::Track;

/// Most blocks (a block group counts as its parts) read from one file: ten hours of 60 fps video
/// with sound is about 3.9 million.
pub const MAX_BLOCKS: usize = 4_000_000;

/// Largest cluster appended at once (a cluster is a few seconds: 64 MB is over 100 Mb/s).
pub const MAX_CLUSTER: usize = 64 << 20;

/// Why a file cannot be played through Media Source Extensions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebmError {
    #[error("not a WebM or Matroska file: {0}")]
    Malformed(&'static str),
    #[error("the file has no {0}")]
    Missing(&'static str),
    #[error("not playable in the window: {0}")]
    Unsupported(String),
    #[error("the file is too large to be played here (2 GB, {MAX_BLOCKS} blocks, or a cluster of 64 MB)")]
    TooLarge,
}

/// A file ready for a SourceBuffer.
pub struct Cleaned {
    /// The WebM file: header, information, tracks (the init segment), then clusters.
    pub bytes: Vec<u8>,
    /// The tracks' codecs, for `addSourceBuffer('video/webm; codecs="…"')`.
    pub codecs: String,
    /// Whether a video track is among them (else it is sound only: `audio/webm`).
    pub video: bool,
}

/// Whether `file` begins as WebM and Matroska files do (an EBML header).
pub fn is_ebml(file: &[u8]) -> bool {
    file.starts_with(&id::EBML.to_be_bytes())
}

/// What the new file is made of, read from the old one.
#[derive(Default)]
struct Plan<'a> {
    scale: Option<u64>,
    /// The file's length in its time unit, if it says one that can be (finite, above 0).
    duration: Option<f64>,
    /// The time of the latest block kept, in the file's unit…
    last: Option<i128>,
    /// …which gives the length of a file cut off, or that says none (a recording written as it
    /// went): without it, MSE would take the video for endless and let no one jump past what is
    /// buffered.
    cut: bool,
    tracks: Option<Vec<Track>>,
    /// Every cluster's Timestamp and kept blocks, as the original's bytes…
    parts: Vec<Part<'a>>,
    /// …and which of them each cluster holds.
    clusters: Vec<Range<usize>>,
}

/// A piece of a cluster in the new file.
#[derive(Clone, Copy)]
enum Part<'a> {
    /// An element copied as it is (a Timestamp, a SimpleBlock, a part of a BlockGroup).
    Copy(&'a [u8]),
    /// The header of a BlockGroup whose parts, this many bytes, follow.
    Group(u64),
}

impl Part<'_> {
    fn len(self) -> usize {
        match self {
            Part::Copy(b) => b.len(),
            Part::Group(size) => ebml::head_len(id::BLOCK_GROUP, size),
        }
    }
}

/// What of a BlockGroup playing needs: its Block, its duration, whether it refers to another
/// frame (it is no key frame), the padding to drop from its sound (Opus).
const GROUP_KEPT: [u32; 4] = [id::BLOCK, 0x9B, 0xFB, 0x75A2];

/// Rewrites a WebM or Matroska file as a plain WebM for MSE (see the module's comment).
pub fn clean(file: &[u8]) -> Result<Cleaned, WebmError> {
    if file.len() as u64 > u64::from(u32::MAX / 2) {
        return Err(WebmError::TooLarge);
    }
    if !is_ebml(file) {
        return Err(WebmError::Malformed("no EBML header"));
    }
    // The EBML header, whole and of known size.
    let ebml = elements(file)
        .next()
        .ok_or(WebmError::Malformed("no EBML header"))??;
    let doc_type = child(ebml.body, id::DOC_TYPE)?.map(|e| e.body);
    let doc_type = doc_type.map(|d| d.split(|&b| b == 0).next().unwrap_or(d));
    if !matches!(doc_type, Some(b"webm" | b"matroska")) {
        return Err(WebmError::Unsupported(
            "an EBML file that is not WebM or Matroska".into(),
        ));
    }
    let segment = segment(&file[ebml.whole.len()..])?;
    let plan = read(segment)?;
    write(plan)
}

/// The first Segment's body after the header: to its end, or to the file's end when its size is
/// unknown (a recording written as it went) or larger than the file (one cut off).
fn segment(mut rest: &[u8]) -> Result<&[u8], WebmError> {
    while !rest.is_empty() {
        let (i, size, head) = header(rest)?;
        let end = (head as u64).saturating_add(size).min(rest.len() as u64) as usize;
        if i == id::SEGMENT {
            return Ok(&rest[head..end]);
        }
        if size == UNKNOWN {
            break;
        }
        rest = &rest[end..];
    }
    Err(WebmError::Missing("segment (not a WebM file)"))
}

/// Reads the segment's information, track list and clusters. A file cut off (a recording whose
/// program died, a copy that stopped) is read up to where it ends: its last cluster up to its
/// last whole block, and nothing after.
fn read(segment: &[u8]) -> Result<Plan<'_>, WebmError> {
    let mut plan = Plan::default();
    let mut at = 0;
    while at < segment.len() {
        let rest = &segment[at..];
        // Bytes that are no element (zeros a crash left, a second file joined on) end what can
        // be read, as the end of the file does.
        let Ok((i, size, head)) = header(rest) else {
            plan.cut = true;
            break;
        };
        let (end, cut) = if size == UNKNOWN {
            if i != id::CLUSTER {
                plan.cut = true;
                break;
            }
            let (len, cut) = unknown_cluster_len(&rest[head..]);
            (head + len, cut)
        } else {
            match (head as u64).checked_add(size) {
                Some(end) if end <= rest.len() as u64 => (end as usize, false),
                _ => (rest.len(), true),
            }
        };
        let body = &rest[head..end];
        match i {
            id::CLUSTER => cluster(body, cut, &mut plan)?,
            _ if cut => {}
            id::INFO if plan.scale.is_none() => info(body, &mut plan)?,
            id::TRACKS if plan.tracks.is_none() => plan.tracks = Some(tracks::tracks(body)?),
            _ => {}
        }
        if cut {
            plan.cut = true;
            break;
        }
        at += end;
    }
    Ok(plan)
}

/// How long a cluster of unknown size is: up to the next element a Segment holds, or the end;
/// and whether the end — or bytes that are no element — cut it short.
fn unknown_cluster_len(body: &[u8]) -> (usize, bool) {
    let mut at = 0;
    while at < body.len() {
        let Ok((i, size, head)) = header(&body[at..]) else {
            return (at, true);
        };
        if id::TOP.contains(&i) || i == id::SEGMENT || i == id::EBML {
            break;
        }
        match (at as u64)
            .checked_add(head as u64)
            .and_then(|e| e.checked_add(size))
        {
            Some(end) if size != UNKNOWN && end <= body.len() as u64 => at = end as usize,
            _ => return (at, true),
        }
    }
    (at, false)
}

fn info<'a>(body: &'a [u8], plan: &mut Plan<'a>) -> Result<(), WebmError> {
    let mut scale = 1_000_000;
    for e in elements(body) {
        let e = e?;
        match e.id {
            id::TIMESTAMP_SCALE => scale = ebml::uint(e.body)?,
            id::DURATION => {
                plan.duration = ebml::float(e.body).filter(|d| d.is_finite() && *d > 0.0);
            }
            _ => {}
        }
    }
    if scale == 0 {
        return Err(WebmError::Malformed("the file's time has no unit"));
    }
    plan.scale = Some(scale);
    Ok(())
}

/// A cluster's Timestamp and the blocks of the kept tracks (other children — positions, sizes
/// of the cluster before, checksums, padding — are not needed to play). A cluster `cut` short
/// by the end of the file keeps its whole blocks.
fn cluster<'a>(body: &'a [u8], cut: bool, plan: &mut Plan<'a>) -> Result<(), WebmError> {
    let Some(tracks) = &plan.tracks else {
        return Err(WebmError::Malformed("clusters come before the track list"));
    };
    let kept = |n: u64| tracks.iter().any(|t| t.number == n);
    let first = plan.parts.len();
    let mut time = None;
    let mut latest: Option<i16> = None;
    let mut bytes = 0;
    for e in elements(body) {
        let e = match e {
            Err(_) if cut => break,
            e => e?,
        };
        let mut group = [None; GROUP_KEPT.len()];
        let block = match e.id {
            id::TIMESTAMP if time.is_none() => {
                // A number (at most 8 bytes), copied as it is.
                time = Some((e.whole, ebml::uint(e.body)?));
                continue;
            }
            id::SIMPLE_BLOCK => e.body,
            id::BLOCK_GROUP => {
                child(e.body, id::BLOCK)?
                    .ok_or(WebmError::Missing("block in a block group"))?
                    .body
            }
            _ => continue,
        };
        let (track, at) = ebml::block_head(block)?;
        if !kept(track) {
            continue;
        }
        latest = latest.max(Some(at));
        let done = plan.clusters.len();
        if e.id == id::BLOCK_GROUP {
            for (slot, want) in group.iter_mut().zip(GROUP_KEPT) {
                *slot = child(e.body, want)?.map(|c| c.whole);
            }
            let size: usize = group.iter().flatten().map(|c| c.len()).sum();
            bytes += push(&mut plan.parts, done, Part::Group(size as u64))?;
            for c in group.into_iter().flatten() {
                bytes += push(&mut plan.parts, done, Part::Copy(c))?;
            }
        } else {
            bytes += push(&mut plan.parts, done, Part::Copy(e.whole))?;
        }
    }
    if plan.parts.len() == first {
        return Ok(());
    }
    let (time, at) = time.ok_or(WebmError::Missing("time for a cluster"))?;
    if bytes + time.len() > MAX_CLUSTER {
        return Err(WebmError::TooLarge);
    }
    let last = i128::from(at) + latest.map_or(0, i128::from);
    plan.last = plan.last.max(Some(last));
    // The Timestamp first, as MSE requires.
    plan.parts.insert(first, Part::Copy(time));
    plan.clusters.push(first..plan.parts.len());
    Ok(())
}

/// Adds a part to the `parts` of `done` clusters and more (every part but those clusters'
/// Timestamps is a block or a piece of one, counted); its length.
fn push<'a>(parts: &mut Vec<Part<'a>>, done: usize, p: Part<'a>) -> Result<usize, WebmError> {
    if parts.len() - done >= MAX_BLOCKS {
        return Err(WebmError::TooLarge);
    }
    parts.push(p);
    Ok(p.len())
}

/// The new file, reckoned first and allocated once (no unwiped copies from a growing buffer).
fn write(plan: Plan) -> Result<Cleaned, WebmError> {
    let tracks = plan.tracks.ok_or(WebmError::Missing("track list"))?;
    if plan.clusters.is_empty() {
        return Err(WebmError::Missing("picture or sound"));
    }
    let mut head = Vec::new();
    let mut ebml = Vec::new();
    put_uint(&mut ebml, 0x4286, 1); // EBMLVersion
    put_uint(&mut ebml, 0x42F7, 1); // EBMLReadVersion
    put_uint(&mut ebml, 0x42F2, 4); // EBMLMaxIDLength
    put_uint(&mut ebml, 0x42F3, 8); // EBMLMaxSizeLength
    put(&mut ebml, id::DOC_TYPE, b"webm");
    put_uint(&mut ebml, 0x4287, 4); // DocTypeVersion
    put_uint(&mut ebml, 0x4285, 2); // DocTypeReadVersion
    put(&mut head, id::EBML, &ebml);
    let mut info = Vec::new();
    put_uint(
        &mut info,
        id::TIMESTAMP_SCALE,
        plan.scale.unwrap_or(1_000_000),
    );
    // The file's own length, unless it is cut off or says none: then up to its last block.
    let duration = match plan.duration {
        Some(d) if !plan.cut => Some(d),
        _ => plan.last.filter(|&t| t > 0).map(|t| t as f64),
    };
    if let Some(d) = duration {
        put(&mut info, id::DURATION, &d.to_be_bytes());
    }
    put(&mut info, 0x4D80, b"Kuager"); // MuxingApp
    put(&mut info, 0x5741, b"Kuager"); // WritingApp
    let entries: usize = tracks.iter().map(|t| t.entry.len()).sum();
    let sizes: Vec<u64> = plan
        .clusters
        .iter()
        .map(|c| plan.parts[c.clone()].iter().map(|p| p.len() as u64).sum())
        .collect();
    let whole = |id, size: u64| ebml::head_len(id, size) as u64 + size;
    let segment = whole(id::INFO, info.len() as u64)
        + whole(id::TRACKS, entries as u64)
        + sizes.iter().map(|&s| whole(id::CLUSTER, s)).sum::<u64>();
    let total = head.len() + whole(id::SEGMENT, segment) as usize;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&head);
    put_head(&mut out, id::SEGMENT, segment);
    put(&mut out, id::INFO, &info);
    put_head(&mut out, id::TRACKS, entries as u64);
    for t in &tracks {
        out.extend_from_slice(&t.entry);
    }
    for (c, &size) in plan.clusters.iter().zip(&sizes) {
        put_head(&mut out, id::CLUSTER, size);
        for &p in &plan.parts[c.clone()] {
            match p {
                Part::Copy(b) => out.extend_from_slice(b),
                Part::Group(size) => put_head(&mut out, id::BLOCK_GROUP, size),
            }
        }
    }
    debug_assert_eq!(out.len(), total);
    let codecs: Vec<&str> = tracks.iter().map(|t| t.codec).collect();
    Ok(Cleaned {
        bytes: out,
        codecs: codecs.join(","),
        video: tracks.iter().any(|t| t.video),
    })
}

#[cfg(test)]
pub(crate) mod tests;
