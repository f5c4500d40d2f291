//! The lock never waits (issue #10, item 5; docs/threat-model.md): a caseworker who presses
//! Lock while a large export runs and the page keeps asking the vault for things (every such
//! call waits for the vault the export holds) sees the window leave the unlocked page at once,
//! and the export is cancelled — its partial file removed, no bundle written. And two uploads
//! asked for at once do not both start (item 17).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use e2e::{App, Sandbox, Steps};
use serde_json::json;
use testkit::fixture::{add_person, attach_file, confirmed, new_vault, PASS};

/// How long the lock may take to unload the unlocked page, busy vault or not.
const LOCK_ANSWERS_WITHIN: Duration = Duration::from_millis(200);

/// How long the unlock screen may take to show after that (its own page loads: under the
/// end-to-end harness — strace, WebDriver — on two busy cores, 80–180 ms).
const UNLOCK_SCREEN_WITHIN: Duration = Duration::from_millis(600);

/// Now, in milliseconds since the Unix epoch: the clock a page's `performance.timeOrigin` uses.
fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

/// Files under `dir` whose names say they are bundles or partial bundles.
fn bundles_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".kuager.age") || n.ends_with(".partial"))
        .collect()
}

/// `mib` MiB of bytes that do not compress, different for each `seed`, at `path`.
fn noise(path: &Path, mib: usize, seed: u64) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ (seed + 1);
    let mut buf = vec![0u8; mib << 20];
    for chunk in buf.chunks_exact_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    std::fs::write(path, buf).unwrap();
}

#[test]
fn the_lock_answers_at_once_during_a_large_export_and_cancels_it() {
    let sb = Sandbox::start();
    let person = {
        let mut v = new_vault(&sb.home.join(".local/share/kuager/default"));
        let ok = confirmed(&mut v);
        let key = testkit::goage::keygen().1;
        v.add_recipient(&key.parse().unwrap(), Some("coordinators"), ok)
            .unwrap();
        let p = add_person(&mut v, "Сенбай Нұрахен");
        for i in 0..3 {
            let f = sb.outside.join(format!("scan-{i}.bin"));
            noise(&f, 160, i);
            attach_file(&mut v, p, &f, "application/octet-stream");
            std::fs::remove_file(&f).unwrap();
        }
        p
    };
    let s = sb.launch();
    s.unlock(PASS);
    s.click(&s.find("[data-testid=nav-export]", 60));
    s.find("[data-testid=recipients] li", 20);
    let folder = PathBuf::from(s.text(&s.find("[data-testid=export-folder]", 5)));
    assert!(folder.starts_with(&sb.home), "{}", folder.display());
    s.click(&s.find("[data-testid=export-run]", 5));
    s.wait_for(
        "return Number(document.querySelector('[data-testid=export-written]')?.dataset.bytes ?? 0) > 0",
        60,
        "the export to start writing",
    );
    // A busy screen: calls that each wait for the vault while the export holds it.
    s.exec(
        "window.__kuagerUnlockedPage = true;\
         for (let i = 0; i < 8; i++) window.__TAURI_INTERNALS__.invoke('search', { query: 'Сенбай', limit: 10 }).catch(() => {});",
        json!([]),
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !bundles_in(&folder).is_empty(),
        "the export is still running when the lock is pressed"
    );

    let clicked = epoch_ms();
    s.exec(
        "document.querySelector('[data-testid=lock]').click()",
        json!([]),
    );
    let t = Instant::now();
    while s.exec("return window.__kuagerUnlockedPage === true", json!([])) == json!(true) {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the window never left the unlocked page"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    s.find("[data-testid=passphrase]", 30);
    let shown = epoch_ms() - clicked;
    // When the unlocked page was unloaded (its scripts and document torn down), from the new
    // page's navigation timing, on the same clock. The window may show its last frame until
    // the unlock screen paints: `shown` (the unlock screen's field found) bounds that.
    let timing = s.exec(
        "const n = performance.getEntriesByType('navigation')[0];\
         return [performance.timeOrigin, n.unloadEventEnd];",
        json!([]),
    );
    let (origin, unloaded) = (timing[0].as_f64().unwrap(), timing[1].as_f64().unwrap());
    assert!(
        unloaded > 0.0,
        "the new page does not say when the unlocked one was unloaded: {timing}"
    );
    // Both clocks are wall clocks: a step of the system clock would show as a negative time.
    assert!(
        origin >= clicked - 5.0,
        "the new page began before the click: the clock stepped ({origin} < {clicked})"
    );
    let gone = origin + unloaded - clicked;
    eprintln!(
        "lock during an export: the unlocked page was gone {gone:.0} ms after the click, \
         the unlock screen shown after {shown:.0} ms"
    );
    assert!(
        gone < LOCK_ANSWERS_WITHIN.as_secs_f64() * 1000.0,
        "the lock took {gone:.0} ms to remove the unlocked page"
    );
    assert!(
        shown < UNLOCK_SCREEN_WITHIN.as_secs_f64() * 1000.0,
        "the unlock screen took {shown:.0} ms to show"
    );

    // The export was cancelled: its partial file goes, and no bundle is written.
    let t = Instant::now();
    while !bundles_in(&folder).is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the export went on after the lock: {:?}",
            bundles_in(&folder)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // And the vault opens again.
    s.unlock(PASS);
    s.find("[data-testid=nav-export]", 60);
    assert!(bundles_in(&folder).is_empty());

    // Two uploads asked for at once: one starts, the other is told to wait.
    let started = s.exec_async(&format!(
        "const done = arguments[arguments.length - 1];\
         const begin = (name) => window.__TAURI_INTERNALS__.invoke('upload_begin', {{ record: '{person}', name, mediaType: null }});\
         Promise.allSettled([begin('a.bin'), begin('b.bin')]).then((rs) => done(rs.map((r) => r.status)));"
    ));
    let fulfilled = started
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| *s == "fulfilled")
        .count();
    assert_eq!(fulfilled, 1, "two uploads at once: {started}");
    s.quit();
    sb.assert_no_network_calls();
}
