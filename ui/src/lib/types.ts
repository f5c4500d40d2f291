// Generated from src-tauri/src/dto/ and error.rs by `make types`; do not edit.

export type ErrorCode = "locked" | "wrong_passphrase" | "weak_passphrase" | "no_vault" | "vault_exists" | "format" | "keyslot" | "upgrade_failed" | "invalid" | "not_found" | "bad_id" | "conflict" | "bundle_rejected" | "unknown_signer" | "nothing_to_export" | "no_recipients" | "passphrase_bundles_not_allowed" | "no_identity" | "needs_passphrase" | "cancelled" | "verify_failed" | "crypto" | "database" | "io" | "busy";

export type IpcError = { 
/**
 * What went wrong; the UI shows its own text for the codes it knows.
 */
code: ErrorCode, 
/**
 * A caseworker-readable explanation (English; the UI shows its own text for known codes).
 */
message: string, 
/**
 * For `invalid`: the field, as a JSON path (`names[0].value`).
 */
field: string | null, 
/**
 * For `bundle_rejected`: why, as a closed set.
 */
reason: RejectReason | null, };

export type RecordKind = "person" | "testimony" | "attempt" | "case";

export type Matched = "id" | "number" | "name" | "text";

export type FactKey = "names" | "born" | "recorded" | "status" | "attachments" | "number" | "submitted" | "waiting" | "outcome" | "outcome_on" | "title" | "purged";

export type ExportScope = "since-last" | "all";

export type AppInfo = { 
/**
 * A vault exists at the configured place.
 */
vault_exists: boolean, 
/**
 * It is unlocked.
 */
unlocked: boolean, 
/**
 * It is unlocked and holds an organisation identity: a coordinator's vault, which
 * receives bundles.
 */
coordinator: boolean, 
/**
 * UI language: `kk`, `ru` or `en`.
 */
language: string, 
/**
 * Idle minutes before the vault locks itself.
 */
autolock_minutes: number, 
/**
 * The app's version.
 */
version: string, };

export type CreateRequest = { 
/**
 * The passphrase (typed twice in the UI), wiped from memory when dropped.
 */
passphrase: string, 
/**
 * Coordinators' keys (`age1…` or `ssh-ed25519 …`), one per entry.
 */
recipients: Array<string>, 
/**
 * Optional organisation recovery key (`age1…`).
 */
recovery: string | null, 
/**
 * An organisation profile to load instead of (or besides) the keys above.
 */
profile: ProfileLoad | null, };

export type SummaryDto = { 
/**
 * Record id.
 */
id: string, 
/**
 * Its kind.
 */
kind: RecordKind, 
/**
 * Main label: a person's name (also on their testimonies and attempts), a case's
 * reference; `null` when there is none (purged, or a person without a name here): the UI
 * says so in its language.
 */
title: string | null, 
/**
 * The second column as (key, value) pairs, worded by the UI in its language.
 */
facts: Array<[FactKey, string]>, 
/**
 * Last change (RFC 3339).
 */
updated_at: string, 
/**
 * Has conflicting versions.
 */
conflict: boolean, };

export type HitDto = { 
/**
 * Why it matched.
 */
matched: Matched, 
/**
 * The record.
 */
summary: SummaryDto, };

export type ListPage = { 
/**
 * All matching records.
 */
total: number, 
/**
 * The rows from `offset`.
 */
rows: Array<SummaryDto>, };

export type RevisionDto = { 
/**
 * Revision id.
 */
id: string, 
/**
 * Parents.
 */
parents: Array<string>, 
/**
 * Writing device.
 */
device: string, 
/**
 * When.
 */
at: string, 
/**
 * The record's fields; `null` once purged.
 */
data: Record<string, unknown> | null, };

export type RecordDto = { 
/**
 * Record id.
 */
id: string, 
/**
 * Kind.
 */
kind: RecordKind, 
/**
 * Current versions, oldest first; two or more is a conflict.
 */
heads: Array<RevisionDto>, };

export type SaveRequest = { 
/**
 * Kind, for a new record.
 */
kind: RecordKind, 
/**
 * The record, for an edit.
 */
id: string | null, 
/**
 * The version the edit starts from (a stale base makes a second version, never a loss).
 */
base: string | null, 
/**
 * All the record's fields.
 */
data: Record<string, unknown>, 
/**
 * A draft to remove once saved.
 */
draft_key: string | null, };

export type SavedDto = { 
/**
 * Record id.
 */
record: string, 
/**
 * New head.
 */
revision: string, 
/**
 * `false`: nothing changed.
 */
changed: boolean, 
/**
 * Findings that do not block the save.
 */
warnings: Array<string>, };

export type HistoryDto = { 
/**
 * Revision id.
 */
id: string, 
/**
 * Parents.
 */
parents: Array<string>, 
/**
 * Writing device.
 */
device: string, 
/**
 * When.
 */
at: string, 
/**
 * Content destroyed by a purge.
 */
purged: boolean, 
/**
 * A current version.
 */
head: boolean, };

export type AuditDto = { 
/**
 * Position in the chain.
 */
seq: number, 
/**
 * The event (type, time, device, details).
 */
event: Record<string, unknown>, };

export type DraftDto = { 
/**
 * The text.
 */
body: string, 
/**
 * When it was kept.
 */
at: string, };

export type AttemptRow = { 
/**
 * Record id.
 */
id: string, 
/**
 * The current version (the newest head when in conflict).
 */
revision: string, 
/**
 * 1-based, by the date submitted, then by id: the number the lists show.
 */
number: number, 
/**
 * Days since submission while no answer has come; `null` once answered.
 */
waiting_days: number | null, 
/**
 * Its fields.
 */
data: Record<string, unknown>, };

export type RecipientDto = { 
/**
 * `age1…` or `ssh-…`.
 */
recipient: string, 
/**
 * A name for it.
 */
label: string | null, };

export type ExportRequest = { 
/**
 * What it holds.
 */
scope: ExportScope, 
/**
 * Keys in addition to the configured recipients.
 */
extra_recipients: Array<string>, 
/**
 * Encrypt to this passphrase alone instead of the keys (only where the policy allows it).
 */
passphrase: string | null, 
/**
 * The vault's passphrase, typed again: needed when an extra key is not among the
 * configured recipients.
 */
vault_passphrase: string | null, };

export type ExportedFile = { 
/**
 * The bundle file.
 */
path: string, 
/**
 * Its SHA-256.
 */
sha256: string, 
/**
 * Its size.
 */
size: number, };

export type ExportDone = { 
/**
 * The bundle files, in the order they are to be imported: more than one only when one
 * bundle would hold more than an importer accepts.
 */
files: Array<ExportedFile>, 
/**
 * Records in them.
 */
records: number, 
/**
 * Revisions.
 */
revisions: number, 
/**
 * Attachments.
 */
blobs: number, 
/**
 * Encrypted to.
 */
recipients: Array<string>, };

export type ExportProgress = { 
/**
 * Bytes of the bundle written so far.
 */
written: number, };

export type VaultSettingsDto = { 
/**
 * The vault's name, shown to coordinators inside bundles.
 */
label: string | null, 
/**
 * Whether bundles encrypted to a passphrase are allowed.
 */
passphrase_bundles: boolean, 
/**
 * The longest idle time the organisation profile allows, in minutes (none: no limit).
 */
max_autolock_minutes: number | null, };

export type RotatedDto = { 
/**
 * Attachments re-encrypted to the new keys.
 */
attachments: number, 
/**
 * Recovery keyslots rewritten.
 */
recovery_slots: number, 
/**
 * Recovery keyslots removed (their key unknown to the vault: add it again).
 */
recovery_slots_removed: number, };

export type ProfileDto = { 
/**
 * The organisation's name.
 */
organisation: string, 
/**
 * When it was written (`YYYY-MM-DDTHH:MM:SSZ`).
 */
issued_at: string, 
/**
 * When it stops being accepted.
 */
expires_at: string, 
/**
 * The keys every bundle will be encrypted to.
 */
coordinators: Array<RecipientDto>, 
/**
 * The organisation's recovery key, if it has one.
 */
recovery: string | null, 
/**
 * Whether it allows bundles encrypted to a passphrase.
 */
passphrase_bundles: boolean, 
/**
 * The longest idle time it allows before the vault locks, in minutes.
 */
max_autolock_minutes: number, 
/**
 * Its signer's fingerprint, to compare aloud: six groups of five digits.
 */
fingerprint: string, 
/**
 * When this vault loaded it (none: not loaded, only read).
 */
loaded_at: string | null, };

export type ProfileLoad = { 
/**
 * The file as read by the page (at most 64 KiB; names and public keys, nothing secret).
 */
text: string, 
/**
 * The fingerprint as the person typed it (digits only count).
 */
fingerprint: string, };

export type ProfileWriteRequest = { 
/**
 * The organisation's name.
 */
organisation: string, 
/**
 * The keys every bundle is to be encrypted to (none: this vault's organisation
 * identities).
 */
coordinators: Array<RecipientDto>, 
/**
 * The organisation's recovery key (`age1…`), if any.
 */
recovery: string | null, 
/**
 * Whether bundles encrypted to a passphrase are allowed.
 */
passphrase_bundles: boolean, 
/**
 * The longest idle time before a vault locks, in minutes (1–120).
 */
max_autolock_minutes: number, 
/**
 * How many days the profile is accepted.
 */
valid_days: number, };

export type ProfileWritten = { 
/**
 * Where (the folder bundles go to).
 */
path: string, 
/**
 * The signer's fingerprint, to read aloud to caseworkers.
 */
fingerprint: string, };

export type OrganisationDto = { 
/**
 * The organisation identities this vault holds (a coordinator's vault): the keys
 * caseworkers encrypt to.
 */
identities: Array<RecipientDto>, 
/**
 * This vault's signing fingerprint (what its profiles and bundles are signed with).
 */
fingerprint: string, 
/**
 * The profile this vault loaded (a caseworker's vault).
 */
profile: ProfileDto | null, };

export type RejectReason = "not_a_bundle" | "not_for_this_vault" | "wrong_passphrase" | "damaged" | "tampered" | "revoked" | "too_large" | "missing_earlier" | "invalid";

export type IncomingDto = { 
/**
 * Its id while it waits.
 */
id: number, 
/**
 * The name it had where it came from.
 */
name: string, 
/**
 * Its size in bytes.
 */
size: number, };

export type SignerDto = { 
/**
 * The device's minisign public key.
 */
public_key: string, 
/**
 * The device's fingerprint, to compare aloud with the one its caseworker's Kuager shows.
 */
fingerprint: string, 
/**
 * The label it is trusted under (none: an unknown device).
 */
label: string | null, };

export type ReviewDto = { 
/**
 * The waiting file this is about.
 */
id: number, 
/**
 * The signer.
 */
signer: SignerDto, 
/**
 * Whether what it holds was read: not before its signer is trusted.
 */
read: boolean, 
/**
 * Whether it was written (an import, not a review).
 */
committed: boolean, 
/**
 * It was imported before: nothing in it is new.
 */
already_imported: boolean, 
/**
 * Records this vault does not have.
 */
new_records: number, 
/**
 * Records this vault has that it changes.
 */
changed_records: number, 
/**
 * Records that will have two versions to reconcile.
 */
conflicts: number, 
/**
 * Records whose witness withdrew consent (their content is destroyed here too).
 */
purged_records: number, 
/**
 * Attachments this vault does not have.
 */
new_attachments: number, 
/**
 * The bundle format (2, or 1 from an earlier Kuager).
 */
format: number, };

export type ImportProgress = { 
/**
 * The waiting file being imported.
 */
id: number, 
/**
 * Bytes of it read so far.
 */
read: number, 
/**
 * Its size.
 */
total: number, };

export type DeviceDto = { 
/**
 * Its minisign public key.
 */
public_key: string, 
/**
 * Its fingerprint, to compare aloud.
 */
fingerprint: string, 
/**
 * Its label.
 */
label: string, 
/**
 * When it was trusted.
 */
added_at: string, 
/**
 * When it was revoked (its later bundles are refused).
 */
revoked_at: string | null, 
/**
 * When its first bundle was imported.
 */
first_import: string | null, 
/**
 * When its last bundle was imported.
 */
last_import: string | null, 
/**
 * Its bundles imported.
 */
bundles: number, 
/**
 * Records its bundles brought.
 */
records: number, };

export type ConflictDto = { 
/**
 * The record, as the lists show it.
 */
summary: SummaryDto, 
/**
 * How many versions it has.
 */
versions: number, };

export type ConflictPage = { 
/**
 * How many records have conflicting versions.
 */
total: number, 
/**
 * This page of them.
 */
rows: Array<ConflictDto>, };

export type BirthMatchDto = "same" | "same_year" | "unknown";

export type DuplicateDto = { 
/**
 * Who, as the lists show them.
 */
summary: SummaryDto, 
/**
 * Words of their names both share (in any script).
 */
shared_names: number, 
/**
 * Document or reference numbers both have.
 */
shared_numbers: number, 
/**
 * Their birth dates.
 */
birth: BirthMatchDto, };

export type MergeGroupDto = { 
/**
 * The person every id of the group leads to.
 */
person: string, 
/**
 * Everyone merged into them, directly or not.
 */
members: Array<MergedPersonDto>, 
/**
 * Whether anyone in the group (any current version) is not to be contacted.
 */
do_not_contact: boolean, 
/**
 * Whether anyone in the group is to be anonymised in exports to partners.
 */
anonymise: boolean, };

export type MergedPersonDto = { 
/**
 * Who, as the lists show them.
 */
summary: SummaryDto, 
/**
 * The person they were merged into (where the merge is undone).
 */
into: string, };

export type ChartRowDto = { key: string, counts: number[], };

export type ChartDto = { 
/**
 * The chart's key (`attempts-by-year`, …).
 */
chart: string, 
/**
 * Column keys (`["count"]` for one series).
 */
columns: Array<string>, rows: Array<ChartRowDto>, 
/**
 * Whether it may be saved to a file (closed sets only).
 */
exportable: boolean, };

export type FollowUpDto = { person: string, name: string | null, attempt: string, 
/**
 * `YYYY-MM-DD`.
 */
submitted: string, channel: string | null, request: string | null, days: number, attempts: number, };

export type CountLabelsDto = { title: string, row_heading: string, rows: { [key in string]: string }, columns: { [key in string]: string }, note: string, };

export type CountsFileDto = { 
/**
 * The counts as CSV text: exactly what the file says.
 */
text: string, rows: number, columns: number, 
/**
 * Counts written as "< 5".
 */
suppressed: number, 
/**
 * Where it was written (after saving).
 */
path: string | null, };

export type PartnerDto = { label: string, recipient: string, added_at: string, };

export type PreviewLineDto = { summary: SummaryDto, 
/**
 * `named`, `pseudonym` or `unchanged`, for records that go.
 */
going: string | null, 
/**
 * Why not (`consent-internal`, `no-consenting-testimony`, …).
 */
reason: string | null, };

export type PartnerPreviewDto = { partner: string, going: Array<PreviewLineDto>, withheld: Array<PreviewLineDto>, withdrawn: Array<PreviewLineDto>, contact_removed: number, attachments: number, attachments_withheld: number, 
/**
 * Whether a bundle would carry anything new.
 */
has_news: boolean, 
/**
 * What the export is given back: it writes only what this preview said.
 */
digest: string, };

export type PartnerSentDto = { 
/**
 * The bundle files, in the order they are to be imported (one, unless it was too large).
 */
files: Array<ExportedFile>, preview: PartnerPreviewDto, };

export type InputDto = { 
/**
 * What to ask for it by.
 */
id: string, 
/**
 * Its name.
 */
name: string, 
/**
 * The system's default.
 */
default: boolean, };

export type RecordingStatusDto = { 
/**
 * The testimony it belongs to.
 */
record: string, 
/**
 * The microphone.
 */
input: string, 
/**
 * Milliseconds recorded (pauses not counted).
 */
elapsed_ms: number, 
/**
 * Loudest sound lately, 0 to 1.
 */
level: number, 
/**
 * Paused.
 */
paused: boolean, 
/**
 * Milliseconds the computer was too busy to keep.
 */
dropped_ms: number, 
/**
 * Markers set.
 */
markers: number, 
/**
 * Why it stopped by itself (the microphone was unplugged): what was recorded is kept.
 */
failed: string | null, };

export type InterruptedDto = { 
/**
 * Its id.
 */
id: string, 
/**
 * The testimony it belongs to.
 */
record: string, 
/**
 * When it started (RFC 3339).
 */
started_at: string, 
/**
 * How long it is.
 */
duration_ms: number, 
/**
 * Markers set.
 */
markers: number, };

export type PlayerDto = { 
/**
 * Its SHA-256.
 */
blob: string, 
/**
 * Where the speakers are, ms.
 */
position_ms: number, 
/**
 * Its length, ms.
 */
duration_ms: number, 
/**
 * Playing.
 */
playing: boolean, 
/**
 * Rate (1: as recorded).
 */
rate: number, 
/**
 * From the last seek asked to its sound handed to the speakers, ms.
 */
last_seek_ms: number | null, };
