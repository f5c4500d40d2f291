//! The idle timer's clock: time that keeps running while the laptop sleeps (issue #10, item 4).
//!
//! `std::time::Instant` is `CLOCK_MONOTONIC` on Linux, which stops during suspend: a laptop
//! closed for a night with five minutes of idle time left woke up with five minutes left, the
//! vault still open. [`Moment`] reads `CLOCK_BOOTTIME` on Linux (monotonic, and counts time
//! asleep) and `CLOCK_MONOTONIC` on macOS (which there counts sleep too); on Windows `Instant`
//! already counts sleep.

use std::time::Duration;

/// A point on a clock that counts time asleep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment(Duration);

impl Moment {
    /// Now.
    pub fn now() -> Moment {
        Moment(since_boot())
    }

    /// Time since this moment, asleep or awake.
    pub fn elapsed(self) -> Duration {
        since_boot().saturating_sub(self.0)
    }
}

#[cfg(unix)]
fn since_boot() -> Duration {
    use rustix::time::{clock_gettime, ClockId};
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const CLOCK: ClockId = ClockId::Boottime;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const CLOCK: ClockId = ClockId::Monotonic;
    let t = clock_gettime(CLOCK);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

#[cfg(not(unix))]
fn since_boot() -> Duration {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Seconds of `CLOCK_MONOTONIC`, the clock `Instant` reads (it stops during suspend).
    fn monotonic() -> f64 {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
        t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
    }

    /// Seconds since boot as the kernel counts them, asleep included (`/proc/uptime`).
    fn uptime() -> f64 {
        let s = std::fs::read_to_string("/proc/uptime").unwrap();
        s.split_whitespace().next().unwrap().parse().unwrap()
    }

    /// A day asleep, as a time namespace shows it: `unshare --time --boottime 86400` starts
    /// this test again with the boot clock a day ahead of the monotonic one — what a laptop
    /// that slept for a day sees. The idle clock must follow the day; `Instant` did not.
    #[test]
    fn the_idle_clock_counts_time_asleep() {
        const ASLEEP: u64 = 86_400;
        if std::env::var_os("KUAGER_TIME_NAMESPACE").is_none() {
            let me = std::env::current_exe().unwrap();
            let out = std::process::Command::new("unshare")
                .args(["--user", "--map-root-user", "--time", "--boottime"])
                .arg(ASLEEP.to_string())
                .arg(me)
                .args([
                    "--exact",
                    "clock::tests::the_idle_clock_counts_time_asleep",
                    "--nocapture",
                ])
                .env("KUAGER_TIME_NAMESPACE", "1")
                .output()
                .expect("unshare (util-linux) runs");
            assert!(
                out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
                "in a time namespace a day ahead: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        let asleep = uptime() - monotonic();
        assert!(
            asleep > (ASLEEP - 60) as f64,
            "the namespace is not a day ahead ({asleep} s)"
        );
        let ours = Moment::now().0.as_secs_f64();
        assert!(
            (ours - uptime()).abs() < 1.0,
            "the idle clock reads {ours} s, the boot clock {} s",
            uptime()
        );
        let t = Moment::now();
        std::thread::sleep(Duration::from_millis(50));
        assert!(t.elapsed() >= Duration::from_millis(50));
    }
}
