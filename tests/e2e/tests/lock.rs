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

/// How long the lock may take to answer, busy vault or not.
const LOCK_ANSWERS_WITHIN: Duration = Duration::from_millis(200);

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

    let t = Instant::now();
    s.exec(
        "document.querySelector('[data-testid=lock]').click()",
        json!([]),
    );
    while s.exec("return window.__kuagerUnlockedPage === true", json!([])) == json!(true) {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the window never left the unlocked page"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let answered = t.elapsed();
    s.find("[data-testid=passphrase]", 30);
    let unlock_screen = t.elapsed();
    eprintln!(
        "lock during an export: the unlocked page was gone after {} ms, the unlock screen shown after {} ms",
        answered.as_millis(),
        unlock_screen.as_millis()
    );
    assert!(
        answered < LOCK_ANSWERS_WITHIN,
        "the lock took {} ms to answer",
        answered.as_millis()
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
