//! The whole importer after the age layer: an arbitrary "decrypted" tar stream goes through
//! every check of docs/bundle-format.md "Reading" against a real vault. It must return an error (or import),
//! never panic, and stay within the memory limit.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_, v) = common::vault();
    let _ = v.lock().unwrap().fuzz_import_plaintext(data);
});
