//! Helpers shared by the vault's integration tests.
#![allow(dead_code)]

use std::path::Path;

use vault::{CreateOptions, Kind, Passphrase, RecordId, Vault};

pub const PASS: &str = "correct horse battery staple";
/// A small scrypt work factor so tests unlock in milliseconds (real vaults use ≥ 18).
pub const TEST_WORK_FACTOR: u8 = 10;

pub fn pass() -> Passphrase {
    Passphrase::new(PASS.to_owned())
}

pub fn new_vault(dir: &Path) -> Vault {
    Vault::create(
        dir,
        &pass(),
        CreateOptions {
            work_factor: Some(TEST_WORK_FACTOR),
            ..Default::default()
        },
    )
    .expect("create vault")
}

pub fn add_person(v: &mut Vault, name: &str) -> RecordId {
    let json = serde_json::json!({ "names": [{ "value": name }] });
    v.add(Kind::Person, json.to_string().as_bytes())
        .expect("add person")
        .record
}

pub fn add_testimony(v: &mut Vault, witness: RecordId, narrative: &str) -> RecordId {
    let json = serde_json::json!({ "witness": witness, "narrative": narrative });
    v.add(Kind::Testimony, json.to_string().as_bytes())
        .expect("add testimony")
        .record
}

/// Every file under `dir` (recursively) with its bytes.
pub fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                if let Ok(b) = std::fs::read(&p) {
                    out.push((p, b));
                }
            }
        }
    }
    out
}

/// Places under `dir` where `canary` occurs, as ASCII/UTF-8 or UTF-16LE, in content or names.
pub fn canary_hits(dir: &Path, canary: &str) -> Vec<String> {
    let utf8 = canary.as_bytes().to_vec();
    let utf16: Vec<u8> = canary
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let mut hits = Vec::new();
    for (p, bytes) in files_under(dir) {
        if p.to_string_lossy().contains(canary) {
            hits.push(format!("{} (file name)", p.display()));
        }
        for (label, needle) in [("utf-8", &utf8), ("utf-16le", &utf16)] {
            if bytes.windows(needle.len()).any(|w| w == needle.as_slice()) {
                hits.push(format!("{} ({label})", p.display()));
            }
        }
    }
    hits
}
