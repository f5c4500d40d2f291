//! The follow-up list: people whose last renunciation attempt has waited longer than a chosen
//! number of days for an answer, oldest first, with what was last asked and where: the
//! caseworker's next calls. A person merged into another counts as that person (one merge
//! deep, as lists show them).

use rusqlite::Connection;
use serde::Serialize;

use super::PERSON_NOW;
use crate::error::Result;
use crate::model::RecordId;
use crate::store;
use crate::summary::{Facts, Summarizer};

/// Most people the list shows.
pub const MAX_FOLLOW_UP: usize = 1_000;

/// A person's last attempt (by date submitted, then id) and how many they made.
#[derive(Debug, Clone)]
pub(super) struct LastAttempt {
    pub record: String,
    pub submitted: String,
    pub channel: Option<String>,
    pub request: Option<String>,
    pub waiting: bool,
    pub attempts: u64,
}

/// Every person with an attempt, with their last one.
pub(super) fn last_attempts(conn: &Connection) -> Result<Vec<(String, LastAttempt)>> {
    type Line = (String, String, String, Option<String>, Option<String>, bool);
    let lines: Vec<Line> = store::collect(
        conn.prepare_cached(&format!(
            "SELECT {PERSON_NOW} AS p, f.record, f.submitted, f.channel, f.request, f.waiting \
             FROM attempt_facts f ORDER BY p, f.submitted, f.record"
        ))?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?,
    )?;
    let mut out: Vec<(String, LastAttempt)> = Vec::new();
    for (person, record, submitted, channel, request, waiting) in lines {
        let attempts = match out.last() {
            Some((p, l)) if *p == person => l.attempts + 1,
            _ => 1,
        };
        if out.last().is_some_and(|(p, _)| *p == person) {
            out.pop();
        }
        out.push((
            person,
            LastAttempt {
                record,
                submitted,
                channel,
                request,
                waiting,
                attempts,
            },
        ));
    }
    Ok(out)
}

/// One line of the follow-up list.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    /// The person.
    pub person: RecordId,
    /// Their main name (none known: `None`).
    pub name: Option<String>,
    /// Their last attempt.
    pub attempt: RecordId,
    /// When it was submitted (`YYYY-MM-DD`; the first day of a partial date).
    pub submitted: String,
    /// Where (a channel key), if known.
    pub channel: Option<String>,
    /// What was asked (a request key), if known.
    pub request: Option<String>,
    /// Days it has waited, today.
    pub days: i64,
    /// How many attempts the person made.
    pub attempts: u64,
}

/// People whose last attempt has waited more than `min_days`, oldest first, at most `limit`
/// (and [`MAX_FOLLOW_UP`]).
pub fn follow_up(conn: &Connection, min_days: i64, limit: usize) -> Result<Vec<FollowUp>> {
    let mut waiting: Vec<(i64, String, LastAttempt)> = last_attempts(conn)?
        .into_iter()
        .filter(|(_, l)| l.waiting)
        .filter_map(|(p, l)| {
            let days = crate::summary::days_since(&l.submitted)?;
            (days > min_days).then_some((days, p, l))
        })
        .collect();
    waiting.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    waiting.truncate(limit.min(MAX_FOLLOW_UP));
    let mut names = Summarizer::new(conn);
    let mut out = Vec::with_capacity(waiting.len());
    for (days, p, l) in waiting {
        let name = match names.summary(&p)?.facts {
            Facts::Person { names, .. } => names.into_iter().next(),
            _ => None,
        };
        out.push(FollowUp {
            person: p.parse()?,
            name,
            attempt: l.record.parse()?,
            submitted: l.submitted,
            channel: l.channel,
            request: l.request,
            days,
            attempts: l.attempts,
        });
    }
    Ok(out)
}
