//! Writing the fragmented file: `ftyp`, a `moov` whose tracks have empty sample tables and an
//! `mvex`, then one `moof`+`mdat` per fragment. The whole size is reckoned first and the output
//! allocated once: it holds the video's plaintext, and a growing buffer would leave copies of
//! it behind, unwiped.

use super::boxes::{atoms, child, put, put_full, Atom};
use super::{Mp4Error, Sample, Track};

/// A fragment starts at a key frame of the leading track (the video) at least this long after
/// the last fragment started…
const FRAGMENT_SECONDS: u64 = 1;
/// …or at any sample once it holds this many bytes of the leading track (a video whose key
/// frames are minutes apart would otherwise be one fragment too large for the window's buffer).
const FRAGMENT_BYTES: u64 = 16 << 20;

/// `trun` carries, for each sample: duration, size, flags, composition offset; and the offset of
/// its first sample's data from the start of the `moof`.
const TRUN_FLAGS: u32 = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800;
/// Sample flags: a key frame depends on nothing; any other sample depends on others and is not
/// a place to start (ISO 14496-12 8.8.3.1).
const SYNC: u32 = 0x0200_0000;
const NOT_SYNC: u32 = 0x0101_0000;

pub(super) fn fragmented(file: &[u8], mvhd: Atom, tracks: &[Track]) -> Result<Vec<u8>, Mp4Error> {
    let mut moov = Vec::new();
    put(&mut moov, b"moov", |o| {
        o.extend_from_slice(mvhd.whole);
        for t in tracks {
            trak(o, t);
        }
        put(o, b"mvex", |o| {
            for t in tracks {
                put_full(o, b"trex", 0, 0, |o| {
                    for v in [t.id, 1, 0, 0, 0] {
                        o.extend_from_slice(&v.to_be_bytes());
                    }
                });
            }
        });
    });
    let plan = plan(tracks);
    let size = FTYP_LEN + moov.len() + plan.iter().map(|f| fragment_len(tracks, f)).sum::<usize>();
    // What a camera writes grows by a few per cent (16 bytes a sample, a `moof` a second); a
    // file of tiny samples a second apart would grow a hundredfold.
    if size > MAX_GROWTH * file.len() + (1 << 20) {
        return Err(Mp4Error::Malformed(
            "the samples are too small to be a recording",
        ));
    }
    let mut out = Vec::with_capacity(size);
    put(&mut out, b"ftyp", |o| {
        o.extend_from_slice(b"isom");
        o.extend_from_slice(&0x200u32.to_be_bytes());
        for brand in [b"isom", b"iso5", b"iso6", b"mp41"] {
            o.extend_from_slice(brand);
        }
    });
    out.extend_from_slice(&moov);
    for (k, f) in plan.iter().enumerate() {
        fragment(&mut out, file, k as u32 + 1, tracks, f)?;
    }
    debug_assert_eq!(out.len(), size, "the size reckoned first");
    Ok(out)
}

const FTYP_LEN: usize = 8 + 8 + 16;

/// The rewritten file may be at most this many times the original (and a megabyte).
pub(super) const MAX_GROWTH: usize = 2;

/// The fragments: for each, the range of samples of each track it holds.
type Plan = Vec<Vec<std::ops::Range<usize>>>;

fn plan(tracks: &[Track]) -> Plan {
    let lead = tracks.iter().position(|t| t.video).unwrap_or(0);
    let mut next = vec![0usize; tracks.len()];
    let mut plan = Vec::new();
    while next[lead] < tracks[lead].samples.len() {
        let end = fragment_end(&tracks[lead], next[lead]);
        // Every track up to where the leading one's fragment ends (the last takes all).
        let cut: Vec<usize> = tracks
            .iter()
            .enumerate()
            .map(|(k, t)| match end {
                _ if k == lead => end.unwrap_or(t.samples.len()),
                None => t.samples.len(),
                Some(e) => {
                    let lt = &tracks[lead];
                    let limit = u128::from(lt.samples[e].dts) * u128::from(t.timescale);
                    next[k]
                        + t.samples[next[k]..].partition_point(|s| {
                            u128::from(s.dts) * u128::from(lt.timescale) < limit
                        })
                }
            })
            .collect();
        plan.push(next.iter().zip(&cut).map(|(&a, &b)| a..b).collect());
        next = cut;
    }
    plan
}

/// The index of the sample after the leading track's fragment that starts at `start`, or None
/// if that fragment runs to the end.
fn fragment_end(t: &Track, start: usize) -> Option<usize> {
    let min = t.samples[start].dts + FRAGMENT_SECONDS * u64::from(t.timescale);
    let mut bytes = 0u64;
    for (i, s) in t.samples.iter().enumerate().skip(start + 1) {
        bytes += u64::from(t.samples[i - 1].size);
        if (s.sync && s.dts >= min) || bytes >= FRAGMENT_BYTES {
            return Some(i);
        }
    }
    None
}

/// A track of the init segment: its header as it was, the media header, a handler and data
/// reference of our own (theirs may carry names and links to other files), its first sample
/// description, and empty sample tables. The edit list is applied to the samples' times
/// instead (`Track::shift`); user data is left out.
fn trak(out: &mut Vec<u8>, t: &Track) {
    // Boxes read already when the track was (`super::track`).
    let part = |path: &[&[u8; 4]]| {
        let mut here = t.trak.body;
        let mut found = None;
        for kind in path {
            let a = child(here, kind)
                .ok()
                .flatten()
                .expect("read when the track was");
            here = a.body;
            found = Some(a);
        }
        found.expect("a path")
    };
    put(out, b"trak", |o| {
        o.extend_from_slice(part(&[b"tkhd"]).whole);
        put(o, b"mdia", |o| {
            o.extend_from_slice(part(&[b"mdia", b"mdhd"]).whole);
            put_full(o, b"hdlr", 0, 0, |o| {
                o.extend_from_slice(&[0; 4]);
                o.extend_from_slice(if t.video { b"vide" } else { b"soun" });
                o.extend_from_slice(&[0; 13]);
            });
            put(o, b"minf", |o| {
                if t.video {
                    put_full(o, b"vmhd", 0, 1, |o| o.extend_from_slice(&[0; 8]));
                } else {
                    put_full(o, b"smhd", 0, 0, |o| o.extend_from_slice(&[0; 4]));
                }
                put(o, b"dinf", |o| {
                    put_full(o, b"dref", 0, 0, |o| {
                        o.extend_from_slice(&1u32.to_be_bytes());
                        // Self-contained: the samples are in this file.
                        put_full(o, b"url ", 0, 1, |_| {});
                    });
                });
                put(o, b"stbl", |o| {
                    let stsd = part(&[b"mdia", b"minf", b"stbl", b"stsd"]);
                    let first = atoms(stsd.body.get(8..).unwrap_or(&[]))
                        .next()
                        .and_then(Result::ok)
                        .expect("its codec was read from it");
                    put_full(o, b"stsd", 0, 0, |o| {
                        o.extend_from_slice(&1u32.to_be_bytes());
                        o.extend_from_slice(first.whole);
                    });
                    for kind in [b"stts", b"stsc", b"stco"] {
                        put_full(o, kind, 0, 0, |o| o.extend_from_slice(&0u32.to_be_bytes()));
                    }
                    put_full(o, b"stsz", 0, 0, |o| o.extend_from_slice(&[0; 8]));
                });
            });
        });
    });
}

/// A sample's composition offset for `trun` version 1: its `ctts` value, signed, less the
/// track's edit shift (checked to fit when the track was read).
fn composition(t: &Track, s: &Sample) -> u32 {
    (i64::from(s.cts as i32) - t.shift) as i32 as u32
}

fn fragment_len(tracks: &[Track], ranges: &[std::ops::Range<usize>]) -> usize {
    let mut moof = 8 + 16;
    let mut data = 0;
    for (t, r) in tracks.iter().zip(ranges).filter(|(_, r)| !r.is_empty()) {
        moof += 8 + 16 + 20 + 12 + 8 + 16 * r.len();
        data += t.samples[r.clone()]
            .iter()
            .map(|s| s.size as usize)
            .sum::<usize>();
    }
    moof + 8 + data
}

/// One `moof` (a `traf` per track with samples in it) and the `mdat` with their bytes.
fn fragment(
    out: &mut Vec<u8>,
    file: &[u8],
    sequence: u32,
    tracks: &[Track],
    ranges: &[std::ops::Range<usize>],
) -> Result<(), Mp4Error> {
    let parts: Vec<(&Track, &[Sample])> = tracks
        .iter()
        .zip(ranges)
        .map(|(t, r)| (t, &t.samples[r.clone()]))
        .filter(|(_, s)| !s.is_empty())
        .collect();
    let start = out.len();
    let mut data_offsets = Vec::new();
    put(out, b"moof", |o| {
        put_full(o, b"mfhd", 0, 0, |o| {
            o.extend_from_slice(&sequence.to_be_bytes())
        });
        for (t, samples) in &parts {
            put(o, b"traf", |o| {
                // default-base-is-moof: data offsets count from this fragment's `moof`.
                put_full(o, b"tfhd", 0, 0x02_0000, |o| {
                    o.extend_from_slice(&t.id.to_be_bytes())
                });
                put_full(o, b"tfdt", 1, 0, |o| {
                    o.extend_from_slice(&samples[0].dts.to_be_bytes())
                });
                // Version 1: composition offsets are signed (the edit list may make them so).
                put_full(o, b"trun", 1, TRUN_FLAGS, |o| {
                    o.extend_from_slice(&(samples.len() as u32).to_be_bytes());
                    data_offsets.push(o.len());
                    o.extend_from_slice(&[0; 4]);
                    for s in *samples {
                        let flags = if s.sync || !t.video { SYNC } else { NOT_SYNC };
                        for v in [s.duration, s.size, flags, composition(t, s)] {
                            o.extend_from_slice(&v.to_be_bytes());
                        }
                    }
                });
            });
        }
    });
    let mut at = out.len() - start + 8;
    for ((_, samples), field) in parts.iter().zip(data_offsets) {
        let offset = u32::try_from(at).map_err(|_| Mp4Error::TooLarge)?;
        out[field..field + 4].copy_from_slice(&offset.to_be_bytes());
        at += samples.iter().map(|s| s.size as usize).sum::<usize>();
    }
    put(out, b"mdat", |o| {
        for (_, samples) in &parts {
            for s in *samples {
                o.extend_from_slice(&file[s.offset as usize..][..s.size as usize]);
            }
        }
    });
    Ok(())
}
