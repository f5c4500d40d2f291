//! Key rotation (docs/threat-model.md, issue #10 item 6): after a passphrase was coerced, or a
//! keyslot copied, new keys make every old keyslot and its passphrase open nothing.
//!
//! A passphrase change rewrites the keyslot but keeps the keys inside it: an old copy of the
//! keyslot (a backup, blocks an SSD never erased) and the old passphrase still open today's
//! database. Rotation makes new keys — a new database key, a new attachment identity — and moves
//! everything to them: each attachment re-encrypted to a new file, the database copied under the
//! new key (`store::rekey`), new keyslots for the passphrase and each known recovery key. The
//! device's signing key stays: coordinators trust it.
//!
//! Crash safety. Until the commit point the old keys and files stand, the new ones are extras:
//! `vault.db.rotating`, `keyslots/*.rotating`, new attachment files listed as pending in the old
//! database, recovery slots whose key the vault does not know set aside as `*.retired`. The
//! commit point is the rename of the new passphrase keyslot over the old. After it, the new
//! database is moved in, the new recovery slots too, and the retired ones removed. An
//! interruption anywhere is finished or undone at the next unlock ([`resume`]), by which keys
//! the keyslot that was opened holds.

use std::fs;
use std::path::{Path, PathBuf};

use super::lifecycle::check_strength;
use super::{Confirmed, RotateReport, Vault};
use crate::crypto::blobs;
use crate::crypto::keys::{self, Passphrase, VaultSecrets};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::revision;
use crate::store::{self, audit, meta, purge, rekey};

const NEW_DB: &str = "vault.db.rotating";
const NEW: &str = "rotating";
const RETIRED: &str = "retired";

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".");
    s.push(suffix);
    PathBuf::from(s)
}

/// Keyslot files ending in `.<suffix>`.
fn slots_with(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let end = format!(".age.{suffix}");
    fs::read_dir(dir.join("keyslots"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(&end))
        .collect()
}

fn without_suffix(path: &Path) -> PathBuf {
    path.with_extension("")
}

impl Vault {
    /// Rotates the vault's keys and sets its passphrase to `new` (it may be the same): after
    /// this, no earlier keyslot — a copy, a backup — opens anything with any passphrase. Needs
    /// the passphrase typed again. Recovery keyslots are rewritten for every recovery key this
    /// vault knows; one it cannot tell the key of is removed (add that key again).
    pub fn rotate_keys(
        &mut self,
        confirmed: Confirmed,
        new: &Passphrase,
        work_factor: Option<u8>,
    ) -> Result<RotateReport> {
        self.o()?;
        let _ = confirmed;
        check_strength(new)?;
        if !crate::store::recordings::all(&self.o()?.conn)?.is_empty() {
            // Its pieces are encrypted to the key being replaced.
            return Err(Error::invalid(
                "",
                "a recording is in progress or was interrupted: save or discard it first, then replace the keys",
            ));
        }
        let dir = self.dir.clone();
        let o = self.o()?;
        // Alone on the vault: no other program may have it open while its keys change.
        let _ = o.in_use.unlock();
        if o.in_use.try_lock().is_err() {
            let _ = o.in_use.try_lock_shared();
            return Err(Error::Io {
                context: "another Kuager program has this vault open: close it (or lock it), then replace the keys".into(),
                source: std::io::ErrorKind::WouldBlock.into(),
            });
        }
        let fresh = o.secrets.rotated();
        let pass_slot = keys::passphrase_slot_path(&dir);
        let prepared = match prepare(o, &dir, &fresh, new, work_factor) {
            Ok(p) => p,
            Err(e) => {
                // Nothing was committed: the old keys stand, the extras go, others may open.
                let _ = undo(&dir);
                let _ = o.in_use.unlock();
                let _ = o.in_use.try_lock_shared();
                return Err(e);
            }
        };
        let Prepared {
            moved,
            rewritten,
            retired,
        } = prepared;

        // 4. The commit point: the new passphrase keyslot replaces the old. The database is
        //    closed first (its log folded in), then moved in by `resume`.
        let held = self.open.take().map(|o| o.in_use);
        fs::rename(with_suffix(&pass_slot, NEW), &pass_slot)
            .map_err(Error::io("replacing the passphrase keyslot"))?;
        fsutil::sync_dir(&dir.join("keyslots"))?;
        resume(&dir, &fresh)?;

        // 5. Open under the new keys: the old attachment files, doomed in the new database,
        //    are removed as it opens.
        self.finish_unlock(Ok(fresh), held)?;
        // Copies kept before a schema update are under the old keys: they go with them.
        crate::store::backups::remove_all(&dir)?;
        let report = RotateReport {
            attachments: moved.len(),
            recovery_slots: rewritten.len(),
            recovery_slots_removed: retired,
        };
        let o = self.o()?;
        audit::append(
            &o.conn,
            &o.device,
            &revision::now(),
            "keys_rotated",
            serde_json::json!({
                "attachments": report.attachments,
                "recovery_slots": report.recovery_slots,
                "recovery_slots_removed": report.recovery_slots_removed,
            }),
        )?;
        Ok(report)
    }
}

/// What the preparation made (before the commit point).
struct Prepared {
    /// Attachment files: (old, new).
    moved: Vec<(String, String, String)>,
    /// Recovery keyslots rewritten beside themselves.
    rewritten: Vec<PathBuf>,
    /// Recovery keyslots of unknown keys, set aside.
    retired: usize,
}

/// Steps 1 to 3: new attachment files, the re-keyed copy of the database, new keyslots beside
/// the old. Nothing of the old is changed.
fn prepare(
    o: &super::Open,
    dir: &Path,
    fresh: &VaultSecrets,
    new: &Passphrase,
    work_factor: Option<u8>,
) -> Result<Prepared> {
    // Whatever an earlier, interrupted rotation left is cleared first.
    undo(dir)?;

    // 1. Every attachment, re-encrypted to the new identity, as new files pending in the
    //    old database (an interruption leaves them to be removed at the next unlock).
    let recipient = fresh.identity().to_public();
    let mut moved = Vec::new();
    for (sha, file) in store::blobs::all(&o.conn)? {
        let plain = blobs::open(dir, &file, o.secrets.identity())?;
        let b = blobs::write(dir, &recipient, plain, &mut |f| {
            purge::expect_file(&o.conn, f)
        })?;
        if b.sha256 != sha {
            return Err(Error::Verify(format!(
                "attachment {sha} does not decrypt to what was stored: run `kuager verify`"
            )));
        }
        moved.push((file, b.rel, b.payload_sha256));
    }

    // 2. The database, copied under the new key, pointing at the new files.
    rekey::export_rekeyed(
        &dir.join("vault.db"),
        &o.secrets,
        &dir.join(NEW_DB),
        fresh,
        &moved,
    )?;

    // 3. New keyslots beside the old; recovery slots of unknown keys set aside.
    let pass_slot = keys::passphrase_slot_path(dir);
    keys::write_passphrase_slot_at(&with_suffix(&pass_slot, NEW), new, fresh, work_factor)?;
    let mut rewritten = Vec::new();
    for (key, name) in meta::with_prefix(&o.conn, super::lifecycle::RECOVERY_PREFIX)? {
        let slot = dir.join("keyslots").join(&name);
        let Some(recipient) = key
            .strip_prefix(super::lifecycle::RECOVERY_PREFIX)
            .and_then(|r| r.parse::<age::x25519::Recipient>().ok())
        else {
            continue;
        };
        if slot.is_file() {
            keys::write_recovery_slot(&with_suffix(&slot, NEW), &recipient, fresh)?;
            rewritten.push(slot);
        }
    }
    let mut retired = 0;
    for slot in keys::recovery_slots(dir) {
        if !rewritten.contains(&slot) {
            fs::rename(&slot, with_suffix(&slot, RETIRED))
                .map_err(Error::io("setting aside a recovery keyslot"))?;
            retired += 1;
        }
    }
    fsutil::sync_dir(&dir.join("keyslots"))?;
    Ok(Prepared {
        moved,
        rewritten,
        retired,
    })
}

/// Finishes or undoes an interrupted rotation, before the database is opened with `secrets`
/// (from whichever keyslot was opened). If they open the new database, the rotation had passed
/// its commit point: it is finished. Otherwise it is undone.
pub(super) fn resume(dir: &Path, secrets: &VaultSecrets) -> Result<()> {
    let new_db = dir.join(NEW_DB);
    if new_db.exists() {
        if !rekey::holds_vault(&new_db, secrets) {
            return undo(dir);
        }
        // The old database's log must not be read into the new one.
        for f in ["vault.db-wal", "vault.db-shm"] {
            match fs::remove_file(dir.join(f)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::io("removing the old database's log")(e))
                }
                _ => {}
            }
        }
        fs::rename(&new_db, dir.join("vault.db"))
            .map_err(Error::io("moving the re-keyed database in"))?;
        fsutil::sync_dir(dir)?;
    } else if slots_with(dir, NEW).is_empty() && slots_with(dir, RETIRED).is_empty() {
        return Ok(());
    }
    // Past the commit point: the new recovery slots in, the retired ones out.
    for slot in slots_with(dir, NEW) {
        fs::rename(&slot, without_suffix(&slot))
            .map_err(Error::io("moving a new recovery keyslot in"))?;
    }
    for slot in slots_with(dir, RETIRED) {
        keys::destroy_slot(&slot)?;
    }
    fsutil::sync_dir(&dir.join("keyslots"))
}

/// Undoes a rotation that did not reach its commit point: the old keys stand; the new copies
/// go (new attachment files are removed at unlock, as pending files of the old database).
fn undo(dir: &Path) -> Result<()> {
    for slot in slots_with(dir, RETIRED) {
        fs::rename(&slot, without_suffix(&slot))
            .map_err(Error::io("restoring a recovery keyslot"))?;
    }
    for slot in slots_with(dir, NEW) {
        keys::destroy_slot(&slot)?;
    }
    // The copy and its journal: a hot journal left beside it would be played into the next
    // copy made under that name.
    for f in ["-journal", "-wal", "-shm", ""] {
        match fs::remove_file(dir.join(format!("{NEW_DB}{f}"))) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io("removing an unfinished re-keyed database")(e))
            }
            _ => {}
        }
    }
    fsutil::sync_dir(dir)?;
    fsutil::sync_dir(&dir.join("keyslots"))
}
