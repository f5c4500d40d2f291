//! Reading: a record, its summary, what refers to it, its history; lists, search, conflicts,
//! a person's attempts, the audit log.

use std::collections::BTreeSet;

use rusqlite::params;

use super::{AttemptLine, BirthMatch, Duplicate, HistoryEntry, Hit, RecordView, Vault};
use crate::error::{Error, Result};
use crate::index;
use crate::model::{Kind, RecordId};
use crate::store::{self, audit, heads, merges, revisions};
use crate::summary::{self, Summarizer, Summary};

/// How two birth dates as written (`1969`, `1969-03`, `1969-03-02`, `~` for approximate)
/// compare, or `None` when they cannot be one person's: a year, month or day both give and
/// that differs. An approximate date rules nothing out.
fn compare_births(a: Option<&str>, b: Option<&str>) -> Option<BirthMatch> {
    let (Some(a), Some(b)) = (a, b) else {
        return Some(BirthMatch::Unknown);
    };
    if a.ends_with('~') || b.ends_with('~') {
        return Some(BirthMatch::Unknown);
    }
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('-').collect(), b.split('-').collect());
    if pa.iter().zip(&pb).any(|(x, y)| x != y) {
        return None;
    }
    match (pa.len(), pb.len()) {
        (3, 3) => Some(BirthMatch::Same),
        _ => Some(BirthMatch::SameYear),
    }
}

impl Vault {
    /// A record and its head(s).
    pub fn get(&self, id: RecordId) -> Result<RecordView> {
        let o = self.o()?;
        let kind = store::record_kind(&o.conn, id)?;
        let heads = heads::of(&o.conn, id)?;
        Ok(RecordView { id, kind, heads })
    }

    /// The one-line summary of a record (title, derived facts such as attempt number and
    /// days waiting).
    pub fn summary(&self, id: RecordId) -> Result<Summary> {
        let o = self.o()?;
        store::record_kind(&o.conn, id)?;
        Summarizer::new(&o.conn).summary(&id.to_string())
    }

    /// The records whose current version refers to `id`, newest first: a person's testimonies
    /// (as witness or victim), attempts, relatives naming them and cases holding them; a
    /// testimony's or attempt's cases. From the index of references every save keeps (a
    /// narrative that merely quotes an id is not a reference).
    ///
    /// For a person, the records that refer to any id of their merge group
    /// ([`Vault::merge_group`]), whichever id is asked.
    pub fn related(&self, id: RecordId) -> Result<Vec<Summary>> {
        let o = self.o()?;
        let ids = if store::record_kind(&o.conn, id)? == Kind::Person {
            let group = merges::group(&o.conn, &merges::survivor(&o.conn, &id.to_string())?)?;
            let mut all = BTreeSet::new();
            for member in &group {
                all.extend(index::referring(&o.conn, member)?);
            }
            for member in &group {
                all.remove(member);
            }
            all.into_iter().rev().collect()
        } else {
            index::referring(&o.conn, &id.to_string())?
        };
        let mut s = Summarizer::new(&o.conn);
        ids.iter().map(|other| s.summary(other)).collect()
    }

    /// A person's renunciation attempts, numbered as every list numbers them, oldest first.
    pub fn person_attempts(&self, person: RecordId) -> Result<Vec<AttemptLine>> {
        let o = self.o()?;
        if store::record_kind(&o.conn, person)? != Kind::Person {
            return Err(Error::invalid(
                "person",
                format!("{person} is not a person"),
            ));
        }
        let mut out = Vec::new();
        for (i, a) in summary::attempts_of(&o.conn, &person.to_string())?
            .into_iter()
            .enumerate()
        {
            let id: RecordId = a.id.parse()?;
            let Some(head) = heads::of(&o.conn, id)?.pop() else {
                continue;
            };
            let Some(data) = head.data else { continue };
            out.push(AttemptLine {
                id,
                revision: head.id,
                number: i + 1,
                waiting_days: summary::waiting_days(&data),
                data,
            });
        }
        Ok(out)
    }

    /// The history of a record, oldest first.
    pub fn history(&self, id: RecordId) -> Result<Vec<HistoryEntry>> {
        let o = self.o()?;
        store::record_kind(&o.conn, id)?;
        let current: BTreeSet<String> = heads::ids(&o.conn, id)?.into_iter().collect();
        revisions::ancestry(&o.conn, id)?
            .into_iter()
            .map(|r| {
                Ok(HistoryEntry {
                    head: current.contains(&r.id),
                    id: r.id.parse()?,
                    parents: r
                        .parents
                        .iter()
                        .map(|p| p.parse())
                        .collect::<Result<_>>()
                        .unwrap_or_default(),
                    device: r.device,
                    at: r.at,
                    purged: r.purged,
                })
            })
            .collect()
    }

    /// Lists records, optionally of one kind, newest first (a person merged into another is
    /// listed as that other).
    pub fn list(&self, kind: Option<Kind>) -> Result<Vec<Summary>> {
        let o = self.o()?;
        let ids: Vec<String> = match kind {
            Some(k) => store::collect(
                o.conn
                    .prepare("SELECT id FROM records WHERE kind = ?1 AND merged_into IS NULL ORDER BY id DESC")?
                    .query_map([k.as_str()], |r| r.get(0))?,
            )?,
            None => store::collect(
                o.conn
                    .prepare("SELECT id FROM records WHERE merged_into IS NULL ORDER BY id DESC")?
                    .query_map([], |r| r.get(0))?,
            )?,
        };
        let mut s = Summarizer::new(&o.conn);
        ids.iter().map(|id| s.summary(id)).collect()
    }

    /// One page of [`Vault::list`] and the total: only the page's summaries are computed, so a
    /// scrolling list of 100,000 records costs the same per page as one of 100. People merged
    /// into others are neither listed nor counted.
    pub fn list_page(
        &self,
        kind: Option<Kind>,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<Summary>)> {
        let c = &self.o()?.conn;
        let (limit, offset) = (limit as i64, offset as i64);
        // One kind walks the (kind, id) index; all kinds the primary key. Two statements, so
        // each uses its index (`?1 IS NULL OR kind = ?1` would scan the table).
        let (total, ids): (i64, Vec<String>) = match kind {
            Some(k) => (
                c.query_row(
                    "SELECT count(*) FROM records WHERE kind = ?1",
                    [k.as_str()],
                    |r| r.get(0),
                )?,
                store::collect(
                    c.prepare_cached(
                        "SELECT id FROM records WHERE kind = ?1 AND merged_into IS NULL ORDER BY id DESC LIMIT ?2 OFFSET ?3",
                    )?
                    .query_map(params![k.as_str(), limit, offset], |r| r.get(0))?,
                )?,
            ),
            None => (
                c.query_row("SELECT count(*) FROM records", [], |r| r.get(0))?,
                store::collect(
                    c.prepare_cached(
                        "SELECT id FROM records WHERE merged_into IS NULL ORDER BY id DESC LIMIT ?1 OFFSET ?2",
                    )?
                        .query_map(params![limit, offset], |r| r.get(0))?,
                )?,
            ),
        };
        let merged = merges::count_merged(c, kind.map(Kind::as_str))?;
        let mut s = Summarizer::new(c);
        let rows = ids.iter().map(|id| s.summary(id)).collect::<Result<_>>()?;
        Ok(((total as usize).saturating_sub(merged), rows))
    }

    /// Searches names in any script and spelling, document and reference numbers, record ids
    /// and full text. At most `limit` hits, best kind of match first. A person merged into
    /// another is found as that other, once.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>> {
        let o = self.o()?;
        let found = index::search_ids(&o.conn, query, limit)?;
        let mut s = Summarizer::new(&o.conn);
        let mut seen = BTreeSet::new();
        let mut hits = Vec::new();
        for (matched, id) in found {
            let id = merges::survivor(&o.conn, &id)?;
            if seen.insert(id.clone()) {
                hits.push(Hit {
                    matched,
                    summary: s.summary(&id)?,
                });
            }
        }
        Ok(hits)
    }

    /// Records with more than one head (conflicting versions), newest first.
    pub fn conflicts(&self) -> Result<Vec<RecordView>> {
        let o = self.o()?;
        let ids: Vec<String> = store::collect(
            o.conn
                .prepare(
                    "SELECT id FROM records WHERE json_array_length(heads) > 1 ORDER BY id DESC",
                )?
                .query_map([], |r| r.get(0))?,
        )?;
        ids.iter().map(|id| self.get(id.parse()?)).collect()
    }

    /// People who may be the same person as `id`, most likely first (at most `limit`): they
    /// share spellings of a name (in any script) or a document number, and their birth dates
    /// agree as far as both are known. A full birth date that differs rules a person out.
    /// People already merged (into this one or another) are not suggested.
    pub fn duplicate_suggestions(&self, id: RecordId, limit: usize) -> Result<Vec<Duplicate>> {
        let o = self.o()?;
        if store::record_kind(&o.conn, id)? != Kind::Person {
            return Err(Error::invalid("", "only people have duplicates"));
        }
        let id: RecordId = merges::survivor(&o.conn, &id.to_string())?.parse()?;
        let data = |id: &str| -> Result<Option<serde_json::Value>> {
            Ok(heads::of(&o.conn, id.parse()?)?
                .into_iter()
                .next_back()
                .and_then(|h| h.data))
        };
        let Some(mine) = data(&id.to_string())? else {
            return Ok(vec![]);
        };
        let my_birth = mine
            .get("date_of_birth")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let candidates = index::duplicate_candidates(&o.conn, &id.to_string(), &mine)?;
        // Every candidate's birth date in one query (their current version's), not one read
        // each: the common names of a large vault give hundreds.
        let births = store::birth_dates(&o.conn, candidates.iter().map(|c| c.record.as_str()))?;
        let mut scored = Vec::new();
        for c in candidates {
            let Some(theirs) = births.get(&c.record) else {
                continue; // purged, merged into someone, or no current version
            };
            let Some(birth) = compare_births(my_birth.as_deref(), theirs.as_deref()) else {
                continue; // born on another day, month or year, as far as both are known
            };
            let score = 10 * c.shared_numbers
                + 3 * c.shared_names
                + match birth {
                    BirthMatch::Same => 4,
                    BirthMatch::SameYear => 2,
                    BirthMatch::Unknown => 0,
                };
            scored.push((score, c, birth));
        }
        scored.sort_by_key(|(score, _, _)| std::cmp::Reverse(*score));
        scored.truncate(limit);
        let mut s = Summarizer::new(&o.conn);
        let mut out = Vec::new();
        for (score, c, birth) in scored {
            out.push(Duplicate {
                summary: s.summary(&c.record)?,
                shared_names: c.shared_names,
                shared_numbers: c.shared_numbers,
                birth,
                score,
            });
        }
        Ok(out)
    }

    /// How many records have conflicting versions, and a page of them (`offset`, at most
    /// `limit`), newest first, as the lists show them, with how many versions each has. For
    /// the conflicts screen: only the page's summaries are made.
    pub fn conflict_summaries(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<(Summary, usize)>)> {
        let o = self.o()?;
        let total: i64 = o.conn.query_row(
            "SELECT count(*) FROM records WHERE json_array_length(heads) > 1",
            [],
            |r| r.get(0),
        )?;
        let rows: Vec<(String, usize)> = store::collect(
            o.conn
                .prepare(
                    "SELECT id, json_array_length(heads) FROM records \
                     WHERE json_array_length(heads) > 1 ORDER BY id DESC LIMIT ?1 OFFSET ?2",
                )?
                .query_map([limit as i64, offset as i64], |r| {
                    Ok((r.get(0)?, r.get::<_, i64>(1)? as usize))
                })?,
        )?;
        let mut s = Summarizer::new(&o.conn);
        let page = rows
            .into_iter()
            .map(|(id, n)| Ok((s.summary(&id)?, n)))
            .collect::<Result<_>>()?;
        Ok((total as usize, page))
    }

    /// The audit log, oldest first.
    pub fn audit(&self) -> Result<Vec<audit::AuditEvent>> {
        audit::all(&self.o()?.conn)
    }
}
