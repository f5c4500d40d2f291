//! A video attachment rewritten for the window's Media Source Extensions (one may arrive in
//! another organisation's bundle and be played here): an MP4 or MOV as a fragmented MP4
//! (`src-tauri/media/src/fmp4/`), a WebM or Matroska file as a plain WebM
//! (`src-tauri/media/src/webm/`). Each must return an error or a playable file, never panic,
//! hang or allocate without bound. `fuzz/seeds.sh` makes the starting corpus: real MP4, MOV,
//! WebM and Matroska files from `ffmpeg`.
#![no_main]

use kuager_media::fmp4::{fragment, Mp4Error};
use kuager_media::webm::{clean, is_ebml};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if is_ebml(data) {
        let Ok(c) = clean(data) else { return };
        // Never larger than the input but for its rebuilt headers and a byte or so a cluster
        // of unknown size (docs/design-notes.md "WebM and Matroska").
        assert!(c.bytes.len() <= data.len() + data.len() / 64 + 1024, "{} from {}", c.bytes.len(), data.len());
        // What comes out is read back as itself.
        assert_eq!(clean(&c.bytes).map(|again| again.bytes).ok(), Some(c.bytes));
        return;
    }
    let Ok(f) = fragment(data) else { return };
    // Bounded by the input's size, whatever it claims.
    assert!(f.bytes.len() <= 2 * data.len() + (1 << 20), "{} from {}", f.bytes.len(), data.len());
    // What comes out is a fragmented file (which is never rewritten again).
    assert_eq!(
        fragment(&f.bytes).err(),
        Some(Mp4Error::Unsupported("a file cut in fragments already".into()))
    );
});
