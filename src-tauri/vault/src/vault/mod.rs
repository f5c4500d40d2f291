//! [`Vault`]: a vault folder, locked or unlocked, and every operation on it.
//!
//! One type, its methods in one private file per area: `lifecycle` (create, open, unlock,
//! lock, erase, passphrase and recovery keyslots), `records` (add, edit, purge, resolve,
//! attach), `bulk` (many records in one transaction), `queries` (records, lists, search,
//! history, audit), `settings` (label, policy, recipients, identities, trusted devices),
//! `people` (merging duplicate people and undoing it), `drafts`, `recordings` (recording straight into the vault), `bundles` (export, import,
//! inspect) and `verify`. The methods are thin: each
//! opens a transaction and calls the layers below (`crate::store`, `crate::index`,
//! `crate::summary`, `crate::bundle`), which never call back up here.

mod bulk;
mod bundles;
mod drafts;
mod lifecycle;
mod partners;
mod people;
mod profile;
mod purges;
mod queries;
mod recordings;
mod records;
mod rotate;
mod settings;
mod stats;
mod types;
mod verify;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::crypto::keys::VaultSecrets;
use crate::error::{Error, Result};
use crate::store::audit;
use crate::{index, revision};

pub use crate::crypto::keys::Confirmed;
pub use partners::{Partner, PartnerExport};
pub use profile::{LoadedProfile, ProfileSpec};
pub use recordings::{RecordingInfo, RECORDING_TYPE};
pub use stats::{MAX_BEHIND, THIS_DEVICE};
pub use types::{
    AttachMeta, AttemptLine, BirthMatch, BulkError, CreateOptions, Duplicate, HistoryEntry, Hit,
    MergeGroup, MergeSaved, MergedPerson, RecordView, RotateReport, Saved, Settings, VerifyReport,
};

/// The only content of `vault.json` (R11: no names, counts or dates outside the encryption).
pub const VAULT_JSON: &str = "{\"format\":\"kuager-vault\",\"version\":1}\n";

/// Longest we make a caller wait after repeated wrong passphrases (R3).
pub const MAX_UNLOCK_DELAY: Duration = Duration::from_secs(30);

/// How many invalid lines a bulk add reports before it stops looking.
pub const MAX_REPORTED_ERRORS: usize = 50;

/// An unlocked vault's state: the database, the keys, and this device's id.
struct Open {
    /// A shared lock on `vault.lock` while unlocked: key rotation takes it exclusively, so it
    /// never runs while another program has the vault open (`lifecycle::in_use`).
    in_use: std::fs::File,
    conn: Connection,
    secrets: VaultSecrets,
    device: String,
    /// Revisions saved since the full-text index was last brought up to date (by this
    /// connection's count; a search always asks the database).
    text_queue: i64,
}

/// A vault folder. Created locked by [`Vault::open`]; [`Vault::create`] returns it unlocked.
pub struct Vault {
    dir: PathBuf,
    open: Option<Open>,
    failed_unlocks: u32,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.dir)
            .field("locked", &self.open.is_none())
            .finish()
    }
}

impl Vault {
    /// The vault folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the vault is locked.
    pub fn is_locked(&self) -> bool {
        self.open.is_none()
    }

    /// The open vault, or `Locked`. Every public operation asks for it before it looks at its
    /// input: a locked vault answers `Locked` whatever it is given, and reads, parses and
    /// computes nothing (tests/keys.rs, `every_operation_fails_with_locked_after_lock`).
    fn o(&self) -> Result<&Open> {
        self.open.as_ref().ok_or(Error::Locked)
    }

    fn o_mut(&mut self) -> Result<&mut Open> {
        self.open.as_mut().ok_or(Error::Locked)
    }

    /// Runs `write` and records `event` in the audit log, in one transaction.
    fn audited(
        &self,
        write: impl FnOnce(&Connection) -> Result<()>,
        event: &str,
        details: serde_json::Value,
    ) -> Result<()> {
        self.audited_each(|c| {
            write(c)?;
            Ok(vec![(event, details)])
        })
    }

    /// Runs `write` and records each event it returns in the audit log, all in one
    /// transaction: several changes that stand or fall together.
    fn audited_each<'e>(
        &self,
        write: impl FnOnce(&Connection) -> Result<Vec<(&'e str, serde_json::Value)>>,
    ) -> Result<()> {
        let o = self.o()?;
        let tx = o.conn.unchecked_transaction()?;
        for (event, details) in write(&tx)? {
            audit::append(&tx, &o.device, &revision::now(), event, details)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// After a save whose full text was left to the queue: indexes it once a batch has gathered.
    fn after_save(&mut self) -> Result<()> {
        let o = self.o_mut()?;
        index::note_save(&o.conn, &mut o.text_queue)
    }
}
