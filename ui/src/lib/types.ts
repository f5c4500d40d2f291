// Generated from src-tauri/src/dto.rs and error.rs by `make types`; do not edit.

export type IpcError = { 
/**
 * A stable code the UI translates (`wrong_passphrase`, `invalid`, `locked`…).
 */
code: string, 
/**
 * A caseworker-readable explanation (English; the UI shows its own text for known codes).
 */
message: string, 
/**
 * For `invalid`: the field, as a JSON path (`names[0].value`).
 */
field: string | null, };

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

export type Strength = { 
/**
 * 0 (refused) to 4.
 */
score: number, 
/**
 * Estimated bits.
 */
bits: number, };

export type CreateRequest = { 
/**
 * The passphrase (typed twice in the UI).
 */
passphrase: string, 
/**
 * Coordinators' keys (`age1…` or `ssh-ed25519 …`), one per entry.
 */
recipients: Array<string>, 
/**
 * Optional organisation recovery key (`age1…`).
 */
recovery: string | null, };

export type SummaryDto = { 
/**
 * Record id.
 */
id: string, 
/**
 * `person`, `testimony`, `attempt` or `case`.
 */
kind: string, 
/**
 * Main label.
 */
title: string, 
/**
 * The second column as (key, value) pairs, worded by the UI in its language (see
 * `vault::Summary::facts` for the keys).
 */
facts: Array<[string, string]>, 
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
 * `id`, `number`, `name` or `text`.
 */
matched: string, 
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
kind: string, 
/**
 * Current versions, oldest first; two or more is a conflict.
 */
heads: Array<RevisionDto>, };

export type SaveRequest = { 
/**
 * Kind, for a new record.
 */
kind: string, 
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
 * The latest version (of the first head when in conflict).
 */
revision: string, 
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
 * `since-last` or `all`.
 */
scope: string, 
/**
 * Keys in addition to the configured recipients.
 */
extra_recipients: Array<string>, 
/**
 * Encrypt to this passphrase alone instead of the keys (only where the policy allows it).
 */
passphrase: string | null, };

export type ExportDone = { 
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
size: number, 
/**
 * Records in it.
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
passphrase_bundles: boolean, };
