//! The rewrite, checked by reading its output back: every sample's bytes, time and key-frame
//! flag where the original had them; fragments from key frames; only the boxes playback needs.

use super::boxes::{atoms, child, put, put_full, Cursor};
use super::*;

const VIDEO_RATE: u32 = 12_800; // a timescale phones use (25 fps: 512 a frame)
const AUDIO_RATE: u32 = 48_000;

pub(crate) struct Made {
    pub file: Vec<u8>,
    /// (track id, bytes) of every sample, in decode order per track.
    video: Vec<Vec<u8>>,
    audio: Vec<Vec<u8>>,
}

fn sample_entry_video(o: &mut Vec<u8>) {
    put(o, b"avc1", |o| {
        o.extend_from_slice(&[0; 6]);
        o.extend_from_slice(&1u16.to_be_bytes());
        o.extend_from_slice(&[0; 70]);
        put(o, b"avcC", |o| {
            o.extend_from_slice(&[1, 0x64, 0x00, 0x1f, 0xff])
        });
    });
}

fn sample_entry_audio(o: &mut Vec<u8>) {
    put(o, b"mp4a", |o| {
        o.extend_from_slice(&[0; 6]);
        o.extend_from_slice(&1u16.to_be_bytes());
        o.extend_from_slice(&[0; 20]);
        // ES descriptor → decoder config (MPEG-4 audio) → specific info (AAC-LC: 2 << 3).
        put_full(o, b"esds", 0, 0, |o| {
            o.extend_from_slice(&[3, 25, 0, 1, 0, 4, 17, 0x40, 0x15]);
            o.extend_from_slice(&[0; 11]);
            o.extend_from_slice(&[5, 2, 0x11, 0x90, 6, 1, 2]);
        });
    });
}

/// A track: `sizes` of samples, each `delta` long, key frames at `sync` (1-based), samples in
/// chunks of `per_chunk` whose offsets are patched in later (`chunk_at` records where).
#[allow(clippy::too_many_arguments)]
fn trak(
    o: &mut Vec<u8>,
    id: u32,
    video: bool,
    count: usize,
    delta: u32,
    sync: Option<&[u32]>,
    per_chunk: usize,
    chunk_at: &mut Vec<usize>,
) {
    put(o, b"trak", |o| {
        put_full(o, b"tkhd", 0, 3, |o| {
            o.extend_from_slice(&[0; 8]);
            o.extend_from_slice(&id.to_be_bytes());
            o.extend_from_slice(&[0; 68]);
        });
        put(o, b"udta", |o| {
            o.extend_from_slice(b"\0\0\0\x10\xa9xyz+43.2-076.9")
        });
        if video {
            // Shown from its second frame's composition time: the B-frame delay (ffmpeg's way).
            put(o, b"edts", |o| {
                put_full(o, b"elst", 0, 0, |o| {
                    for v in [1u32, 10_000, 512, 0x0001_0000] {
                        o.extend_from_slice(&v.to_be_bytes());
                    }
                });
            });
        }
        put(o, b"mdia", |o| {
            put_full(o, b"mdhd", 0, 0, |o| {
                o.extend_from_slice(&[0; 8]);
                o.extend_from_slice(&(if video { VIDEO_RATE } else { AUDIO_RATE }).to_be_bytes());
                o.extend_from_slice(&[0; 8]);
            });
            put_full(o, b"hdlr", 0, 0, |o| {
                o.extend_from_slice(&[0; 4]);
                o.extend_from_slice(if video { b"vide" } else { b"soun" });
                o.extend_from_slice(&[0; 13]);
            });
            put(o, b"minf", |o| {
                put(o, b"dinf", |_| {});
                put(o, b"stbl", |o| {
                    put_full(o, b"stsd", 0, 0, |o| {
                        o.extend_from_slice(&1u32.to_be_bytes());
                        if video {
                            sample_entry_video(o)
                        } else {
                            sample_entry_audio(o)
                        }
                    });
                    put_full(o, b"stts", 0, 0, |o| {
                        for v in [1, count as u32, delta] {
                            o.extend_from_slice(&v.to_be_bytes());
                        }
                    });
                    if video {
                        // B-frames: every other sample shown one frame later.
                        put_full(o, b"ctts", 0, 0, |o| {
                            o.extend_from_slice(&(count as u32).to_be_bytes());
                            for i in 0..count {
                                for v in [1, (i as u32 % 2) * delta] {
                                    o.extend_from_slice(&v.to_be_bytes());
                                }
                            }
                        });
                    }
                    if let Some(sync) = sync {
                        put_full(o, b"stss", 0, 0, |o| {
                            o.extend_from_slice(&(sync.len() as u32).to_be_bytes());
                            for s in sync {
                                o.extend_from_slice(&s.to_be_bytes());
                            }
                        });
                    }
                    put_full(o, b"stsz", 0, 0, |o| {
                        o.extend_from_slice(&0u32.to_be_bytes());
                        o.extend_from_slice(&(count as u32).to_be_bytes());
                        for i in 0..count {
                            o.extend_from_slice(&size_of(id, i).to_be_bytes());
                        }
                    });
                    put_full(o, b"stsc", 0, 0, |o| {
                        for v in [1, 1, per_chunk as u32, 1] {
                            o.extend_from_slice(&v.to_be_bytes());
                        }
                    });
                    put_full(o, b"stco", 0, 0, |o| {
                        let chunks = count.div_ceil(per_chunk);
                        o.extend_from_slice(&(chunks as u32).to_be_bytes());
                        for _ in 0..chunks {
                            chunk_at.push(o.len());
                            o.extend_from_slice(&[0; 4]);
                        }
                    });
                });
            });
        });
    });
}

fn size_of(track: u32, i: usize) -> u32 {
    (if track == 1 { 300 } else { 40 }) + (i as u32 * 7) % 23
}

fn bytes_of(track: u32, i: usize) -> Vec<u8> {
    (0..size_of(track, i))
        .map(|k| (track as usize * 31 + i * 7 + k as usize) as u8)
        .collect()
}

/// Ten seconds of 25 fps video (a key frame every 12 frames) and 48 kHz AAC (1024 a frame), in
/// an ordinary MP4 whose `moov` comes last, chunks interleaved.
pub(crate) fn made() -> Made {
    let frames = 250;
    let audio_frames = 469;
    let sync: Vec<u32> = (0..frames as u32)
        .filter(|i| i % 12 == 0)
        .map(|i| i + 1)
        .collect();
    let video: Vec<Vec<u8>> = (0..frames).map(|i| bytes_of(1, i)).collect();
    let audio: Vec<Vec<u8>> = (0..audio_frames).map(|i| bytes_of(2, i)).collect();
    let mut file = Vec::new();
    put(&mut file, b"ftyp", |o| {
        o.extend_from_slice(b"isom\0\0\x02\0isomavc1")
    });
    // mdat: video chunks of 5 frames and audio chunks of 10 frames, interleaved.
    let mut video_chunks = Vec::new();
    let mut audio_chunks = Vec::new();
    put(&mut file, b"mdat", |o| {
        let (mut v, mut a) = (0, 0);
        while v < frames || a < audio_frames {
            if v < frames {
                video_chunks.push(o.len() as u32);
                for f in &video[v..(v + 5).min(frames)] {
                    o.extend_from_slice(f);
                }
                v += 5;
            }
            if a < audio_frames {
                audio_chunks.push(o.len() as u32);
                for f in &audio[a..(a + 10).min(audio_frames)] {
                    o.extend_from_slice(f);
                }
                a += 10;
            }
        }
    });
    let mut vat = Vec::new();
    let mut aat = Vec::new();
    let moov_start = file.len();
    put(&mut file, b"moov", |o| {
        put_full(o, b"mvhd", 0, 0, |o| o.extend_from_slice(&[0; 96]));
        trak(o, 1, true, frames, 512, Some(&sync), 5, &mut vat);
        trak(o, 2, false, audio_frames, 1024, None, 10, &mut aat);
        put(o, b"udta", |o| {
            o.extend_from_slice(b"\0\0\0\x0cmeta\0\0\0\0")
        });
    });
    let _ = moov_start;
    for (at, off) in vat
        .iter()
        .zip(&video_chunks)
        .chain(aat.iter().zip(&audio_chunks))
    {
        file[*at..at + 4].copy_from_slice(&off.to_be_bytes());
    }
    Made { file, video, audio }
}

/// What a player reads out of the fragments of one track: (decode time, bytes, key frame, cts).
type Read = Vec<(u64, Vec<u8>, bool, u32)>;

fn read_back(f: &[u8]) -> (Vec<[u8; 4]>, Read, Read, Vec<u64>) {
    let top: Vec<_> = atoms(f).map(|a| a.unwrap()).collect();
    let kinds: Vec<[u8; 4]> = top.iter().map(|a| a.kind).collect();
    let (mut video, mut audio, mut starts) = (Vec::new(), Vec::new(), Vec::new());
    for (k, a) in top.iter().enumerate() {
        if &a.kind != b"moof" {
            continue;
        }
        let moof_at = a.whole.as_ptr() as usize - f.as_ptr() as usize;
        assert_eq!(&top[k + 1].kind, b"mdat", "a moof is followed by its mdat");
        for traf in atoms(a.body)
            .map(|x| x.unwrap())
            .filter(|x| &x.kind == b"traf")
        {
            let mut tfhd = Cursor::new(child(traf.body, b"tfhd").unwrap().unwrap().body);
            assert_eq!(tfhd.u32().unwrap(), 0x02_0000);
            let id = tfhd.u32().unwrap();
            let mut tfdt = Cursor::new(child(traf.body, b"tfdt").unwrap().unwrap().body);
            tfdt.u32().unwrap();
            let mut dts = tfdt.u64().unwrap();
            if id == 1 {
                starts.push(dts);
            }
            let mut trun = Cursor::new(child(traf.body, b"trun").unwrap().unwrap().body);
            trun.u32().unwrap();
            let n = trun.u32().unwrap();
            let mut at = moof_at + trun.u32().unwrap() as usize;
            for _ in 0..n {
                let (d, s, flags, cts) = (
                    trun.u32().unwrap(),
                    trun.u32().unwrap(),
                    trun.u32().unwrap(),
                    trun.u32().unwrap(),
                );
                let bytes = f[at..at + s as usize].to_vec();
                at += s as usize;
                let out = if id == 1 { &mut video } else { &mut audio };
                out.push((dts, bytes, flags == 0x0200_0000, cts));
                dts += u64::from(d);
            }
        }
    }
    (kinds, video, audio, starts)
}

#[test]
fn every_sample_plays_as_it_was_recorded_from_fragments_that_start_at_key_frames() {
    let m = made();
    let out = fragment(&m.file).unwrap();
    assert_eq!(out.codecs, "avc1.64001f,mp4a.40.2");
    assert!(out.video);
    let (kinds, video, audio, starts) = read_back(&out.bytes);
    assert_eq!(&kinds[..2], &[*b"ftyp", *b"moov"]);
    assert_eq!(video.len(), m.video.len());
    assert_eq!(audio.len(), m.audio.len());
    for (i, (dts, bytes, key, cts)) in video.iter().enumerate() {
        assert_eq!(*dts, i as u64 * 512, "frame {i}");
        assert_eq!(bytes, &m.video[i], "frame {i}");
        assert_eq!(*key, i % 12 == 0, "frame {i}");
        // The edit list applied: shown 512 earlier than ctts says (negative: trun version 1).
        assert_eq!(*cts as i32, (i as i32 % 2) * 512 - 512, "frame {i}");
    }
    for (i, (dts, bytes, key, _)) in audio.iter().enumerate() {
        assert_eq!(
            (*dts, bytes, *key),
            (i as u64 * 1024, &m.audio[i], true),
            "audio {i}"
        );
    }
    // Fragments begin at key frames (every 12 frames: 0.48 s), a second or more apart.
    assert_eq!(starts[0], 0);
    for w in starts.windows(2) {
        assert_eq!(w[1] % (12 * 512), 0);
        assert!(w[1] - w[0] >= u64::from(VIDEO_RATE), "{w:?}");
    }
    assert_eq!(starts.len(), 7, "{starts:?}"); // every 36 frames (1.44 s)
}

#[test]
fn the_init_segment_carries_what_playback_needs_and_no_user_data() {
    let out = fragment(&made().file).unwrap();
    let moov = child(&out.bytes, b"moov").unwrap().unwrap();
    let kinds: Vec<[u8; 4]> = atoms(moov.body).map(|a| a.unwrap().kind).collect();
    assert_eq!(kinds, [*b"mvhd", *b"trak", *b"trak", *b"mvex"]);
    let trak = child(moov.body, b"trak").unwrap().unwrap();
    let kinds: Vec<[u8; 4]> = atoms(trak.body).map(|a| a.unwrap().kind).collect();
    assert_eq!(
        kinds,
        [*b"tkhd", *b"mdia"],
        "the edit list is in the samples' times"
    );
    let whole = String::from_utf8_lossy(moov.whole);
    assert!(
        !whole.contains("+43.2"),
        "a location tag reached the window"
    );
    assert!(!whole.contains("udta") && !whole.contains("meta"));
    let stbl = find(moov.body, &[b"trak", b"mdia", b"minf", b"stbl"]).unwrap();
    let kinds: Vec<[u8; 4]> = atoms(stbl.body).map(|a| a.unwrap().kind).collect();
    assert_eq!(kinds, [*b"stsd", *b"stts", *b"stsc", *b"stco", *b"stsz"]);
    let mvex = child(moov.body, b"mvex").unwrap().unwrap();
    assert_eq!(
        atoms(mvex.body)
            .filter(|a| &a.as_ref().unwrap().kind == b"trex")
            .count(),
        2
    );
}

#[test]
fn a_damaged_file_is_refused_and_never_read_past_its_end() {
    let m = made();
    // Cut anywhere: refused or played, never a panic, never a byte from outside the file.
    for cut in (0..m.file.len()).step_by(97) {
        let _ = fragment(&m.file[..cut]);
    }
    // Every byte of the moov flipped in turn (the samples are not checked, only placed).
    let moov_at = m.file.len() - child(&m.file, b"moov").unwrap().unwrap().whole.len();
    for i in (moov_at..m.file.len()).step_by(3) {
        let mut f = m.file.clone();
        f[i] ^= 0xff;
        let _ = fragment(&f);
    }
    assert!(matches!(
        fragment(b"not a video").err().unwrap(),
        Mp4Error::Malformed(_)
    ));
    assert_eq!(
        fragment(b"").err().unwrap(),
        Mp4Error::Missing("moov (not an MP4 file)")
    );
}

#[test]
fn counts_larger_than_their_tables_are_refused_before_anything_is_allocated() {
    let m = made();
    let mut f = m.file.clone();
    // The video track's stsz count (after version/flags and the fixed size) set to 4 billion.
    let at = f.windows(4).position(|w| w == b"stsz").unwrap() + 4 + 4 + 4;
    f[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(fragment(&f).err().unwrap(), Mp4Error::TooLarge);
    let mut f = m.file.clone();
    f[at..at + 4].copy_from_slice(&1_000_000u32.to_be_bytes());
    assert!(matches!(
        fragment(&f).err().unwrap(),
        Mp4Error::Malformed(_)
    ));
}

#[test]
fn a_codec_the_window_is_not_told_of_is_refused() {
    let mut f = made().file;
    let at = f.windows(4).rposition(|w| w == b"avc1").unwrap(); // the sample entry, not the brand
    f[at..at + 4].copy_from_slice(b"xvid");
    assert_eq!(
        fragment(&f).err().unwrap(),
        Mp4Error::Unsupported("the codec \"xvid\"".into())
    );
}

#[test]
fn codecs_strings_follow_rfc_6381() {
    let mut stsd = vec![0, 0, 0, 0, 0, 0, 0, 1];
    put(&mut stsd, b"hvc1", |o| {
        o.extend_from_slice(&[0; 78]);
        put(o, b"hvcC", |o| {
            o.extend_from_slice(&[1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93])
        });
    });
    assert_eq!(codec::codecs(&stsd).unwrap(), "hvc1.1.6.L93.90");
    let mut stsd = vec![0, 0, 0, 0, 0, 0, 0, 1];
    put(&mut stsd, b"av01", |o| {
        o.extend_from_slice(&[0; 78]);
        put(o, b"av1C", |o| o.extend_from_slice(&[0x81, 0x08, 0x0c, 0]));
    });
    assert_eq!(codec::codecs(&stsd).unwrap(), "av01.0.08M.08");
}

#[test]
fn a_file_fragmented_already_is_refused() {
    let once = fragment(&made().file).unwrap();
    assert_eq!(
        fragment(&once.bytes).err().unwrap(),
        Mp4Error::Unsupported("a file cut in fragments already".into())
    );
}

#[test]
fn samples_that_name_the_same_bytes_over_and_over_are_refused() {
    // 20,000 samples of about 300 bytes, every one at the start of the file: 6 MB named in a
    // file of 200 KB.
    let mut file = Vec::new();
    put(&mut file, b"ftyp", |o| {
        o.extend_from_slice(b"isom\0\0\x02\0isom")
    });
    put(&mut file, b"moov", |o| {
        put_full(o, b"mvhd", 0, 0, |o| o.extend_from_slice(&[0; 96]));
        trak(o, 1, true, 20_000, 512, None, 1, &mut Vec::new());
    });
    assert_eq!(
        fragment(&file).err().unwrap(),
        Mp4Error::Malformed("the samples add up to more than the file")
    );
}

#[test]
fn tiny_samples_a_second_apart_are_refused_rather_than_grown_a_hundredfold() {
    // 100,000 one-byte key frames a second each: 100 KB that would become 10 MB of fragments.
    let n = 100_000u32;
    let mut file = Vec::new();
    put(&mut file, b"ftyp", |o| {
        o.extend_from_slice(b"isom\0\0\x02\0isom")
    });
    let mdat_at = file.len() as u32 + 8;
    put(&mut file, b"mdat", |o| {
        o.extend(std::iter::repeat_n(0u8, n as usize))
    });
    put(&mut file, b"moov", |o| {
        put_full(o, b"mvhd", 0, 0, |o| o.extend_from_slice(&[0; 96]));
        put(o, b"trak", |o| {
            put_full(o, b"tkhd", 0, 3, |o| {
                o.extend_from_slice(&[0; 8]);
                o.extend_from_slice(&1u32.to_be_bytes());
                o.extend_from_slice(&[0; 68]);
            });
            put(o, b"mdia", |o| {
                put_full(o, b"mdhd", 0, 0, |o| {
                    o.extend_from_slice(&[0; 8]);
                    o.extend_from_slice(&1000u32.to_be_bytes());
                    o.extend_from_slice(&[0; 8]);
                });
                put_full(o, b"hdlr", 0, 0, |o| {
                    o.extend_from_slice(&[0; 4]);
                    o.extend_from_slice(b"vide");
                    o.extend_from_slice(&[0; 13]);
                });
                put(o, b"minf", |o| {
                    put(o, b"stbl", |o| {
                        put_full(o, b"stsd", 0, 0, |o| {
                            o.extend_from_slice(&1u32.to_be_bytes());
                            sample_entry_video(o);
                        });
                        let u = |o: &mut Vec<u8>, v: &[u32]| {
                            v.iter().for_each(|x| o.extend_from_slice(&x.to_be_bytes()))
                        };
                        put_full(o, b"stts", 0, 0, |o| u(o, &[1, n, 1000]));
                        put_full(o, b"stsz", 0, 0, |o| u(o, &[1, n]));
                        put_full(o, b"stsc", 0, 0, |o| u(o, &[1, 1, n, 1]));
                        put_full(o, b"stco", 0, 0, |o| u(o, &[1, mdat_at]));
                    });
                });
            });
        });
    });
    assert_eq!(
        fragment(&file).err().unwrap(),
        Mp4Error::Malformed("the samples are too small to be a recording")
    );
}
