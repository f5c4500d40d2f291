//! Bundles a coordinator brings in from the page, picked or dropped on the window. The page
//! streams each file's bytes — age ciphertext, exactly as it arrived — into `incoming/` inside
//! the vault folder, where it is reviewed and imported from. Nothing decrypted is ever written
//! there, and no name: each copy is called by a random name, the name the user knows it by is
//! kept in memory for the page. A copy is removed when it is imported or put aside, when the
//! vault locks, and at the next start (docs/architecture.md "Receiving bundles").
//!
//! Why a copy, and not the file where it lies: the page never hands the app a path (a file
//! dropped or picked in a webview is bytes, not a place), and the app never reads a path the
//! page names. Bytes reach the app through IPC, which Tauri's isolation frame re-encodes:
//! measured 0.37 s per MiB, so this way suits the small bundles of a day's work. Bundles
//! chosen in the system's file dialog ([`Incoming::add_picked`]) are not copied: the app has
//! their path from the dialog itself and reads them where they lie.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The most files waiting at once.
pub const MAX_FILES: usize = 200;
/// The largest file accepted (the importer's own total limit is lower; this only keeps a page
/// from filling the disk).
pub const MAX_BYTES: u64 = 16 << 30;

/// One file: the name the user knows it by, its copy, its size as announced and as written.
pub struct Entry {
    /// The name the file had where it came from (shown, never written anywhere).
    pub name: String,
    /// The copy.
    pub path: PathBuf,
    /// The size the page announced.
    pub size: u64,
    written: u64,
    /// Open while the page streams it.
    file: Option<File>,
    /// A copy of our own (removed with the entry), not the user's file picked in the dialog.
    copy: bool,
}

impl Entry {
    /// Whether all of it arrived.
    pub fn complete(&self) -> bool {
        self.file.is_none() && self.written == self.size
    }
}

/// The files waiting, by id.
#[derive(Default)]
pub struct Incoming {
    next: u32,
    files: BTreeMap<u32, Entry>,
}

/// Why a file could not be taken in.
#[derive(Debug, thiserror::Error)]
pub enum IncomingError {
    /// Too many or too large.
    #[error("{0}")]
    Limit(String),
    /// Fewer bytes arrived than announced.
    #[error("the file arrived incomplete: add it again")]
    Short,
    /// Not a regular file.
    #[error("this is not a file (a folder, a device or a pipe): choose the bundle file itself")]
    NotAFile,
    /// No such file (removed, or the vault locked meanwhile).
    #[error("this file is no longer waiting: add it again")]
    Gone,
    /// More bytes than announced.
    #[error("the file grew while it was read: add it again")]
    Overrun,
    /// The disk.
    #[error("the file could not be copied into the vault folder (is the disk full?)")]
    Io,
}

/// The folder the copies live in.
pub fn folder(vault_dir: &Path) -> PathBuf {
    vault_dir.join("incoming")
}

/// Removes every copy (at start, and when the vault locks): only files named as this module
/// names them, only in a vault's folder (a `--vault` pointed elsewhere never loses a folder of
/// its own called `incoming`).
pub fn clear_folder(vault_dir: &Path) {
    if !vault_dir.join("vault.json").is_file() {
        return;
    }
    let dir = folder(vault_dir);
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name.len() == 36
            && name.ends_with(".age")
            && name[..32].bytes().all(|b| b.is_ascii_hexdigit());
        if ours {
            let _ = fs::remove_file(e.path());
        }
    }
    let _ = fs::remove_dir(&dir);
}

impl Incoming {
    /// Starts a file of `size` bytes named `name`; its id.
    pub fn begin(
        &mut self,
        vault_dir: &Path,
        name: String,
        size: u64,
    ) -> Result<u32, IncomingError> {
        if self.files.len() >= MAX_FILES {
            return Err(IncomingError::Limit(format!(
                "at most {MAX_FILES} files can wait at once: import or put some aside first"
            )));
        }
        if size > MAX_BYTES {
            return Err(IncomingError::Limit(
                "this file is far larger than any bundle: it is not one".into(),
            ));
        }
        let dir = folder(vault_dir);
        fs::create_dir_all(&dir).map_err(|_| IncomingError::Io)?;
        let mut random = [0u8; 16];
        getrandom(&mut random);
        let path = dir.join(format!("{}.age", hex(&random)));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(|_| IncomingError::Io)?;
        self.next += 1;
        self.files.insert(
            self.next,
            Entry {
                name,
                path,
                size,
                written: 0,
                file: Some(file),
                copy: true,
            },
        );
        Ok(self.next)
    }

    /// A bundle chosen in the system's file dialog: read where it lies, never removed.
    /// `size` was read before the caller took the lock this map is under (a slow disk must not
    /// hold up a lock of the vault).
    pub fn add_picked(&mut self, path: PathBuf, size: u64) -> Result<(u32, &Entry), IncomingError> {
        if self.files.len() >= MAX_FILES {
            return Err(IncomingError::Limit(format!(
                "at most {MAX_FILES} files can wait at once: import or put some aside first"
            )));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.next += 1;
        let id = self.next;
        self.files.insert(
            id,
            Entry {
                name,
                path,
                size,
                written: size,
                file: None,
                copy: false,
            },
        );
        Ok((id, &self.files[&id]))
    }

    /// Appends a piece.
    pub fn write(&mut self, id: u32, bytes: &[u8]) -> Result<(), IncomingError> {
        let e = self.files.get_mut(&id).ok_or(IncomingError::Gone)?;
        let f = e.file.as_mut().ok_or(IncomingError::Gone)?;
        if e.written + bytes.len() as u64 > e.size {
            return Err(IncomingError::Overrun);
        }
        f.write_all(bytes).map_err(|_| IncomingError::Io)?;
        e.written += bytes.len() as u64;
        Ok(())
    }

    /// The last piece arrived: the copy is closed; refused (and removed) if it is short.
    pub fn finish(&mut self, id: u32) -> Result<&Entry, IncomingError> {
        let e = self.files.get_mut(&id).ok_or(IncomingError::Gone)?;
        e.file = None;
        if e.written != e.size {
            self.remove(id);
            return Err(IncomingError::Short);
        }
        Ok(&self.files[&id])
    }

    /// A file whose copy is complete.
    pub fn get(&self, id: u32) -> Result<&Entry, IncomingError> {
        self.files
            .get(&id)
            .filter(|e| e.complete())
            .ok_or(IncomingError::Gone)
    }

    /// Puts a file aside: its copy is removed (a file picked in the dialog stays where it is).
    pub fn remove(&mut self, id: u32) {
        if let Some(e) = self.files.remove(&id) {
            drop(e.file);
            if e.copy {
                let _ = fs::remove_file(&e.path);
            }
        }
    }

    /// Forgets every file; their copies are removed on a thread of their own (the lock that
    /// calls this never waits for a disk).
    pub fn clear(&mut self, vault_dir: &Path) {
        self.files.clear();
        let dir = vault_dir.to_owned();
        if std::thread::Builder::new()
            .name("kuager-incoming-clear".into())
            .spawn(move || clear_folder(&dir))
            .is_err()
        {
            clear_folder(vault_dir);
        }
    }
}

fn getrandom(out: &mut [u8]) {
    getrandom::fill(out).expect("the operating system's random number generator failed");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_copied_whole_or_not_at_all() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("vault.json"), "{}").unwrap();
        let mut inc = Incoming::default();
        let id = inc.begin(t.path(), "bundle.age".into(), 6).unwrap();
        inc.write(id, b"abc").unwrap();
        assert!(inc.get(id).is_err(), "not yet complete");
        assert!(matches!(
            inc.write(id, b"defg"),
            Err(IncomingError::Overrun)
        ));
        inc.write(id, b"def").unwrap();
        let path = inc.finish(id).unwrap().path.clone();
        assert_eq!(fs::read(&path).unwrap(), b"abcdef");
        assert!(path.file_name().unwrap().to_string_lossy().len() == 36);

        let short = inc.begin(t.path(), "short.age".into(), 10).unwrap();
        inc.write(short, b"abc").unwrap();
        assert!(inc.finish(short).is_err());
        assert_eq!(fs::read_dir(folder(t.path())).unwrap().count(), 1);

        inc.remove(id);
        assert!(!path.exists());
        let mine = t.path().join("mine.age");
        fs::write(&mine, b"bundle").unwrap();
        let (picked, e) = inc.add_picked(mine.clone(), 6).unwrap();
        assert_eq!(
            (e.name.as_str(), e.size, e.complete()),
            ("mine.age", 6, true)
        );
        inc.remove(picked);
        assert!(mine.exists(), "the user's own file is never removed");
        inc.begin(t.path(), "x".into(), 1).unwrap();
        fs::write(folder(t.path()).join("notes.txt"), b"mine").unwrap();
        inc.files.clear();
        clear_folder(t.path());
        assert_eq!(
            fs::read_dir(folder(t.path())).unwrap().count(),
            1,
            "only its own copies are removed"
        );
        let elsewhere = tempfile::tempdir().unwrap();
        fs::create_dir(folder(elsewhere.path())).unwrap();
        clear_folder(elsewhere.path());
        assert!(folder(elsewhere.path()).exists(), "not a vault: left alone");
        assert!(matches!(
            inc.begin(t.path(), "huge".into(), MAX_BYTES + 1),
            Err(IncomingError::Limit(_))
        ));
    }
}
