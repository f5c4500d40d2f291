//! Durable, atomic file operations (docs/threat-model.md R3, R8), random file names (R11) and
//! the operating system's randomness. A leaf: it uses nothing else of the crate but its errors.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// A random name of 32 hex digits (128 bits), carrying nothing about the content.
pub fn random_name() -> String {
    let mut b = [0u8; 16];
    fill_random(&mut b);
    hex::encode(b)
}

/// Fills `buf` from the operating system's random number generator.
pub fn fill_random(buf: &mut [u8]) {
    // Without OS randomness there is no safe key or name to make: stop rather than carry on.
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// Options for a new file only this user can read (0600 on Unix), failing if it exists.
pub fn private_file() -> fs::OpenOptions {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o
}

/// fsyncs a directory so a rename or a new entry in it survives a power cut.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(Error::io(format!("syncing folder {}", dir.display())))
    }
    #[cfg(not(unix))]
    {
        // Windows has no directory fsync; NTFS journals the rename (MoveFileEx + write-through).
        let _ = dir;
        Ok(())
    }
}

/// Makes a file written by another library (SQLite) private (0600) and durable.
pub fn seal_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(Error::io(format!("protecting {}", path.display())))?;
    }
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(Error::io(format!("syncing {}", path.display())))
}

/// Creates folder `p` (and its parents) readable by its owner alone.
#[cfg(unix)]
pub fn private_dir(p: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(p).map_err(Error::io(format!("creating {}", p.display())))?;
    fs::set_permissions(p, fs::Permissions::from_mode(0o700))
        .map_err(Error::io(format!("protecting {}", p.display())))
}

/// Creates folder `p` (and its parents).
#[cfg(not(unix))]
pub fn private_dir(p: &Path) -> Result<()> {
    fs::create_dir_all(p).map_err(Error::io(format!("creating {}", p.display())))
}

/// Replaces `path` with `bytes` atomically: a temp file beside it, fsync, rename, fsync of the
/// folder. A crash at any point leaves either the old file or the new one, never a mix or none.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().expect("a file path has a parent folder");
    let tmp = dir.join(format!(".tmp-{}", random_name()));
    let ctx = || format!("writing {}", path.display());
    let res = (|| {
        let mut f = private_file().open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(ctx())(e));
    }
    sync_dir(dir)
}
