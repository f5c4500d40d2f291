//! Rebuilding a record's search entries from its current head(s).

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension};

use super::keys;
use crate::error::Result;
use crate::model::{self, RecordId};
use crate::revision::{self, Revision};
use crate::store::{heads, merges};

/// How a save updates the full-text index.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// Now, in the same transaction (bulk adds and imports: FTS5 batches a whole transaction
    /// into one segment, so this is the cheap way for many records).
    Now,
    /// Left to the queue (`super::queue`), indexed in batches.
    Deferred,
}

/// Rebuilds every search entry of a record from its heads, full text now (used by import).
pub(crate) fn reindex_record(tx: &Connection, id: RecordId) -> Result<()> {
    let heads = heads::of(tx, id)?;
    reindex(tx, id, false, Text::Now, &heads)
}

/// Rebuilds the search entries of one record from its current head(s): name and number keys,
/// references and the person it was merged into at once, full text now or deferred. `fresh`: the record is new (nothing to
/// remove first).
pub(crate) fn reindex(
    tx: &Connection,
    id: RecordId,
    fresh: bool,
    text: Text,
    heads: &[Revision],
) -> Result<()> {
    let rid = id.to_string();
    if !fresh {
        for table in ["name_keys", "number_keys", "refs"] {
            tx.prepare_cached(&format!("DELETE FROM {table} WHERE record = ?1"))?
                .execute([&rid])?;
        }
    }
    let mut refs = BTreeSet::new();
    let mut names = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    let mut merged_into = None;
    for h in heads {
        let Some(d) = h.data.as_ref().filter(|d| !revision::is_purge_marker(d)) else {
            continue;
        };
        if h.kind == model::Kind::Person && merged_into.is_none() {
            merged_into = d
                .get("merged_into")
                .and_then(serde_json::Value::as_str)
                .and_then(|s| s.parse::<RecordId>().ok())
                .map(|r| r.to_string());
        }
        refs.extend(model::references_in(h.kind, d));
        let terms = model::search_terms(h.kind, d);
        for s in terms.names {
            names.extend(keys::name_keys(s));
        }
        numbers.extend(terms.numbers.iter().map(|n| keys::number_key(n)));
    }
    numbers.retain(|n: &String| !n.is_empty());
    if !fresh || merged_into.is_some() {
        let into = match merged_into.as_deref() {
            Some(target) => merges::acceptable_target(tx, &rid, target)?.then_some(target),
            None => None,
        };
        merges::set(tx, &rid, into)?;
    }
    for (sql, set) in [
        (
            "INSERT OR IGNORE INTO refs(target, record) VALUES (?1, ?2)",
            &refs,
        ),
        (
            "INSERT OR IGNORE INTO name_keys(key, record) VALUES (?1, ?2)",
            &names,
        ),
        (
            "INSERT OR IGNORE INTO number_keys(key, record) VALUES (?1, ?2)",
            &numbers,
        ),
    ] {
        if set.is_empty() {
            continue;
        }
        let mut st = tx.prepare_cached(sql)?;
        for k in set {
            st.execute(params![k, rid])?;
        }
    }
    super::facts::refresh(tx, &rid, heads, fresh)?;
    match text {
        Text::Now => index_text(tx, &rid, heads, fresh),
        Text::Deferred => Ok(()),
    }
}

/// Replaces the full text of record `rid` with that of its heads.
pub(super) fn index_text(
    tx: &Connection,
    rid: &str,
    heads: &[Revision],
    fresh: bool,
) -> Result<()> {
    let mut body = String::new();
    for h in heads {
        if let Some(d) = h.data.as_ref().filter(|d| !revision::is_purge_marker(d)) {
            collect_text(d, &mut body);
        }
    }
    let rowid: Option<i64> = if fresh {
        None
    } else {
        tx.prepare_cached("SELECT rowid FROM fts_rows WHERE record = ?1")?
            .query_row([rid], |r| r.get(0))
            .optional()?
    };
    let rowid = match rowid {
        Some(r) => {
            tx.prepare_cached("DELETE FROM fts WHERE rowid = ?1")?
                .execute([r])?;
            r
        }
        None => {
            tx.prepare_cached("INSERT INTO fts_rows(record) VALUES (?1)")?
                .execute([rid])?;
            tx.last_insert_rowid()
        }
    };
    tx.prepare_cached("INSERT INTO fts(rowid, body) VALUES (?1, ?2)")?
        .execute(params![rowid, body])?;
    Ok(())
}

/// Every human-readable string of a record (not ids, hashes or media types) for full text.
fn collect_text(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) if uuid::Uuid::try_parse(s).is_err() => {
            out.push_str(s);
            out.push('\n');
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_text(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                if !matches!(k.as_str(), "blob" | "photo" | "media_type" | "size") {
                    collect_text(x, out);
                }
            }
        }
        _ => {}
    }
}
