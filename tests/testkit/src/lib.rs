//! Kuager's test kit: what the vault's, the `kuager` command's and the end-to-end tests share.
//! A dev-only crate: nothing here is part of the app.
#![deny(missing_docs)]
//!
//! - [`fixture`]: a vault in a temporary folder, unlocked, with a test passphrase and a small
//!   work factor; records to start from; the database opened the way docs/recovery.md says;
//! - [`bundles`]: a coordinator and caseworkers exchanging bundles; taking a bundle apart,
//!   altering it and sealing it again (hostile bundles);
//! - [`canary`]: finds a canary string in files and file names under a folder (UTF-8 and
//!   UTF-16LE), the leak scan behind every "no plaintext at rest" test;
//! - [`leaks`]: bytes in the shared scratch folders and in the open (even unlinked) files of
//!   the app's processes, the scan behind "media plays without a plaintext buffer";
//! - [`goage`]: Debian's Go `age`, the reference implementation, driven as a user would;
//! - [`cli`]: the `kuager` command in a sandbox of its own;
//! - [`driver`]: Xvfb, tauri-driver and a small WebDriver client, for tests in the real app;
//! - [`network`]: reads an `strace` log for connections beyond loopback;
//! - [`partners`]: a partner organisation's key, bundles sent to it, opened with Go `age`;
//! - [`sound`]: a sound server of the test's own whose microphone hears what the test plays;
//!   speech from espeak-ng, and audio compared by its loudness over time;
//! - [`pages`]: every page of a vault's database file and its WAL, decrypted, live or free;
//! - [`terminal`]: a command that reads a terminal only, on one from `script`, lines typed in.

pub mod bundles;
pub mod canary;
pub mod cli;
pub mod driver;
pub mod fixture;
pub mod goage;
pub mod leaks;
pub mod network;
pub mod pages;
pub mod partners;
pub mod sound;
pub mod terminal;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
