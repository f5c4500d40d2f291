//! The follow-up list: people whose last renunciation attempt has waited longer than a chosen
//! number of days for an answer, oldest first, with what was last asked and where: the
//! caseworker's next calls. A person merged into another counts as that person (one merge
//! deep, as lists show them).

use rusqlite::Connection;
use serde::Serialize;

use super::passes::{attempt_lines, last_of_each, AttemptLine};
use crate::error::Result;
use crate::model::RecordId;
use crate::summary::{Facts, Summarizer};

/// Most people the list shows.
pub const MAX_FOLLOW_UP: usize = 1_000;

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
    let today = super::today();
    let mut waiting: Vec<(i64, String, AttemptLine, u64)> = last_of_each(attempt_lines(conn)?)
        .into_iter()
        .filter(|(l, _)| l.waiting)
        .filter_map(|(l, n)| {
            let days = super::days_waiting(&l.submitted, today)?;
            (days > min_days).then(|| (days, l.person.clone(), l, n))
        })
        .collect();
    waiting.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    waiting.truncate(limit.min(MAX_FOLLOW_UP));
    let mut names = Summarizer::new(conn);
    let mut out = Vec::with_capacity(waiting.len());
    for (days, p, l, attempts) in waiting {
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
            attempts,
        });
    }
    Ok(out)
}
