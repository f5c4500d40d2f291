//! A video attachment rewritten for the window's Media Source Extensions (one may arrive in
//! another organisation's bundle and be played here; `src-tauri/media/src/fmp4/`): it must
//! return an error or a fragmented file, never panic, hang or allocate without bound.
//! `fuzz/seeds.sh` makes the starting corpus: real MP4 and MOV files from `ffmpeg`.
#![no_main]

use kuager_media::fmp4::{fragment, Mp4Error};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(f) = fragment(data) else { return };
    // Bounded by the input's size, whatever it claims.
    assert!(f.bytes.len() <= 2 * data.len() + (1 << 20), "{} from {}", f.bytes.len(), data.len());
    // What comes out is a fragmented file (which is never rewritten again).
    assert_eq!(
        fragment(&f.bytes).err(),
        Some(Mp4Error::Unsupported("a file cut in fragments already".into()))
    );
});
