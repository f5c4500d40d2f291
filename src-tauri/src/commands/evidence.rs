//! Dashboards, the follow-up list and counts saved for advocacy (docs/design-notes.md
//! "Dashboards", "Counts for advocacy"). A saved chart goes to the export folder (the one
//! picked in the folder dialog, or Documents/Kuager): the webview never names a path.

use tauri::State;

use super::bundles::export_dir;
use super::short;
use crate::dto::{ChartDto, CountLabelsDto, CountsFileDto, FollowUpDto, SummaryDto};
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::state::AppState;

fn chart(key: &str) -> CmdResult<vault::stats::Chart> {
    serde_json::from_value(serde_json::Value::String(key.to_owned()))
        .map_err(|_| IpcError::new(ErrorCode::Invalid, format!("no chart {key:?}")))
}

fn format(key: &str) -> CmdResult<vault::stats::counts::Format> {
    serde_json::from_value(serde_json::Value::String(key.to_owned()))
        .map_err(|_| IpcError::new(ErrorCode::Invalid, "a chart is saved as csv, svg or png"))
}

/// Every chart of a dashboard (`attempts` or `testimonies`), now: one call, one pass.
#[tauri::command]
pub async fn dashboard(state: State<'_, AppState>, which: String) -> CmdResult<Vec<ChartDto>> {
    let which: vault::stats::Dashboard =
        serde_json::from_value(serde_json::Value::String(which))
            .map_err(|_| IpcError::new(ErrorCode::Invalid, "no such dashboard"))?;
    let charts = state.with_vault(|v| v.dashboard(which))?;
    Ok(charts.into_iter().map(Into::into).collect())
}

/// The records behind one bar of a chart.
#[tauri::command]
pub async fn dashboard_records(
    state: State<'_, AppState>,
    chart_key: String,
    row: String,
    column: Option<String>,
) -> CmdResult<Vec<SummaryDto>> {
    let c = chart(&chart_key)?;
    let row = short(&row, "row")?;
    let column = column.map(|c| short(&c, "column")).transpose()?;
    let rows = state.with_vault(|v| v.chart_records(c, &row, column.as_deref()))?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// People whose last attempt has waited more than `min_days` for an answer, oldest first: the
/// first `limit` (the page shows a hundred at a time).
#[tauri::command]
pub async fn follow_up_list(
    state: State<'_, AppState>,
    min_days: i64,
    limit: usize,
) -> CmdResult<Vec<FollowUpDto>> {
    let limit = limit.min(vault::stats::MAX_FOLLOW_UP);
    let rows = state.with_vault(|v| v.follow_up(min_days.clamp(0, 36_500), limit))?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// What saving a chart would write: its counts as CSV text, for the save dialog.
#[tauri::command]
pub async fn counts_preview(
    state: State<'_, AppState>,
    chart_key: String,
    labels: CountLabelsDto,
) -> CmdResult<CountsFileDto> {
    let c = chart(&chart_key)?;
    let labels = labels.into();
    let r = state.with_vault(|v| v.counts_preview(c, &labels))?;
    Ok(CountsFileDto {
        text: r.text,
        rows: r.rows as u32,
        columns: r.columns as u32,
        suppressed: r.suppressed as u32,
        path: None,
    })
}

/// Saves a chart's counts (csv, svg or png) into the export folder, unencrypted; audited.
#[tauri::command]
pub async fn counts_save(
    state: State<'_, AppState>,
    chart_key: String,
    labels: CountLabelsDto,
    file_format: String,
) -> CmdResult<CountsFileDto> {
    let c = chart(&chart_key)?;
    let f = format(&file_format)?;
    let labels = labels.into();
    let dir = export_dir(&state)?;
    let stamp = time::OffsetDateTime::now_utc();
    let name = format!(
        "kuager-counts-{}-{:04}{:02}{:02}-{:02}{:02}{:02}.{}",
        c.key(),
        stamp.year(),
        u8::from(stamp.month()),
        stamp.day(),
        stamp.hour(),
        stamp.minute(),
        stamp.second(),
        f.extension()
    );
    let path = dir.join(name);
    let r = state.with_vault(|v| v.save_counts(c, &labels, f, &path))?;
    Ok(CountsFileDto {
        text: r.text,
        rows: r.rows as u32,
        columns: r.columns as u32,
        suppressed: r.suppressed as u32,
        path: Some(path.to_string_lossy().into_owned()),
    })
}
