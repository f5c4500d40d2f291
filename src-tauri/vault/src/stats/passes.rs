//! The charts of one dashboard from one pass over its facts (`super`): the attempts' four from
//! the 20,000 rows of `attempt_facts`, the testimonies' from `event_facts` in its own order
//! (by record, so each testimony's distinct values are counted once without a sort). One
//! read each instead of a query a chart: at 100,000 testimonies the difference between a
//! dashboard drawn at once and one that makes the user wait (docs/benchmarks.md).

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

use super::{
    table, today, waiting_span, year_row, year_rows, Chart, Counts, CHANNELS, COUNT, EVENT_TYPES,
    NONE, OUTCOMES, PER_PERSON, TOP_FACILITIES, WAITING,
};
use crate::error::Result;
use crate::store;

/// One attempt, its person as the person they now are (one merge deep).
#[derive(Debug, Clone)]
pub(super) struct AttemptLine {
    pub person: String,
    pub record: String,
    pub submitted: String,
    pub channel: Option<String>,
    pub request: Option<String>,
    pub outcome: Option<String>,
    pub waiting: bool,
}

/// Every attempt, by person, then date submitted, then id. Merged people are few: their ids
/// are read first (a partial index holds them), so the attempts are one scan of their table,
/// sorted here, rather than a lookup of every attempt's person.
pub(super) fn attempt_lines(conn: &Connection) -> Result<Vec<AttemptLine>> {
    let merged: std::collections::HashMap<String, String> = store::collect(
        conn.prepare_cached("SELECT id, merged_into FROM records WHERE merged_into IS NOT NULL")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?,
    )?
    .into_iter()
    .collect();
    let mut lines: Vec<AttemptLine> = store::collect(
        conn.prepare_cached(
            "SELECT person, record, submitted, channel, request, outcome, waiting FROM attempt_facts",
        )?
        .query_map([], |r| {
            Ok(AttemptLine {
                person: r.get(0)?,
                record: r.get(1)?,
                submitted: r.get(2)?,
                channel: r.get(3)?,
                request: r.get(4)?,
                outcome: r.get(5)?,
                waiting: r.get(6)?,
            })
        })?,
    )?;
    for l in &mut lines {
        if let Some(into) = merged.get(&l.person) {
            l.person.clone_from(into);
        }
    }
    lines.sort_unstable_by(|a, b| {
        (&a.person, &a.submitted, &a.record).cmp(&(&b.person, &b.submitted, &b.record))
    });
    Ok(lines)
}

/// Each person's last attempt and how many they made, from [`attempt_lines`].
pub(super) fn last_of_each(lines: Vec<AttemptLine>) -> Vec<(AttemptLine, u64)> {
    let mut out: Vec<(AttemptLine, u64)> = Vec::new();
    for l in lines {
        match out.last_mut() {
            Some((last, n)) if last.person == l.person => {
                *last = l;
                *n += 1;
            }
            _ => out.push((l, 1)),
        }
    }
    out
}

fn cell(r: &str, c: &str) -> (String, String, u64) {
    (r.to_owned(), c.to_owned(), 1)
}

/// Attempts by year, people waiting, outcomes by channel, attempts per person.
pub(super) fn attempt_charts(conn: &Connection) -> Result<Vec<Counts>> {
    let lines = attempt_lines(conn)?;
    let (mut by_year, mut by_channel) = (Vec::new(), Vec::new());
    let this_year = today().year();
    for l in &lines {
        let outcome = l.outcome.as_deref().unwrap_or(NONE);
        let year = year_row(l.submitted.get(..4).unwrap_or(&l.submitted), this_year);
        by_year.push((year, outcome.to_owned(), 1));
        by_channel.push(cell(l.channel.as_deref().unwrap_or(NONE), outcome));
    }
    let today = today();
    let (mut waiting, mut per_person) = (Vec::new(), Vec::new());
    for (last, n) in last_of_each(lines) {
        if last.waiting {
            waiting.push(cell(waiting_span(&last.submitted, today), COUNT));
        }
        let i = usize::try_from(n.clamp(1, 5) - 1).unwrap_or(0);
        per_person.push(cell(PER_PERSON[i], COUNT));
    }
    let years = year_rows(this_year, false);
    let years: Vec<&str> = years.iter().map(String::as_str).collect();
    Ok(vec![
        table(Chart::AttemptsByYear, by_year, &years, &OUTCOMES),
        table(Chart::Waiting, waiting, &WAITING, &[COUNT]),
        table(Chart::OutcomesByChannel, by_channel, &CHANNELS, &OUTCOMES),
        table(Chart::AttemptsPerPerson, per_person, &PER_PERSON, &[COUNT]),
    ])
}

/// The distinct values one testimony's events name, counted once each.
#[derive(Default)]
struct Told {
    types: BTreeSet<String>,
    years: BTreeSet<String>,
    regions: BTreeSet<String>,
    facilities: BTreeMap<String, String>,
}

/// Testimonies by event type, by year, by region; facilities named most.
pub(super) fn testimony_charts(conn: &Connection) -> Result<Vec<Counts>> {
    let mut types: BTreeMap<String, u64> = BTreeMap::new();
    let mut years: BTreeMap<String, u64> = BTreeMap::new();
    let mut regions: BTreeMap<String, u64> = BTreeMap::new();
    // Facilities however they are written ("Camp No. 3", "camp no. 3"): the first spelling.
    let mut facilities: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut add = |t: Told| {
        for k in t.types {
            *types.entry(k).or_default() += 1;
        }
        for k in t.years {
            *years.entry(k).or_default() += 1;
        }
        for k in t.regions {
            *regions.entry(k).or_default() += 1;
        }
        for (k, shown) in t.facilities {
            facilities.entry(k).or_insert((shown, 0)).1 += 1;
        }
    };
    let this_year = today().year();
    let mut st =
        conn.prepare_cached("SELECT record, type, year, region, facility FROM event_facts")?;
    let mut rows = st.query([])?;
    let (mut current, mut told) = (String::new(), Told::default());
    while let Some(r) = rows.next()? {
        let record: String = r.get(0)?;
        if record != current {
            add(std::mem::take(&mut told));
            current = record;
        }
        told.types.insert(r.get(1)?);
        told.years.insert(
            r.get::<_, Option<i64>>(2)?
                .map_or(NONE.to_owned(), |y| year_row(&y.to_string(), this_year)),
        );
        told.regions.insert(r.get(3)?);
        if let Some(f) = r.get::<_, Option<String>>(4)? {
            told.facilities.entry(f.to_lowercase()).or_insert(f);
        }
    }
    add(told);
    let cells = |m: BTreeMap<String, u64>| -> Vec<(String, String, u64)> {
        m.into_iter()
            .map(|(k, n)| (k, COUNT.to_owned(), n))
            .collect()
    };
    let year_cells = cells(years);
    let year_order = year_rows(this_year, true);
    let year_order: Vec<&str> = year_order.iter().map(String::as_str).collect();
    let region_order: Vec<&str> = crate::model::regions::region_keys().collect();
    let mut named: Vec<(String, u64)> = facilities.into_values().collect();
    named.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    named.truncate(TOP_FACILITIES);
    let facility_order: Vec<&str> = named.iter().map(|(f, _)| f.as_str()).collect();
    let facility_cells = named
        .iter()
        .map(|(f, n)| (f.clone(), COUNT.to_owned(), *n))
        .collect();
    Ok(vec![
        table(
            Chart::TestimoniesByEvent,
            cells(types),
            &EVENT_TYPES,
            &[COUNT],
        ),
        table(Chart::TestimoniesByYear, year_cells, &year_order, &[COUNT]),
        table(
            Chart::TestimoniesByRegion,
            cells(regions),
            &region_order,
            &[COUNT],
        ),
        table(Chart::Facilities, facility_cells, &facility_order, &[COUNT]),
    ])
}
