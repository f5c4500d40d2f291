//! Dashboards, the follow-up list and counts saved for advocacy (docs/design-notes.md
//! "Dashboards", "Counts for advocacy"): the work is `crate::stats`'s; here are the records a
//! chart counts, as list rows, and the one file a vault writes unencrypted, audited.

use std::path::Path;

use super::Vault;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::stats::counts::{self, Format, Labels, Rendered};
use crate::stats::{self, Chart, Counts, Dashboard, FollowUp};
use crate::summary::{Summarizer, Summary};

/// The row of caseworker activity that is this vault's own device.
pub const THIS_DEVICE: &str = "this-device";

/// Most records a chart's list opens with.
pub const MAX_BEHIND: usize = 500;

impl Vault {
    /// A chart's counts, now. In caseworker activity, this vault's own device is the row
    /// [`THIS_DEVICE`].
    pub fn chart(&self, chart: Chart) -> Result<Counts> {
        let o = self.o()?;
        let mut c = stats::counts(&o.conn, chart)?;
        self.own_device_named(&mut c)?;
        Ok(c)
    }

    /// Every chart of a dashboard, now (one pass over its facts).
    pub fn dashboard(&self, which: Dashboard) -> Result<Vec<Counts>> {
        let mut charts = stats::dashboard(&self.o()?.conn, which)?;
        for c in &mut charts {
            self.own_device_named(c)?;
        }
        Ok(charts)
    }

    fn own_device_named(&self, c: &mut Counts) -> Result<()> {
        let o = self.o()?;
        if c.chart == Chart::Activity {
            for r in &mut c.rows {
                if r.key == o.device {
                    THIS_DEVICE.clone_into(&mut r.key);
                }
            }
        }
        Ok(())
    }

    /// The records behind one bar of a chart (its row, and its column for charts of several
    /// series), as list rows: at most [`MAX_BEHIND`].
    pub fn chart_records(
        &self,
        chart: Chart,
        row: &str,
        column: Option<&str>,
    ) -> Result<Vec<Summary>> {
        let o = self.o()?;
        let row = if chart == Chart::Activity && row == THIS_DEVICE {
            o.device.as_str()
        } else {
            row
        };
        let ids = stats::records_behind(&o.conn, chart, row, column, MAX_BEHIND)?;
        let mut s = Summarizer::new(&o.conn);
        ids.iter().map(|id| s.summary(&id.to_string())).collect()
    }

    /// People whose last attempt has waited more than `min_days` for an answer, oldest first.
    pub fn follow_up(&self, min_days: i64, limit: usize) -> Result<Vec<FollowUp>> {
        stats::follow_up(&self.o()?.conn, min_days.max(0), limit)
    }

    /// What saving a chart's counts would write (its text as CSV, how many counts are
    /// written as "< 5"), for the save dialog; writes nothing.
    pub fn counts_preview(&self, chart: Chart, labels: &Labels) -> Result<Rendered> {
        counts::render(&self.chart(chart)?, labels, Format::Csv)
    }

    /// Saves a chart's counts to `path` as `format`, unencrypted (the only file a vault writes
    /// so): only charts of closed sets, every count below 5 as "< 5"; the save is audited.
    pub fn save_counts(
        &mut self,
        chart: Chart,
        labels: &Labels,
        format: Format,
        path: &Path,
    ) -> Result<Rendered> {
        let r = counts::render(&self.chart(chart)?, labels, format)?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(Error::invalid(
                "output",
                format!("the folder {} does not exist", dir.display()),
            ));
        }
        let file = dir.join(path.file_name().unwrap_or_default());
        fsutil::write_atomic(&file, &r.bytes)?;
        // A file written is audited, or not left behind.
        let audited = self.audited(
            |_| Ok(()),
            "counts_saved",
            serde_json::json!({
                "chart": chart.key(),
                "format": format.extension(),
                "file": path.display().to_string(),
                "rows": r.rows,
                "suppressed": r.suppressed,
                "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&r.bytes)),
            }),
        );
        if let Err(e) = audited {
            let _ = std::fs::remove_file(&file);
            return Err(e);
        }
        Ok(r)
    }
}
