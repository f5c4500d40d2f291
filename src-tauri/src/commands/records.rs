//! Records: search, lists, one record, saving, history, audit, drafts.

use tauri::State;

use super::{record_id, short};
use crate::dto::{
    AttemptRow, AuditDto, DraftDto, HistoryDto, HitDto, ListPage, RecordDto, RecordKind,
    SaveRequest, SavedDto, SummaryDto,
};
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::state::AppState;

/// Most rows one list or search call returns (lists are paged by the UI as it scrolls).
const MAX_ROWS: usize = 500;

/// Cross-script search (names in any spelling, numbers, ids, full text).
#[tauri::command]
pub async fn search(
    state: State<'_, AppState>,
    query: String,
    limit: u32,
) -> CmdResult<Vec<HitDto>> {
    let query = short(&query, "search")?;
    let limit = (limit as usize).clamp(1, MAX_ROWS);
    let hits = state.with_vault(|v| v.search(&query, limit))?;
    Ok(hits
        .into_iter()
        .map(|h| HitDto {
            matched: h.matched.into(),
            summary: h.summary.into(),
        })
        .collect())
}

/// A page of the records of one kind (or all), newest change first.
#[tauri::command]
pub async fn list_records(
    state: State<'_, AppState>,
    kind: Option<RecordKind>,
    offset: u32,
    limit: u32,
) -> CmdResult<ListPage> {
    let k = kind.map(vault::Kind::from);
    let limit = (limit as usize).clamp(1, MAX_ROWS);
    let (total, rows) = state.with_vault(|v| v.list_page(k, offset as usize, limit))?;
    let total = total as u32;
    let rows = rows.into_iter().map(SummaryDto::from).collect();
    Ok(ListPage { total, rows })
}

/// One record with its current version(s).
#[tauri::command]
pub async fn get_record(state: State<'_, AppState>, id: String) -> CmdResult<RecordDto> {
    let id = record_id(&id)?;
    Ok(state.with_vault(|v| v.get(id))?.into())
}

/// People who may be the same person as `id` (most likely first, at most 10).
#[tauri::command]
pub async fn duplicate_suggestions(
    state: State<'_, AppState>,
    id: String,
) -> CmdResult<Vec<crate::dto::DuplicateDto>> {
    let id = record_id(&id)?;
    let found = state.with_vault(|v| v.duplicate_suggestions(id, 10))?;
    Ok(found.into_iter().map(Into::into).collect())
}

/// The person `id` now is (itself, or the one it was merged into) and everyone merged into them.
#[tauri::command]
pub async fn merge_group(
    state: State<'_, AppState>,
    id: String,
) -> CmdResult<crate::dto::MergeGroupDto> {
    let id = record_id(&id)?;
    Ok(state.with_vault(|v| v.merge_group(id))?.into())
}

/// Merges person `absorbed` into person `survivor` (a revision of each); returns the group.
#[tauri::command]
pub async fn merge_people(
    state: State<'_, AppState>,
    survivor: String,
    absorbed: String,
) -> CmdResult<crate::dto::MergeGroupDto> {
    let (survivor, absorbed) = (record_id(&survivor)?, record_id(&absorbed)?);
    state.with_vault(|v| v.merge_people(survivor, absorbed))?;
    Ok(state.with_vault(|v| v.merge_group(survivor))?.into())
}

/// Undoes the merge of `absorbed` into `survivor` (a revision of each); returns the survivor's
/// group.
#[tauri::command]
pub async fn unmerge_people(
    state: State<'_, AppState>,
    survivor: String,
    absorbed: String,
) -> CmdResult<crate::dto::MergeGroupDto> {
    let (survivor, absorbed) = (record_id(&survivor)?, record_id(&absorbed)?);
    state.with_vault(|v| v.unmerge_people(survivor, absorbed))?;
    Ok(state.with_vault(|v| v.merge_group(survivor))?.into())
}

/// The one-line summary of a record, as the lists show it.
#[tauri::command]
pub async fn record_summary(state: State<'_, AppState>, id: String) -> CmdResult<SummaryDto> {
    let id = record_id(&id)?;
    Ok(state.with_vault(|v| v.summary(id))?.into())
}

/// The records that refer to this one (a person's testimonies, attempts, relatives, cases).
#[tauri::command]
pub async fn related_records(state: State<'_, AppState>, id: String) -> CmdResult<Vec<SummaryDto>> {
    let id = record_id(&id)?;
    let rows = state.with_vault(|v| v.related(id))?;
    Ok(rows.into_iter().map(SummaryDto::from).collect())
}

/// Saves a new record or a new version of one (the whole record, as the form holds it).
#[tauri::command]
pub async fn save_record(state: State<'_, AppState>, request: SaveRequest) -> CmdResult<SavedDto> {
    let json = serde_json::to_vec(&request.data)
        .map_err(|_| IpcError::new(ErrorCode::Invalid, "the record could not be read"))?;
    let saved = match &request.id {
        None => {
            let k = request.kind.into();
            state.with_vault(|v| v.add(k, &json))?
        }
        Some(id) => {
            let id = record_id(id)?;
            let base = request
                .base
                .as_deref()
                .map(|b| {
                    b.parse::<vault::RevisionId>()
                        .map_err(|_| IpcError::new(ErrorCode::BadId, "not a revision id"))
                })
                .transpose()?;
            state.with_vault(|v| v.edit(id, &json, base, true))?
        }
    };
    if let Some(key) = &request.draft_key {
        state.with_vault(|v| v.discard_draft(key))?;
    }
    Ok(saved.into())
}

/// Every version of a record, who wrote it and when.
#[tauri::command]
pub async fn record_history(state: State<'_, AppState>, id: String) -> CmdResult<Vec<HistoryDto>> {
    let id = record_id(&id)?;
    let h = state.with_vault(|v| v.history(id))?;
    Ok(h.into_iter()
        .map(|e| HistoryDto {
            id: e.id.to_string(),
            parents: e.parents.iter().map(ToString::to_string).collect(),
            device: e.device,
            at: e.at,
            purged: e.purged,
            head: e.head,
        })
        .collect())
}

/// The audit log, newest first (at most the last 1000 events).
#[tauri::command]
pub async fn audit_log(state: State<'_, AppState>) -> CmdResult<Vec<AuditDto>> {
    let events = state.with_vault(|v| v.audit())?;
    Ok(events
        .into_iter()
        .rev()
        .take(1000)
        .map(|e| AuditDto {
            seq: e.seq as u32,
            event: e.event,
        })
        .collect())
}

/// A person's renunciation attempts, numbered and with the days each has waited (the same
/// numbers the lists show: one rule, in the vault).
#[tauri::command]
pub async fn person_attempts(
    state: State<'_, AppState>,
    person: String,
) -> CmdResult<Vec<AttemptRow>> {
    let person = record_id(&person)?;
    let rows = state.with_vault(|v| v.person_attempts(person))?;
    Ok(rows
        .into_iter()
        .map(|a| AttemptRow {
            id: a.id.to_string(),
            revision: a.revision.to_string(),
            number: a.number as u32,
            waiting_days: a.waiting_days,
            data: a.data,
        })
        .collect())
}

/// A kept draft, if any.
#[tauri::command]
pub async fn draft_get(state: State<'_, AppState>, key: String) -> CmdResult<Option<DraftDto>> {
    Ok(state
        .with_vault(|v| v.draft(&key))?
        .map(|(body, at)| DraftDto { body, at }))
}

/// Keeps a draft as the user types (encrypted, in the vault).
#[tauri::command]
pub async fn draft_save(
    state: State<'_, AppState>,
    key: String,
    record: Option<String>,
    body: String,
) -> CmdResult<()> {
    let record = record.as_deref().map(record_id).transpose()?;
    state.with_vault(|v| v.save_draft(&key, record, &body))
}

/// Drops a draft.
#[tauri::command]
pub async fn draft_discard(state: State<'_, AppState>, key: String) -> CmdResult<()> {
    state.with_vault(|v| v.discard_draft(&key))
}
