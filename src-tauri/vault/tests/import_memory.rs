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

/// Bytes in use now, after the peak is set back to it.
fn reset() -> usize {
    let now = IN_USE.load(Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
    now
}

#[test]
fn an_import_holds_the_revisions_not_the_text_of_records_jsonl() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker 1");
    let p = add_person(&mut cw, "Сенбай");
    // 24 accounts of 1 MiB: records.jsonl of about 24 MiB.
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
    // The revisions (about the text's size) and one line at a time; holding the text whole
    // besides them needs twice the text.
    assert!(
        peak < records * 3 / 2,
        "the import needed {peak} bytes for a records.jsonl of {records}"
    );
}
