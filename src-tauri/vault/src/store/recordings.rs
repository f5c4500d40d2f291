//! Recordings in progress: one row per recording, one per piece written (its file under
//! `recordings/`, crate::crypto::chunks) and one per marker. A row exists only until the
//! recording becomes an attachment or is discarded, so any row found at unlock is a recording
//! that a crash, a kill or a lock interrupted: it is offered back, never lost.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

/// Schema version 13.
pub(crate) const SCHEMA_V13: &str = r#"
CREATE TABLE IF NOT EXISTS recordings (
    id TEXT PRIMARY KEY,
    record TEXT NOT NULL REFERENCES records(id),
    started_at TEXT NOT NULL,
    media_type TEXT NOT NULL,
    input TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recording_pieces (
    recording TEXT NOT NULL REFERENCES recordings(id),
    seq INTEGER NOT NULL,
    file TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    PRIMARY KEY (recording, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recording_markers (
    recording TEXT NOT NULL REFERENCES recordings(id),
    at_ms INTEGER NOT NULL,
    note TEXT
);
"#;

/// A recording in progress, as stored.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: String,
    pub record: String,
    pub started_at: String,
    pub media_type: String,
    pub input: Option<String>,
    /// Pieces written, their total size and the end of the last one.
    pub pieces: u64,
    pub size: u64,
    pub end_ms: u64,
}

pub(crate) fn insert(
    c: &Connection,
    id: &str,
    record: &str,
    started_at: &str,
    media_type: &str,
    input: Option<&str>,
) -> Result<()> {
    c.execute(
        "INSERT INTO recordings(id, record, started_at, media_type, input) VALUES (?1,?2,?3,?4,?5)",
        params![id, record, started_at, media_type, input],
    )?;
    Ok(())
}

const ROW: &str = "SELECT r.id, r.record, r.started_at, r.media_type, r.input, \
     (SELECT count(*) FROM recording_pieces p WHERE p.recording = r.id), \
     (SELECT coalesce(sum(size), 0) FROM recording_pieces p WHERE p.recording = r.id), \
     (SELECT coalesce(max(end_ms), 0) FROM recording_pieces p WHERE p.recording = r.id) \
     FROM recordings r";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        record: r.get(1)?,
        started_at: r.get(2)?,
        media_type: r.get(3)?,
        input: r.get(4)?,
        pieces: r.get::<_, i64>(5)?.try_into().unwrap_or(0),
        size: r.get::<_, i64>(6)?.try_into().unwrap_or(0),
        end_ms: r.get::<_, i64>(7)?.try_into().unwrap_or(0),
    })
}

pub(crate) fn get(c: &Connection, id: &str) -> Result<Option<Row>> {
    Ok(c.query_row(&format!("{ROW} WHERE r.id = ?1"), [id], row)
        .optional()?)
}

/// Every recording in progress, oldest first.
pub(crate) fn all(c: &Connection) -> Result<Vec<Row>> {
    let mut st = c.prepare(&format!("{ROW} ORDER BY r.started_at, r.id"))?;
    let rows = st.query_map([], row)?;
    super::collect(rows)
}

/// The next piece's number.
pub(crate) fn next_seq(c: &Connection, id: &str) -> Result<i64> {
    Ok(c.query_row(
        "SELECT coalesce(max(seq), -1) + 1 FROM recording_pieces WHERE recording = ?1",
        [id],
        |r| r.get(0),
    )?)
}

pub(crate) fn add_piece(
    c: &Connection,
    id: &str,
    seq: i64,
    file: &str,
    size: u64,
    end_ms: u64,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO recording_pieces(recording, seq, file, size, end_ms) VALUES (?1,?2,?3,?4,?5)",
    )?
    .execute(params![
        id,
        seq,
        file,
        i64::try_from(size).unwrap_or(i64::MAX),
        i64::try_from(end_ms).unwrap_or(i64::MAX)
    ])?;
    Ok(())
}

pub(crate) fn add_marker(c: &Connection, id: &str, at_ms: u64, note: Option<&str>) -> Result<()> {
    c.prepare_cached("INSERT INTO recording_markers(recording, at_ms, note) VALUES (?1,?2,?3)")?
        .execute(params![id, i64::try_from(at_ms).unwrap_or(i64::MAX), note])?;
    Ok(())
}

/// The piece files of a recording, in order.
pub(crate) fn pieces(c: &Connection, id: &str) -> Result<Vec<String>> {
    let mut st =
        c.prepare("SELECT file FROM recording_pieces WHERE recording = ?1 ORDER BY seq")?;
    let rows = st.query_map([id], |r| r.get(0))?;
    super::collect(rows)
}

/// Every piece file of every recording.
pub(crate) fn all_files(c: &Connection) -> Result<Vec<String>> {
    let mut st = c.prepare("SELECT file FROM recording_pieces")?;
    let rows = st.query_map([], |r| r.get(0))?;
    super::collect(rows)
}

/// The markers of a recording, in time order.
pub(crate) fn markers(c: &Connection, id: &str) -> Result<Vec<(u64, Option<String>)>> {
    let mut st = c.prepare(
        "SELECT at_ms, note FROM recording_markers WHERE recording = ?1 ORDER BY at_ms, rowid",
    )?;
    let rows = st.query_map([id], |r| {
        Ok((r.get::<_, i64>(0)?.try_into().unwrap_or(0), r.get(1)?))
    })?;
    super::collect(rows)
}

/// Forgets a recording inside `tx`; its files are listed as doomed (removed once `tx` commits,
/// or at the next unlock).
pub(crate) fn remove(tx: &Connection, id: &str) -> Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO doomed_files(file) SELECT file FROM recording_pieces WHERE recording = ?1",
        [id],
    )?;
    tx.execute("DELETE FROM recording_pieces WHERE recording = ?1", [id])?;
    tx.execute("DELETE FROM recording_markers WHERE recording = ?1", [id])?;
    tx.execute("DELETE FROM recordings WHERE id = ?1", [id])?;
    Ok(())
}

/// Forgets every recording of `record` (a purge), inside `tx`.
pub(crate) fn remove_for_record(tx: &Connection, record: &str) -> Result<()> {
    let ids: Vec<String> = {
        let mut st = tx.prepare("SELECT id FROM recordings WHERE record = ?1")?;
        let rows = st.query_map([record], |r| r.get(0))?;
        super::collect(rows)?
    };
    for id in ids {
        remove(tx, &id)?;
    }
    Ok(())
}
