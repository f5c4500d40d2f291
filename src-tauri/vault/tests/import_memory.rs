//! An import does not hold `records.jsonl` whole (issue #10, item 14): it reads the file a line
//! at a time into revisions, so the memory an import needs is about the revisions themselves,
//! not the text twice over. Measured with a counting allocator (this file's own test binary).

// A global allocator is unsafe to implement; this one only counts and defers to the system.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use testkit::bundles::*;
use testkit::fixture::*;
use vault::bundle::ExportScope;

/// The system allocator, counting the bytes in use and the highest count since `reset`.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The tests of this file one at a time: the counts are the whole process's.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Bytes in use now, after the peak is set back to it.
fn reset() -> usize {
    let now = IN_USE.load(Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
    now
}

#[test]
fn an_import_holds_neither_the_text_nor_the_data_of_records_jsonl() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker 1");
    let p = add_person(&mut cw, "Сенбай");
    // 24 accounts of a million characters, Latin and Cyrillic: records.jsonl of about 32 MiB.
    for i in 0..24u32 {
        let text: String = (0..(1 << 20) / 8)
            .map(|n| {
                ["Ghulja ", "Құлжа  ", "Кульджа"][((n + i) % 3) as usize]
                    .chars()
                    .next()
                    .unwrap()
            })
            .map(|c| format!("{c}{}", (b'a' + (i % 26) as u8) as char))
            .collect::<String>()
            .repeat(4);
        add_testimony(&mut cw, p, &text);
    }
    let bundle = export(&mut cw, ExportScope::All, &t.path().join("out"));
    let records = open_bundle(&bundle, &org.identity)
        .into_iter()
        .find(|(n, _)| n.ends_with("/records.jsonl"))
        .unwrap()
        .1
        .len();
    assert!(records > 20 << 20, "records.jsonl is {records} bytes");

    let before = reset();
    let r = org.v.import(&bundle, &Default::default()).unwrap();
    assert_eq!(r.new_revisions, 25);
    let peak = PEAK.load(Ordering::Relaxed) - before;
    eprintln!(
        "records.jsonl {:.1} MiB, import peak {:.1} MiB above the start",
        records as f64 / 1048576.0,
        peak as f64 / 1048576.0
    );
    // One line at a time, twice (checked, then written), and a few hundred bytes per revision:
    // 8.8 MiB for 32 MiB; a third of the text is room for the largest line (1.3 MiB here,
    // parsed) and SQLite's cache. Holding the revisions' data needed 1.2 times the text
    // (39.5 MiB), and the text whole besides 2.8 times.
    assert!(
        peak < records / 3,
        "the import needed {peak} bytes for a records.jsonl of {records}"
    );
}

/// Anyone holding the organisation's public key can send a bundle. Nothing of its
/// `records.jsonl` is parsed before its signature is found to be a trusted device's: a line of
/// JSON that would take hundreds of MiB to parse (a long array of zeros) costs nothing but
/// the refusal. The same line from a trusted device is refused unparsed for its length.
#[test]
fn records_jsonl_is_not_parsed_before_the_signature_holds() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut org = coordinator();
    let t = tempfile::tempdir().unwrap();
    let stranger = new_vault(&t.path().join("stranger"));
    let (_ct, cw) = caseworker(&mut org, "caseworker 1");
    // 40 MiB of `0,`: about 640 MiB as a parsed JSON array.
    let mut line = b"{\"data\":[".to_vec();
    line.extend(b"0,".repeat(20 << 20));
    line.extend(b"0]}\n");
    let bundle_by = |signer: &vault::Vault, name: &str| {
        let mut e = vec![
            ("kuager-bundle/README.txt".to_owned(), b"x".to_vec()),
            ("kuager-bundle/records.jsonl".to_owned(), line.clone()),
        ];
        resign(&mut e, signer);
        let path = t.path().join(name);
        std::fs::write(&path, seal(&files(&e), &org.recipient)).unwrap();
        path
    };
    let from_stranger = bundle_by(&stranger, "stranger.kuager.age");
    let from_caseworker = bundle_by(&cw, "caseworker.kuager.age");

    let before = reset();
    let e = org
        .v
        .import(&from_stranger, &Default::default())
        .unwrap_err();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert!(matches!(e, vault::Error::UnknownSigner { .. }), "{e}");
    assert!(peak < 16 << 20, "{} MiB for a refused bundle", peak >> 20);

    let before = reset();
    let e = org
        .v
        .import(&from_caseworker, &Default::default())
        .unwrap_err();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert!(e.to_string().contains("line 1 is longer than"), "{e}");
    // The line buffer stops at the cap (32 MiB; 96 MiB in flight while the vector doubles):
    // parsed, the line would take about 640 MiB.
    assert!(peak < 128 << 20, "{} MiB for a refused line", peak >> 20);
}
