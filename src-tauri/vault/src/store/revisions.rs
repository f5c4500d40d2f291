//! Revision rows: storing one, reading one back, and the one walk of a record's history.

use rusqlite::{params, Connection, OptionalExtension};

use super::collect;
use crate::error::{Error, Result};
use crate::model::RecordId;
use crate::revision::{self, Revision, RevisionId};

const COLUMNS: &str = "v.id, v.record, r.kind, v.parents, v.device, v.at, v.data";

/// `id, record, kind, parents, device, at, data` as read from the database.
type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn to_revision(t: Row) -> Result<Revision> {
    let (id, record, kind, parents, device, at, data) = t;
    Ok(Revision {
        id: id.parse()?,
        record: record.parse()?,
        kind: kind.parse()?,
        parents: serde_json::from_str(&parents).map_err(|e| Error::Verify(e.to_string()))?,
        device,
        at,
        data: data
            .map(|d| serde_json::from_str(&d))
            .transpose()
            .map_err(|e| Error::Verify(e.to_string()))?,
    })
}

/// A revision by its local sequence number.
pub(crate) fn by_seq(c: &Connection, seq: i64) -> Result<Revision> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM revisions v JOIN records r ON r.id = v.record WHERE v.seq = ?1"
    ))?;
    to_revision(st.query_row([seq], read_row)?)
}

/// A revision by its id.
pub(crate) fn by_id(c: &Connection, rid: &RevisionId) -> Result<Revision> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM revisions v JOIN records r ON r.id = v.record WHERE v.id = ?1"
    ))?;
    let row = st.query_row([rid.as_str()], read_row).optional()?;
    to_revision(row.ok_or_else(|| Error::NotFound(format!("revision {rid}")))?)
}

/// Whether a revision with this id is stored.
pub(crate) fn exists(c: &Connection, rid: &str) -> Result<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM revisions WHERE id = ?1")?
        .query_row([rid], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The record revision `rid` belongs to, if this vault has it.
pub(crate) fn record_of(c: &Connection, rid: &str) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT record FROM revisions WHERE id = ?1")?
            .query_row([rid], |r| r.get(0))
            .optional()?,
    )
}

/// Stores a revision (its data as the canonical JSON its id was computed over).
pub(crate) fn insert(tx: &Connection, rev: &Revision) -> Result<()> {
    let data = rev
        .data
        .as_ref()
        .map(|d| revision::canonical_json(d).map(|b| String::from_utf8(b).expect("JSON is UTF-8")))
        .transpose()?;
    tx.prepare_cached(
        "INSERT INTO revisions(id, record, parents, device, at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        rev.id.as_str(),
        rev.record.to_string(),
        serde_json::to_string(&rev.parents).expect("serialisable"),
        rev.device,
        rev.at,
        data
    ])?;
    if let Some(d) = &rev.data {
        super::merges::note_links(tx, rev.kind, &rev.record.to_string(), d)?;
    }
    // Caseworker activity (`crate::stats`): one count per device and month.
    tx.prepare_cached(
        "INSERT INTO activity(device, month, n) VALUES (?1, substr(?2, 1, 7), 1) \
         ON CONFLICT(device, month) DO UPDATE SET n = n + 1",
    )?
    .execute(params![rev.device, rev.at])?;
    Ok(())
}

/// A revision of a record's history as stored, its data left as text.
pub(crate) struct Stored {
    /// Local sequence number (the order revisions arrived in this vault).
    pub seq: i64,
    pub id: String,
    pub parents: Vec<String>,
    pub device: String,
    pub at: String,
    /// Its content was destroyed by a purge.
    pub purged: bool,
    /// The canonical JSON; `None` once purged.
    pub data: Option<String>,
}

/// Every revision of record `id`, in the order they were stored: the ancestors of its heads
/// (every revision of a record is an ancestor of one of its heads).
pub(crate) fn ancestry(c: &Connection, id: RecordId) -> Result<Vec<Stored>> {
    let mut st = c.prepare_cached(
        "WITH RECURSIVE h(id) AS ( \
             SELECT value FROM json_each((SELECT heads FROM records WHERE id = ?1)) \
             UNION SELECT p.value FROM h CROSS JOIN revisions v ON v.id = h.id, json_each(v.parents) p) \
         SELECT v.seq, v.id, v.parents, v.device, v.at, v.purged, v.data \
         FROM h CROSS JOIN revisions v ON v.id = h.id ORDER BY v.seq",
    )?;
    let rows = st.query_map([id.to_string()], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, bool>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    collect(rows)?
        .into_iter()
        .map(|(seq, id, parents, device, at, purged, data)| {
            Ok(Stored {
                seq,
                id,
                parents: serde_json::from_str(&parents).unwrap_or_default(),
                device,
                at,
                purged,
                data,
            })
        })
        .collect()
}

/// The newest local sequence number (0 in an empty vault).
pub(crate) fn latest_seq(c: &Connection) -> Result<i64> {
    Ok(
        c.prepare_cached("SELECT coalesce(max(seq), 0) FROM revisions")?
            .query_row([], |r| r.get(0))?,
    )
}
