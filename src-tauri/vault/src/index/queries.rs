//! Searches over the index, returning record ids: by id, by number, by name in any script and
//! spelling, and by full text, best kind of match first.

use std::collections::BTreeSet;

use rusqlite::{params, Connection};
use serde::Serialize;

use super::{keys, queue};
use crate::error::Result;
use crate::store::collect;

/// Why a search result matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchKind {
    /// Record id (or its prefix).
    Id,
    /// Document, receipt or reference number.
    Number,
    /// A name, in any script or spelling.
    Name,
    /// Full text.
    Text,
}

/// The end of every key range: `key >= ?prefix AND key < ?prefix || TOP` is a prefix search
/// that walks the index.
const TOP: &str = "\u{10FFFF}";

/// Most query words a name search uses.
const MAX_NAME_WORDS: usize = 8;

/// Record ids matching `query`, at most `limit`, each once, ids first, then numbers, names and
/// full text (newest first).
pub(crate) fn search_ids(
    c: &Connection,
    query: &str,
    limit: usize,
) -> Result<Vec<(MatchKind, String)>> {
    let q = query.trim();
    let lim = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut found: Vec<(MatchKind, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (m, ids) in [
        (MatchKind::Id, by_id(c, q, lim)?),
        (MatchKind::Number, by_number(c, q, lim)?),
        (MatchKind::Name, by_name(c, q, lim)?),
        (MatchKind::Text, by_text(c, q, lim)?),
    ] {
        for id in ids {
            if seen.insert(id.clone()) {
                found.push((m, id));
            }
        }
    }
    found.truncate(limit);
    Ok(found)
}

/// Record ids (or a prefix of one, as printed by `list`).
fn by_id(c: &Connection, q: &str, lim: i64) -> Result<Vec<String>> {
    let idq = q.to_ascii_lowercase();
    if idq.len() < 8 || !idq.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Ok(vec![]);
    }
    collect(
        c.prepare_cached("SELECT id FROM records WHERE id >= ?1 AND id < ?1 || ?2 LIMIT ?3")?
            .query_map(params![idq, TOP, lim], |r| r.get(0))?,
    )
}

/// Document, receipt and reference numbers (a prefix, written any way).
fn by_number(c: &Connection, q: &str, lim: i64) -> Result<Vec<String>> {
    let nk = keys::number_key(q);
    if nk.chars().count() < 3 || !nk.chars().any(|c| c.is_ascii_digit()) {
        return Ok(vec![]);
    }
    collect(
        c.prepare_cached(
            "SELECT DISTINCT record FROM number_keys WHERE key >= ?1 AND key < ?1 || ?2 LIMIT ?3",
        )?
        .query_map(params![nk, TOP, lim], |r| r.get(0))?,
    )
}

/// Names, across scripts: every query word must prefix some name word of the record.
fn by_name(c: &Connection, q: &str, lim: i64) -> Result<Vec<String>> {
    let words: Vec<String> = keys::words(q)
        .map(keys::word_key)
        .filter(|k| k.chars().count() >= 2)
        .take(MAX_NAME_WORDS)
        .collect();
    if words.is_empty() {
        return Ok(vec![]);
    }
    let sql = (0..words.len())
        .map(|i| {
            format!(
                "SELECT record FROM name_keys WHERE key >= ?{n} AND key < ?{n} || ?1",
                n = i + 3
            )
        })
        .collect::<Vec<_>>()
        .join(" INTERSECT ");
    let sql = format!("{sql} LIMIT ?2");
    let mut p: Vec<&dyn rusqlite::ToSql> = vec![&TOP, &lim];
    for k in &words {
        p.push(k);
    }
    collect(
        c.prepare_cached(&sql)?
            .query_map(p.as_slice(), |r| r.get(0))?,
    )
}

/// Full text, newest first (after indexing whatever saves have queued).
fn by_text(c: &Connection, q: &str, lim: i64) -> Result<Vec<String>> {
    let Some(fq) = keys::fts_query(q) else {
        return Ok(vec![]);
    };
    queue::flush_if_pending(c)?;
    collect(
        c.prepare_cached(
            "SELECT f.record FROM fts_rows f WHERE f.rowid IN \
             (SELECT rowid FROM fts WHERE fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2) \
             ORDER BY f.rowid DESC",
        )?
        .query_map(params![fq, lim], |r| r.get(0))?,
    )
}

/// The records whose current version refers to `id`, newest first, from the index of
/// references (a narrative that merely quotes an id is not a reference).
pub(crate) fn referring(c: &Connection, id: &str) -> Result<Vec<String>> {
    collect(
        c.prepare_cached(
            "SELECT record FROM refs WHERE target = ?1 AND record <> ?1 ORDER BY record DESC",
        )?
        .query_map([id], |r| r.get(0))?,
    )
}
