//! Kuager's vault: everything that matters, with no user interface.
//!
//! A vault is a folder (docs/architecture.md "A vault on disk") holding age keyslots, a
//! SQLCipher database of records and their revisions, and age-encrypted attachments. [`Vault`]
//! is the one entry point; the desktop app and the `kuager` command are thin adapters over it.
//!
//! # Layers
//! Each module uses only those listed before it (a test, `tests/layers.rs`, fails otherwise):
//!
//! | layer | what it holds |
//! | --- | --- |
//! | [`error`], `fsutil` | the error type; durable file writes and randomness |
//! | `crypto` | keys and keyslots, encrypted attachments, the ciphertext sink, hardening |
//! | [`profile`] | the organisation profile file: written, signed, read, checked |
//! | [`model`] | the records: typed, validated; helpers reading their stored JSON |
//! | [`revision`] | revisions, their ids, purge markers, merge patches |
//! | `store` | the SQLCipher database: schema, revisions, heads, purge, audit, settings |
//! | [`index`] | search keys, the indexer and its queue, search queries |
//! | [`summary`] | the typed facts a list row shows (wording is the caller's) |
//! | [`stats`] | the dashboards' counts, the follow-up list, counts saved for advocacy |
//! | [`bundle`] | export and import, each in phases |
//! | `vault` | [`Vault`]: one type, its methods by area |
//!
//! # Security
//! Plaintext exists only in memory: every byte this crate writes to disk is inside SQLCipher or
//! an age file, under a random or fixed name (docs/threat-model.md R1, R11). Secrets live in
//! zeroize-on-drop, `mlock`ed memory and only while unlocked (R2).
#![deny(missing_docs)]

pub mod error;
mod fsutil;

mod crypto;
pub mod profile;

pub mod model;
pub mod revision;

mod store;

pub mod index;

pub mod summary;

pub mod stats;

pub mod bundle;

mod vault;

pub use bundle::share::{Going, PartnerPreview, PreviewLine, Withheld};
pub use crypto::harden;
pub use crypto::keys;
pub use error::{Error, RejectReason, Rejection, Result};
pub use index::MatchKind;
pub use keys::{passphrase_strength, DevicePublicKey, Passphrase, Strength};
pub use model::{Capture, Custody, Kind, Marker, PartialDate, RecordId};
pub use revision::{Revision, RevisionId};
pub use store::audit::AuditEvent;
pub use store::peers::Device;
pub use store::SCHEMA_VERSION;
pub use summary::{days_since, Facts, Summary};
pub use vault::{
    AttachMeta, AttemptLine, BirthMatch, BulkError, Confirmed, CreateOptions, Duplicate,
    HistoryEntry, Hit, LoadedProfile, MergeGroup, MergeSaved, MergedPerson, Partner, PartnerExport,
    ProfileSpec, RecordView, RecordingInfo, RotateReport, Saved, Settings, Vault, VerifyReport,
    MAX_BEHIND, MAX_REPORTED_ERRORS, MAX_UNLOCK_DELAY, RECORDING_TYPE, THIS_DEVICE, VAULT_JSON,
};
