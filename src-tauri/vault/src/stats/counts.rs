//! A chart's counts as a file for reports and the press: CSV, SVG or PNG — the one thing that
//! may leave a vault unencrypted (docs/design-notes.md "Counts for advocacy").
//!
//! Every count below [`SMALL`] is written "< 5", and every other count rounded to the nearest
//! 5: two charts of the same records (attempts by year and by channel, both by outcome) share
//! their totals, and with exact numbers one could be subtracted from the other to recover a
//! hidden count. Rows and columns of closed sets are all written, zeros included, so a "< 5"
//! does not say "at least one".
//!
//! What such a file can hold is fixed here, not by the caller: the chart's counts (from
//! [`super::counts`], whose rows and columns are keys of closed sets), with every count below
//! [`SMALL`] written as "< 5" (a small cell identifies people), and the words the caller gives
//! for the title, the keys and a note — one line each, from the app's own translations. No
//! record's text, id or date reaches these functions. A chart of free text or of staff
//! (facilities, activity) is refused.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Deserialize;

use super::Counts;
use crate::error::{Error, Result};

/// Counts below this are written as "< 5".
pub const SMALL: u64 = 5;
/// How a suppressed count is written.
pub const SUPPRESSED: &str = "< 5";
/// Longest label accepted (title, key, note).
pub const MAX_LABEL: usize = 200;

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated values (RFC 4180), UTF-8.
    Csv,
    /// An SVG bar chart.
    Svg,
    /// The same chart as a PNG image.
    Png,
}

impl Format {
    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

/// The words of a saved chart, in the user's language.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    /// The chart's title.
    pub title: String,
    /// The heading of the row keys (the first CSV column).
    #[serde(default)]
    pub row_heading: String,
    /// Words for row keys (a key without is written as it is).
    #[serde(default)]
    pub rows: BTreeMap<String, String>,
    /// Words for column keys.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// A note under the chart (that counts below 5 are shown as "< 5").
    #[serde(default)]
    pub note: String,
}

impl Labels {
    fn check(&self) -> Result<()> {
        let all = [&self.title, &self.row_heading, &self.note]
            .into_iter()
            .chain(self.rows.values())
            .chain(self.columns.values());
        for l in all {
            let odd = |c: char| c.is_control() || crate::profile::is_invisible(c);
            if l.chars().count() > MAX_LABEL || l.chars().any(odd) {
                return Err(Error::invalid(
                    "labels",
                    format!("a chart's words are single lines of at most {MAX_LABEL} characters"),
                ));
            }
        }
        Ok(())
    }

    fn row<'a>(&'a self, key: &'a str) -> &'a str {
        self.rows.get(key).map_or(key, String::as_str)
    }

    fn column<'a>(&'a self, key: &'a str) -> &'a str {
        self.columns.get(key).map_or(key, String::as_str)
    }
}

/// A count as it may leave the vault: "< 5", or rounded to the nearest 5.
pub fn cell(n: u64) -> String {
    if n < SMALL {
        SUPPRESSED.to_owned()
    } else {
        rounded(n).to_string()
    }
}

/// `n` to the nearest multiple of 5 (halves up).
fn rounded(n: u64) -> u64 {
    (n + 2) / 5 * 5
}

/// What a saved file holds, for the save dialog and the audit log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rendered {
    /// The file's bytes.
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Rows and columns of counts.
    pub rows: usize,
    /// Columns of counts.
    pub columns: usize,
    /// Counts written as "< 5".
    pub suppressed: usize,
    /// The CSV of the same counts: exactly what the file says, in text.
    pub text: String,
}

/// Renders `counts` as `format`.
pub fn render(counts: &Counts, labels: &Labels, format: Format) -> Result<Rendered> {
    if !counts.exportable {
        return Err(Error::invalid(
            "chart",
            "this chart names facilities or staff: it stays in the vault and cannot be saved to a file",
        ));
    }
    labels.check()?;
    let text = csv(counts, labels);
    let bytes = match format {
        Format::Csv => text.clone().into_bytes(),
        Format::Svg => svg(counts, labels).into_bytes(),
        #[cfg(feature = "png")]
        Format::Png => super::png::rasterise(&svg(counts, labels))?,
        #[cfg(not(feature = "png"))]
        Format::Png => {
            return Err(Error::invalid(
                "format",
                "this build of Kuager draws no PNG: save the chart as SVG or CSV",
            ))
        }
    };
    Ok(Rendered {
        bytes,
        rows: counts.rows.len(),
        columns: counts.columns.len(),
        suppressed: counts
            .rows
            .iter()
            .flat_map(|r| &r.counts)
            .filter(|n| **n < SMALL)
            .count(),
        text,
    })
}

/// One CSV field: quoted when it must be, and never read as a formula by a spreadsheet.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn csv(c: &Counts, l: &Labels) -> String {
    let mut out = String::new();
    let mut head = vec![field(&l.row_heading)];
    head.extend(c.columns.iter().map(|k| field(l.column(k))));
    out.push_str(&head.join(","));
    out.push_str("\r\n");
    for r in &c.rows {
        let mut line = vec![field(l.row(&r.key))];
        line.extend(r.counts.iter().map(|n| field(&cell(*n))));
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Okabe–Ito: told apart with any colour vision.
const PALETTE: [&str; 9] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
    "#999999",
];

/// Horizontal bars, one per count (grouped by row, never stacked: a stack's length would
/// give away the counts it hides); a suppressed count has no bar, only "< 5".
fn svg(c: &Counts, l: &Labels) -> String {
    const W: u32 = 900;
    const LEFT: u32 = 260;
    const BAR: u32 = 16;
    const GAP: u32 = 12;
    let k = c.columns.len().max(1) as u32;
    let legend = if k > 1 { 22 * k.div_ceil(3) } else { 0 };
    let top = 56 + legend;
    let row_h = k * (BAR + 2) + GAP;
    let h = top + row_h * c.rows.len() as u32 + 48;
    let max = c
        .rows
        .iter()
        .flat_map(|r| &r.counts)
        .filter(|n| **n >= SMALL)
        .max()
        .map_or(SMALL, |n| rounded(*n)) as f64;
    let width = f64::from(W - LEFT - 90);
    let font = "font-family=\"DejaVu Sans, Noto Sans, Arial, sans-serif\"";
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\" role=\"img\" aria-label=\"{t}\">\n<title>{t}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n<text x=\"20\" y=\"34\" {font} font-size=\"20\" font-weight=\"bold\" fill=\"#111111\">{t}</text>",
        t = xml(&l.title)
    );
    if k > 1 {
        for (i, col) in c.columns.iter().enumerate() {
            let (x, y) = (20 + (i as u32 % 3) * 290, 52 + (i as u32 / 3) * 22);
            let _ = writeln!(
                s,
                "<rect x=\"{x}\" y=\"{y}\" width=\"14\" height=\"14\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" {font} font-size=\"13\" fill=\"#111111\">{}</text>",
                PALETTE[i % PALETTE.len()],
                x + 20,
                y + 12,
                xml(l.column(col))
            );
        }
    }
    for (ri, r) in c.rows.iter().enumerate() {
        let y0 = top + ri as u32 * row_h;
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" {font} font-size=\"14\" text-anchor=\"end\" fill=\"#111111\">{}</text>",
            LEFT - 10,
            y0 + (k * (BAR + 2)) / 2 + 5,
            xml(l.row(&r.key))
        );
        for (ci, n) in r.counts.iter().enumerate() {
            let y = y0 + ci as u32 * (BAR + 2);
            let len = if *n >= SMALL {
                (rounded(*n) as f64 / max * width).max(1.0)
            } else {
                0.0
            };
            if len > 0.0 {
                let _ = writeln!(
                    s,
                    "<rect x=\"{LEFT}\" y=\"{y}\" width=\"{len:.1}\" height=\"{BAR}\" fill=\"{}\"/>",
                    PALETTE[ci % PALETTE.len()]
                );
            }
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{}\" {font} font-size=\"13\" fill=\"#111111\">{}</text>",
                f64::from(LEFT) + len + 6.0,
                y + BAR - 3,
                xml(&cell(*n))
            );
        }
    }
    let _ = writeln!(
        s,
        "<text x=\"20\" y=\"{}\" {font} font-size=\"12\" fill=\"#444444\">{}</text>\n</svg>",
        h - 18,
        xml(&l.note)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Chart, Row};

    fn counts() -> Counts {
        Counts {
            chart: Chart::OutcomesByChannel,
            columns: vec!["refused".into(), "none".into()],
            rows: vec![
                Row {
                    key: "consulate-almaty".into(),
                    counts: vec![12, 3],
                },
                Row {
                    key: "mail".into(),
                    counts: vec![0, 5],
                },
            ],
            exportable: true,
        }
    }

    #[test]
    fn small_counts_never_leave_as_numbers() {
        let labels = Labels {
            title: "Outcomes, by channel".into(),
            row_heading: "=channel".into(),
            note: "Counts below 5 are shown as \"< 5\"".into(),
            ..Default::default()
        };
        let r = render(&counts(), &labels, Format::Csv).unwrap();
        let text = String::from_utf8(r.bytes).unwrap();
        assert_eq!(
            text,
            "'=channel,refused,none\r\nconsulate-almaty,10,< 5\r\nmail,< 5,5\r\n"
        );
        assert_eq!(r.suppressed, 2);
        let svg =
            String::from_utf8(render(&counts(), &labels, Format::Svg).unwrap().bytes).unwrap();
        assert!(svg.contains("&lt; 5") && !svg.contains(">3<") && !svg.contains(">0<"));
        // Bars only for counts of 5 or more: 12 and 5.
        assert_eq!(svg.matches("<rect x=\"260\"").count(), 2);
    }

    #[test]
    fn charts_of_free_text_or_staff_and_odd_labels_are_refused() {
        let mut c = counts();
        c.exportable = false;
        assert!(render(&c, &Labels::default(), Format::Csv).is_err());
        let l = Labels {
            title: "two\nlines".into(),
            ..Default::default()
        };
        assert!(render(&counts(), &l, Format::Csv).is_err());
    }
}
