//! Receiving bundles (a coordinator's vault): the files waiting, a review of each before
//! anything is written, the import's progress, and the devices bundles come from.

use serde::Serialize;
use ts_rs::TS;

/// A bundle file waiting for review.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IncomingDto {
    /// Its id while it waits.
    pub id: u32,
    /// The name it had where it came from.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Who signed a bundle.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SignerDto {
    /// The device's minisign public key.
    pub public_key: String,
    /// The device's fingerprint, to compare aloud with the one its caseworker's Kuager shows.
    pub fingerprint: String,
    /// The label it is trusted under (none: an unknown device).
    pub label: Option<String>,
}

/// What a bundle holds against this vault (a review), or what its import did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReviewDto {
    /// The waiting file this is about.
    pub id: u32,
    /// The signer.
    pub signer: SignerDto,
    /// Whether what it holds was read: not before its signer is trusted.
    pub read: bool,
    /// Whether it was written (an import, not a review).
    pub committed: bool,
    /// It was imported before: nothing in it is new.
    pub already_imported: bool,
    /// Records this vault does not have.
    pub new_records: u32,
    /// Records this vault has that it changes.
    pub changed_records: u32,
    /// Records that will have two versions to reconcile.
    pub conflicts: u32,
    /// Records whose witness withdrew consent (their content is destroyed here too).
    pub purged_records: u32,
    /// Attachments this vault does not have.
    pub new_attachments: u32,
    /// The bundle format (2, or 1 from an earlier Kuager).
    pub format: u32,
}

impl ReviewDto {
    /// The dto of a report about waiting file `id`.
    pub fn new(id: u32, r: &vault::bundle::ImportReport) -> Self {
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        let label = r.signer.label.clone().filter(|l| !l.is_empty());
        ReviewDto {
            id,
            signer: SignerDto {
                fingerprint: vault::profile::fingerprint(&r.signer.public_key),
                public_key: r.signer.public_key.clone(),
                label,
            },
            read: r.read,
            committed: r.committed,
            // Format 0: the very same file came before and was not read again.
            already_imported: r.format == 0
                || (r.read && r.new_revisions == 0 && r.new_blobs == 0 && r.known_revisions > 0),
            new_records: n(r.new_records),
            changed_records: n(r.changed_records),
            conflicts: n(r.conflicts.len()),
            purged_records: n(r.purged_records),
            new_attachments: n(r.new_blobs),
            format: r.format,
        }
    }
}

/// Progress of an import (event `import-progress`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportProgress {
    /// The waiting file being imported.
    pub id: u32,
    /// Bytes of it read so far.
    pub read: u64,
    /// Its size.
    pub total: u64,
}

/// A record whose versions conflict, as the conflicts list shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConflictDto {
    /// The record, as the lists show it.
    pub summary: super::SummaryDto,
    /// How many versions it has.
    pub versions: u32,
}

/// How two people's birth dates compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum BirthMatchDto {
    Same,
    SameYear,
    Unknown,
}

/// A person who may be the same as the one on screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DuplicateDto {
    /// Who, as the lists show them.
    pub summary: super::SummaryDto,
    /// Words of their names both share (in any script).
    pub shared_names: u32,
    /// Document or reference numbers both have.
    pub shared_numbers: u32,
    /// Their birth dates.
    pub birth: BirthMatchDto,
}

impl From<vault::Duplicate> for DuplicateDto {
    fn from(d: vault::Duplicate) -> Self {
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        DuplicateDto {
            summary: d.summary.into(),
            shared_names: n(d.shared_names),
            shared_numbers: n(d.shared_numbers),
            birth: match d.birth {
                vault::BirthMatch::Same => BirthMatchDto::Same,
                vault::BirthMatch::SameYear => BirthMatchDto::SameYear,
                vault::BirthMatch::Unknown => BirthMatchDto::Unknown,
            },
        }
    }
}

/// A person and everyone merged into them.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MergeGroupDto {
    /// The person every id of the group leads to.
    pub person: String,
    /// Everyone merged into them, directly or not.
    pub members: Vec<MergedPersonDto>,
    /// Whether anyone in the group (any current version) is not to be contacted.
    pub do_not_contact: bool,
    /// Whether anyone in the group is to be anonymised in exports to partners.
    pub anonymise: bool,
}

/// One person merged into another.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MergedPersonDto {
    /// Who, as the lists show them.
    pub summary: super::SummaryDto,
    /// The person they were merged into (where the merge is undone).
    pub into: String,
}

impl From<vault::MergeGroup> for MergeGroupDto {
    fn from(g: vault::MergeGroup) -> Self {
        MergeGroupDto {
            person: g.person.to_string(),
            members: g
                .members
                .into_iter()
                .map(|m| MergedPersonDto {
                    summary: m.summary.into(),
                    into: m.into.to_string(),
                })
                .collect(),
            do_not_contact: g.do_not_contact,
            anonymise: g.anonymise,
        }
    }
}

/// A page of the conflicts list.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConflictPage {
    /// How many records have conflicting versions.
    pub total: u32,
    /// This page of them.
    pub rows: Vec<ConflictDto>,
}

/// A caseworker's device, as a coordinator's vault knows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeviceDto {
    /// Its minisign public key.
    pub public_key: String,
    /// Its fingerprint, to compare aloud.
    pub fingerprint: String,
    /// Its label.
    pub label: String,
    /// When it was trusted.
    pub added_at: String,
    /// When it was revoked (its later bundles are refused).
    pub revoked_at: Option<String>,
    /// When its first bundle was imported.
    pub first_import: Option<String>,
    /// When its last bundle was imported.
    pub last_import: Option<String>,
    /// Its bundles imported.
    pub bundles: u32,
    /// Records its bundles brought.
    pub records: u32,
}

impl From<vault::Device> for DeviceDto {
    fn from(d: vault::Device) -> Self {
        let n = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
        DeviceDto {
            fingerprint: vault::profile::fingerprint(&d.public_key),
            public_key: d.public_key,
            label: d.label,
            added_at: d.added_at,
            revoked_at: d.revoked_at,
            first_import: d.first_import,
            last_import: d.last_import,
            bundles: n(d.bundles),
            records: n(d.records),
        }
    }
}
