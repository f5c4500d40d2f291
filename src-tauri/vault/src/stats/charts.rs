//! Each chart's query (`super`), and the records behind one of its bars.

use rusqlite::{params, Connection};

use super::passes;
use super::{table, today, waiting_span, Chart, Counts, COUNT, PERSON_NOW, PER_PERSON};
use crate::error::{Error, Result};
use crate::model::RecordId;
use crate::store;

/// The two dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dashboard {
    /// Renunciation attempts: by year, waiting, by channel, per person.
    Attempts,
    /// Testimonies: by event, year, region; facilities; caseworker activity.
    Testimonies,
}

/// Every chart of a dashboard, now, from one pass over its facts (`super::passes`).
pub fn dashboard(conn: &Connection, which: Dashboard) -> Result<Vec<Counts>> {
    match which {
        Dashboard::Attempts => passes::attempt_charts(conn),
        Dashboard::Testimonies => {
            let mut charts = passes::testimony_charts(conn)?;
            charts.push(activity(conn)?);
            Ok(charts)
        }
    }
}

/// The counts of one chart, now (its dashboard's pass).
pub fn counts(conn: &Connection, chart: Chart) -> Result<Counts> {
    let which = match chart {
        Chart::AttemptsByYear
        | Chart::Waiting
        | Chart::OutcomesByChannel
        | Chart::AttemptsPerPerson => Dashboard::Attempts,
        Chart::Activity => return activity(conn),
        _ => Dashboard::Testimonies,
    };
    dashboard(conn, which)?
        .into_iter()
        .find(|c| c.chart == chart)
        .ok_or_else(|| Error::Verify(format!("no chart {chart:?} on its dashboard")))
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
        conn.prepare_cached("SELECT device, month, n FROM activity WHERE month >= ?1")?
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
        Chart::AttemptsByYear => {
            let (from, to) = year_range(row);
            store::collect(
                conn.prepare_cached(
                    "SELECT record FROM attempt_facts WHERE CAST(substr(submitted, 1, 4) AS INTEGER) \
                     BETWEEN ?1 AND ?2 AND COALESCE(outcome, 'none') = ?3 ORDER BY submitted LIMIT ?4",
                )?
                .query_map(params![from, to, col, limit], |r| r.get(0))?,
            )?
        }
        Chart::OutcomesByChannel => store::collect(
            conn.prepare_cached(
                "SELECT record FROM attempt_facts WHERE COALESCE(channel, 'none') = ?1 \
                 AND COALESCE(outcome, 'none') = ?2 ORDER BY submitted LIMIT ?3",
            )?
            .query_map(params![row, col, limit], |r| r.get(0))?,
        )?,
        Chart::Waiting => {
            let today = today();
            passes::last_of_each(passes::attempt_lines(conn)?)
                .into_iter()
                .filter(|(l, _)| l.waiting && waiting_span(&l.submitted, today) == row)
                .map(|(l, _)| l.person)
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
                Chart::TestimoniesByYear if row == super::NONE => {
                    "COALESCE(CAST(year AS TEXT), 'none')"
                }
                Chart::TestimoniesByYear => {
                    let (from, to) = year_range(row);
                    return in_years(conn, from, to, limit);
                }
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

/// The years a row of a chart by year stands for.
fn year_range(row: &str) -> (i64, i64) {
    let this = i64::from(today().year());
    match row {
        super::EARLIER => (i64::MIN, this - i64::from(super::YEAR_WINDOW)),
        super::LATER => (this + 1, i64::MAX),
        y => y.parse().map_or((0, -1), |y| (y, y)),
    }
}

/// Testimonies telling of an event in the years `from..=to`.
fn in_years(conn: &Connection, from: i64, to: i64, limit: i64) -> Result<Vec<RecordId>> {
    let ids: Vec<String> = store::collect(
        conn.prepare_cached(
            "SELECT DISTINCT record FROM event_facts WHERE year BETWEEN ?1 AND ?2 \
             ORDER BY record DESC LIMIT ?3",
        )?
        .query_map(params![from, to, limit], |r| r.get(0))?,
    )?;
    ids.iter()
        .map(|s| {
            s.parse()
                .map_err(|_| Error::Verify(format!("a stored id {s:?} does not read")))
        })
        .collect()
}
