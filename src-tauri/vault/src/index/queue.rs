//! The full-text queue: `meta.fts_seq` is the last revision `seq` whose text is in the index,
//! so the revisions after it are the queue. A single save leaves its text there; the queue is
//! indexed in one transaction before the next search or when [`FTS_BATCH`] revisions wait. A
//! save then writes a handful of pages instead of a new FTS segment and its merges, and nothing
//! is lost on a crash (the queue is the revisions table itself).

use rusqlite::Connection;

use super::indexer::index_text;
use crate::error::Result;
use crate::store::{self, heads, revisions};

/// Queued revisions that trigger indexing after a save.
pub(crate) const FTS_BATCH: i64 = 64;

/// Indexes the text of every record revised after `meta.fts_seq`, in one transaction.
pub(crate) fn flush_text_queue(c: &Connection) -> Result<()> {
    let tx = c.unchecked_transaction()?;
    let mark = fts_mark(&tx)?;
    let pending: Vec<String> = store::collect(
        tx.prepare_cached("SELECT DISTINCT record FROM revisions WHERE seq > ?1")?
            .query_map([mark], |r| r.get(0))?,
    )?;
    for rid in &pending {
        let heads = heads::of(&tx, rid.parse()?)?;
        index_text(&tx, rid, &heads, false)?;
    }
    mark_all_indexed(&tx)?;
    tx.commit()?;
    Ok(())
}

/// Indexes the queue if anything waits in it (before a search reads the index).
pub(crate) fn flush_if_pending(c: &Connection) -> Result<()> {
    if queue_len(c)? > 0 {
        flush_text_queue(c)?;
    }
    Ok(())
}

/// After a save that left its text queued: counts it in `queued` (this connection's count of
/// saves since the last flush) and indexes the queue once a batch has gathered.
pub(crate) fn note_save(c: &Connection, queued: &mut i64) -> Result<()> {
    *queued += 1;
    if *queued >= FTS_BATCH {
        flush_text_queue(c)?;
        *queued = 0;
    }
    Ok(())
}

fn fts_mark(c: &Connection) -> Result<i64> {
    let v: String = c
        .prepare_cached("SELECT value FROM meta WHERE key = 'fts_seq'")?
        .query_row([], |r| r.get(0))?;
    Ok(v.parse().unwrap_or(0))
}

/// Moves the mark past every stored revision (after indexing them all in the same transaction).
pub(crate) fn mark_all_indexed(tx: &Connection) -> Result<()> {
    tx.prepare_cached(
        "UPDATE meta SET value = (SELECT coalesce(max(seq), 0) FROM revisions) WHERE key = 'fts_seq'",
    )?
    .execute([])?;
    Ok(())
}

/// How many revisions wait to be indexed.
pub(crate) fn queue_len(c: &Connection) -> Result<i64> {
    Ok(revisions::latest_seq(c)? - fts_mark(c)?)
}
