//! The leak scan: a canary string looked for in every file's content and name under a folder,
//! as UTF-8 and as UTF-16LE (what Windows-minded libraries and some databases write).

use std::path::{Path, PathBuf};

/// Every file under `dir` (recursively) with its bytes.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
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

/// Whether `bytes` hold `canary` as UTF-8 or UTF-16LE; which, if so.
pub fn encoding_in(bytes: &[u8], canary: &str) -> Option<&'static str> {
    let utf16: Vec<u8> = canary.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let has = |n: &[u8]| !n.is_empty() && bytes.windows(n.len()).any(|w| w == n);
    if has(canary.as_bytes()) {
        Some("utf-8")
    } else if has(&utf16) {
        Some("utf-16le")
    } else {
        None
    }
}

/// Places under `dir` where `canary` occurs, in content or names (empty: none).
pub fn canary_hits(dir: &Path, canary: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for (p, bytes) in files_under(dir) {
        if p.to_string_lossy().contains(canary) {
            hits.push(format!("{} (file name)", p.display()));
        }
        if let Some(enc) = encoding_in(&bytes, canary) {
            hits.push(format!("{} ({enc})", p.display()));
        }
    }
    // Folders named after the canary count too.
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                if p.to_string_lossy().contains(canary) {
                    hits.push(format!("{} (folder name)", p.display()));
                }
                stack.push(p);
            }
        }
    }
    hits
}
