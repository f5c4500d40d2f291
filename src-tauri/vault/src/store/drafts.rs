//! Drafts of text being typed (schema version 5): encrypted like everything else, never
//! exported, not revisions. One row a key; a purge of the record removes its drafts.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;
use crate::revision;

/// Keeps `body` under `key`, tied to `record` when given.
pub(crate) fn save(c: &Connection, key: &str, record: Option<&str>, body: &str) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO drafts(key, record, body, at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(key) DO UPDATE SET record = ?2, body = ?3, at = ?4",
    )?
    .execute(params![key, record, body, revision::now()])?;
    Ok(())
}

/// The draft under `key`: its text and when it was kept.
pub(crate) fn get(c: &Connection, key: &str) -> Result<Option<(String, String)>> {
    Ok(
        c.query_row("SELECT body, at FROM drafts WHERE key = ?1", [key], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?,
    )
}

/// Removes the draft under `key`.
pub(crate) fn remove(c: &Connection, key: &str) -> Result<()> {
    c.execute("DELETE FROM drafts WHERE key = ?1", [key])?;
    Ok(())
}

/// Removes every draft tied to `record`.
pub(crate) fn remove_for_record(c: &Connection, record: &str) -> Result<()> {
    c.prepare_cached("DELETE FROM drafts WHERE record = ?1")?
        .execute([record])?;
    Ok(())
}
