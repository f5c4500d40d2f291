//! The facts dashboards count (docs/design-notes.md "Dashboards"): a few short columns per
//! attempt and per event of a testimony, kept from the record's current version by every save
//! and import, so that a chart over 100,000 records is a GROUP BY over an index, never a read of
//! every record's JSON. Only closed sets, dates, years, a region key, and the facility named
//! (for the coordinators' own chart of facilities, which never leaves the vault).

use rusqlite::{params, Connection};

use crate::error::Result;
use crate::model::{self, regions, Attempt, Kind, Testimony};
use crate::revision::{self, Revision};
use crate::store::meta;

fn text<T: serde::Serialize>(v: &T) -> Option<String> {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// Rewrites the facts of record `rid` from its current version (the last head with content).
pub(crate) fn refresh(tx: &Connection, rid: &str, heads: &[Revision], fresh: bool) -> Result<()> {
    let Some(h) = heads.iter().rev().find(|h| {
        h.data
            .as_ref()
            .is_some_and(|d| !revision::is_purge_marker(d))
    }) else {
        return clear(tx, rid, fresh);
    };
    let data = h.data.as_ref().expect("found with data");
    // Consent withdrawn in any current version (two caseworkers' conflicting edits): counted
    // nowhere.
    let withdrawn = heads.iter().filter_map(|h| h.data.as_ref()).any(|d| {
        d.get("consent")
            .and_then(|c| c.get("withdrawn_at"))
            .is_some_and(|w| !w.is_null())
    });
    match h.kind {
        Kind::Attempt => {
            clear(tx, rid, fresh)?;
            let Ok(a) = serde_json::from_value::<Attempt>(data.clone()) else {
                return Ok(());
            };
            let submitted = a
                .submitted_on
                .earliest()
                .map_or_else(|| format!("{:04}", a.submitted_on.year), |d| d.to_string());
            let waiting = a.outcome.is_none_or(model::Outcome::is_waiting);
            tx.prepare_cached(
                "INSERT INTO attempt_facts(record, person, submitted, channel, request, outcome, waiting) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                rid,
                a.person.to_string(),
                submitted,
                a.channel.as_ref().and_then(text),
                a.request.as_ref().and_then(text),
                a.outcome.as_ref().and_then(text),
                waiting
            ])?;
        }
        Kind::Testimony => {
            clear(tx, rid, fresh)?;
            let Ok(t) = serde_json::from_value::<Testimony>(data.clone()) else {
                return Ok(());
            };
            // A testimony whose consent was withdrawn is counted nowhere.
            if withdrawn {
                return Ok(());
            }
            let mut st = tx.prepare_cached(
                "INSERT INTO event_facts(record, n, type, year, region, facility) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (n, e) in t.events.iter().enumerate() {
                let year = e.from.as_ref().or(e.to.as_ref()).map(|d| d.year);
                let region = e
                    .place
                    .as_deref()
                    .map_or(regions::OTHER, regions::region_of);
                let facility = e
                    .facility
                    .as_deref()
                    .map(str::trim)
                    .filter(|f| !f.is_empty());
                st.execute(params![
                    rid,
                    n as i64,
                    text(&e.event_type),
                    year,
                    region,
                    facility
                ])?;
            }
        }
        Kind::Person | Kind::Case => {}
    }
    Ok(())
}

fn clear(tx: &Connection, rid: &str, fresh: bool) -> Result<()> {
    if !fresh {
        for table in ["attempt_facts", "event_facts"] {
            tx.prepare_cached(&format!("DELETE FROM {table} WHERE record = ?1"))?
                .execute([rid])?;
        }
    }
    Ok(())
}

/// The meta key saying the facts were filled from the records stored before them.
pub(crate) const FILLED: &str = "facts_filled";

/// Fills the facts of every record stored before this vault had fact tables (schema 12), once,
/// at the first unlock after the upgrade; a new vault needs none ([`FILLED`] is set as it is
/// made).
pub(crate) fn fill_once(conn: &Connection) -> Result<()> {
    if meta::get(conn, FILLED)?.is_some() {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    backfill(&tx)?;
    meta::set(&tx, FILLED, "1")?;
    tx.commit()?;
    Ok(())
}

fn backfill(tx: &Connection) -> Result<()> {
    tx.execute_batch(
        "DELETE FROM activity;
         INSERT INTO activity(device, month, n)
             SELECT device, substr(at, 1, 7), count(*) FROM revisions GROUP BY 1, 2;",
    )?;
    let ids: Vec<String> = crate::store::collect(
        tx.prepare("SELECT id FROM records WHERE kind IN ('attempt', 'testimony')")?
            .query_map([], |r| r.get(0))?,
    )?;
    for id in ids {
        let rid: model::RecordId = id.parse()?;
        let heads = crate::store::heads::of(tx, rid)?;
        refresh(tx, &id, &heads, false)?;
    }
    Ok(())
}
