//! What the dashboards, the follow-up list, saved counts and partner bundles send across the
//! IPC boundary (docs/design-notes.md "Dashboards", "Partner bundles").

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::SummaryDto;

/// One row of a chart: its key (an outcome, a year, a region…) and a count per column.
#[derive(Debug, Clone, Serialize, TS)]
#[allow(missing_docs)]
pub struct ChartRowDto {
    pub key: String,
    #[ts(type = "number[]")]
    pub counts: Vec<u64>,
}

/// A chart's counts.
#[derive(Debug, Clone, Serialize, TS)]
#[allow(missing_docs)]
pub struct ChartDto {
    /// The chart's key (`attempts-by-year`, …).
    pub chart: String,
    /// Column keys (`["count"]` for one series).
    pub columns: Vec<String>,
    pub rows: Vec<ChartRowDto>,
    /// Whether it may be saved to a file (closed sets only).
    pub exportable: bool,
}

impl From<vault::stats::Counts> for ChartDto {
    fn from(c: vault::stats::Counts) -> Self {
        ChartDto {
            chart: c.chart.key().to_owned(),
            columns: c.columns,
            rows: c
                .rows
                .into_iter()
                .map(|r| ChartRowDto {
                    key: r.key,
                    counts: r.counts,
                })
                .collect(),
            exportable: c.exportable,
        }
    }
}

/// One line of the follow-up list.
#[derive(Debug, Clone, Serialize, TS)]
#[allow(missing_docs)]
pub struct FollowUpDto {
    pub person: String,
    pub name: Option<String>,
    pub attempt: String,
    /// `YYYY-MM-DD`.
    pub submitted: String,
    pub channel: Option<String>,
    pub request: Option<String>,
    #[ts(type = "number")]
    pub days: i64,
    #[ts(type = "number")]
    pub attempts: u64,
}

impl From<vault::stats::FollowUp> for FollowUpDto {
    fn from(f: vault::stats::FollowUp) -> Self {
        FollowUpDto {
            person: f.person.to_string(),
            name: f.name,
            attempt: f.attempt.to_string(),
            submitted: f.submitted,
            channel: f.channel,
            request: f.request,
            days: f.days,
            attempts: f.attempts,
        }
    }
}

/// The words of a chart saved to a file, in the user's language (the vault writes nothing
/// else but counts).
#[derive(Debug, Clone, Deserialize, TS)]
#[allow(missing_docs)]
pub struct CountLabelsDto {
    pub title: String,
    pub row_heading: String,
    pub rows: std::collections::BTreeMap<String, String>,
    pub columns: std::collections::BTreeMap<String, String>,
    pub note: String,
}

impl From<CountLabelsDto> for vault::stats::counts::Labels {
    fn from(l: CountLabelsDto) -> Self {
        vault::stats::counts::Labels {
            title: l.title,
            row_heading: l.row_heading,
            rows: l.rows,
            columns: l.columns,
            note: l.note,
        }
    }
}

/// What a saved chart holds, before or after it is written.
#[derive(Debug, Clone, Serialize, TS)]
#[allow(missing_docs)]
pub struct CountsFileDto {
    /// The counts as CSV text: exactly what the file says.
    pub text: String,
    #[ts(type = "number")]
    pub rows: u32,
    #[ts(type = "number")]
    pub columns: u32,
    /// Counts written as "< 5".
    #[ts(type = "number")]
    pub suppressed: u32,
    /// Where it was written (after saving).
    pub path: Option<String>,
}

/// A partner organisation.
#[derive(Debug, Clone, Serialize, TS)]
#[allow(missing_docs)]
pub struct PartnerDto {
    pub label: String,
    pub recipient: String,
    pub added_at: String,
}

/// One record in a partner preview: how it goes, or why not.
#[derive(Debug, Clone, Serialize, TS)]
#[allow(missing_docs)]
pub struct PreviewLineDto {
    pub summary: SummaryDto,
    /// `named`, `pseudonym` or `unchanged`, for records that go.
    pub going: Option<String>,
    /// Why not (`consent-internal`, `no-consenting-testimony`, …).
    pub reason: Option<String>,
}

/// What a bundle to a partner would hold and leave out.
#[derive(Debug, Clone, Serialize, TS)]
#[allow(missing_docs)]
pub struct PartnerPreviewDto {
    pub partner: String,
    pub going: Vec<PreviewLineDto>,
    pub withheld: Vec<PreviewLineDto>,
    pub withdrawn: Vec<PreviewLineDto>,
    #[ts(type = "number")]
    pub contact_removed: u32,
    #[ts(type = "number")]
    pub attachments: u32,
    #[ts(type = "number")]
    pub attachments_withheld: u32,
    /// Whether a bundle would carry anything new.
    pub has_news: bool,
    /// What the export is given back: it writes only what this preview said.
    pub digest: String,
}

/// A partner bundle written.
#[derive(Debug, Clone, Serialize, TS)]
#[allow(missing_docs)]
pub struct PartnerSentDto {
    /// The bundle files, in the order they are to be imported (one, unless it was too large).
    pub files: Vec<super::ExportedFile>,
    pub preview: PartnerPreviewDto,
}
