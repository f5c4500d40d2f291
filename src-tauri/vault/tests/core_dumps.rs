//! R12 (docs/threat-model.md): `harden::disable_core_dumps`, which `main` of the app, the CLI
//! and the generator call first, leaves the process with no core file size at all and not
//! dumpable. A file of its own: it changes the whole test process.
//!
//! From outside, `r12_cli_runs_without_core_dumps` (CLI) and the end-to-end tests read the
//! limit of the running `kuager` and `kuager-app`; the dumpable flag cannot be seen from
//! outside by root (who runs the tests), so it is read here, from inside.
#![cfg(target_os = "linux")]

use testkit::leaks::core_file_limit;
use vault::harden;

#[test]
fn after_disable_core_dumps_the_process_writes_no_core_and_is_not_dumpable() {
    // Before: dumpable, and a core file allowed (the hard limit at least): the checks below
    // can fail.
    assert_eq!(harden::is_dumpable(), Some(true));
    assert_ne!(core_file_limit("self"), ["0", "0"]);
    assert!(harden::disable_core_dumps(), "the kernel refused");
    assert_eq!(core_file_limit("self"), ["0", "0"]);
    assert_eq!(harden::is_dumpable(), Some(false));
}
