//! Each chart's query (`super`), and the records behind one of its bars.

use rusqlite::{params, Connection};

use super::follow_up;
use super::{
    table, today, triples, waiting_span, year_rows, Chart, Counts, CHANNELS, COUNT, EVENT_TYPES,
    OUTCOMES, PERSON_NOW, PER_PERSON, TOP_FACILITIES, WAITING,
};
use crate::error::{Error, Result};
use crate::model::RecordId;
use crate::store;

/// The counts of one chart, now.
pub fn counts(conn: &Connection, chart: Chart) -> Result<Counts> {
    match chart {
        Chart::AttemptsByYear
        | Chart::OutcomesByChannel
        | Chart::Waiting
        | Chart::AttemptsPerPerson => attempts(conn, chart, &OUTCOMES),
        Chart::Activity => activity(conn),
        _ => testimonies(conn, chart),
    }
}

/// The charts of renunciation attempts.
fn attempts(conn: &Connection, chart: Chart, outcomes: &[&str]) -> Result<Counts> {
    Ok(match chart {
        Chart::AttemptsByYear => {
            let cells = triples(
                conn,
                "SELECT substr(submitted, 1, 4), COALESCE(outcome, 'none'), count(*) \
                 FROM attempt_facts GROUP BY 1, 2",
            )?;
            let years = year_rows(&cells);
            let years: Vec<&str> = years.iter().map(String::as_str).collect();
            table(chart, cells, &years, outcomes)
        }
        Chart::OutcomesByChannel => table(
            chart,
            triples(
                conn,
                "SELECT COALESCE(channel, 'none'), COALESCE(outcome, 'none'), count(*) \
                 FROM attempt_facts GROUP BY 1, 2",
            )?,
            &CHANNELS,
            outcomes,
        ),
        Chart::Waiting => {
            let today = today();
            let mut cells = Vec::new();
            for (_, last) in follow_up::last_attempts(conn)? {
                if last.waiting {
                    cells.push((
                        waiting_span(&last.submitted, today).to_owned(),
                        COUNT.to_owned(),
                        1,
                    ));
                }
            }
            table(chart, cells, &WAITING, &[COUNT])
        }
        Chart::AttemptsPerPerson => {
            let per: Vec<i64> = store::collect(
                conn.prepare_cached(&format!(
                    "SELECT count(*) FROM attempt_facts f GROUP BY {PERSON_NOW}"
                ))?
                .query_map([], |r| r.get(0))?,
            )?;
            let cells = per
                .into_iter()
                .map(|n| {
                    let i = usize::try_from(n.clamp(1, 5) - 1).unwrap_or(0);
                    (PER_PERSON[i].to_owned(), COUNT.to_owned(), 1)
                })
                .collect();
            table(chart, cells, &PER_PERSON, &[COUNT])
        }
        _ => unreachable!("a chart of attempts"),
    })
}

/// The charts of testimonies.
fn testimonies(conn: &Connection, chart: Chart) -> Result<Counts> {
    Ok(match chart {
        Chart::TestimoniesByEvent => table(
            chart,
            triples(
                conn,
                "SELECT type, 'count', count(DISTINCT record) FROM event_facts GROUP BY 1",
            )?,
            &EVENT_TYPES,
            &[COUNT],
        ),
        Chart::TestimoniesByYear => {
            let cells = triples(
                conn,
                "SELECT COALESCE(CAST(year AS TEXT), 'none'), 'count', count(DISTINCT record) \
                 FROM event_facts GROUP BY 1",
            )?;
            let years = year_rows(&cells);
            let years: Vec<&str> = years.iter().map(String::as_str).collect();
            table(chart, cells, &years, &[COUNT])
        }
        Chart::TestimoniesByRegion => {
            let order: Vec<&str> = crate::model::regions::region_keys().collect();
            table(
                chart,
                triples(
                    conn,
                    "SELECT region, 'count', count(DISTINCT record) FROM event_facts GROUP BY 1",
                )?,
                &order,
                &[COUNT],
            )
        }
        Chart::Facilities => table(
            chart,
            triples(
                conn,
                &format!(
                    "SELECT facility, 'count', count(DISTINCT record) FROM event_facts \
                     WHERE facility IS NOT NULL GROUP BY facility COLLATE NOCASE \
                     ORDER BY 3 DESC, 1 LIMIT {TOP_FACILITIES}"
                ),
            )?,
            &[],
            &[COUNT],
        ),
        _ => unreachable!("a chart of testimonies"),
    })
}

/// Revisions saved per device in each of the last six months, devices by their label here.
fn activity(conn: &Connection) -> Result<Counts> {
    let today = today();
    let months: Vec<String> = (0..6)
        .rev()
        .map(|back| {
            let m = i32::from(u8::from(today.month())) - 1 - back;
            let (y, m) = (today.year() + m.div_euclid(12), m.rem_euclid(12) + 1);
            format!("{y:04}-{m:02}")
        })
        .collect();
    let from = months[0].clone();
    let mut cells: Vec<(String, String, u64)> = Vec::new();
    let rows: Vec<(String, String, i64)> = store::collect(
        conn.prepare_cached(
            "SELECT device, substr(at, 1, 7), count(*) FROM revisions \
             WHERE device IN (SELECT DISTINCT device FROM revisions) AND at >= ?1 GROUP BY 1, 2",
        )?
        .query_map([&from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?,
    )?;
    let labels = store::peers::device_labels_by_id(conn)?;
    for (device, month, n) in rows {
        let label = labels.get(&device).cloned().unwrap_or(device);
        cells.push((label, month, n.max(0) as u64));
    }
    let order: Vec<&str> = months.iter().map(String::as_str).collect();
    Ok(table(Chart::Activity, cells, &[], &order))
}

/// The records a chart's cell counts (at most `limit`): attempts, people or testimonies.
pub fn records_behind(
    conn: &Connection,
    chart: Chart,
    row: &str,
    column: Option<&str>,
    limit: usize,
) -> Result<Vec<RecordId>> {
    let limit = limit as i64;
    let col = column.unwrap_or(COUNT);
    let ids: Vec<String> = match chart {
        Chart::AttemptsByYear => store::collect(
            conn.prepare_cached(
                "SELECT record FROM attempt_facts WHERE substr(submitted, 1, 4) = ?1 \
                 AND COALESCE(outcome, 'none') = ?2 ORDER BY submitted LIMIT ?3",
            )?
            .query_map(params![row, col, limit], |r| r.get(0))?,
        )?,
        Chart::OutcomesByChannel => store::collect(
            conn.prepare_cached(
                "SELECT record FROM attempt_facts WHERE COALESCE(channel, 'none') = ?1 \
                 AND COALESCE(outcome, 'none') = ?2 ORDER BY submitted LIMIT ?3",
            )?
            .query_map(params![row, col, limit], |r| r.get(0))?,
        )?,
        Chart::Waiting => {
            let today = today();
            follow_up::last_attempts(conn)?
                .into_iter()
                .filter(|(_, l)| l.waiting && waiting_span(&l.submitted, today) == row)
                .map(|(p, _)| p)
                .take(limit.max(0) as usize)
                .collect()
        }
        Chart::AttemptsPerPerson => {
            let rows: Vec<(String, i64)> = store::collect(
                conn.prepare_cached(&format!(
                    "SELECT {PERSON_NOW} AS p, count(*) FROM attempt_facts f GROUP BY p"
                ))?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?,
            )?;
            rows.into_iter()
                .filter(|(_, n)| {
                    PER_PERSON[usize::try_from(n.clamp(&1, &5) - 1).unwrap_or(0)] == row
                })
                .map(|(p, _)| p)
                .take(limit.max(0) as usize)
                .collect()
        }
        Chart::TestimoniesByEvent
        | Chart::TestimoniesByYear
        | Chart::TestimoniesByRegion
        | Chart::Facilities => {
            let field = match chart {
                Chart::TestimoniesByEvent => "type",
                Chart::TestimoniesByYear => "COALESCE(CAST(year AS TEXT), 'none')",
                Chart::TestimoniesByRegion => "region",
                _ => "facility",
            };
            let collate = if chart == Chart::Facilities {
                " COLLATE NOCASE"
            } else {
                ""
            };
            store::collect(
                conn.prepare_cached(&format!(
                    "SELECT DISTINCT record FROM event_facts WHERE {field} = ?1{collate} ORDER BY record DESC LIMIT ?2"
                ))?
                .query_map(params![row, limit], |r| r.get(0))?,
            )?
        }
        Chart::Activity => {
            let labels = store::peers::device_labels_by_id(conn)?;
            let device = labels
                .iter()
                .find(|(_, l)| l.as_str() == row)
                .map_or(row.to_owned(), |(d, _)| d.clone());
            store::collect(
                conn.prepare_cached(
                    "SELECT DISTINCT record FROM revisions WHERE device = ?1 AND substr(at, 1, 7) = ?2 \
                     ORDER BY seq DESC LIMIT ?3",
                )?
                .query_map(params![device, col, limit], |r| r.get(0))?,
            )?
        }
    };
    ids.iter()
        .map(|s| {
            s.parse()
                .map_err(|_| Error::Verify(format!("a stored id {s:?} does not read")))
        })
        .collect()
}
