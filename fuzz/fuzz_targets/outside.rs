//! A bundle file from its first byte: whitespace and ASCII armor, the age header (its size
//! cap, every stanza), the payload, then the whole importer, against a real vault. It must
//! return an error (or import), never panic or hang, and stay within the memory limit.
//! `fuzz/seeds.sh` makes the starting corpus: real age files addressed to [`IDENTITY`].
#![no_main]

mod common;

use vault::bundle::ImportOptions;

/// The fuzzing identity (a key for fuzzing only; its public key is in `fuzz/seeds.sh`).
const IDENTITY: &str = "AGE-SECRET-KEY-17P92VQ4X0L99AGUULUSQD9KY4LFUHVC7G58KW8EZFW2FDDZF2KGQ2HKC7P";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (t, v) = common::vault();
    let file = t.path().join("in.kuager.age");
    std::fs::write(&file, data).unwrap();
    let opts = ImportOptions {
        identities: vec![IDENTITY.parse().unwrap()],
        trust_signer: Some("fuzzing".into()),
        ..Default::default()
    };
    let _ = v.lock().unwrap().import(&file, &opts);
});
