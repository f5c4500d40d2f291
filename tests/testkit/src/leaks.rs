//! Where plaintext media could land while the app plays it: files anywhere under the shared
//! scratch folders (`/var/tmp`, `/dev/shm`, `/tmp`) and the open files of every process the app
//! started — WebKit's media player buffers a played file to an *unlinked* file in `/var/tmp`,
//! which no folder walk sees, so the scan reads `/proc/<pid>/fd/*` too.
//!
//! The needle is bytes (a slice of an encoded audio file), not text: [`crate::canary`] looks for
//! strings.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Files larger than this are read only up to it (a scratch folder may hold big unrelated files).
const MAX_READ: u64 = 256 << 20;

/// The folders every process on the machine shares for scratch files.
pub const SHARED_SCRATCH: [&str; 3] = ["/var/tmp", "/dev/shm", "/tmp"];

fn read_capped(p: &Path) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    std::fs::File::open(p)
        .ok()?
        .take(MAX_READ)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Files under `dir` (recursively, not following links, skipping `skip`) whose content holds
/// `needle`, or whose name says WebKit buffered media there. With `since`, only files written
/// since then are read (a copy made during a test is newer than its start; a shared `/tmp` may
/// hold gigabytes of older files).
pub fn bytes_hits(
    dir: &Path,
    needle: &[u8],
    skip: &[&Path],
    since: Option<std::time::SystemTime>,
) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        if skip.iter().any(|s| d.starts_with(s)) {
            continue;
        }
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() && !skip.iter().any(|s| p.starts_with(s)) {
                if media_buffer_name(&p.to_string_lossy()) {
                    hits.push(format!("{} (a media buffer)", p.display()));
                }
                let fresh = since.is_none_or(|t| {
                    e.metadata()
                        .and_then(|m| m.modified())
                        .map_or(true, |m| m >= t)
                });
                if fresh && read_capped(&p).is_some_and(|b| contains(&b, needle)) {
                    hits.push(p.display().to_string());
                }
            }
        }
    }
    hits
}

/// Whether a path is one of WebKit's or GStreamer's on-disk media buffers.
fn media_buffer_name(path: &str) -> bool {
    path.contains("WebKit-Media") || path.contains("gstreamer-buffering")
}

/// The processes whose environment has `HOME=<home>`: in an end-to-end test, everything the
/// sandbox started (tauri-driver, WebKitWebDriver, the app, WebKit's web and network processes).
pub fn processes_with_home(home: &Path) -> Vec<u32> {
    let want = format!("HOME={}", home.display()).into_bytes();
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        if env.split(|b| *b == 0).any(|kv| kv == want.as_slice()) {
            pids.push(pid);
        }
    }
    pids
}

/// The soft and hard "Max core file size" of a process (`"self"` or a pid), as
/// `/proc/<pid>/limits` prints them: `["0", "0"]` when it may write no core file (R12).
pub fn core_file_limit(pid: &str) -> [String; 2] {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core file size line in /proc/<pid>/limits");
    let mut nums = line.split_whitespace().skip(4).map(str::to_owned);
    [nums.next().unwrap(), nums.next().unwrap()]
}

/// The name of a process (`/proc/<pid>/comm`).
pub fn process_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Open files of the processes `pids` that hold `needle` or are media buffers, read through
/// `/proc/<pid>/fd/<n>` so that unlinked files are read too. Sockets, pipes and devices are
/// not files and are skipped.
pub fn open_file_hits(pids: &[u32], needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for &pid in pids {
        let fds = PathBuf::from(format!("/proc/{pid}/fd"));
        for e in std::fs::read_dir(&fds).into_iter().flatten().flatten() {
            let target = std::fs::read_link(e.path())
                .map(|t| t.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Ok(meta) = std::fs::metadata(e.path()) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let who = format!("{} ({pid}) fd {target}", process_name(pid));
            if media_buffer_name(&target) {
                hits.push(format!("{who} (a media buffer)"));
            }
            if read_capped(&e.path()).is_some_and(|b| contains(&b, needle)) {
                hits.push(who);
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unlinked_open_file_is_found_through_proc() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("buffer");
        let mut f = std::fs::File::create(&p).unwrap();
        std::io::Write::write_all(&mut f, b"....needle-7c1e....").unwrap();
        std::fs::remove_file(&p).unwrap();
        assert!(bytes_hits(dir.path(), b"needle-7c1e", &[], None).is_empty());
        let hits = open_file_hits(&[std::process::id()], b"needle-7c1e");
        assert_eq!(hits.len(), 1, "{hits:?}");
        drop(f);
        assert!(open_file_hits(&[std::process::id()], b"needle-7c1e").is_empty());
    }

    #[test]
    fn skipped_folders_and_media_buffer_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("mine")).unwrap();
        std::fs::write(dir.path().join("mine/a"), b"xx-needle-xx").unwrap();
        std::fs::write(dir.path().join("WebKit-Media-abc"), b"nothing").unwrap();
        let mine = dir.path().join("mine");
        let hits = bytes_hits(dir.path(), b"needle", &[&mine], None);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert!(hits[0].contains("media buffer"));
        assert_eq!(bytes_hits(dir.path(), b"needle", &[], None).len(), 2);
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
        assert_eq!(bytes_hits(dir.path(), b"needle", &[], Some(later)).len(), 1);
    }
}
