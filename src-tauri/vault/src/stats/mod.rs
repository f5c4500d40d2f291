//! Counts for the coordinators' dashboards and for advocacy (docs/design-notes.md "Dashboards"
//! and "Counts for advocacy"): every chart is one query over the facts every save keeps
//! (`crate::index`, `facts.rs`), never a read of the records themselves. A chart's rows and
//! columns are keys of closed sets (an outcome, a channel, an event type, a region, a year, a
//! span of waiting), except the two charts that stay in the vault: facilities named (free text)
//! and caseworker activity (staff). Only the others can be saved to a file (`counts`), the one
//! thing that may leave a vault unencrypted.
//!
//! [`records_behind`] gives the records a chart's bar counts, for the list one click opens.

mod charts;
pub mod counts;
mod follow_up;
mod passes;
#[cfg(feature = "png")]
mod png;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use charts::{counts, dashboard, records_behind, Dashboard};
pub use follow_up::{follow_up, FollowUp, MAX_FOLLOW_UP};

/// The charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Chart {
    /// Renunciation attempts by the year submitted (rows) and outcome (columns).
    AttemptsByYear,
    /// People whose last attempt still waits for an answer, by how long.
    Waiting,
    /// Attempts by channel (rows) and outcome (columns).
    OutcomesByChannel,
    /// People by how many attempts they made.
    AttemptsPerPerson,
    /// Testimonies by the type of event they tell.
    TestimoniesByEvent,
    /// Testimonies by the year of the events they tell.
    TestimoniesByYear,
    /// Testimonies by the region of the events they tell.
    TestimoniesByRegion,
    /// Facilities named most (free text: never saved to a file).
    Facilities,
    /// Revisions saved by each device in the last six months (staff: never saved to a file).
    Activity,
}

impl Chart {
    /// Every chart, in the order a dashboard shows them.
    pub const ALL: [Chart; 9] = [
        Chart::AttemptsByYear,
        Chart::Waiting,
        Chart::OutcomesByChannel,
        Chart::AttemptsPerPerson,
        Chart::TestimoniesByEvent,
        Chart::TestimoniesByYear,
        Chart::TestimoniesByRegion,
        Chart::Facilities,
        Chart::Activity,
    ];

    /// Whether its counts may be saved to a file: its rows and columns are closed sets.
    pub fn exportable(self) -> bool {
        !matches!(self, Chart::Facilities | Chart::Activity)
    }

    /// The key of this chart (as in JSON).
    pub fn key(self) -> &'static str {
        match self {
            Chart::AttemptsByYear => "attempts-by-year",
            Chart::Waiting => "waiting",
            Chart::OutcomesByChannel => "outcomes-by-channel",
            Chart::AttemptsPerPerson => "attempts-per-person",
            Chart::TestimoniesByEvent => "testimonies-by-event",
            Chart::TestimoniesByYear => "testimonies-by-year",
            Chart::TestimoniesByRegion => "testimonies-by-region",
            Chart::Facilities => "facilities",
            Chart::Activity => "activity",
        }
    }
}

/// One row of a chart: its key and a count per column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The key (an outcome, a year, a region, …; a facility's name or a device's label in the
    /// charts that stay here).
    pub key: String,
    /// One count per column.
    pub counts: Vec<u64>,
}

/// A chart's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Which chart.
    pub chart: Chart,
    /// Column keys (`["count"]` for a chart of one series).
    pub columns: Vec<String>,
    /// Rows, in the chart's order.
    pub rows: Vec<Row>,
    /// Whether it may be saved to a file.
    pub exportable: bool,
}

/// The key of a value that is not given (an attempt without an outcome, a channel).
pub const NONE: &str = "none";
/// Outcomes of an attempt (docs/records.md), then [`NONE`].
pub const OUTCOMES: [&str; 9] = [
    "pending",
    "no-response",
    "accepted",
    "refused",
    "not-accepted-for-processing",
    "more-documents-requested",
    "told-to-return-to-china",
    "other",
    NONE,
];
/// Where an attempt was made (docs/records.md), then [`NONE`].
pub const CHANNELS: [&str; 7] = [
    "consulate-almaty",
    "embassy-astana",
    "other-consulate",
    "mail",
    "via-lawyer",
    "in-china",
    NONE,
];
/// Types of event (docs/records.md).
pub const EVENT_TYPES: [&str; 13] = [
    "detention",
    "camp",
    "prison",
    "forced-labour",
    "forced-abortion",
    "sterilisation",
    "surveillance-contact",
    "passport-confiscation",
    "intimidation-abroad",
    "travel-ban",
    "disappearance",
    "death-in-custody",
    "other",
];

/// Years a chart lists one by one, up to this one; before them, one row "earlier"; after it
/// (a date typed wrong), one row "later". A fixed grid: a row of its own for an outlying year
/// would say that some record is there, however its count is written.
pub const YEAR_WINDOW: i32 = 15;
/// The row of years before the window.
pub const EARLIER: &str = "earlier";
/// The row of years after this one.
pub const LATER: &str = "later";

/// The row a year counts in (see [`YEAR_WINDOW`]).
pub(super) fn year_row(year: &str, this_year: i32) -> String {
    match year.parse::<i32>() {
        Ok(y) if y > this_year => LATER.to_owned(),
        Ok(y) if y <= this_year - YEAR_WINDOW => EARLIER.to_owned(),
        Ok(y) => y.to_string(),
        Err(_) => NONE.to_owned(),
    }
}

/// Every row of a chart by year, in order; `none` for charts where a year may be unknown.
pub(super) fn year_rows(this_year: i32, with_none: bool) -> Vec<String> {
    let mut out = vec![EARLIER.to_owned()];
    out.extend((this_year - YEAR_WINDOW + 1..=this_year).map(|y| y.to_string()));
    out.push(LATER.to_owned());
    if with_none {
        out.push(NONE.to_owned());
    }
    out
}
/// The one column of a chart of one series.
pub const COUNT: &str = "count";
/// The spans of waiting, longest first.
pub const WAITING: [&str; 4] = ["over-2-years", "1-2-years", "6-12-months", "under-6-months"];
/// The buckets of attempts per person.
pub const PER_PERSON: [&str; 5] = ["1", "2", "3", "4", "5+"];
/// Facilities listed.
pub(super) const TOP_FACILITIES: usize = 20;

/// A person's id as the person it now is (one merge deep, as lists show them).
pub(super) const PERSON_NOW: &str =
    "COALESCE((SELECT merged_into FROM records WHERE id = f.person), f.person)";

pub(super) fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Days from `submitted` (`YYYY-MM-DD`, or a year) to `today`.
pub(super) fn days_waiting(submitted: &str, today: time::Date) -> Option<i64> {
    let d = submitted
        .parse::<crate::model::PartialDate>()
        .ok()?
        .earliest()?;
    Some((today - d).whole_days())
}

/// The span of waiting since `submitted` (`YYYY-MM-DD`, or a year).
pub(super) fn waiting_span(submitted: &str, today: time::Date) -> &'static str {
    let days = days_waiting(submitted, today).unwrap_or(0);
    match days {
        d if d > 730 => WAITING[0],
        d if d > 365 => WAITING[1],
        d if d > 182 => WAITING[2],
        _ => WAITING[3],
    }
}

/// (key, column, count) triples into rows and columns, in `row_order` and `col_order` where
/// given (other keys after, sorted).
pub(super) fn table(
    chart: Chart,
    cells: Vec<(String, String, u64)>,
    row_order: &[&str],
    col_order: &[&str],
) -> Counts {
    let mut cols: Vec<String> = col_order.iter().map(|s| (*s).to_owned()).collect();
    let mut rows: Vec<String> = row_order.iter().map(|s| (*s).to_owned()).collect();
    for (r, c, _) in &cells {
        if !rows.contains(r) {
            rows.push(r.clone());
        }
        if !cols.contains(c) {
            cols.push(c.clone());
        }
    }
    let mut grid: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    for (r, c, n) in cells {
        let ri = rows.iter().position(|x| *x == r).expect("added above");
        let ci = cols.iter().position(|x| *x == c).expect("added above");
        *grid.entry((ri, ci)).or_default() += n;
    }
    // Every row and column of a closed set, zeros included: a row left out when empty would
    // tell that a "< 5" shown is at least 1 (docs/design-notes.md "Counts for advocacy").
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(ri, key)| Row {
            key,
            counts: (0..cols.len())
                .map(|ci| grid.get(&(ri, ci)).copied().unwrap_or(0))
                .collect(),
        })
        .collect();
    Counts {
        chart,
        columns: cols,
        rows,
        exportable: chart.exportable(),
    }
}
