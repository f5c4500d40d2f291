//! A record's heads: its current versions, the revisions no other revision of it replaces.
//! One head is the normal case; two or more are a conflict a coordinator resolves.

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension};

use super::revisions;
use crate::error::{Error, Result};
use crate::model::RecordId;
use crate::revision::Revision;

/// The stored form of a list of heads (a JSON array of revision ids).
pub(crate) fn to_json(heads: &[String]) -> String {
    serde_json::to_string(heads).expect("a list of strings serialises")
}

/// Ids of the current head revisions of a record, oldest first.
pub(crate) fn ids(c: &Connection, id: RecordId) -> Result<Vec<String>> {
    let heads: Option<String> = c
        .prepare_cached("SELECT heads FROM records WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    let heads = heads.ok_or_else(|| Error::NotFound(format!("record {id}")))?;
    serde_json::from_str(&heads)
        .map_err(|e| Error::Verify(format!("record {id}: heads unreadable: {e}")))
}

/// The current head revisions of a record, oldest first.
pub(crate) fn of(c: &Connection, id: RecordId) -> Result<Vec<Revision>> {
    ids(c, id)?
        .iter()
        .map(|h| revisions::by_id(c, &h.parse()?))
        .collect()
}

/// Makes `heads` the current versions of record `id`.
pub(crate) fn set(tx: &Connection, id: &str, heads: &[String]) -> Result<()> {
    tx.prepare_cached("UPDATE records SET heads = ?2 WHERE id = ?1")?
        .execute(params![id, to_json(heads)])?;
    Ok(())
}

/// The heads of record `id` once the revisions `added` (id, parents) have been stored beside its
/// history: every revision of it that no other revision of it names as a parent, in the order
/// they were stored.
pub(crate) fn after_adding(
    c: &Connection,
    id: RecordId,
    added: &[(String, Vec<String>)],
) -> Result<Vec<String>> {
    let mut all: Vec<(String, Vec<String>)> = revisions::ancestry(c, id)?
        .into_iter()
        .map(|r| (r.id, r.parents))
        .collect();
    for (rid, parents) in added {
        if !all.iter().any(|(id, _)| id == rid) {
            all.push((rid.clone(), parents.clone()));
        }
    }
    let named: BTreeSet<&String> = all.iter().flat_map(|(_, p)| p.iter()).collect();
    Ok(all
        .iter()
        .filter(|(id, _)| !named.contains(id))
        .map(|(id, _)| id.clone())
        .collect())
}
