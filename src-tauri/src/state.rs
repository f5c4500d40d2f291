//! The app's state: the vault (locked or not), the settings kept outside it, the idle timer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use serde::{Deserialize, Serialize};

use crate::clock::Moment;
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::upload::Upload;

/// Settings needed before the vault is unlocked (the unlock screen's language). Kept in the
/// user's config folder in plain JSON: a language code and a number of minutes, nothing about
/// anyone in the vault.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `kk`, `ru` or `en`.
    pub language: String,
    /// Idle minutes before locking (1–120).
    pub autolock_minutes: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            language: "kk".into(),
            autolock_minutes: 5,
        }
    }
}

/// The longest a lock waits for a recording to be saved before it applies anyway.
const MAX_SAVE_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Everything the commands share.
pub struct AppState {
    /// The vault folder.
    pub vault_dir: PathBuf,
    config_path: Option<PathBuf>,
    vault: Mutex<Option<vault::Vault>>,
    /// Settings outside the vault.
    pub config: Mutex<Config>,
    /// Last user activity (any command, or `touch` from the UI), on a clock that counts sleep.
    pub last_activity: Mutex<Moment>,
    /// Set to stop a running export.
    pub export_cancel: Arc<AtomicBool>,
    /// Set to stop a running import.
    pub import_cancel: Arc<AtomicBool>,
    /// Bundles brought in from the page, waiting for review and import ([`AppState::incoming`]).
    incoming: Mutex<crate::incoming::Incoming>,
    /// A lock found the waiting bundles busy (a piece being written): whoever takes them next
    /// puts them aside first.
    incoming_clear_pending: AtomicBool,
    /// Attachments being streamed in, by upload id.
    pub uploads: Mutex<HashMap<u64, Upload>>,
    /// Where bundles go, as picked in the system's folder dialog (None: Documents/Kuager). Kept
    /// here so the webview never supplies a path.
    pub export_folder: Mutex<Option<PathBuf>>,
    /// A lock asked for while the vault was busy (an export, an unlock's back-off): whoever
    /// takes the vault next locks it first ([`AppState::slot`]).
    lock_pending: AtomicBool,
    /// How many locks were asked for since the app started ([`AppState::locks`]).
    locks: AtomicU64,
    /// Which load of the page is the current one (counted in its query as `page=N`): the
    /// window navigates only to the current one, never back to an earlier (unlocked) one.
    page: AtomicU64,
    /// The longest idle time the unlocked vault's organisation profile allows, in minutes (0:
    /// none), read at each unlock so that the idle timer never waits for the vault.
    pub policy_autolock: std::sync::atomic::AtomicU32,
    /// The recorder and the player (src/recording.rs).
    pub audio: crate::recording::Audio,
}

/// The idle minutes after which the vault locks: the user's setting, never more than the
/// organisation profile allows (`policy` 0: no profile limit).
pub fn effective_autolock(setting: u32, policy: u32) -> u32 {
    if policy == 0 {
        setting
    } else {
        setting.min(policy)
    }
}

impl AppState {
    /// State for the vault at `vault_dir`, settings at `config_path` (none: defaults, unsaved).
    pub fn new(vault_dir: PathBuf, config_path: Option<PathBuf>) -> AppState {
        let config = config_path
            .as_deref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<Config>(&b).ok())
            .map(sanitize)
            .unwrap_or_default();
        let vault = vault::Vault::open(&vault_dir).ok();
        // Copies of bundles left by an earlier run (it ended before it removed them).
        crate::incoming::clear_folder(&vault_dir);
        AppState {
            vault_dir,
            config_path,
            vault: Mutex::new(vault),
            config: Mutex::new(config),
            last_activity: Mutex::new(Moment::now()),
            export_cancel: Arc::new(AtomicBool::new(false)),
            import_cancel: Arc::new(AtomicBool::new(false)),
            incoming: Mutex::new(Default::default()),
            incoming_clear_pending: AtomicBool::new(false),
            uploads: Mutex::new(HashMap::new()),
            export_folder: Mutex::new(None),
            page: AtomicU64::new(0),
            lock_pending: AtomicBool::new(false),
            locks: AtomicU64::new(0),
            policy_autolock: std::sync::atomic::AtomicU32::new(0),
            audio: crate::recording::Audio::default(),
        }
    }

    /// The query the page is loaded with, so it can paint its first screen before its first
    /// IPC answer (Tauri's isolation frame makes that answer ~70 ms late): whether a vault
    /// exists, and the language. Nothing about what is inside. `app_info` stays authoritative.
    pub fn boot_query(&self) -> String {
        let exists = match self.vault.try_lock() {
            Ok(v) => v.is_some(),
            // In use (an export): it exists.
            Err(TryLockError::WouldBlock) => true,
            Err(TryLockError::Poisoned(p)) => p.into_inner().is_some(),
        };
        let lang = self
            .config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .language
            .clone();
        let page = self.page.load(Ordering::SeqCst);
        if exists {
            format!("vault=exists&lang={lang}&page={page}")
        } else {
            format!("lang={lang}&page={page}")
        }
    }

    /// The query of the next load of the page (which becomes the only one the window may show).
    pub fn next_page_query(&self) -> String {
        self.page.fetch_add(1, Ordering::SeqCst);
        self.boot_query()
    }

    /// Whether `url`, if it is a load of the app's page, is the current load: going back or
    /// forward to an earlier load (one that held the unlocked vault) is refused.
    pub fn page_is_current(&self, url: &tauri::Url) -> bool {
        let app_page = matches!(
            (url.scheme(), url.host_str()),
            ("tauri", Some("localhost")) | ("http" | "https", Some("tauri.localhost"))
        ) && matches!(url.path(), "/" | "/index.html");
        if !app_page {
            return true;
        }
        let current = self.page.load(Ordering::SeqCst).to_string();
        url.query_pairs()
            .any(|(k, v)| k == "page" && v == current.as_str())
    }

    /// The vault slot (None before the first run created one), waiting for it if another
    /// command holds it; a lock asked for meanwhile is applied first.
    pub fn slot(&self) -> MutexGuard<'_, Option<vault::Vault>> {
        blocking(|| self.take_slot())
    }

    fn take_slot(&self) -> MutexGuard<'_, Option<vault::Vault>> {
        // A lock deferred for a recording being saved holds everyone else off until it is
        // applied: nobody but the recording's own writer uses the vault after a lock was asked
        // for. Never for long (the last seconds of sound are stored, then the lock applies);
        // past MAX_SAVE_WAIT the lock applies anyway and the recording is offered at the next
        // unlock.
        let asked = std::time::Instant::now();
        loop {
            let mut slot = self.vault.lock().unwrap_or_else(|p| p.into_inner());
            if self.settle_lock(&mut slot, asked.elapsed() >= MAX_SAVE_WAIT) {
                return slot;
            }
            drop(slot);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The vault for a recording's writer and the thread that saves it: a lock asked for
    /// meanwhile waits for them ([`crate::recording`]), so it is not applied here.
    pub fn recording_slot(&self) -> MutexGuard<'_, Option<vault::Vault>> {
        blocking(|| self.vault.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Applies a pending lock; whether none is left pending. A lock asked for while a
    /// recording is being saved stays pending (unless `force`): the recording's thread applies
    /// it once the recording is saved.
    fn settle_lock(&self, slot: &mut Option<vault::Vault>, force: bool) -> bool {
        if !force
            && self.lock_pending.load(Ordering::SeqCst)
            && self.audio.saving.load(Ordering::SeqCst)
        {
            return false;
        }
        if self.lock_pending.swap(false, Ordering::SeqCst) {
            if let Some(v) = slot.as_mut() {
                v.lock();
            }
        }
        true
    }

    /// Whether a vault exists and whether it is unlocked, without waiting for a busy vault when
    /// a lock was asked for (the unlock screen then shows at once).
    pub fn vault_status(&self) -> (bool, bool) {
        if self.lock_pending.load(Ordering::SeqCst) {
            // Only an unlocked vault can be asked to lock.
            return (true, false);
        }
        match self.slot().as_ref() {
            Some(v) => (true, !v.is_locked()),
            None => (false, false),
        }
    }

    /// Runs `f` on the vault, which must exist; counts as activity.
    pub fn with_vault<T>(
        &self,
        f: impl FnOnce(&mut vault::Vault) -> vault::Result<T>,
    ) -> CmdResult<T> {
        self.touch();
        blocking(|| {
            let mut slot = self.take_slot();
            let v = slot
                .as_mut()
                .ok_or_else(|| IpcError::new(ErrorCode::NoVault, "there is no vault yet"))?;
            Ok(f(v)?)
        })
    }

    /// Marks user activity now.
    pub fn touch(&self) {
        *self.last_activity.lock().unwrap_or_else(|p| p.into_inner()) = Moment::now();
    }

    /// Locks the vault and stops uploads and exports, without waiting (issue #10, item 5): if
    /// another command holds the vault, the lock is left pending — the holder is told to stop,
    /// and whoever takes the vault next locks it first. [`Lock::Pending`] asks the caller to
    /// take the vault on a thread of its own ([`AppState::settle_pending_lock`]) so that the
    /// lock happens as soon as the vault is free even if no other command comes.
    pub fn lock_now(&self) -> Lock {
        self.locks.fetch_add(1, Ordering::SeqCst);
        self.audio.close_player();
        self.lock_pending.store(true, Ordering::SeqCst);
        self.export_cancel.store(true, Ordering::SeqCst);
        self.import_cancel.store(true, Ordering::SeqCst);
        // Bundles waiting to be imported are put aside, without waiting for a piece being
        // written: then the next to take them does it.
        match self.incoming.try_lock() {
            Ok(mut waiting) => waiting.clear(&self.vault_dir),
            Err(TryLockError::Poisoned(p)) => p.into_inner().clear(&self.vault_dir),
            Err(TryLockError::WouldBlock) => {
                self.incoming_clear_pending.store(true, Ordering::SeqCst)
            }
        }
        // An upload's worker holds the vault while the page streams: closing its queue ends it
        // (this map is only ever held for an instant).
        self.uploads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let mut slot = match self.vault.try_lock() {
            Ok(slot) => slot,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return Lock::Pending,
        };
        if self.settle_lock(&mut slot, false) {
            Lock::Done
        } else {
            // A recording is being saved first; its thread applies the lock.
            Lock::Pending
        }
    }

    /// The bundles waiting for review; put aside first if a lock asked for it meanwhile.
    pub fn incoming(&self) -> MutexGuard<'_, crate::incoming::Incoming> {
        let mut waiting = self.incoming.lock().unwrap_or_else(|p| p.into_inner());
        if self.incoming_clear_pending.swap(false, Ordering::SeqCst) {
            waiting.clear(&self.vault_dir);
        }
        waiting
    }

    /// Whether the vault may be unlocked, without waiting for it: one busy with a command (an
    /// export) counts as unlocked, unless a lock already waits for it (then it is as good as
    /// locked: nobody gets it before the lock applies).
    pub fn may_be_unlocked(&self) -> bool {
        if self.lock_is_pending() {
            return false;
        }
        match self.vault.try_lock() {
            Ok(slot) => slot.as_ref().is_some_and(|v| !v.is_locked()),
            Err(TryLockError::Poisoned(p)) => {
                p.into_inner().as_ref().is_some_and(|v| !v.is_locked())
            }
            Err(TryLockError::WouldBlock) => true,
        }
    }

    /// How many locks were asked for so far: an unlock asked for before a lock must not open
    /// the vault after it.
    pub fn locks(&self) -> u64 {
        self.locks.load(Ordering::SeqCst)
    }

    /// Whether a lock was asked for that waits for the vault to be free.
    pub fn lock_is_pending(&self) -> bool {
        self.lock_pending.load(Ordering::SeqCst)
    }

    /// Waits for the vault and applies a pending lock (see [`AppState::lock_now`]); for a
    /// thread of its own, never for the main thread or an async worker.
    pub fn settle_pending_lock(&self) {
        drop(self.slot());
    }

    /// Saves the settings file (atomically: temp file, then rename).
    pub fn save_config(&self) -> CmdResult<()> {
        let Some(path) = &self.config_path else {
            return Ok(());
        };
        let c = self
            .config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        write_config(path, &c)
            .map_err(|_| IpcError::new(ErrorCode::Io, "the settings could not be saved"))
    }
}

/// What [`AppState::lock_now`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// The vault is locked.
    Done,
    /// The vault was busy: it is locked by whoever takes it next.
    Pending,
}

/// Runs blocking work (waiting for the vault, scrypt, a dialog) from an async command without
/// holding one of the async runtime's few workers: Tokio hands the worker's other tasks to a
/// new thread meanwhile (`block_in_place`, because commands borrow the app's state and so cannot
/// move to `spawn_blocking`). Elsewhere (the main thread, the idle timer, tests) it runs `f`.
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

fn sanitize(mut c: Config) -> Config {
    if !crate::LANGUAGES.contains(&c.language.as_str()) {
        c.language = Config::default().language;
    }
    c.autolock_minutes = c.autolock_minutes.clamp(1, 120);
    c
}

fn write_config(path: &Path, c: &Config) -> std::io::Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(c).expect("serialisable"))?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idle_time_is_the_users_but_never_more_than_the_profile_allows() {
        assert_eq!(effective_autolock(30, 0), 30, "no profile limit");
        assert_eq!(effective_autolock(30, 10), 10);
        assert_eq!(effective_autolock(5, 10), 5);
    }

    #[test]
    fn the_boot_query_says_only_whether_a_vault_exists_and_the_language() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("v");
        let none = AppState::new(dir.clone(), None);
        assert_eq!(
            none.boot_query(),
            format!("lang={}&page=0", none.config.lock().unwrap().language)
        );
        crate::test_vault(&dir);
        let some = AppState::new(dir, None);
        let q = some.boot_query();
        assert!(q.starts_with("vault=exists&lang="), "{q}");
        assert!(
            ["kk", "ru", "en"]
                .iter()
                .any(|l| q.ends_with(&format!("lang={l}&page=0"))),
            "{q}"
        );
    }

    /// A lock asked for while a recording is being saved waits for the save, and meanwhile
    /// nobody else gets the vault: a command that comes then finds it locked once the save is
    /// done, never the unlocked vault (issue #14's review). Only the recording's own writer
    /// (`recording_slot`) still stores into it.
    #[test]
    fn a_lock_deferred_for_a_recording_keeps_everyone_else_out() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("v");
        drop(crate::test_vault(&dir));
        let s = std::sync::Arc::new(AppState::new(dir, None));
        let pass = vault::Passphrase::new(crate::TEST_PASSPHRASE.into());
        s.with_vault(|v| v.unlock(&pass)).unwrap();
        s.audio.saving.store(true, Ordering::SeqCst);
        assert_eq!(s.lock_now(), Lock::Pending, "the recording is saved first");
        assert!(!s.may_be_unlocked(), "the idle timer sees it as locked");
        let other = {
            let s = s.clone();
            std::thread::spawn(move || s.with_vault(|v| v.list(None)).map(|l| l.len()))
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(
            !other.is_finished(),
            "a command got the vault while the lock waited"
        );
        // The recording's writer still stores into the unlocked vault.
        assert!(!s.recording_slot().as_ref().unwrap().is_locked());
        // Saved: the lock applies, and the command that waited finds the vault locked.
        s.audio.saving.store(false, Ordering::SeqCst);
        let got = other.join().unwrap();
        assert!(
            got.is_err_and(|e| e.code == ErrorCode::Locked),
            "the waiting command must find the vault locked"
        );
        assert!(!s.lock_is_pending());
        assert!(s.slot().as_ref().unwrap().is_locked());
    }

    /// A lock reloads the page as a new load; the window may show only that one, so going
    /// back cannot return to the page that held the unlocked vault (issue #10, item 16).
    #[test]
    fn only_the_current_load_of_the_page_may_be_shown() {
        let t = tempfile::tempdir().unwrap();
        let s = AppState::new(t.path().join("v"), None);
        let url = |q: &str| -> tauri::Url {
            format!("tauri://localhost/index.html?{q}").parse().unwrap()
        };
        let first = url(&s.boot_query());
        assert!(s.page_is_current(&first));
        let second = url(&s.next_page_query());
        assert!(s.page_is_current(&second));
        assert!(!s.page_is_current(&first), "back to the unlocked page");
        assert!(
            !s.page_is_current(&url("lang=kk")),
            "a load without its number"
        );
        let windows: tauri::Url = format!("http://tauri.localhost/?{}", s.boot_query())
            .parse()
            .unwrap();
        assert!(s.page_is_current(&windows));
        assert!(!s.page_is_current(&"http://tauri.localhost/index.html?page=0".parse().unwrap()));
        // Other frames (Tauri's isolation frame) are not loads of the page.
        assert!(s.page_is_current(&"isolation://localhost/x".parse().unwrap()));
    }
}
