//! R12 (docs/threat-model.md): `harden::disable_core_dumps`, which `main` of the app, the CLI
//! and the generator call first, leaves the process with no core file size at all and not
//! dumpable. A file of its own: it changes the whole test process.
//!
//! From outside, `r12_cli_runs_without_core_dumps` (CLI) and the end-to-end tests read the
//! limit of the running `kuager` and `kuager-app`; the dumpable flag cannot be seen from
//! outside by root (who runs the tests), so it is read here, from inside.
#![cfg(target_os = "linux")]

use vault::harden;

/// The soft and hard "Max core file size" of this process, as /proc/self/limits prints them.
fn core_limit() -> Vec<String> {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core file size line in /proc/self/limits");
    line.split_whitespace()
        .skip(4)
        .take(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn after_disable_core_dumps_the_process_writes_no_core_and_is_not_dumpable() {
    assert_eq!(
        harden::is_dumpable(),
        Some(true),
        "the check below can fail"
    );
    assert!(harden::disable_core_dumps(), "the kernel refused");
    assert_eq!(core_limit(), ["0", "0"]);
    assert_eq!(harden::is_dumpable(), Some(false));
}
