//! The codecs string of a track (RFC 6381: `avc1.64001f`, `mp4a.40.2`), which Media Source
//! Extensions need to open a buffer for it, read from the track's sample description (`stsd`).
//! A codec not named here is refused: the window is never handed a stream it was not told of.

use super::boxes::{child, Cursor};
use super::Mp4Error;

/// The codecs string of the first sample description in `stsd` (its body).
pub(super) fn codecs(stsd: &[u8]) -> Result<String, Mp4Error> {
    let mut c = Cursor::new(stsd);
    c.bytes(8)?; // version, flags, entry count
    let entry = super::boxes::atoms(c.bytes(stsd.len() - 8)?)
        .next()
        .ok_or(Mp4Error::Missing("sample description"))??;
    let b = entry.body;
    // Children of a visual sample entry follow 78 bytes of fields; of an audio one, 28 (more
    // in QuickTime's sound descriptions of version 1 and 2).
    let visual = |k: &'static [u8; 4]| child(b.get(78..).unwrap_or(&[]), k);
    let name = String::from_utf8_lossy(&entry.kind).into_owned();
    match &entry.kind {
        b"avc1" | b"avc3" => {
            let c = visual(b"avcC")?.ok_or(Mp4Error::Missing("avcC"))?.body;
            let p = c
                .get(1..4)
                .ok_or(Mp4Error::Malformed("avcC is too short"))?;
            Ok(format!("{name}.{:02x}{:02x}{:02x}", p[0], p[1], p[2]))
        }
        b"hvc1" | b"hev1" => hevc(
            &name,
            visual(b"hvcC")?.ok_or(Mp4Error::Missing("hvcC"))?.body,
        ),
        b"vp09" => {
            let c = visual(b"vpcC")?.ok_or(Mp4Error::Missing("vpcC"))?.body;
            let p = c
                .get(4..7)
                .ok_or(Mp4Error::Malformed("vpcC is too short"))?;
            Ok(format!("vp09.{:02}.{:02}.{:02}", p[0], p[1], p[2] >> 4))
        }
        b"av01" => {
            let c = visual(b"av1C")?.ok_or(Mp4Error::Missing("av1C"))?.body;
            let p = c
                .get(1..3)
                .ok_or(Mp4Error::Malformed("av1C is too short"))?;
            let depth = match (p[1] >> 6 & 1, p[1] >> 5 & 1) {
                (1, 1) => 12,
                (1, 0) => 10,
                _ => 8,
            };
            let tier = if p[1] >> 7 == 1 { 'H' } else { 'M' };
            Ok(format!(
                "av01.{}.{:02}{tier}.{depth:02}",
                p[0] >> 5,
                p[0] & 31
            ))
        }
        b"mp4a" => mp4a(b),
        b"Opus" => Ok("opus".into()),
        b"fLaC" => Ok("flac".into()),
        b"ac-3" | b"ec-3" => Ok(name),
        _ => Err(Mp4Error::Unsupported(format!("the codec {name:?}"))),
    }
}

/// `hvc1.1.6.L93.B0`: profile space and number, compatibility flags (bits reversed), tier and
/// level, constraint bytes without trailing zeros.
fn hevc(name: &str, c: &[u8]) -> Result<String, Mp4Error> {
    let c = c
        .get(..13)
        .ok_or(Mp4Error::Malformed("hvcC is too short"))?;
    let space = ["", "A", "B", "C"][usize::from(c[1] >> 6)];
    let tier = if c[1] >> 5 & 1 == 1 { 'H' } else { 'L' };
    let compat = u32::from_be_bytes(c[2..6].try_into().unwrap()).reverse_bits();
    let mut s = format!("{name}.{space}{}.{compat:x}.{tier}{}", c[1] & 31, c[12]);
    let constraints = &c[6..12];
    let kept = constraints
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |i| i + 1);
    for b in &constraints[..kept] {
        s.push_str(&format!(".{b:X}"));
    }
    Ok(s)
}

/// `mp4a.40.2` (AAC-LC) and the like, from the elementary stream descriptor (`esds`), which
/// QuickTime files may keep inside a `wave` box.
fn mp4a(entry: &[u8]) -> Result<String, Mp4Error> {
    let version = entry
        .get(8..10)
        .map_or(0, |v| u16::from_be_bytes([v[0], v[1]]));
    let fields = match version {
        1 => 28 + 16,
        2 => 28 + 36,
        _ => 28,
    };
    let children = entry.get(fields..).unwrap_or(&[]);
    let esds = match child(children, b"esds")? {
        Some(a) => a,
        None => {
            let wave = child(children, b"wave")?.ok_or(Mp4Error::Missing("esds"))?;
            child(wave.body, b"esds")?.ok_or(Mp4Error::Missing("esds"))?
        }
    };
    let (oti, dsi) = decoder_config(esds.body.get(4..).unwrap_or(&[]))?;
    if oti != 0x40 {
        return Ok(format!("mp4a.{oti:02X}"));
    }
    let aot = match dsi {
        [b0, b1, ..] if b0 >> 3 == 31 => 32 + (((b0 & 7) << 3) | (b1 >> 5)),
        [b0, ..] => b0 >> 3,
        [] => 2,
    };
    Ok(format!("mp4a.40.{aot}"))
}

/// The object type and decoder-specific bytes of an ES descriptor (ISO 14496-1).
fn decoder_config(mut d: &[u8]) -> Result<(u8, &[u8]), Mp4Error> {
    let bad = Mp4Error::Malformed("the audio's stream descriptor cannot be read");
    let (tag, body) = descriptor(&mut d).ok_or(bad.clone())?;
    if tag != 3 || body.len() < 3 {
        return Err(bad);
    }
    let flags = body[2];
    let mut skip = 3;
    if flags & 0x80 != 0 {
        skip += 2;
    }
    if flags & 0x40 != 0 {
        skip += 1 + usize::from(*body.get(skip).ok_or(bad.clone())?);
    }
    if flags & 0x20 != 0 {
        skip += 2;
    }
    let mut rest = body.get(skip..).ok_or(bad.clone())?;
    let (tag, config) = descriptor(&mut rest).ok_or(bad.clone())?;
    if tag != 4 || config.len() < 13 {
        return Err(bad);
    }
    let mut specific = &config[13..];
    let dsi = match descriptor(&mut specific) {
        Some((5, dsi)) => dsi,
        _ => &[],
    };
    Ok((config[0], dsi))
}

/// One descriptor: tag, then a length in up to four 7-bit bytes.
fn descriptor<'a>(d: &mut &'a [u8]) -> Option<(u8, &'a [u8])> {
    let (&tag, mut rest) = d.split_first()?;
    let mut len = 0usize;
    for _ in 0..4 {
        let (&b, r) = rest.split_first()?;
        rest = r;
        len = (len << 7) | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
    }
    let body = rest.get(..len)?;
    *d = &rest[len..];
    Some((tag, body))
}
