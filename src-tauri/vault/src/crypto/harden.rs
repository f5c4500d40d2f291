//! Process hardening (docs/threat-model.md R2, R12): no core dumps, key pages locked in RAM.
//!
//! This is the only module of the crate allowed to use `unsafe`; each block says why it is sound.
#![allow(unsafe_code)]

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};

/// Disables core dumps for this process: `RLIMIT_CORE` = 0 and, on Linux, `PR_SET_DUMPABLE` = 0
/// (which also keeps other unprivileged processes of the same user from reading our memory
/// through `/proc/<pid>/mem` or ptrace).
///
/// Returns `false` when the OS refused; the caller may carry on (a hardening step, not a gate).
pub fn disable_core_dumps() -> bool {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads a fully initialised rlimit struct that lives for the call.
        let rl = unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } == 0;
        // SAFETY: prctl(PR_SET_DUMPABLE, 0) takes plain integers and touches no memory of ours.
        #[cfg(target_os = "linux")]
        let pr = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } == 0;
        #[cfg(not(target_os = "linux"))]
        let pr = true;
        rl && pr
    }
    #[cfg(not(unix))]
    {
        // Windows writes no core files unless WER is configured to collect full dumps; the user
        // guide asks organisations to keep full-disk encryption on instead.
        false
    }
}

/// Whether this process is currently marked dumpable (Linux only; `None` elsewhere).
pub fn is_dumpable() -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_GET_DUMPABLE takes no pointers and returns an int.
        let r = unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) };
        Some(r != 0)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Locks the pages holding the value `v` in RAM so they are not written to swap. Best effort:
/// returns `false` where the OS refuses (e.g. `RLIMIT_MEMLOCK` exhausted).
pub fn lock_memory<T>(v: &T) -> bool {
    let len = std::mem::size_of::<T>();
    if len == 0 {
        return true;
    }
    #[cfg(unix)]
    {
        let p: *const T = v;
        // SAFETY: the range is the live, borrowed value `v`; mlock reads no memory and only
        // changes how the kernel pages those addresses.
        unsafe { libc::mlock(p.cast(), len) == 0 }
    }
    #[cfg(not(unix))]
    {
        // Not wired on Windows yet (VirtualLock; packaging/README.md): nothing is locked.
        let _ = v;
        false
    }
}

/// Undoes [`lock_memory`] for the same value (call before it is freed).
pub fn unlock_memory<T>(v: &T) {
    let len = std::mem::size_of::<T>();
    if len == 0 {
        return;
    }
    #[cfg(unix)]
    {
        let p: *const T = v;
        // SAFETY: as in `lock_memory`; munlock on a range we locked (or not) has no other effect.
        unsafe {
            libc::munlock(p.cast(), len);
        }
    }
    #[cfg(not(unix))]
    let _ = v;
}

// The wipe below relies on minisign 0.10.0's `SecretKey` being 158 bytes of arrays: a release
// that changes its layout fails to build here (and the workspace pins the version).
const _: () = assert!(std::mem::size_of::<minisign::SecretKey>() == 158);

/// The device's minisign secret key, wiped when dropped: the `minisign` crate's `SecretKey`
/// does not wipe itself, and it is made from the locked keyslot bytes for each signature.
pub(crate) struct WipedMinisignKey(minisign::SecretKey);

impl WipedMinisignKey {
    pub(crate) fn new(key: minisign::SecretKey) -> Self {
        WipedMinisignKey(key)
    }
}

impl std::ops::Deref for WipedMinisignKey {
    type Target = minisign::SecretKey;
    fn deref(&self) -> &minisign::SecretKey {
        &self.0
    }
}

impl Drop for WipedMinisignKey {
    fn drop(&mut self) {
        // SAFETY: minisign 0.10's `SecretKey` holds only byte arrays (algorithm tags, salt,
        // limits, key number, secret key, checksum): no pointer, no `Drop` of its own, and all
        // zeros is a valid value of it. `zeroize_flat_type` writes zeros volatilely over exactly
        // `size_of::<SecretKey>()` bytes of this live value, which nothing reads afterwards.
        unsafe { zeroize::zeroize_flat_type(&mut self.0) }
    }
}

/// Makes new files under `vault` (`rels`, relative to it, written without a flush each) and
/// their folders durable, at once: an import's attachments (`crate::crypto::arriving`). On
/// Linux one `syncfs` for the whole file system (kernels before 5.8 do not report a write-back
/// error through it: best effort there); elsewhere each file, opened for writing as Windows
/// requires, then each folder. Here because `syncfs` takes `unsafe`.
pub(crate) fn sync_new_files(vault: &Path, rels: &[String]) -> Result<()> {
    let failed = || Error::io("making the new attachments durable");
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let _ = rels;
        let d = fs::File::open(vault).map_err(failed())?;
        // SAFETY: a valid, open descriptor; syncfs reads no memory of ours.
        if unsafe { libc::syncfs(d.as_raw_fd()) } == 0 {
            Ok(())
        } else {
            Err(failed()(std::io::Error::last_os_error()))
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let mut folders = std::collections::BTreeSet::new();
        for rel in rels {
            let path = vault.join(rel);
            if !path.exists() {
                continue; // the import stopped before writing it
            }
            fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.sync_all())
                .map_err(failed())?;
            if let Some(p) = path.parent() {
                folders.insert(p.to_path_buf());
            }
        }
        for f in folders {
            crate::fsutil::sync_dir(&f)?;
        }
        crate::fsutil::sync_dir(&vault.join("blobs"))
    }
}
