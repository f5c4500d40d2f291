//! The rewrite, checked by reading its output back: every kept block's bytes in each cluster, in
//! order, under the cluster's time; nothing the window does not need; hostile files refused.

use super::ebml::{elements, put, put_uint, Element};
use super::*;

/// Opus's set-up: `OpusHead`, version 1, one channel, pre-skip 312, 48 kHz, no gain, family 0.
const OPUS_HEAD: &[u8] = b"OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0";

/// Appends an element of unknown size (as a recording written as it goes has).
fn put_unknown(out: &mut Vec<u8>, id: u32) {
    out.extend_from_slice(&id.to_be_bytes());
    out.push(0xFF);
}

fn simple_block(track: u8, time: i16, key: bool, payload: &[u8]) -> Vec<u8> {
    let mut body = vec![0x80 | track];
    body.extend_from_slice(&time.to_be_bytes());
    body.push(if key { 0x80 } else { 0 });
    body.extend_from_slice(payload);
    let mut out = Vec::new();
    // Sizes written short, as muxers do (one byte: 0x80 | size).
    out.push(id::SIMPLE_BLOCK as u8);
    out.push(0x80 | u8::try_from(body.len()).unwrap());
    out.extend_from_slice(&body);
    out
}

fn entry(number: u64, kind: u64, codec: &[u8], extra: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut e = Vec::new();
    put_uint(&mut e, id::TRACK_NUMBER, number);
    put_uint(&mut e, 0x73C5, number * 1000);
    put_uint(&mut e, id::TRACK_TYPE, kind);
    put(&mut e, id::CODEC_ID, codec);
    put(&mut e, 0x536E, b"Interview with A.S."); // Name: not needed to play
    extra(&mut e);
    let mut out = Vec::new();
    put(&mut out, id::TRACK_ENTRY, &e);
    out
}

/// A file of `doc_type` holding one Segment, `segment`.
fn file_of(doc_type: &[u8], segment: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    put(&mut h, id::DOC_TYPE, doc_type);
    let mut f = Vec::new();
    put(&mut f, id::EBML, &h);
    put(&mut f, id::SEGMENT, segment);
    f
}

pub(crate) struct Made {
    pub file: Vec<u8>,
    /// Each cluster's time and its kept blocks (whole elements), in order.
    clusters: Vec<(u64, Vec<Vec<u8>>)>,
}

/// A file as a browser's MediaRecorder writes it (segment and clusters of unknown size), with a
/// subtitle track, tags, an attached picture, a title and a date, padding and checksums.
pub(crate) fn made() -> Made {
    let mut f = Vec::new();
    let mut h = Vec::new();
    put(&mut h, id::DOC_TYPE, b"webm");
    put(&mut f, id::EBML, &h);
    put_unknown(&mut f, id::SEGMENT);
    let mut info = Vec::new();
    put_uint(&mut info, id::TIMESTAMP_SCALE, 1_000_000);
    put(&mut info, 0x7BA9, b"Almaty, flat 12"); // Title
    put(&mut info, 0x4461, &[0, 0, 0, 9, 0x21, 0x1F, 0x60, 0x00]); // DateUTC
    put(&mut f, id::INFO, &info);
    let mut tracks = Vec::new();
    tracks.extend(entry(1, 1, b"V_VP9", |e| {
        let mut v = Vec::new();
        put_uint(&mut v, 0xB0, 320);
        put_uint(&mut v, 0xBA, 240);
        put(&mut v, 0xEC, b"camera serial 0451"); // Void inside the picture's settings
        put(e, 0xE0, &v);
        put(e, 0x63A2, b"VP9 private from a phone app");
        put(e, 0x22B59C, b"kaz"); // Language
    }));
    tracks.extend(entry(2, 2, b"A_OPUS", |e| put(e, 0x63A2, OPUS_HEAD)));
    tracks.extend(entry(3, 17, b"S_TEXT/UTF8", |_| {}));
    tracks.extend(entry(4, 2, b"A_VORBIS", |_| {})); // a second sound track: not played
    put(&mut f, id::TRACKS, &tracks);
    let mut clusters = Vec::new();
    for k in 0..4u64 {
        let time = k * 2000;
        put_unknown(&mut f, id::CLUSTER);
        put(&mut f, 0xBF, &[1, 2, 3, 4]); // CRC-32
        put_uint(&mut f, id::TIMESTAMP, time);
        put_uint(&mut f, 0xAB, 99); // PrevSize
        let mut kept = Vec::new();
        for j in 0..5u8 {
            let v = simple_block(1, i16::from(j) * 400, j == 0, &[k as u8, j, 0xAA, 0xBB]);
            let a = simple_block(2, i16::from(j) * 400 + 20, true, &[k as u8, j, 0xCC]);
            f.extend_from_slice(&v);
            f.extend_from_slice(&a);
            f.extend_from_slice(&simple_block(3, i16::from(j) * 400, true, b"my name is"));
            f.extend_from_slice(&simple_block(4, i16::from(j) * 400, true, &[7]));
            kept.push(v);
            kept.push(a);
        }
        // A block in a group (a frame with its duration given, and an addition a muxer put
        // there, which is not played), then padding.
        let block = [0x81, 0x07, 0xD0, 0x00, k as u8, 0xEE];
        let mut group = Vec::new();
        put(&mut group, id::BLOCK, &block);
        put(&mut group, 0x75A1, b"BlockAdditions: depth map");
        put_uint(&mut group, 0x9B, 20);
        let mut g = Vec::new();
        put(&mut g, id::BLOCK_GROUP, &group);
        f.extend_from_slice(&g);
        let mut played = Vec::new();
        put(&mut played, id::BLOCK, &block);
        put_uint(&mut played, 0x9B, 20);
        let mut g = Vec::new();
        put(&mut g, id::BLOCK_GROUP, &played);
        kept.push(g);
        put(&mut f, 0xEC, &[0; 9]); // Void
        clusters.push((time, kept));
    }
    put(&mut f, 0x1C53_BB6B, &[0xBB, 0x80]); // Cues
    let mut tag = Vec::new();
    put(&mut tag, 0x67C8, b"LOCATION +43.2-076.9");
    put(&mut f, 0x1254_C367, &tag); // Tags
    put(
        &mut f,
        0x1941_A469,
        b"\x61\xA7\x80 a picture of the witness",
    ); // Attachments
    Made { file: f, clusters }
}

/// The rewritten file's elements under its Segment.
fn segment_children(b: &[u8]) -> Vec<Element<'_>> {
    let top: Vec<_> = elements(b).map(Result::unwrap).collect();
    assert_eq!(top.len(), 2, "an EBML header and one segment");
    assert_eq!(top[0].id, id::EBML);
    assert_eq!(top[1].id, id::SEGMENT);
    elements(top[1].body).map(Result::unwrap).collect()
}

#[test]
fn a_recording_of_unknown_size_becomes_clusters_of_known_size_with_only_what_plays() {
    let m = made();
    let c = clean(&m.file).unwrap();
    assert_eq!(c.codecs, "vp9,opus");
    assert!(c.video);
    let children = segment_children(&c.bytes);
    let ids: Vec<u32> = children.iter().map(|e| e.id).collect();
    assert_eq!(ids[..2], [id::INFO, id::TRACKS]);
    assert!(ids[2..].iter().all(|&i| i == id::CLUSTER), "{ids:x?}");
    assert_eq!(ids.len() - 2, m.clusters.len());
    for (cluster, (time, kept)) in children[2..].iter().zip(&m.clusters) {
        let parts: Vec<_> = elements(cluster.body).map(Result::unwrap).collect();
        assert_eq!(parts[0].id, id::TIMESTAMP);
        assert_eq!(ebml::uint(parts[0].body).unwrap(), *time);
        let blocks: Vec<&[u8]> = parts[1..].iter().map(|p| p.whole).collect();
        let expected: Vec<&[u8]> = kept.iter().map(Vec::as_slice).collect();
        assert_eq!(blocks, expected, "cluster at {time}");
    }
    // The track list holds the two played tracks, without their names.
    let tracks: Vec<_> = elements(children[1].body).map(Result::unwrap).collect();
    assert_eq!(tracks.len(), 2);
    for (t, codec) in tracks.iter().zip([&b"V_VP9"[..], b"A_OPUS"]) {
        assert_eq!(child(t.body, id::CODEC_ID).unwrap().unwrap().body, codec);
        assert!(child(t.body, 0x536E).unwrap().is_none(), "a track's name");
    }
    let picture = child(tracks[0].body, 0xE0)
        .unwrap()
        .expect("the picture's settings");
    assert_eq!(
        elements(picture.body)
            .map(|e| e.unwrap().id)
            .collect::<Vec<_>>(),
        [0xB0, 0xBA],
        "the picture's size only"
    );
    assert!(
        child(tracks[0].body, 0x63A2).unwrap().is_none(),
        "VP9 needs no set-up"
    );
    assert_eq!(
        child(tracks[1].body, 0x63A2).unwrap().unwrap().body,
        OPUS_HEAD
    );
    // Each track's ID is its number, not the original's (a random number of that file).
    for (t, n) in tracks.iter().zip([1, 2]) {
        assert_eq!(
            ebml::uint(child(t.body, 0x73C5).unwrap().unwrap().body),
            Ok(n)
        );
    }
    // Nothing of the title, date, tags, attachments or the other tracks reaches the window.
    for needle in [
        &b"Almaty"[..],
        b"LOCATION",
        b"a picture",
        b"Interview",
        b"my name is",
        b"A_VORBIS",
        b"S_TEXT",
        b"serial",
        b"phone app",
        b"kaz",
        b"depth map",
        &[0x44, 0x61],
    ] {
        assert!(
            !c.bytes.windows(needle.len()).any(|w| w == needle),
            "{:?} reached the window",
            String::from_utf8_lossy(needle)
        );
    }
}

#[test]
fn a_rewritten_file_is_rewritten_to_itself() {
    let once = clean(&made().file).unwrap().bytes;
    assert_eq!(clean(&once).unwrap().bytes, once);
}

/// The rewritten file's clusters, each as its time and its parts (whole elements) after it.
fn clusters_of(b: &[u8]) -> Vec<(u64, Vec<Vec<u8>>)> {
    segment_children(b)[2..]
        .iter()
        .map(|c| {
            let parts: Vec<Element> = elements(c.body).map(Result::unwrap).collect();
            let time = ebml::uint(parts[0].body).unwrap();
            (time, parts[1..].iter().map(|p| p.whole.to_vec()).collect())
        })
        .collect()
}

#[test]
fn a_file_cut_off_plays_up_to_its_last_whole_block() {
    let m = made();
    let once = clean(&m.file).unwrap().bytes;
    let whole = clusters_of(&once);
    assert_eq!(whole.len(), 4);
    // Cut anywhere in the last cluster, the original (clusters of unknown size, as a recorder
    // writes them) and the rewrite (sizes known, the segment's now larger than the file) both
    // play every cluster before it and the whole blocks of that one.
    let last_cluster = m
        .file
        .windows(4)
        .rposition(|w| w == id::CLUSTER.to_be_bytes())
        .unwrap();
    let cues = m
        .file
        .windows(4)
        .position(|w| w == [0x1C, 0x53, 0xBB, 0x6B])
        .unwrap();
    for end in last_cluster..cues {
        let cut = clean(&m.file[..end]).unwrap();
        let got = clusters_of(&cut.bytes);
        assert_eq!(got[..3], whole[..3], "cut at {end}");
        if let Some((time, blocks)) = got.get(3) {
            assert_eq!(*time, whole[3].0);
            assert!(
                whole[3].1.starts_with(blocks),
                "cut at {end}: not the first blocks"
            );
        }
        // What comes out is whole: rewritten again, the same.
        assert_eq!(clean(&cut.bytes).unwrap().bytes, cut.bytes, "cut at {end}");
    }
    let last = segment_children(&once).last().unwrap().whole.len();
    for cut in 1..=last {
        let got = clusters_of(&clean(&once[..once.len() - cut]).unwrap().bytes);
        assert_eq!(got[..3], whole[..3]);
        assert!(got.len() == 3 || whole[3].1.starts_with(&got[3].1));
    }
    // Cut inside the track list: nothing to play.
    let tracks_at = m
        .file
        .windows(4)
        .position(|w| w == id::TRACKS.to_be_bytes())
        .unwrap();
    assert!(clean(&m.file[..tracks_at + 20]).is_err());
}

#[test]
fn sound_alone_is_audio_webm() {
    let mut seg = Vec::new();
    let mut tracks = Vec::new();
    tracks.extend(entry(1, 2, b"A_OPUS", |e| put(e, 0x63A2, OPUS_HEAD)));
    put(&mut seg, id::TRACKS, &tracks);
    let mut cl = Vec::new();
    put_uint(&mut cl, id::TIMESTAMP, 0);
    cl.extend(simple_block(1, 0, true, &[1, 2, 3]));
    put(&mut seg, id::CLUSTER, &cl);
    let f = file_of(b"webm", &seg);
    let c = clean(&f).unwrap();
    assert_eq!((c.codecs.as_str(), c.video), ("opus", false));
}

/// `made()`'s file with `from` replaced by `to` (the same length, so nothing else moves).
fn changed(from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut f = made().file;
    let at = f.windows(from.len()).position(|w| w == from).unwrap();
    f[at..at + from.len()].copy_from_slice(to);
    f
}

#[test]
fn what_is_not_webm_or_cannot_play_is_refused_with_its_reason() {
    let unsupported = |f: &[u8]| match clean(f) {
        Err(WebmError::Unsupported(why)) => why,
        other => panic!("{:?}", other.map(|c| c.codecs)),
    };
    // A screen recorder's Matroska: H.264 is MP4's codec, not WebM's.
    let mkv = changed(b"\x86\x85V_VP9", b"\x86\x85V_AVC");
    assert!(unsupported(&mkv).contains("V_AVC"), "{}", unsupported(&mkv));
    assert!(unsupported(&changed(b"webm", b"rats")).contains("not WebM"));
    assert_eq!(
        clean(b"\x1a\x45\xdf\xa3\x80").err(),
        Some(WebmError::Unsupported(
            "an EBML file that is not WebM or Matroska".into()
        ))
    );
    assert_eq!(
        clean(b"\x00\x00\x00\x18ftypmp42").err(),
        Some(WebmError::Malformed("no EBML header"))
    );
}

#[test]
fn a_compressed_or_encrypted_track_is_refused() {
    let mut seg = Vec::new();
    let mut tracks = Vec::new();
    tracks.extend(entry(1, 1, b"V_VP8", |e| {
        put(e, id::CONTENT_ENCODINGS, &[])
    }));
    put(&mut seg, id::TRACKS, &tracks);
    let f = file_of(b"matroska", &seg);
    assert_eq!(
        clean(&f).err(),
        Some(WebmError::Unsupported(
            "a track stored compressed or encrypted".into()
        ))
    );
}

#[test]
fn hostile_structures_are_refused_not_followed() {
    let m = made();
    // A cluster before the track list.
    let mut seg = Vec::new();
    let mut cl = Vec::new();
    put_uint(&mut cl, id::TIMESTAMP, 0);
    put(&mut seg, id::CLUSTER, &cl);
    let f = file_of(b"webm", &seg);
    assert_eq!(
        clean(&f).err(),
        Some(WebmError::Malformed("clusters come before the track list"))
    );
    // An element of unknown size where only a segment or a cluster may have one.
    let tracks_at = m
        .file
        .windows(4)
        .position(|w| w == id::TRACKS.to_be_bytes())
        .unwrap();
    let mut unknown = m.file.clone();
    unknown[tracks_at + 4] = 0xFF;
    assert!(clean(&unknown).is_err());
    // A size that claims the whole address space: the track list runs to the end of the file,
    // where it is cut, and there is nothing to play.
    let mut huge = m.file[..tracks_at + 4].to_vec();
    huge.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]);
    huge.extend_from_slice(&m.file[tracks_at + 5..]);
    assert!(clean(&huge).is_err());
    // A cluster's time longer than a number may be.
    let mut long_time = m.file.clone();
    let at = long_time
        .windows(10)
        .position(|w| w == [0xE7, 0x88, 0, 0, 0, 0, 0, 0, 0, 0])
        .unwrap();
    long_time.splice(at..at + 10, [0xE7, 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        clean(&long_time).err(),
        Some(WebmError::Malformed("a number longer than 8 bytes"))
    );
    // Two played tracks with the same number.
    let same = changed(b"\xd7\x88\0\0\0\0\0\0\0\x02", b"\xd7\x88\0\0\0\0\0\0\0\x01");
    assert_eq!(
        clean(&same).err(),
        Some(WebmError::Malformed("two tracks have the same number"))
    );
    // Every prefix of the file is read without a panic; none reads beyond its end.
    for n in 0..m.file.len() {
        let _ = clean(&m.file[..n]);
    }
}

#[test]
fn a_cluster_without_its_time_or_with_nothing_to_play() {
    let make = |cluster: &[u8]| {
        let mut seg = Vec::new();
        put(&mut seg, id::TRACKS, &entry(1, 1, b"V_VP8", |_| {}));
        put(&mut seg, id::CLUSTER, cluster);
        let f = file_of(b"webm", &seg);
        clean(&f).err()
    };
    assert_eq!(
        make(&simple_block(1, 0, true, &[1])),
        Some(WebmError::Missing("time for a cluster"))
    );
    let mut only_other = Vec::new();
    put_uint(&mut only_other, id::TIMESTAMP, 0);
    only_other.extend(simple_block(2, 0, true, &[1]));
    assert_eq!(
        make(&only_other),
        Some(WebmError::Missing("picture or sound"))
    );
    // Nothing to play and no time: passed over, not refused.
    assert_eq!(
        make(&simple_block(2, 0, true, &[1])),
        Some(WebmError::Missing("picture or sound"))
    );
}

#[test]
fn clusters_and_blocks_are_counted() {
    // A cluster over 64 MB.
    let mut seg = Vec::new();
    put(&mut seg, id::TRACKS, &entry(1, 1, b"V_VP8", |_| {}));
    let mut cl = Vec::new();
    put_uint(&mut cl, id::TIMESTAMP, 0);
    let mut frame = vec![0x81, 0, 0, 0x80];
    frame.resize(MAX_CLUSTER, 7);
    put(&mut cl, id::SIMPLE_BLOCK, &frame);
    put(&mut seg, id::CLUSTER, &cl);
    let f = file_of(b"webm", &seg);
    assert_eq!(clean(&f).err(), Some(WebmError::TooLarge));
}

/// Vorbis's three header packets, Xiph-laced, the comment header holding `comments`.
fn vorbis_private(comments: &[u8]) -> Vec<u8> {
    let ident = [&b"\x01vorbis"[..], &[0; 23]].concat();
    let mut comment = b"\x03vorbis".to_vec();
    comment.extend_from_slice(comments);
    let setup = b"\x05vorbis set-up books".to_vec();
    let mut p = vec![2];
    for n in [ident.len(), comment.len()] {
        p.extend(std::iter::repeat_n(255, n / 255));
        p.push((n % 255) as u8);
    }
    [p, ident, comment, setup].concat()
}

/// A file of one sound track `codec` with the set-up `private`, and one block.
fn sound_file(codec: &[u8], private: &[u8]) -> Vec<u8> {
    let mut seg = Vec::new();
    put(
        &mut seg,
        id::TRACKS,
        &entry(1, 2, codec, |e| put(e, 0x63A2, private)),
    );
    let mut cl = Vec::new();
    put_uint(&mut cl, id::TIMESTAMP, 0);
    cl.extend(simple_block(1, 0, true, &[1, 2, 3]));
    put(&mut seg, id::CLUSTER, &cl);
    file_of(b"webm", &seg)
}

#[test]
fn a_vorbis_set_up_loses_its_comments_and_keeps_what_decodes() {
    let tags = b"\x0d\0\0\0Lavf60.16.100\x01\0\0\0\x1f\0\0\0LOCATION=Ghulja, near the camp\x01";
    let mut long = tags.to_vec();
    long.resize(700, b'x'); // its size in three lacing bytes
    for comments in [&tags[..], &long] {
        let c = clean(&sound_file(b"A_VORBIS", &vorbis_private(comments))).unwrap();
        assert_eq!(c.codecs, "vorbis");
        let tracks = &segment_children(&c.bytes)[1];
        let entry = child(tracks.body, id::TRACK_ENTRY).unwrap().unwrap();
        let got = child(entry.body, 0x63A2).unwrap().unwrap().body;
        assert_eq!(got, vorbis_private(b"\0\0\0\0\0\0\0\0\x01"));
        assert!(!c.bytes.windows(8).any(|w| w == b"LOCATION"));
        assert!(!c.bytes.windows(4).any(|w| w == b"Lavf"));
    }
    for bad in [
        &b"\x02\xff\xff\xff"[..],
        b"\x01\x03\x01vor",
        &vorbis_private(b"")[..40],
    ] {
        assert_eq!(
            clean(&sound_file(b"A_VORBIS", bad)).err(),
            Some(WebmError::Malformed(
                "a Vorbis set-up that is not three header packets"
            )),
            "{bad:?}"
        );
    }
    assert_eq!(
        clean(&sound_file(b"A_OPUS", b"OpusTags and more")).err(),
        Some(WebmError::Malformed("an Opus track without its set-up"))
    );
}

#[test]
fn sizes_are_written_short_so_the_file_does_not_grow() {
    let m = made();
    let c = clean(&m.file).unwrap();
    assert!(
        c.bytes.len() < m.file.len(),
        "{} from {}",
        c.bytes.len(),
        m.file.len()
    );
    // A size of 126 takes one byte, 127 (one byte of all ones would be "unknown") two.
    for (size, len) in [(0u64, 1), (126, 1), (127, 2), (16_382, 2), (16_383, 3)] {
        let mut out = Vec::new();
        ebml::put_head(&mut out, id::TIMESTAMP, size);
        assert_eq!(out.len(), 1 + len, "{size}");
        assert_eq!(ebml::header(&out).unwrap(), (id::TIMESTAMP, size, 1 + len));
    }
}

/// The rewritten file's length, in its time unit.
fn duration_of(b: &[u8]) -> Option<f64> {
    let info = segment_children(b)[0];
    child(info.body, id::DURATION)
        .unwrap()
        .and_then(|d| ebml::float(d.body))
}

#[test]
fn a_file_that_says_no_length_or_is_cut_gets_one_from_its_last_block() {
    // A recording written as it went says none: its last block's time (the last cluster at
    // 6,000 ms, its block group's block 2,000 ms in) is its length, and a jump can go anywhere.
    let m = made();
    assert_eq!(duration_of(&clean(&m.file).unwrap().bytes), Some(8000.0));
    // A file that says its length keeps it, unless it is cut off, or the length is no length.
    let with = |d: f64, cut: usize| {
        let mut seg = Vec::new();
        let mut info = Vec::new();
        put(&mut info, id::DURATION, &d.to_be_bytes());
        put(&mut seg, id::INFO, &info);
        put(&mut seg, id::TRACKS, &entry(1, 1, b"V_VP8", |_| {}));
        for (k, t) in [0u64, 1000].into_iter().enumerate() {
            let mut cl = Vec::new();
            put_uint(&mut cl, id::TIMESTAMP, t);
            cl.extend(simple_block(1, 40, k == 0, &[k as u8; 30]));
            cl.extend(simple_block(1, 80, false, &[k as u8; 30]));
            put(&mut seg, id::CLUSTER, &cl);
        }
        let f = file_of(b"webm", &seg);
        duration_of(&clean(&f[..f.len() - cut]).unwrap().bytes)
    };
    assert_eq!(with(1234.5, 0), Some(1234.5));
    assert_eq!(with(1234.5, 10), Some(1040.0), "cut inside the last block");
    for bogus in [f64::NAN, f64::INFINITY, -5.0, 0.0] {
        assert_eq!(with(bogus, 0), Some(1080.0), "{bogus}");
    }
}

#[test]
fn bytes_that_are_no_element_end_the_file_as_its_end_does() {
    let m = made();
    let whole = clusters_of(&clean(&m.file).unwrap().bytes);
    let cues = m
        .file
        .windows(4)
        .position(|w| w == [0x1C, 0x53, 0xBB, 0x6B])
        .unwrap();
    // Zeros a crash left after the last cluster (of unknown size) or in the middle of it.
    let mut zeros = m.file[..cues].to_vec();
    zeros.extend_from_slice(&[0; 4096]);
    assert_eq!(clusters_of(&clean(&zeros).unwrap().bytes), whole);
    // A second file joined on (its own header and a segment of unknown size).
    let mut joined = m.file[..cues].to_vec();
    joined.extend_from_slice(&m.file);
    assert_eq!(clusters_of(&clean(&joined).unwrap().bytes), whole);
}

#[test]
fn a_track_sharing_a_played_tracks_number_is_refused() {
    // Subtitles numbered as the video: their blocks would be played as pictures.
    let mut seg = Vec::new();
    let mut tracks = entry(1, 1, b"V_VP8", |_| {});
    tracks.extend(entry(1, 17, b"S_TEXT/UTF8", |_| {}));
    put(&mut seg, id::TRACKS, &tracks);
    assert_eq!(
        clean(&file_of(b"webm", &seg)).err(),
        Some(WebmError::Malformed("two tracks have the same number"))
    );
}

#[test]
fn track_settings_must_be_numbers_and_opus_heads_their_length() {
    let mut seg = Vec::new();
    put(
        &mut seg,
        id::TRACKS,
        &entry(1, 1, b"V_VP8", |e| put(e, 0x9C, b"a whole page of text!")),
    );
    assert_eq!(
        clean(&file_of(b"webm", &seg)).err(),
        Some(WebmError::Malformed("a track setting that is not a number"))
    );
    let mut seg = Vec::new();
    let sampling = |e: &mut Vec<u8>| {
        put(e, 0x63A2, OPUS_HEAD);
        let mut a = Vec::new();
        put(&mut a, 0xB5, b"48k");
        put(e, 0xE1, &a);
    };
    put(&mut seg, id::TRACKS, &entry(1, 2, b"A_OPUS", sampling));
    assert_eq!(
        clean(&file_of(b"webm", &seg)).err(),
        Some(WebmError::Malformed("a track setting that is not a number"))
    );
    // An OpusHead with more after it: only its 19 bytes go on.
    let mut long = OPUS_HEAD.to_vec();
    long.extend_from_slice(b"OpusTags: encoder and title");
    let c = clean(&sound_file(b"A_OPUS", &long)).unwrap();
    assert!(!c.bytes.windows(8).any(|w| w == b"OpusTags"));
    assert!(c.bytes.windows(OPUS_HEAD.len()).any(|w| w == OPUS_HEAD));
}
