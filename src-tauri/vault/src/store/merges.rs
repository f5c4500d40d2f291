//! People merged into others (docs/design-notes.md "Duplicate people"): `records.merged_into`
//! holds, for a merged person, the person it was merged into, as its current version says. An
//! id is followed to the person it now is; a person's *group* is it and everyone merged into it,
//! directly or through someone merged into it.
//!
//! Revisions arrive from other vaults in any order, so the links may form a cycle (two
//! coordinators each merged one person into the other) or lead to a purged person: following
//! stops where it would go round, after [`MAX_CHAIN`] steps, or before a person with no
//! current content.

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension};

use serde_json::Value;

use super::collect;
use crate::error::Result;
use crate::model::Kind;

/// Longest chain of merges followed (a merge of a merge of …): far more than people merge.
pub(crate) const MAX_CHAIN: usize = 32;

/// Most people one group holds (the group is read whole on every person's page).
pub(crate) const MAX_GROUP: usize = 256;

/// Whether person `id` may be recorded as merged into `target`: a person other than itself
/// whose own chain of merges does not lead back to `id`. A bundle may say otherwise (two
/// coordinators merged two people into each other, or a hostile device named a testimony);
/// then `id` stays a person of its own, listed and found, rather than vanish into a cycle.
pub(crate) fn acceptable_target(c: &Connection, id: &str, target: &str) -> Result<bool> {
    if target == id || super::kind_of(c, target)?.as_deref() != Some("person") {
        return Ok(false);
    }
    let mut at = target.to_owned();
    for _ in 0..MAX_CHAIN {
        match into(c, &at)? {
            Some(next) if next == id => return Ok(false),
            Some(next) => at = next,
            None => return Ok(true),
        }
    }
    Ok(false)
}

/// How a revision stated a merge: the survivor listing the absorbed person in `merged` (it
/// then holds copies of their data), or the absorbed person saying `merged_into`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Merged,
    Into,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Merged => "merged",
            Via::Into => "into",
        }
    }
}

/// Notes the merges a person revision of `record` states (every revision passes here as it is
/// stored, so the table holds every merge ever written, undone or not).
pub(crate) fn note_links(c: &Connection, kind: Kind, record: &str, data: &Value) -> Result<()> {
    if kind != Kind::Person {
        return Ok(());
    }
    let mut st = c.prepare_cached(
        "INSERT OR IGNORE INTO merge_links(absorbed, survivor, via) VALUES (?1, ?2, ?3)",
    )?;
    // Ids as this vault writes them: a bundle may spell one in capitals or without hyphens.
    let id = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<crate::model::RecordId>().ok())
            .map(|r| r.to_string())
    };
    for m in data
        .get("merged")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(m) = id(m) {
            st.execute(params![m, record, Via::Merged.as_str()])?;
        }
    }
    if let Some(t) = data.get("merged_into").and_then(id) {
        st.execute(params![record, t, Via::Into.as_str()])?;
    }
    Ok(())
}

/// The people whose revisions ever stated, `via`, that `absorbed` was merged into them.
pub(crate) fn survivors_ever(c: &Connection, absorbed: &str, via: Via) -> Result<Vec<String>> {
    collect(
        c.prepare_cached("SELECT survivor FROM merge_links WHERE absorbed = ?1 AND via = ?2")?
            .query_map(params![absorbed, via.as_str()], |r| r.get(0))?,
    )
}

/// The people ever stated, `via`, to be merged into `survivor`.
pub(crate) fn absorbed_ever(c: &Connection, survivor: &str, via: Via) -> Result<Vec<String>> {
    collect(
        c.prepare_cached("SELECT absorbed FROM merge_links WHERE survivor = ?1 AND via = ?2")?
            .query_map(params![survivor, via.as_str()], |r| r.get(0))?,
    )
}

/// Sets or clears the person record `id` was merged into.
pub(crate) fn set(c: &Connection, id: &str, into: Option<&str>) -> Result<()> {
    c.prepare_cached("UPDATE records SET merged_into = ?2 WHERE id = ?1")?
        .execute(params![id, into])?;
    Ok(())
}

/// The person `id` was merged into, directly (none when it was not).
pub(crate) fn into(c: &Connection, id: &str) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT merged_into FROM records WHERE id = ?1")?
            .query_row([id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten(),
    )
}

/// The person `id` now is: `id` itself unless it was merged into someone, else the end of the
/// chain of merges (see the module comment for cycles and purged people).
pub(crate) fn survivor(c: &Connection, id: &str) -> Result<String> {
    let mut at = id.to_owned();
    let mut seen = BTreeSet::from([at.clone()]);
    for _ in 0..MAX_CHAIN {
        let Some(next) = into(c, &at)? else { break };
        if !seen.insert(next.clone()) || !live(c, &next)? {
            break;
        }
        at = next;
    }
    Ok(at)
}

/// Whether a record exists and its current version has content (not purged).
fn live(c: &Connection, id: &str) -> Result<bool> {
    let found: Option<i64> = c
        .prepare_cached(
            "SELECT 1 FROM records r JOIN revisions v ON v.id = json_extract(r.heads, '$[#-1]') \
             WHERE r.id = ?1 AND r.kind = 'person' AND v.data IS NOT NULL \
             AND json_extract(v.data, '$.' || ?2) IS NULL",
        )?
        .query_row(params![id, crate::revision::PURGE_KEY], |r| r.get(0))
        .optional()?;
    Ok(found.is_some())
}

/// `id` and everyone merged into it, directly or not, `id` first, at most [`MAX_GROUP`].
pub(crate) fn group(c: &Connection, id: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = collect(
        c.prepare_cached(
            "WITH RECURSIVE g(id) AS (SELECT ?1 UNION SELECT r.id FROM records r JOIN g ON r.merged_into = g.id) \
             SELECT id FROM g WHERE id <> ?1 LIMIT ?2",
        )?
        .query_map(params![id, MAX_GROUP as i64 - 1], |r| r.get(0))?,
    )?;
    out.insert(0, id.to_owned());
    Ok(out)
}

/// How many records (of `kind`, or of any) are merged into others: lists count the rest.
pub(crate) fn count_merged(c: &Connection, kind: Option<&str>) -> Result<usize> {
    let n: i64 = c
        .prepare_cached(
            "SELECT count(*) FROM records WHERE merged_into IS NOT NULL AND (?1 IS NULL OR kind = ?1)",
        )?
        .query_row([kind], |r| r.get(0))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bundle may write an id in capitals or without hyphens: the link is kept as this vault
    /// writes ids, so a purge finds it.
    #[test]
    fn links_are_kept_as_this_vault_writes_ids() {
        let c = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&c).unwrap();
        let a = "01934B4C-2F3A-7000-8000-00000000000A";
        let t = "01934b4c2f3a7000800000000000000b";
        let data = serde_json::json!({"merged": [a], "merged_into": t});
        note_links(&c, Kind::Person, "s", &data).unwrap();
        assert_eq!(
            survivors_ever(&c, &a.to_lowercase(), Via::Merged).unwrap(),
            ["s"]
        );
        assert_eq!(
            absorbed_ever(&c, "01934b4c-2f3a-7000-8000-00000000000b", Via::Into).unwrap(),
            ["s"]
        );
    }
}
