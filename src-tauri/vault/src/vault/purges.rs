//! Purging (consent withdrawn, a court order): one record, and everyone a merge made one human
//! with it (docs/design-notes.md "Duplicate people"). A person kept by a merge holds copies of
//! the other's names, documents and contacts in its versions, even after the merge was undone,
//! so a purge reaches every person whose versions ever listed the purged one in `merged`, and
//! everyone whose current version says it is merged into it. `merge_links` (every merge any
//! revision stated) is what makes that a few indexed reads rather than a scan.
//!
//! Both a purge made here and one arriving in a bundle go through [`purge_reached`], inside
//! their transaction.

use std::collections::{BTreeSet, HashMap};

use rusqlite::Connection;
use serde_json::Value;

use super::Saved;
use crate::error::Result;
use crate::index::{self, Text};
use crate::model::{self, Kind, RecordId};
use crate::revision::{self, Revision, RevisionId};
use crate::store::merges::{self, Via};
use crate::store::{self, audit, heads, purge, revisions};

/// Purges one record inside `tx` (see [`Vault::purge`]): the marker revision, the content,
/// the attachments nothing else names, the index and the audit event.
fn purge_one(tx: &Connection, device: &str, id: RecordId, reason: &str) -> Result<Saved> {
    let kind = store::record_kind(tx, id)?;
    let history = revisions::ancestry(tx, id)?;
    let mut blobs = BTreeSet::new();
    for data in history.iter().filter_map(|r| r.data.as_deref()) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(data) {
            blobs.extend(model::attachment_blobs(&v).map(str::to_owned));
        }
    }
    let revisions: Vec<String> = history.into_iter().map(|r| r.id).collect();
    let marker =
        serde_json::json!({ revision::PURGE_KEY: { "revisions": revisions, "blobs": blobs } });
    let parents: Vec<RevisionId> = heads::ids(tx, id)?
        .iter()
        .map(|h| h.parse())
        .collect::<Result<_>>()?;
    let at = revision::now();
    let rev = Revision::new(id, kind, parents, device.to_owned(), at.clone(), marker)?;
    revisions::insert(tx, &rev)?;
    heads::set(tx, &id.to_string(), &[rev.id.to_string()])?;
    purge::apply(tx, id, &revisions, &blobs)?;
    index::reindex(tx, id, false, Text::Now, std::slice::from_ref(&rev))?;
    audit::append(
        tx,
        device,
        &at,
        "record_purged",
        serde_json::json!({ "record": id, "kind": kind, "revision": rev.id, "revisions": revisions.len(), "blobs": blobs.len(), "reason": reason.trim() }),
    )?;
    Ok(Saved {
        record: id,
        revision: rev.id,
        changed: true,
        warnings: vec![],
    })
}

/// The current versions' data of a record (none for purged versions).
fn current(tx: &Connection, id: &str) -> Result<Vec<Value>> {
    Ok(heads::of(tx, id.parse()?)?
        .into_iter()
        .filter_map(|h| h.data)
        .filter(|d| !revision::is_purge_marker(d))
        .collect())
}

/// Whether a current version of `id` says it is merged into `into`.
fn says_merged_into(tx: &Connection, id: &str, into: &str) -> Result<bool> {
    Ok(current(tx, id)?.iter().any(|d| {
        d.get("merged_into")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<RecordId>().ok())
            .is_some_and(|t| t.to_string() == into)
    }))
}

/// Everyone a purge of `start` reaches through merges (see the module comment), `start`
/// included, without bound: a purge must not stop half-way. Only what the reached person's own
/// versions say is followed — a survivor listing the purged person (it holds copies), or a
/// person saying it is merged into the purged one — never what the purged person says of
/// others: a record listing real people as merged into it must not take them with it.
fn reach(tx: &Connection, start: &[String]) -> Result<BTreeSet<String>> {
    let mut seen: BTreeSet<String> = start.iter().cloned().collect();
    let mut queue: Vec<String> = start.to_vec();
    while let Some(y) = queue.pop() {
        let mut found = merges::survivors_ever(tx, &y, Via::Merged)?;
        for c in merges::absorbed_ever(tx, &y, Via::Into)? {
            if says_merged_into(tx, &c, &y)? {
                found.push(c);
            }
        }
        for f in found {
            if store::kind_of(tx, &f)?.as_deref() == Some(Kind::Person.as_str())
                && seen.insert(f.clone())
            {
                queue.push(f);
            }
        }
    }
    Ok(seen)
}

/// Purges `start` and everyone [`reach`] finds from it (all found before any is purged: a
/// purged version no longer says whom it was merged with) that is not purged yet.
pub(super) fn purge_reached(
    tx: &Connection,
    device: &str,
    start: &[String],
    reason: &str,
) -> Result<Vec<Saved>> {
    let mut saved = Vec::new();
    for id in reach(tx, start)? {
        let id: RecordId = id.parse()?;
        if !purge::is_purged(tx, id)? {
            saved.push(purge_one(tx, device, id, reason)?);
        }
    }
    Ok(saved)
}

/// After an import has written its revisions (inside its transaction): the records it touched
/// that are purged now, and the people it touched whose versions merged in someone purged here
/// (a merge made elsewhere before the purge reached it), start a [`purge_reached`]. Returns
/// whether anything was purged.
pub(super) fn after_import(
    tx: &Connection,
    device: &str,
    touched: &[String],
    purged: &BTreeSet<String>,
) -> Result<bool> {
    let mut start = Vec::new();
    let mut known: HashMap<String, bool> = HashMap::new();
    let mut is_purged = |id: &str| -> Result<bool> {
        if let Some(p) = known.get(id) {
            return Ok(*p);
        }
        let p = purged.contains(id) || purge::is_purged(tx, id.parse()?)?;
        known.insert(id.to_owned(), p);
        Ok(p)
    };
    for r in touched {
        if purged.contains(r) {
            start.push(r.clone());
            continue;
        }
        if store::kind_of(tx, r)?.as_deref() != Some(Kind::Person.as_str()) {
            continue;
        }
        // Its versions copied a purged person in (ever: the copies stay in its history), or it
        // says now that it is merged into one.
        let mut tainted = false;
        for a in merges::absorbed_ever(tx, r, Via::Merged)? {
            tainted |= is_purged(&a)?;
        }
        for t in merges::survivors_ever(tx, r, Via::Into)? {
            tainted |= is_purged(&t)? && says_merged_into(tx, r, &t)?;
        }
        if tainted {
            start.push(r.clone());
        }
    }
    if start.is_empty() {
        return Ok(false);
    }
    let saved = purge_reached(
        tx,
        device,
        &start,
        "merged with a person whose purge was imported",
    )?;
    Ok(!saved.is_empty())
}
