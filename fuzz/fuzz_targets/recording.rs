//! A recording attachment from its first byte (one may arrive in another organisation's bundle
//! and be played here): the Ogg pages, the Opus headers, decoding from the start and from a
//! point, and slower playback. It must return an error or audio, never panic or hang.
//! `fuzz/seeds.sh` makes the starting corpus: real Ogg Opus files from `opusenc`.
#![no_main]

use kuager_audio::{OpusFile, Stretch};
use zeroize::Zeroizing;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(f) = OpusFile::parse(Zeroizing::new(data.to_vec())) else {
        return;
    };
    let _ = f.duration_ms();
    for at in [0, f.samples() / 2, f.samples(), u64::MAX] {
        let Ok(mut r) = f.reader_at(at) else { continue };
        let mut pcm = Vec::new();
        // Bounded: a hostile file could claim hours.
        for _ in 0..64 {
            match r.next_page(&mut pcm) {
                Ok(true) => {}
                _ => break,
            }
        }
        let mut out = Vec::new();
        Stretch::new(0.75).process(&pcm, &mut out);
    }
});
