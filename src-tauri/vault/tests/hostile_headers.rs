//! Endless and huge age headers (docs/threat-model.md R7; issue #10, item 9): the age crate
//! parses its header again after every line, uncapped, so Kuager reads the header itself first,
//! refuses one over 64 KiB, and hands a real one to age in one piece.

use std::io::Write;

use testkit::bundles::*;
use vault::Error;

/// An age header of `lines` minimal stanzas and no end (armored when asked).
fn endless_header(lines: usize, armored: bool) -> Vec<u8> {
    let mut h = b"age-encryption.org/v1\n".to_vec();
    for _ in 0..lines {
        h.extend_from_slice(b"-> a\n\n");
    }
    if !armored {
        return h;
    }
    let mut w =
        age::armor::ArmoredWriter::wrap_output(Vec::new(), age::armor::Format::AsciiArmor).unwrap();
    w.write_all(&h).unwrap();
    w.finish().unwrap()
}

/// A valid first line and then millions of stanza lines (issue #10, item 9): the age crate
/// re-parses its header after every line, so such a file held an import for hours before any
/// key was needed. A header over 64 KiB is refused before age reads it, armored or not, in
/// under a second, and nothing is recorded but the refusal.
#[test]
fn an_endless_age_header_is_refused_within_a_second() {
    let mut org = coordinator();
    for armored in [false, true] {
        let path = org.tmp.path().join(format!("endless-{armored}.kuager.age"));
        std::fs::write(&path, endless_header(20 << 20 >> 3, armored)).unwrap();
        let before = org.v.list(None).unwrap().len();
        let started = std::time::Instant::now();
        let err = org.v.import(&path, &Default::default()).unwrap_err();
        let took = started.elapsed();
        assert!(took.as_millis() < 1000, "refused after {took:?}");
        assert!(
            err.to_string().contains("header"),
            "armored {armored}: {err}"
        );
        assert_eq!(org.v.list(None).unwrap().len(), before);
    }
}

/// The largest header accepted is still read quickly: 64 KiB of the smallest stanzas took 20 s
/// (the age crate parses after every line) and is now answered in well under a second.
#[test]
fn a_header_just_under_the_cap_is_read_quickly() {
    let mut org = coordinator();
    let mut h = endless_header((64 << 10) / 6 - 20, false);
    h.extend_from_slice(b"--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
    assert!(h.len() <= vault::bundle::MAX_HEADER_BYTES);
    h.extend_from_slice(&[0u8; 100]);
    let path = org.tmp.path().join("wide.kuager.age");
    std::fs::write(&path, &h).unwrap();
    let started = std::time::Instant::now();
    let err = org.v.import(&path, &Default::default()).unwrap_err();
    let took = started.elapsed();
    assert!(took.as_millis() < 1000, "answered after {took:?}: {err}");
    // Read whole and judged on its stanzas, not refused for its size.
    assert!(
        matches!(&err, Error::Rejected(r) if r.contains("not addressed to this vault")),
        "{err}"
    );
}
