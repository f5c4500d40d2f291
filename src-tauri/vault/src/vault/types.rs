//! What the [`Vault`](super::Vault) methods take and return.

use serde::Serialize;

use crate::error::Error;
use crate::index::MatchKind;
use crate::model::{Kind, RecordId, Warning};
use crate::revision::{Revision, RevisionId};
use crate::summary::Summary;

/// Options for [`Vault::create`](super::Vault::create).
#[derive(Default)]
pub struct CreateOptions {
    /// Organisation recovery recipients: each gets a recovery keyslot.
    pub recovery: Vec<age::x25519::Recipient>,
    /// The coordinators this vault exports to, from the start (the passphrase was just chosen:
    /// no confirmation needed).
    pub recipients: Vec<crate::bundle::Recipient>,
    /// The scrypt work factor for the passphrase keyslot; `None` calibrates (≥ 18).
    /// Tests use small values; never set this below
    /// [`MIN_WORK_FACTOR`](crate::crypto::keys::MIN_WORK_FACTOR) for real vaults.
    pub work_factor: Option<u8>,
}

/// The result of a save.
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    /// The record.
    pub record: RecordId,
    /// The new head revision.
    pub revision: RevisionId,
    /// `false` when the edit changed nothing (no revision was written).
    pub changed: bool,
    /// Non-blocking findings.
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

/// A failed bulk add: which lines were wrong (nothing was written).
#[derive(Debug)]
pub struct BulkError {
    /// `(line number, error)`, in input order, at most
    /// [`MAX_REPORTED_ERRORS`](super::MAX_REPORTED_ERRORS).
    pub errors: Vec<(usize, Error)>,
    /// Records read before stopping.
    pub records_seen: usize,
}

/// A record with its current head revision(s).
#[derive(Debug, Clone, Serialize)]
pub struct RecordView {
    /// The record id.
    pub id: RecordId,
    /// Its kind.
    pub kind: Kind,
    /// Heads, oldest first; more than one means a conflict.
    pub heads: Vec<Revision>,
}

/// One line of history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// The revision (without data).
    pub id: RevisionId,
    /// Its parents.
    pub parents: Vec<RevisionId>,
    /// Device that wrote it.
    pub device: String,
    /// When.
    pub at: String,
    /// Content destroyed by a purge.
    pub purged: bool,
    /// Whether it is a current head.
    pub head: bool,
}

/// One search hit.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Why it matched.
    pub matched: MatchKind,
    /// The record.
    pub summary: Summary,
}

/// One of a person's renunciation attempts, numbered (see [`crate::summary`]).
#[derive(Debug, Clone)]
pub struct AttemptLine {
    /// The attempt.
    pub id: RecordId,
    /// Its current version (the newest head when in conflict).
    pub revision: RevisionId,
    /// 1-based, by the date submitted, then by id: the number lists show too.
    pub number: usize,
    /// Days since submission while no answer has come.
    pub waiting_days: Option<i64>,
    /// Its fields.
    pub data: serde_json::Value,
}

/// What `verify` checked.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Records.
    pub records: usize,
    /// Revisions whose id was recomputed.
    pub revisions: usize,
    /// Audit events whose chain was checked.
    pub audit_events: usize,
    /// Attachment files present.
    pub blobs: usize,
    /// Everything found wrong; empty when the vault is sound.
    pub problems: Vec<String>,
}

/// Metadata for a new attachment.
#[derive(Debug, Clone, Default)]
pub struct AttachMeta {
    /// Original file name (stored encrypted only).
    pub name: Option<String>,
    /// Caption.
    pub caption: Option<String>,
    /// Media type.
    pub media_type: Option<String>,
    /// How the file was made (recorded, derived from another attachment): the vault adds when
    /// and on which device. `None`: a file attached as it is.
    pub custody: Option<crate::model::Custody>,
}

/// A vault's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// The vault's name, shown to coordinators inside bundles.
    pub label: Option<String>,
    /// Whether bundles encrypted to a passphrase (instead of the coordinators' keys) are allowed.
    pub passphrase_bundles: bool,
    /// The longest idle time before the vault locks itself, in minutes, when an organisation
    /// profile set one (the app locks at the smaller of this and its own setting).
    pub max_autolock_minutes: Option<u32>,
}

/// What a key rotation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotateReport {
    /// Attachments re-encrypted to the new attachment identity.
    pub attachments: usize,
    /// Recovery keyslots rewritten for the recovery keys this vault knows.
    pub recovery_slots: usize,
    /// Recovery keyslots removed because the vault could not tell whose key they were for (add
    /// that key again with `kuager recovery add`).
    pub recovery_slots_removed: usize,
}

/// How two people's birth dates compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BirthMatch {
    /// The same date (or the same year, month, as far as written).
    Same,
    /// Agree as far as both go, one of them less precise (a year, or a year and month).
    SameYear,
    /// One of them has none.
    Unknown,
}

/// A person who may be the same as another ([`Vault::duplicate_suggestions`]).
#[derive(Debug, Clone)]
pub struct Duplicate {
    /// Who, as the lists show them.
    pub summary: crate::summary::Summary,
    /// Words of their names both share (in any script).
    pub shared_names: usize,
    /// Document or reference numbers both have.
    pub shared_numbers: usize,
    /// Their birth dates.
    pub birth: BirthMatch,
    /// How likely, higher first (numbers count most, then names, then the birth date).
    pub score: usize,
}

/// What a merge or its undo wrote ([`Vault::merge_people`], [`Vault::unmerge_people`]): one
/// version of each person.
#[derive(Debug, Clone)]
pub struct MergeSaved {
    /// The person kept.
    pub survivor: Saved,
    /// The person merged into it (or, after an undo, out of it).
    pub absorbed: Saved,
}

/// A person and everyone merged into them ([`Vault::merge_group`]).
#[derive(Debug, Clone)]
pub struct MergeGroup {
    /// The person the ids lead to.
    pub person: RecordId,
    /// Everyone merged into them, directly or not.
    pub members: Vec<MergedPerson>,
    /// Whether any current version of anyone in the group says not to contact them.
    pub do_not_contact: bool,
    /// Whether any says to anonymise them in exports to partners.
    pub anonymise: bool,
}

/// One person merged into another.
#[derive(Debug, Clone)]
pub struct MergedPerson {
    /// Who, as the lists show them.
    pub summary: crate::summary::Summary,
    /// The person they were merged into (a merge is undone there).
    pub into: RecordId,
}
