//! Bulk work runs behind the window (docs/threat-model.md, issue #10 item 5).
//!
//! Since bundle format 2 an export copies attachments at disk speed: its two threads (one
//! reading and hashing the vault's files, one encrypting the bundle) keep both cores of a
//! two-core laptop busy. At the same priority as the window, they took half of every core from
//! it. The lock never waits for the vault, but the window it reloads shares the cores. [`run`] gives such work a thread of its own at a lower CPU priority
//! (nice [`NICE`] on Linux, where the niceness belongs to each thread and the threads it
//! starts inherit it, so the vault's reading thread runs lower too). The work gets every cycle
//! the window does not want: an idle laptop exports as fast as before.
//!
//! Elsewhere (macOS, Windows) the work runs on its own thread at the normal priority (a
//! residual noted in docs/threat-model.md, issue #10 item 5).

/// The niceness of bulk work: below the window (0), above nothing that matters more.
pub const NICE: i32 = 10;

/// Runs `f` on a thread of its own at a lower CPU priority and waits for it. A panic in `f`
/// is passed on. If no thread can be started, `f` runs here, at the normal priority.
pub fn run<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let f = std::sync::Mutex::new(Some(f));
    let take = || f.lock().unwrap_or_else(|p| p.into_inner()).take();
    let spawned = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("kuager-bulk".into())
            .spawn_scoped(s, || {
                lower_priority();
                take().map(|f| f())
            })
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
    });
    match spawned {
        Ok(Some(v)) => v,
        // Not started: `f` is still here.
        _ => take().expect("bulk work runs once")(),
    }
}

/// The calling thread's niceness (Linux), for tests.
#[cfg(target_os = "linux")]
pub fn niceness() -> i32 {
    rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap_or(0)
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // Raising the niceness needs no privilege; a failure leaves the normal priority, which is
    // slower for the window but not wrong.
    let tid = rustix::thread::gettid();
    let now = rustix::process::getpriority_process(Some(tid)).unwrap_or(0);
    let _ = rustix::process::setpriority_process(Some(tid), now.max(NICE));
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn bulk_work_and_the_threads_it_starts_run_at_a_lower_priority_and_the_caller_does_not() {
        let before = niceness();
        let (own, child) = run(|| {
            let child = std::thread::spawn(niceness).join().unwrap();
            (niceness(), child)
        });
        assert_eq!(own, before.max(NICE));
        assert_eq!(child, before.max(NICE), "a thread the export starts");
        assert_eq!(niceness(), before, "the calling thread keeps its priority");
    }

    #[test]
    fn a_panic_in_bulk_work_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| run(|| panic!("boom")));
        assert!(r.is_err());
    }
}
