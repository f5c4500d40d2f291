//! The manifest and records.jsonl parsers, and entry-name checks, on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vault::bundle::fuzz_parsers(data);
});
