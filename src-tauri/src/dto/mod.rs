//! What crosses the IPC boundary, with TypeScript types generated from these definitions
//! (`ui/src/lib/types.ts`, committed; a test fails when it drifts from this file).

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use vault::model::stored_name as word;

mod evidence;
mod organisation;
mod receive;
mod recording;
pub use evidence::*;
pub use organisation::*;
pub use receive::*;
pub use recording::*;

/// Everything the first screen needs to know.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppInfo {
    /// A vault exists at the configured place.
    pub vault_exists: bool,
    /// It is unlocked.
    pub unlocked: bool,
    /// It is unlocked and holds an organisation identity: a coordinator's vault, which
    /// receives bundles.
    pub coordinator: bool,
    /// UI language: `kk`, `ru` or `en`.
    pub language: String,
    /// Idle minutes before the vault locks itself.
    pub autolock_minutes: u32,
    /// The app's version.
    pub version: String,
}

/// A first-run request.
#[derive(Debug, Deserialize, TS)]
pub struct CreateRequest {
    /// The passphrase (typed twice in the UI), wiped from memory when dropped.
    #[ts(type = "string")]
    pub passphrase: vault::Passphrase,
    /// Coordinators' keys (`age1…` or `ssh-ed25519 …`), one per entry.
    pub recipients: Vec<String>,
    /// Optional organisation recovery key (`age1…`).
    pub recovery: Option<String>,
    /// An organisation profile to load instead of (or besides) the keys above.
    pub profile: Option<ProfileLoad>,
}

/// The kinds of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum RecordKind {
    Person,
    Testimony,
    Attempt,
    Case,
}

impl From<vault::Kind> for RecordKind {
    fn from(k: vault::Kind) -> Self {
        match k {
            vault::Kind::Person => RecordKind::Person,
            vault::Kind::Testimony => RecordKind::Testimony,
            vault::Kind::Attempt => RecordKind::Attempt,
            vault::Kind::Case => RecordKind::Case,
        }
    }
}

impl From<RecordKind> for vault::Kind {
    fn from(k: RecordKind) -> Self {
        match k {
            RecordKind::Person => vault::Kind::Person,
            RecordKind::Testimony => vault::Kind::Testimony,
            RecordKind::Attempt => vault::Kind::Attempt,
            RecordKind::Case => vault::Kind::Case,
        }
    }
}

/// Why a search result matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Matched {
    Id,
    Number,
    Name,
    Text,
}

impl From<vault::MatchKind> for Matched {
    fn from(m: vault::MatchKind) -> Self {
        match m {
            vault::MatchKind::Id => Matched::Id,
            vault::MatchKind::Number => Matched::Number,
            vault::MatchKind::Name => Matched::Name,
            vault::MatchKind::Text => Matched::Text,
        }
    }
}

/// A kind of fact on a list row (see [`SummaryDto::facts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FactKey {
    /// A person's other names, joined by " · ".
    Names,
    /// A person's date of birth (partial date).
    Born,
    /// When a testimony was recorded (partial date).
    Recorded,
    /// A testimony's review status or a case's status (the enumeration's value).
    Status,
    /// How many attachments a testimony has.
    Attachments,
    /// An attempt's number among the person's attempts.
    Number,
    /// When an attempt was submitted (partial date).
    Submitted,
    /// Days an attempt has waited without an answer.
    Waiting,
    /// An attempt's outcome (the enumeration's value).
    Outcome,
    /// When the outcome came (partial date).
    OutcomeOn,
    /// A case's title.
    Title,
    /// The record was purged.
    Purged,
}

/// A line in a list or a search result.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SummaryDto {
    /// Record id.
    pub id: String,
    /// Its kind.
    pub kind: RecordKind,
    /// Main label: a person's name (also on their testimonies and attempts), a case's
    /// reference; `null` when there is none (purged, or a person without a name here): the UI
    /// says so in its language.
    pub title: Option<String>,
    /// The second column as (key, value) pairs, worded by the UI in its language.
    pub facts: Vec<(FactKey, String)>,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// Has conflicting versions.
    pub conflict: bool,
}

/// The title and facts of a summary.
fn title_and_facts(f: vault::Facts) -> (Option<String>, Vec<(FactKey, String)>) {
    use vault::Facts;
    let mut facts = Vec::new();
    let mut fact = |k: FactKey, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            facts.push((k, v));
        }
    };
    let title = match f {
        Facts::Purged => {
            facts.push((FactKey::Purged, String::new()));
            None
        }
        Facts::Person { names, born } => {
            fact(
                FactKey::Names,
                Some(names.get(1..).unwrap_or_default().join(" · ")),
            );
            fact(FactKey::Born, born.map(|d| d.to_string()));
            names.into_iter().next()
        }
        Facts::Testimony {
            witness,
            recorded,
            status,
            attachments,
        } => {
            fact(FactKey::Recorded, recorded.map(|d| d.to_string()));
            fact(FactKey::Status, status.as_ref().map(word));
            fact(
                FactKey::Attachments,
                (attachments > 0).then(|| attachments.to_string()),
            );
            witness
        }
        Facts::Attempt {
            person,
            number,
            submitted,
            outcome,
            outcome_on,
            waiting_days,
        } => {
            fact(FactKey::Number, Some(number.to_string()));
            fact(FactKey::Submitted, submitted.map(|d| d.to_string()));
            fact(FactKey::Outcome, outcome.as_ref().map(word));
            fact(FactKey::Waiting, waiting_days.map(|d| d.to_string()));
            fact(FactKey::OutcomeOn, outcome_on.map(|d| d.to_string()));
            person
        }
        Facts::Case {
            reference,
            title,
            status,
        } => {
            fact(FactKey::Title, title);
            fact(FactKey::Status, status.as_ref().map(word));
            Some(reference).filter(|r| !r.is_empty())
        }
    };
    (title, facts)
}

impl From<vault::Summary> for SummaryDto {
    fn from(s: vault::Summary) -> Self {
        let (title, facts) = title_and_facts(s.facts);
        SummaryDto {
            id: s.id.to_string(),
            kind: s.kind.into(),
            title,
            facts,
            updated_at: s.updated_at,
            conflict: s.conflict,
        }
    }
}

/// A search hit.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HitDto {
    /// Why it matched.
    pub matched: Matched,
    /// The record.
    pub summary: SummaryDto,
}

/// A page of a list.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ListPage {
    /// All matching records.
    pub total: u32,
    /// The rows from `offset`.
    pub rows: Vec<SummaryDto>,
}

/// One version of a record.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RevisionDto {
    /// Revision id.
    pub id: String,
    /// Parents.
    pub parents: Vec<String>,
    /// Writing device.
    pub device: String,
    /// When.
    pub at: String,
    /// The record's fields; `null` once purged.
    #[ts(type = "Record<string, unknown> | null")]
    pub data: Option<serde_json::Value>,
}

/// A record with its current version(s).
#[derive(Debug, Clone, Serialize, TS)]
pub struct RecordDto {
    /// Record id.
    pub id: String,
    /// Kind.
    pub kind: RecordKind,
    /// Current versions, oldest first; two or more is a conflict.
    pub heads: Vec<RevisionDto>,
}

impl From<vault::RecordView> for RecordDto {
    fn from(v: vault::RecordView) -> Self {
        RecordDto {
            id: v.id.to_string(),
            kind: v.kind.into(),
            heads: v
                .heads
                .into_iter()
                .map(|r| RevisionDto {
                    id: r.id.to_string(),
                    parents: r.parents.iter().map(ToString::to_string).collect(),
                    device: r.device,
                    at: r.at,
                    data: r.data,
                })
                .collect(),
        }
    }
}

/// A save request: a new record (`id` absent) or a new version of one (whole record).
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SaveRequest {
    /// Kind, for a new record.
    pub kind: RecordKind,
    /// The record, for an edit.
    pub id: Option<String>,
    /// The version the edit starts from (a stale base makes a second version, never a loss).
    pub base: Option<String>,
    /// All the record's fields.
    #[ts(type = "Record<string, unknown>")]
    pub data: serde_json::Value,
    /// A draft to remove once saved.
    pub draft_key: Option<String>,
}

/// What a save did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SavedDto {
    /// Record id.
    pub record: String,
    /// New head.
    pub revision: String,
    /// `false`: nothing changed.
    pub changed: bool,
    /// Findings that do not block the save.
    pub warnings: Vec<String>,
}

impl From<vault::Saved> for SavedDto {
    fn from(saved: vault::Saved) -> Self {
        SavedDto {
            record: saved.record.to_string(),
            revision: saved.revision.to_string(),
            changed: saved.changed,
            warnings: saved
                .warnings
                .iter()
                .map(|w| format!("{}: {}", w.field, w.message))
                .collect(),
        }
    }
}

/// A line of a record's history.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HistoryDto {
    /// Revision id.
    pub id: String,
    /// Parents.
    pub parents: Vec<String>,
    /// Writing device.
    pub device: String,
    /// When.
    pub at: String,
    /// Content destroyed by a purge.
    pub purged: bool,
    /// A current version.
    pub head: bool,
}

/// An audit event.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditDto {
    /// Position in the chain.
    pub seq: u32,
    /// The event (type, time, device, details).
    #[ts(type = "Record<string, unknown>")]
    pub event: serde_json::Value,
}

/// A kept draft.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DraftDto {
    /// The text.
    pub body: String,
    /// When it was kept.
    pub at: String,
}

/// A renunciation attempt on a person's timeline.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AttemptRow {
    /// Record id.
    pub id: String,
    /// The current version (the newest head when in conflict).
    pub revision: String,
    /// 1-based, by the date submitted, then by id: the number the lists show.
    pub number: u32,
    /// Days since submission while no answer has come; `null` once answered.
    #[ts(type = "number | null")]
    pub waiting_days: Option<i64>,
    /// Its fields.
    #[ts(type = "Record<string, unknown>")]
    pub data: serde_json::Value,
}

/// A coordinator key this vault exports to (or an organisation identity's public key, or a
/// coordinator in an organisation profile).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct RecipientDto {
    /// `age1…` or `ssh-…`.
    pub recipient: String,
    /// A name for it.
    pub label: Option<String>,
}

/// What an export from the app holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum ExportScope {
    /// What is new since the last export to the same recipients.
    SinceLast,
    /// Everything, even what was sent before.
    All,
}

/// An export request.
#[derive(Debug, Deserialize, TS)]
pub struct ExportRequest {
    /// What it holds.
    pub scope: ExportScope,
    /// Keys in addition to the configured recipients.
    pub extra_recipients: Vec<String>,
    /// Encrypt to this passphrase alone instead of the keys (only where the policy allows it).
    #[ts(type = "string | null")]
    pub passphrase: Option<vault::Passphrase>,
    /// The vault's passphrase, typed again: needed when an extra key is not among the
    /// configured recipients.
    #[ts(type = "string | null")]
    pub vault_passphrase: Option<vault::Passphrase>,
}

/// What a key rotation did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RotatedDto {
    /// Attachments re-encrypted to the new keys.
    pub attachments: u32,
    /// Recovery keyslots rewritten.
    pub recovery_slots: u32,
    /// Recovery keyslots removed (their key unknown to the vault: add it again).
    pub recovery_slots_removed: u32,
}

/// The vault's own settings (kept inside the encrypted vault).
#[derive(Debug, Clone, Serialize, TS)]
pub struct VaultSettingsDto {
    /// The vault's name, shown to coordinators inside bundles.
    pub label: Option<String>,
    /// Whether bundles encrypted to a passphrase are allowed.
    pub passphrase_bundles: bool,
    /// The longest idle time the organisation profile allows, in minutes (none: no limit).
    pub max_autolock_minutes: Option<u32>,
}

/// One bundle file an export wrote.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportedFile {
    /// The bundle file.
    pub path: String,
    /// Its SHA-256.
    pub sha256: String,
    /// Its size.
    pub size: u64,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportDone {
    /// The bundle files, in the order they are to be imported: more than one only when one
    /// bundle would hold more than an importer accepts.
    pub files: Vec<ExportedFile>,
    /// Records in them.
    pub records: u32,
    /// Revisions.
    pub revisions: u32,
    /// Attachments.
    pub blobs: u32,
    /// Encrypted to.
    pub recipients: Vec<String>,
}

/// Progress of an export (event `export-progress`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportProgress {
    /// Bytes of the bundle written so far.
    pub written: u64,
}

/// The TypeScript declarations of every type above, as committed in `ui/src/lib/types.ts`.
pub fn typescript() -> String {
    let cfg = ts_rs::Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from src-tauri/src/dto/ and error.rs by `make types`; do not edit.\n\n",
    );
    for decl in [
        crate::error::ErrorCode::decl(&cfg),
        crate::error::IpcError::decl(&cfg),
        RecordKind::decl(&cfg),
        Matched::decl(&cfg),
        FactKey::decl(&cfg),
        ExportScope::decl(&cfg),
        AppInfo::decl(&cfg),
        CreateRequest::decl(&cfg),
        SummaryDto::decl(&cfg),
        HitDto::decl(&cfg),
        ListPage::decl(&cfg),
        RevisionDto::decl(&cfg),
        RecordDto::decl(&cfg),
        SaveRequest::decl(&cfg),
        SavedDto::decl(&cfg),
        HistoryDto::decl(&cfg),
        AuditDto::decl(&cfg),
        DraftDto::decl(&cfg),
        AttemptRow::decl(&cfg),
        RecipientDto::decl(&cfg),
        ExportRequest::decl(&cfg),
        ExportedFile::decl(&cfg),
        ExportDone::decl(&cfg),
        ExportProgress::decl(&cfg),
        VaultSettingsDto::decl(&cfg),
        RotatedDto::decl(&cfg),
        ProfileDto::decl(&cfg),
        ProfileLoad::decl(&cfg),
        ProfileWriteRequest::decl(&cfg),
        ProfileWritten::decl(&cfg),
        OrganisationDto::decl(&cfg),
        crate::error::RejectReasonDto::decl(&cfg),
        IncomingDto::decl(&cfg),
        SignerDto::decl(&cfg),
        ReviewDto::decl(&cfg),
        ImportProgress::decl(&cfg),
        DeviceDto::decl(&cfg),
        ConflictDto::decl(&cfg),
        ConflictPage::decl(&cfg),
        BirthMatchDto::decl(&cfg),
        DuplicateDto::decl(&cfg),
        MergeGroupDto::decl(&cfg),
        MergedPersonDto::decl(&cfg),
        ChartRowDto::decl(&cfg),
        ChartDto::decl(&cfg),
        FollowUpDto::decl(&cfg),
        CountLabelsDto::decl(&cfg),
        CountsFileDto::decl(&cfg),
        PartnerDto::decl(&cfg),
        PreviewLineDto::decl(&cfg),
        PartnerPreviewDto::decl(&cfg),
        PartnerSentDto::decl(&cfg),
        InputDto::decl(&cfg),
        RecordingStatusDto::decl(&cfg),
        InterruptedDto::decl(&cfg),
        PlayerDto::decl(&cfg),
    ] {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}
