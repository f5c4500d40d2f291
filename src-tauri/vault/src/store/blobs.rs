//! Attachment rows: which encrypted file holds the attachment with a given SHA-256. Each content
//! is stored once, whichever records refer to it.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;
use crate::revision;

/// The file (relative to the vault folder) holding the attachment `sha256`, if stored.
pub(crate) fn file_of(c: &Connection, sha256: &str) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT file FROM blobs WHERE sha256 = ?1")?
            .query_row([sha256], |r| r.get(0))
            .optional()?,
    )
}

/// The file and size of the attachment `sha256`, if stored.
pub(crate) fn file_and_size(c: &Connection, sha256: &str) -> Result<Option<(String, u64)>> {
    Ok(
        c.prepare_cached("SELECT file, size FROM blobs WHERE sha256 = ?1")?
            .query_row([sha256], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
            .optional()?,
    )
}

/// Whether the attachment `sha256` is stored.
pub(crate) fn exists(c: &Connection, sha256: &str) -> Result<bool> {
    Ok(file_of(c, sha256)?.is_some())
}

/// Records a new attachment file (already written and durable) for `sha256`, with the SHA-256
/// of its age payload.
pub(crate) fn insert(
    tx: &Connection,
    sha256: &str,
    file: &str,
    size: u64,
    payload_sha256: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO blobs(sha256, file, size, added_at, payload_sha256) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![sha256, file, size as i64, revision::now(), payload_sha256])?;
    Ok(())
}

/// The SHA-256 of the attachment's age payload, if known (files stored before schema 9 have
/// none until [`set_payload`]).
pub(crate) fn payload_of(c: &Connection, sha256: &str) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT payload_sha256 FROM blobs WHERE sha256 = ?1")?
            .query_row([sha256], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten(),
    )
}

/// Stores the payload SHA-256 computed for an attachment stored before it was kept.
pub(crate) fn set_payload(c: &Connection, sha256: &str, payload_sha256: &str) -> Result<()> {
    c.prepare_cached("UPDATE blobs SET payload_sha256 = ?2 WHERE sha256 = ?1")?
        .execute([sha256, payload_sha256])?;
    Ok(())
}

/// Every attachment row: (sha256, file).
pub(crate) fn all(c: &Connection) -> Result<Vec<(String, String)>> {
    super::collect(
        c.prepare("SELECT sha256, file FROM blobs")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?,
    )
}
