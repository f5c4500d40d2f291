//! The caps every bundle keeps: what an importer accepts is what an exporter writes.
//!
//! One set of numbers on both sides (docs/bundle-format.md "Caps"). The importer refuses a
//! bundle past any of them before it holds or writes more than they allow; the exporter plans
//! its bundles within them and, where one bundle would exceed them, writes several, each
//! importable on its own once the earlier ones are in.

/// Most entries a bundle may have.
///
/// # Security
/// Caps what a hostile archive can make us track; a real bundle has one entry per attachment
/// plus five.
pub const MAX_ENTRIES: usize = 200_000;
/// Largest `records.jsonl`. The importer spools it, re-encrypted, into the vault folder and
/// reads it line by line once the signature holds, keeping the revisions, not the text.
pub const MAX_RECORDS_BYTES: u64 = 512 << 20;
/// Longest line of `records.jsonl`, one revision: a record's data is at most
/// `crate::model::MAX_RECORD_BYTES` (8 MiB), and its line, with the revision's other fields,
/// stays well under this. The importer refuses a longer line before parsing it.
pub const MAX_REVISION_LINE_BYTES: u64 = 32 << 20;
/// Largest `audit.jsonl`, `manifest.json`, signature, README (the manifest and its signature
/// are held in memory until checked).
pub const MAX_SMALL_BYTES: u64 = 64 << 20;
/// Largest single attachment.
pub const MAX_BLOB_BYTES: u64 = 64 << 30;
/// Largest total of all entries.
pub const MAX_TOTAL_BYTES: u64 = 256 << 30;

/// The caps of one bundle: the named limits by default (tests use smaller ones on both sides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleLimits {
    /// Most entries.
    pub entries: usize,
    /// Largest `records.jsonl`.
    pub records_bytes: u64,
    /// Largest `audit.jsonl`, `manifest.json`, signature, README.
    pub small_bytes: u64,
    /// Largest attachment.
    pub blob_bytes: u64,
    /// Largest total.
    pub total_bytes: u64,
}

impl Default for BundleLimits {
    fn default() -> Self {
        BundleLimits {
            entries: MAX_ENTRIES,
            records_bytes: MAX_RECORDS_BYTES,
            small_bytes: MAX_SMALL_BYTES,
            blob_bytes: MAX_BLOB_BYTES,
            total_bytes: MAX_TOTAL_BYTES,
        }
    }
}
