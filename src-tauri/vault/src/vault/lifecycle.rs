//! Creating, opening, unlocking, locking and erasing a vault; its passphrase and recovery
//! keyslots.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Confirmed, CreateOptions, Open, Vault, MAX_UNLOCK_DELAY, VAULT_JSON};
use crate::crypto::blobs;
use crate::crypto::keys::{self, Passphrase, VaultSecrets};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::index;
use crate::revision;
use crate::store::{self, audit, meta, peers, purge};

/// Refuses a passphrase too weak to protect a vault.
pub(super) fn check_strength(p: &Passphrase) -> Result<()> {
    let strength = keys::passphrase_strength(p.expose());
    if strength.score == 0 {
        return Err(Error::WeakPassphrase(strength.hint.into()));
    }
    Ok(())
}

/// The `meta` key under which the recovery keyslot of `recipient` is named (inside the
/// encrypted database only: the file name says nothing about the key).
/// The vault's in-use lock, shared while this program has the vault unlocked (`held`: a lock
/// file this program already holds, as key rotation hands over). Refused while another program
/// rotates the keys.
pub(super) fn in_use(dir: &Path, held: Option<fs::File>) -> Result<fs::File> {
    let f = match held {
        Some(f) => {
            let _ = f.unlock();
            f
        }
        None => {
            let mut o = fs::OpenOptions::new();
            o.read(true).write(true).create(true).truncate(false);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            o.open(dir.join(IN_USE))
                .map_err(Error::io("opening the vault's lock file"))?
        }
    };
    match f.try_lock_shared() {
        Ok(()) => Ok(f),
        Err(fs::TryLockError::WouldBlock) => Err(Error::Io {
            context: "another Kuager program is replacing this vault's keys: wait until it has finished, then unlock again".into(),
            source: std::io::ErrorKind::WouldBlock.into(),
        }),
        Err(fs::TryLockError::Error(e)) => Err(Error::io("locking the vault's lock file")(e)),
    }
}

/// Makes the in-use lock held as `f` (shared) exclusive, for a schema update: refused, and
/// shared again, while another program has the vault open. (Released, then taken: a lock
/// held on a file is not converted in place the same way everywhere.)
fn alone(f: &fs::File) -> Result<()> {
    let _ = f.unlock();
    match f.try_lock() {
        Ok(()) => Ok(()),
        Err(e) => {
            shared_again(f)?;
            Err(match e {
                fs::TryLockError::WouldBlock => Error::Io {
                    context: "this version of Kuager must update the vault, and another Kuager \
                              program has it open: close that program (or the older version's \
                              window), then unlock again"
                        .into(),
                    source: std::io::ErrorKind::WouldBlock.into(),
                },
                fs::TryLockError::Error(e) => Error::io("locking the vault's lock file")(e),
            })
        }
    }
}

/// Back from [`alone`] to the shared lock every open program holds.
fn shared_again(f: &fs::File) -> Result<()> {
    let _ = f.unlock();
    f.try_lock_shared().map_err(|_| Error::Io {
        context: "another Kuager program took this vault while it was updated: close it, then \
                  unlock again"
            .into(),
        source: std::io::ErrorKind::WouldBlock.into(),
    })
}

/// The vault's in-use lock file (empty; its lock is all that matters).
pub(super) const IN_USE: &str = "vault.lock";

/// Where the vault remembers which recovery keyslot is whose: `recovery_slot:<recipient>`.
pub(super) const RECOVERY_PREFIX: &str = "recovery_slot:";

fn recovery_key(recipient: &age::x25519::Recipient) -> String {
    format!("{RECOVERY_PREFIX}{recipient}")
}

fn remember_recovery_slot(
    conn: &rusqlite::Connection,
    recipient: &age::x25519::Recipient,
    slot: &Path,
) -> Result<()> {
    let name = slot
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    meta::set(conn, &recovery_key(recipient), &name)
}

impl Vault {
    /// Creates a new vault in `dir` (which must not exist or be empty) and returns it unlocked.
    pub fn create(dir: &Path, passphrase: &Passphrase, opts: CreateOptions) -> Result<Vault> {
        if dir.join("vault.json").exists() {
            return Err(Error::VaultExists(dir.to_owned()));
        }
        if fs::read_dir(dir).is_ok_and(|mut rd| rd.next().is_some()) {
            return Err(Error::Format {
                path: dir.to_owned(),
                reason: "this folder is not empty: choose a new or empty folder for the vault"
                    .into(),
            });
        }
        check_strength(passphrase)?;
        fsutil::private_dir(dir)?;
        fsutil::private_dir(&dir.join("keyslots"))?;
        fsutil::private_dir(&dir.join("blobs"))?;
        let secrets = VaultSecrets::generate();
        keys::write_passphrase_slot(dir, passphrase, &secrets, opts.work_factor)?;
        let mut recovery_slots = Vec::new();
        for r in &opts.recovery {
            let path = keys::new_recovery_slot_path(dir);
            keys::write_recovery_slot(&path, r, &secrets)?;
            recovery_slots.push((r, path));
        }
        // SQLite creates the -wal and -shm files with the database file's mode: make it 0600 first.
        fsutil::private_file()
            .open(dir.join("vault.db"))
            .map_err(Error::io("creating the database"))?;
        let conn = store::open(&dir.join("vault.db"), &secrets, || Ok(()))?;
        let device = secrets.device_id().to_string();
        meta::set(&conn, meta::VAULT_ID, &secrets.vault_id().to_string())?;
        meta::set(&conn, "created_at", &revision::now())?;
        meta::set(&conn, index::FACTS_FILLED, "1")?;
        for (r, path) in &recovery_slots {
            remember_recovery_slot(&conn, r, path)?;
        }
        audit::append(
            &conn,
            &device,
            &revision::now(),
            "vault_created",
            serde_json::json!({ "recovery_keyslots": opts.recovery.len() }),
        )?;
        for r in &opts.recipients {
            let key = r.to_string();
            peers::add_recipient(&conn, &key, None)?;
            let at = revision::now();
            audit::append(
                &conn,
                &device,
                &at,
                "recipient_added",
                serde_json::json!({ "recipient": key }),
            )?;
        }
        // vault.json last: a folder without it is not (yet) a vault.
        fsutil::write_atomic(&dir.join("vault.json"), VAULT_JSON.as_bytes())?;
        Ok(Vault {
            dir: dir.to_owned(),
            open: Some(Open {
                in_use: in_use(dir, None)?,
                conn,
                secrets,
                device,
                text_queue: 0,
            }),
            failed_unlocks: 0,
        })
    }

    /// Opens the vault folder `dir`, locked.
    pub fn open(dir: &Path) -> Result<Vault> {
        let vj = dir.join("vault.json");
        let text = match fs::read_to_string(&vj) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoVault(dir.to_owned()))
            }
            Err(e) => return Err(Error::io(format!("reading {}", vj.display()))(e)),
        };
        let format = |reason: String| Error::Format {
            path: vj.clone(),
            reason,
        };
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|_| format("not a Kuager vault description".into()))?;
        if v.get("format").and_then(|f| f.as_str()) != Some("kuager-vault") {
            return Err(format("not a Kuager vault".into()));
        }
        match v.get("version").and_then(|n| n.as_u64()) {
            Some(1) => {}
            Some(n) => {
                return Err(format(format!(
                    "vault format {n} is newer than this Kuager: update Kuager"
                )))
            }
            None => return Err(format("no format version".into())),
        }
        Ok(Vault {
            dir: dir.to_owned(),
            open: None,
            failed_unlocks: 0,
        })
    }

    /// Unlocks with the passphrase. After a wrong passphrase the next attempts wait longer
    /// (1 s, 2 s, 4 s … up to [`MAX_UNLOCK_DELAY`]) on top of the KDF's own cost (R3).
    pub fn unlock(&mut self, passphrase: &Passphrase) -> Result<()> {
        let r = keys::open_with_passphrase(&self.dir, passphrase);
        self.finish_unlock(r, None)
    }

    /// [`Vault::unlock`], for a program that asks the passphrase for each command (the
    /// `kuager` command): the passphrase typed just now also confirms that command's change to
    /// who can read what leaves the vault.
    pub fn unlock_confirmed(&mut self, passphrase: &Passphrase) -> Result<Confirmed> {
        self.unlock(passphrase)?;
        Ok(Confirmed::after_keyslot_opened())
    }

    /// Unlocks with the organisation's recovery identity (the vault tries each recovery
    /// keyslot: their names say nothing about the key).
    pub fn unlock_with_recovery(&mut self, identity: &age::x25519::Identity) -> Result<()> {
        let (secrets, slot) = match keys::open_with_recovery(&self.dir, identity) {
            Ok((s, slot)) => (Ok(s), Some(slot)),
            Err(e) => (Err(e), None),
        };
        self.finish_unlock(secrets, None)?;
        if let Some(slot) = slot {
            // Now that its key is known: a slot of an older vault gets a random name, and the
            // vault remembers it as this key's (adding the key again replaces it).
            let slot = keys::rename_fingerprint_slot(&self.dir, &slot).unwrap_or(slot);
            remember_recovery_slot(&self.o()?.conn, &identity.to_public(), &slot)?;
        }
        Ok(())
    }

    /// After a wrong passphrase (to unlock or to confirm): the next attempt waits longer.
    fn wrong_passphrase(&mut self) {
        self.failed_unlocks += 1;
        let exp = self.failed_unlocks.saturating_sub(1).min(5);
        std::thread::sleep(Duration::from_secs(1 << exp).min(MAX_UNLOCK_DELAY));
    }

    /// Opens the database with `secrets` (from a keyslot), holding the vault's in-use lock
    /// (`held`: the one a key rotation already holds, else taken here).
    pub(super) fn finish_unlock(
        &mut self,
        secrets: Result<VaultSecrets>,
        held: Option<fs::File>,
    ) -> Result<()> {
        self.open = None;
        let secrets = match secrets {
            Ok(s) => s,
            Err(e) => {
                if matches!(e, Error::WrongPassphrase) {
                    self.wrong_passphrase();
                }
                return Err(e);
            }
        };
        let in_use = in_use(&self.dir, held)?;
        // A key rotation an interruption cut short is finished or undone first.
        super::rotate::resume(&self.dir, &secrets)?;
        // An update of an older database needs the vault to itself (`store::open`); it is
        // shared again as soon as the database is open.
        let exclusive = std::cell::Cell::new(false);
        let conn = store::open(&self.dir.join("vault.db"), &secrets, || {
            alone(&in_use)?;
            exclusive.set(true);
            Ok(())
        })?;
        if exclusive.get() {
            shared_again(&in_use)?;
        }
        index::fill_facts_once(&conn)?;
        let stored = meta::get(&conn, meta::VAULT_ID)?;
        if stored.as_deref() != Some(secrets.vault_id().to_string().as_str()) {
            return Err(Error::Format {
                path: self.dir.join("vault.db"),
                reason: "the database belongs to another vault than the keyslot".into(),
            });
        }
        let device = secrets.device_id().to_string();
        audit::append(
            &conn,
            &device,
            &revision::now(),
            "vault_unlocked",
            serde_json::json!({}),
        )?;
        blobs::sweep_temp(&self.dir);
        purge::remove_doomed(&conn, &self.dir)?;
        // Recovery keyslots of an older vault are named by a fingerprint of their key: rename
        // them (best effort, tried again at every unlock).
        for slot in keys::recovery_slots(&self.dir) {
            let _ = keys::rename_fingerprint_slot(&self.dir, &slot);
        }
        self.failed_unlocks = 0;
        let text_queue = index::queue_len(&conn)?;
        self.open = Some(Open {
            in_use,
            conn,
            secrets,
            device,
            text_queue,
        });
        Ok(())
    }

    /// Locks: records the event, then drops the database connection and every key (R2).
    pub fn lock(&mut self) {
        if let Some(o) = &self.open {
            let _ = audit::append(
                &o.conn,
                &o.device,
                &revision::now(),
                "vault_locked",
                serde_json::json!({}),
            );
        }
        self.open = None;
    }

    /// Emergency erase (docs/threat-model.md R5): destroys every keyslot first — overwritten
    /// with random bytes, synced, removed, the folder synced — so that from that moment nobody
    /// can open the vault, not with the passphrase and not with a recovery key; then removes the
    /// data. Works locked or unlocked (a coerced user may have no time to unlock).
    ///
    /// # Security
    /// On SSDs and copy-on-write file systems an overwrite does not reach the old blocks; what
    /// remains there is age ciphertext under keys that no longer exist anywhere but in the
    /// memory of this process, which is dropped here. Full-disk encryption covers the rest.
    pub fn erase(mut self) -> Result<()> {
        self.open = None;
        let slots = self.dir.join("keyslots");
        let entries: Vec<PathBuf> = fs::read_dir(&slots)
            .map_err(Error::io("reading the keyslots"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        for path in &entries {
            keys::destroy_slot(path)?;
        }
        fsutil::sync_dir(&slots)?;
        // From here the vault cannot be opened; the rest is tidying up.
        fs::remove_dir_all(&self.dir).map_err(Error::io("removing the vault's files"))?;
        if let Some(parent) = self.dir.parent() {
            let _ = fsutil::sync_dir(parent);
        }
        Ok(())
    }

    /// Checks that the person at the keyboard knows the passphrase of this unlocked vault — not
    /// only that its window is open — before a change to who can read what leaves it. A wrong
    /// passphrase counts toward the same back-off as unlocking; nothing is logged as an unlock.
    pub fn confirm_passphrase(&mut self, passphrase: &Passphrase) -> Result<Confirmed> {
        let vault_id = self.o()?.secrets.vault_id();
        match keys::open_with_passphrase(&self.dir, passphrase) {
            Ok(s) if s.vault_id() == vault_id => {
                self.failed_unlocks = 0;
                Ok(Confirmed::after_keyslot_opened())
            }
            Ok(_) => Err(Error::Format {
                path: keys::passphrase_slot_path(&self.dir),
                reason: "the keyslot belongs to another vault than the one open".into(),
            }),
            Err(Error::WrongPassphrase) => {
                self.wrong_passphrase();
                Err(Error::WrongPassphrase)
            }
            Err(e) => Err(e),
        }
    }

    /// Changes the passphrase: the keyslot is rewritten atomically (R3).
    pub fn change_passphrase(&mut self, new: &Passphrase, work_factor: Option<u8>) -> Result<()> {
        self.o()?;
        check_strength(new)?;
        let o = self.o()?;
        keys::write_passphrase_slot(&self.dir, new, &o.secrets, work_factor)?;
        audit::append(
            &o.conn,
            &o.device,
            &revision::now(),
            "passphrase_changed",
            serde_json::json!({}),
        )
    }

    /// Adds a recovery keyslot for the organisation's age X25519 recipient (or replaces the
    /// one it has).
    pub fn add_recovery(&mut self, recipient: &age::x25519::Recipient) -> Result<PathBuf> {
        let o = self.o()?;
        let path = meta::get(&o.conn, &recovery_key(recipient))?
            .map(|name| self.dir.join("keyslots").join(name))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| keys::new_recovery_slot_path(&self.dir));
        keys::write_recovery_slot(&path, recipient, &o.secrets)?;
        remember_recovery_slot(&o.conn, recipient, &path)?;
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        audit::append(
            &o.conn,
            &o.device,
            &revision::now(),
            "recovery_keyslot_added",
            serde_json::json!({ "keyslot": name }),
        )?;
        Ok(path)
    }

    /// This vault's id.
    pub fn vault_id(&self) -> Result<uuid::Uuid> {
        Ok(self.o()?.secrets.vault_id())
    }

    /// This vault's device id (written into every revision it makes).
    pub fn device_id(&self) -> Result<String> {
        Ok(self.o()?.device.clone())
    }

    /// This vault's device signing key (public part), to hand to coordinators once.
    pub fn device_public_key(&self) -> Result<keys::DevicePublicKey> {
        Ok(self.o()?.secrets.device_public_key())
    }

    /// Signs `data` with this device's key (minisign format).
    pub fn sign(&self, data: &[u8], trusted_comment: &str) -> Result<String> {
        self.o()?.secrets.sign_minisign(data, trusted_comment)
    }
}
