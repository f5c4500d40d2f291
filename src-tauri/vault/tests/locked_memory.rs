//! R12 (docs/threat-model.md): while a vault is unlocked its secrets sit in memory the kernel
//! may not swap out (`mlock`), and locking the vault gives those pages back. Read from the
//! kernel's own count, `VmLck` in /proc/self/status. One test in a file of its own, so that no
//! other vault opens or closes in this process meanwhile.
//!
//! SQLCipher locks a small heap of its own (56 kB here) from its first use on and keeps it for
//! the life of the process, so the count is compared with itself locked and unlocked, not
//! with zero.
#![cfg(target_os = "linux")]

use testkit::fixture::{pass, TempVault};

/// Kilobytes of this process's memory locked in RAM.
fn locked_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmLck:"))
        .expect("VmLck in /proc/self/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn an_unlocked_vault_keeps_its_secrets_in_locked_memory_and_locking_releases_them() {
    let mut v = TempVault::new();
    let unlocked = locked_kib();
    v.lock();
    let locked = locked_kib();
    assert!(
        unlocked > locked,
        "locking the vault released no locked page ({unlocked} kB unlocked, {locked} kB locked): \
         its secrets were never in locked memory, or still are"
    );

    v.unlock(&pass()).unwrap();
    // Not necessarily the same count as at the first unlock: where the heap places each
    // secret decides whether two share a page, or one straddles two (60 and 64 kB seen).
    let relocked = locked_kib();
    assert!(
        relocked > locked && relocked.abs_diff(unlocked) <= 8,
        "an unlocked vault's secrets are not in locked memory ({relocked} kB unlocked again, \
         {unlocked} kB at first, {locked} kB locked)"
    );
    drop(v);
    assert_eq!(
        locked_kib(),
        locked,
        "closing the vault left its secrets' pages locked in RAM"
    );
}
