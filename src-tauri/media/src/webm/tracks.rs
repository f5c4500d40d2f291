//! The track list of the new file: the first video track and the first sound track, each entry
//! rebuilt from what playing needs, so that nothing else of the original's (a track's name or
//! language, its random ID, a muxer's own elements, the tags inside a Vorbis set-up) reaches the
//! window.

use super::ebml::{child, elements, float, id, put, put_uint, uint, Element};
use super::WebmError;

/// A track kept for playing.
pub(super) struct Track {
    pub number: u64,
    pub video: bool,
    /// Its codec, as `addSourceBuffer` names it.
    pub codec: &'static str,
    /// Its entry as written in the new track list.
    pub entry: Vec<u8>,
}

/// What of a track entry is copied as it is: number, kind, lacing, frame duration, codec, codec
/// delay and pre-roll. The codec's set-up, the picture's and the sound's settings are rebuilt
/// ([`codec_private`], [`VIDEO_KEPT`], [`AUDIO_KEPT`]); the track's ID is its number.
const ENTRY_KEPT: [u32; 7] = [
    id::TRACK_NUMBER,
    id::TRACK_TYPE,
    0x9C,      // FlagLacing
    0x23_E383, // DefaultDuration
    id::CODEC_ID,
    0x56AA, // CodecDelay
    0x56BB, // SeekPreRoll
];
const TRACK_UID: u32 = 0x73C5;
const CODEC_PRIVATE: u32 = 0x63A2;
const VIDEO: u32 = 0xE0;
const AUDIO: u32 = 0xE1;

/// A picture's settings: its size in pixels and as shown, the unit of that, interlacing,
/// stereo layout, alpha (not its colour description, a master element of many parts).
const VIDEO_KEPT: [u32; 8] = [0xB0, 0xBA, 0x54B0, 0x54BA, 0x54B2, 0x9A, 0x53B8, 0x53C0];
/// Sound's settings: sampling rate and output rate, channels, bit depth.
const AUDIO_KEPT: [u32; 4] = [0xB5, 0x78B5, 0x9F, 0x6264];
/// Of all those, the floats (the sampling rates); the others but the codec's name are unsigned
/// numbers. Each is checked to be one before it is copied, so that nothing else rides along.
const FLOATS: [u32; 2] = [0xB5, 0x78B5];

/// `e`, copied into `out` if it is the number it should be.
fn put_number(out: &mut Vec<u8>, e: Element) -> Result<(), WebmError> {
    let number = if FLOATS.contains(&e.id) {
        float(e.body).is_some()
    } else {
        e.id == id::CODEC_ID || e.body.len() <= 8
    };
    if !number {
        return Err(WebmError::Malformed("a track setting that is not a number"));
    }
    put(out, e.id, e.body);
    Ok(())
}

/// The first video track and the first sound track.
pub(super) fn tracks(body: &[u8]) -> Result<Vec<Track>, WebmError> {
    let mut kept: Vec<Track> = Vec::new();
    let mut numbers = Vec::new();
    for e in elements(body) {
        let e = e?;
        if e.id != id::TRACK_ENTRY {
            continue;
        }
        if let Some(n) = child(e.body, id::TRACK_NUMBER)? {
            numbers.push(uint(n.body)?);
        }
        let kind = child(e.body, id::TRACK_TYPE)?.map(|t| uint(t.body));
        let video = match kind.transpose()? {
            Some(1) => true,
            Some(2) => false,
            _ => continue,
        };
        if kept.iter().any(|t| t.video == video) {
            continue;
        }
        kept.push(track(e, video)?);
    }
    // Blocks name their track by number: one shared with another track would bring its
    // blocks (subtitles, a second camera) into a played one.
    if kept
        .iter()
        .any(|t| numbers.iter().filter(|&&n| n == t.number).count() > 1)
    {
        return Err(WebmError::Malformed("two tracks have the same number"));
    }
    if kept.is_empty() {
        return Err(WebmError::Missing("video or sound track"));
    }
    Ok(kept)
}

fn track(entry: Element, video: bool) -> Result<Track, WebmError> {
    let number = match child(entry.body, id::TRACK_NUMBER)? {
        Some(n) => uint(n.body)?,
        None => 0,
    };
    if number == 0 {
        return Err(WebmError::Malformed("a track has no number"));
    }
    if child(entry.body, id::CONTENT_ENCODINGS)?.is_some() {
        return Err(WebmError::Unsupported(
            "a track stored compressed or encrypted".into(),
        ));
    }
    let codec_id = child(entry.body, id::CODEC_ID)?
        .map(|c| c.body)
        .ok_or(WebmError::Missing("codec for a track"))?;
    let codec = match (video, codec_id) {
        (true, b"V_VP8") => "vp8",
        (true, b"V_VP9") => "vp9",
        (false, b"A_OPUS") => "opus",
        (false, b"A_VORBIS") => "vorbis",
        _ => {
            let named: String = codec_id
                .iter()
                .take(32)
                .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
                .collect();
            return Err(WebmError::Unsupported(format!(
                "the codec {named} (WebM's are VP8, VP9, Opus and Vorbis)"
            )));
        }
    };
    // The first of each, in a fixed order: never larger than the original's few elements,
    // whatever it repeats.
    let mut body = Vec::new();
    for kept in ENTRY_KEPT {
        if let Some(e) = child(entry.body, kept)? {
            put_number(&mut body, e)?;
        }
        if kept == id::TRACK_NUMBER {
            put_uint(&mut body, TRACK_UID, number);
        }
    }
    let private = child(entry.body, CODEC_PRIVATE)?.map(|p| p.body);
    if let Some(p) = codec_private(codec, private)? {
        put(&mut body, CODEC_PRIVATE, &p);
    }
    let (settings, wanted) = if video {
        (VIDEO, &VIDEO_KEPT[..])
    } else {
        (AUDIO, &AUDIO_KEPT[..])
    };
    if let Some(s) = child(entry.body, settings)? {
        let mut kept = Vec::new();
        for &w in wanted {
            if let Some(e) = child(s.body, w)? {
                put_number(&mut kept, e)?;
            }
        }
        put(&mut body, settings, &kept);
    }
    let mut out = Vec::new();
    put(&mut out, id::TRACK_ENTRY, &body);
    Ok(Track {
        number,
        video,
        codec,
        entry: out,
    })
}

/// The codec's set-up as the new file carries it. VP8 and VP9 need none (their frames say it
/// all). Opus's is its `OpusHead` (version, channels, pre-skip, rate, gain, channel mapping: no
/// text), cut to the length its mapping family gives. Vorbis's is three packets, the second its
/// comment header — the encoder's name and any tags, a title, a date, a place — which is replaced
/// by an empty one.
fn codec_private(codec: &str, private: Option<&[u8]>) -> Result<Option<Vec<u8>>, WebmError> {
    match (codec, private) {
        ("opus", Some(p)) if p.starts_with(b"OpusHead") && p.len() >= 19 => {
            // Family 0 (mono, stereo): 19 bytes; others add a stream count, a coupled count
            // and a byte a channel.
            let len = match p[18] {
                0 => 19,
                _ => 21 + usize::from(p[9]),
            };
            let head = p
                .get(..len)
                .ok_or(WebmError::Malformed("an Opus track without its set-up"))?;
            Ok(Some(head.to_vec()))
        }
        ("opus", _) => Err(WebmError::Malformed("an Opus track without its set-up")),
        ("vorbis", Some(p)) => vorbis_without_comments(p).map(Some),
        ("vorbis", None) => Err(WebmError::Malformed("a Vorbis track without its set-up")),
        _ => Ok(None),
    }
}

/// An empty Vorbis comment header: no vendor, no comments, the framing bit.
const EMPTY_COMMENTS: &[u8; 16] = b"\x03vorbis\0\0\0\0\0\0\0\0\x01";

/// Vorbis's three header packets (Xiph-laced: a count, the sizes of the first two, then the
/// packets), with the comment header replaced by [`EMPTY_COMMENTS`].
fn vorbis_without_comments(p: &[u8]) -> Result<Vec<u8>, WebmError> {
    let bad = WebmError::Malformed("a Vorbis set-up that is not three header packets");
    if p.first() != Some(&2) {
        return Err(bad);
    }
    let mut at = 1;
    let mut sizes = [0usize; 2];
    for s in &mut sizes {
        loop {
            let b = *p.get(at).ok_or(bad.clone())?;
            at += 1;
            *s += usize::from(b);
            if b < 255 {
                break;
            }
        }
    }
    let ident_end = at.checked_add(sizes[0]).ok_or(bad.clone())?;
    let setup_at = ident_end.checked_add(sizes[1]).ok_or(bad.clone())?;
    let (ident, comments, setup) = match (p.get(at..ident_end), p.get(ident_end..setup_at)) {
        (Some(i), Some(c)) => (i, c, &p[setup_at..]),
        _ => return Err(bad),
    };
    if !ident.starts_with(b"\x01vorbis")
        || !comments.starts_with(b"\x03vorbis")
        || !setup.starts_with(b"\x05vorbis")
    {
        return Err(bad);
    }
    let mut out = Vec::with_capacity(p.len());
    out.push(2);
    out.extend(std::iter::repeat_n(255, ident.len() / 255));
    out.push((ident.len() % 255) as u8);
    out.push(EMPTY_COMMENTS.len() as u8);
    out.extend_from_slice(ident);
    out.extend_from_slice(EMPTY_COMMENTS);
    out.extend_from_slice(setup);
    Ok(out)
}
