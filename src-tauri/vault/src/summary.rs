//! What a list row or a search result says about a record: typed facts, never words.
//!
//! The command line words them in English (`kuager list`), the app in the user's language; both
//! take the same facts from here. Some facts are derived and never stored: a person's name on
//! their testimonies and attempts, an attempt's number among the person's attempts, and the days
//! an attempt has waited for an answer. Attempt numbering has one rule, [`attempts_of`]: by the
//! date submitted (an approximate date counts as the date), then by record id.

use std::collections::HashMap;

use rusqlite::Connection;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{CaseStatus, Kind, Outcome, PartialDate, RecordId, ReviewStatus};
use crate::revision;
use crate::store::{self, heads, merges};

/// A line in a list or search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The record id.
    pub id: RecordId,
    /// Its kind.
    pub kind: Kind,
    /// What the line shows.
    pub facts: Facts,
    /// When its current version was saved (RFC 3339).
    pub updated_at: String,
    /// More than one head: versions that conflict.
    pub conflict: bool,
}

/// The facts of a summary, by kind. `None` is a fact that is not known (not given, or the
/// person referred to has no name here).
#[derive(Debug, Clone, PartialEq)]
pub enum Facts {
    /// The record was purged: its content no longer exists.
    Purged,
    /// A person.
    Person {
        /// Every name, the first is the main one.
        names: Vec<String>,
        /// Date of birth.
        born: Option<PartialDate>,
    },
    /// A testimony.
    Testimony {
        /// The witness's main name.
        witness: Option<String>,
        /// When it was recorded.
        recorded: Option<PartialDate>,
        /// Its review status.
        status: Option<ReviewStatus>,
        /// How many attachments it has.
        attachments: usize,
    },
    /// A renunciation attempt.
    Attempt {
        /// The person's main name.
        person: Option<String>,
        /// 1-based position among the person's attempts ([`attempts_of`]).
        number: usize,
        /// When it was submitted.
        submitted: Option<PartialDate>,
        /// The answer, if one came.
        outcome: Option<Outcome>,
        /// When the answer came.
        outcome_on: Option<PartialDate>,
        /// Days since submission, while no answer has come (no outcome, pending, no response).
        waiting_days: Option<i64>,
    },
    /// A case.
    Case {
        /// Its reference (`AJ-2026-14`).
        reference: String,
        /// Its title.
        title: Option<String>,
        /// Its status.
        status: Option<CaseStatus>,
    },
}

/// One of a person's attempts, in numbering order (see [`attempts_of`]).
#[derive(Debug, Clone)]
pub(crate) struct AttemptRef {
    pub id: String,
    pub submitted: String,
}

/// A person's attempts, numbered from 1 in this order: by the date submitted (`~` ignored), then
/// by record id. From the index of references; each attempt read in its current version (the
/// newest head when in conflict). A person merged with others has the attempts of every id of
/// the group (`crate::store::merges`), whichever id is asked.
pub(crate) fn attempts_of(c: &Connection, person: &str) -> Result<Vec<AttemptRef>> {
    let group = merges::group(c, &merges::survivor(c, person)?)?;
    let mut st = c.prepare_cached(
        "SELECT r.id, json_extract(v.data, '$.person'), json_extract(v.data, '$.submitted_on') \
         FROM refs f JOIN records r ON r.id = f.record AND r.kind = 'attempt' \
         JOIN revisions v ON v.id = json_extract(r.heads, '$[#-1]') \
         WHERE f.target = ?1",
    )?;
    let mut rows: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    for id in &group {
        rows.extend(store::collect(
            st.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?,
        )?);
    }
    let mut list: Vec<AttemptRef> = rows
        .into_iter()
        .filter(|(_, p, _)| p.as_ref().is_some_and(|p| group.contains(p)))
        .map(|(id, _, date)| AttemptRef {
            id,
            submitted: date.unwrap_or_default(),
        })
        .collect();
    list.sort_by(|a, b| {
        a.submitted
            .trim_end_matches('~')
            .cmp(b.submitted.trim_end_matches('~'))
            .then(a.id.cmp(&b.id))
    });
    Ok(list)
}

/// Days an attempt (stored data) has waited since it was submitted, while no answer has come:
/// no outcome yet, or one that is still pending or got no response.
pub(crate) fn waiting_days(attempt: &Value) -> Option<i64> {
    let outcome: Option<Outcome> = field(attempt, "outcome");
    if !outcome.is_none_or(Outcome::is_waiting) {
        return None;
    }
    days_since(attempt.get("submitted_on")?.as_str()?)
}

/// Whole days from a (partial) date to today, counting from its earliest possible day.
pub fn days_since(date: &str) -> Option<i64> {
    let d: PartialDate = date.parse().ok()?;
    let start = d.earliest()?;
    let today = time::OffsetDateTime::now_utc().date();
    Some((today - start).whole_days())
}

/// Builds summaries, caching person names and attempt lists (a page of testimonies and
/// attempts names the same people again and again).
pub(crate) struct Summarizer<'c> {
    conn: &'c Connection,
    names: HashMap<String, Option<String>>,
    attempts_by_person: HashMap<String, Vec<AttemptRef>>,
}

/// A typed field of stored data (`None` when absent or not of that type).
fn field<T: DeserializeOwned>(d: &Value, key: &str) -> Option<T> {
    d.get(key).and_then(|v| T::deserialize(v).ok())
}

impl<'c> Summarizer<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Self {
        Summarizer {
            conn,
            names: HashMap::new(),
            attempts_by_person: HashMap::new(),
        }
    }

    /// The summary of record `id`.
    pub(crate) fn summary(&mut self, id: &str) -> Result<Summary> {
        let rid: RecordId = id.parse()?;
        let heads = heads::of(self.conn, rid)?;
        let head = heads
            .last()
            .ok_or_else(|| Error::NotFound(format!("record {id}")))?;
        // Purged: a marker among the heads (a purge wins over versions written beside it),
        // or no content left in the one shown.
        let purged = heads
            .iter()
            .any(|h| h.data.as_ref().is_none_or(revision::is_purge_marker));
        let facts = match &head.data {
            Some(d) if !purged => self.facts(head.kind, id, d)?,
            _ => Facts::Purged,
        };
        Ok(Summary {
            id: rid,
            kind: head.kind,
            facts,
            updated_at: head.at.clone(),
            conflict: heads.len() > 1,
        })
    }

    fn facts(&mut self, kind: Kind, id: &str, d: &Value) -> Result<Facts> {
        let text = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        Ok(match kind {
            Kind::Person => Facts::Person {
                names: d
                    .get("names")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n.get("value").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect(),
                born: field(d, "date_of_birth"),
            },
            Kind::Testimony => Facts::Testimony {
                witness: self.person_name(&text("witness"))?,
                recorded: field(d, "recorded_at"),
                status: field(d, "status"),
                attachments: crate::model::attachment_blobs(d).count(),
            },
            Kind::Attempt => {
                let person = text("person");
                let outcome: Option<Outcome> = field(d, "outcome");
                let waiting = outcome.is_none_or(Outcome::is_waiting);
                Facts::Attempt {
                    person: self.person_name(&person)?,
                    number: self.attempt_number(&person, id)?,
                    submitted: field(d, "submitted_on"),
                    outcome,
                    outcome_on: if waiting {
                        None
                    } else {
                        field(d, "outcome_on")
                    },
                    waiting_days: waiting_days(d),
                }
            }
            Kind::Case => Facts::Case {
                reference: text("reference"),
                title: field(d, "title"),
                status: field(d, "status"),
            },
        })
    }

    /// The main name of person `id` (cached).
    fn person_name(&mut self, id: &str) -> Result<Option<String>> {
        if let Some(n) = self.names.get(id) {
            return Ok(n.clone());
        }
        let heads = match id.parse::<RecordId>().map(|rid| heads::of(self.conn, rid)) {
            Ok(Ok(heads)) => heads,
            // Not an id, or no such person here (a bundle may refer to one it does not carry).
            Err(_) | Ok(Err(Error::NotFound(_))) => vec![],
            Ok(Err(e)) => return Err(e),
        };
        let name = heads
            .last()
            .and_then(|h| h.data.as_ref())
            .and_then(|d| d.pointer("/names/0/value"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        self.names.insert(id.to_owned(), name.clone());
        Ok(name)
    }

    /// 1-based position of attempt `id` among the person's attempts (0 if not among them).
    fn attempt_number(&mut self, person: &str, id: &str) -> Result<usize> {
        if !self.attempts_by_person.contains_key(person) {
            let list = attempts_of(self.conn, person)?;
            self.attempts_by_person.insert(person.to_owned(), list);
        }
        Ok(self
            .attempts_by_person
            .get(person)
            .and_then(|l| l.iter().position(|a| a.id == id))
            .map_or(0, |p| p + 1))
    }
}
