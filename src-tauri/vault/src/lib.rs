//! Kuager's vault: everything that matters, with no user interface.
//!
//! A vault is a folder (ARCHITECTURE.md "Vault on disk") holding age keyslots, a SQLCipher
//! database of records and their revisions, and age-encrypted attachments. [`Vault`] is the one
//! entry point; the desktop app and the `kuager` CLI are thin adapters over it.
//!
//! # Security
//! Plaintext exists only in memory: every byte this crate writes to disk is inside SQLCipher or
//! an age file, under a random or fixed name (SECURITY.md R1, R11). Secrets live in
//! zeroize-on-drop, `mlock`ed memory and only while unlocked (R2).
#![deny(missing_docs)]

mod blobs;
pub mod bundle;
pub mod error;
mod fsutil;
pub mod harden;
pub mod keys;
pub mod model;
pub mod revision;
pub mod search;
mod sink;
mod store;
mod vault;

pub use error::{Error, Result};
pub use keys::{passphrase_strength, DevicePublicKey, Passphrase, Strength};
pub use model::{Kind, PartialDate, RecordId};
pub use revision::{Revision, RevisionId};
pub use store::audit::AuditEvent;
pub use store::SCHEMA_VERSION;
pub use vault::{
    days_since, AttachMeta, BulkError, CreateOptions, HistoryEntry, Hit, MatchKind, RecordView,
    Saved, Settings, Summary, Vault, VerifyReport, MAX_REPORTED_ERRORS, VAULT_JSON,
};
