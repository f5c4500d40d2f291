//! Attachments streamed in from the webview: begin, pieces (base64), finish.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use tauri::{AppHandle, Manager, State};

use super::{record_id, short};
use crate::dto::SavedDto;
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::state::AppState;
use crate::upload::{self, Piece, PieceReader, Upload};

/// Largest piece accepted in one call (the UI sends 1 MiB).
const MAX_PIECE: usize = 4 << 20;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Starts an upload into `record`; returns its id.
#[tauri::command]
pub async fn upload_begin(
    app: AppHandle,
    record: String,
    name: String,
    media_type: Option<String>,
) -> CmdResult<u64> {
    let id = record_id(&record)?;
    let name = short(&name, "file name")?;
    let media_type = media_type
        .map(|m| short(&m, "media type"))
        .transpose()?
        .filter(|m| !m.is_empty() && m.len() < 100);
    let state = app.state::<AppState>();
    // Refused at once while another upload runs (its worker holds the vault: waiting for the
    // vault here would wait for that whole upload).
    let busy = || {
        IpcError::new(
            ErrorCode::Busy,
            "another file is being added; wait for it to finish",
        )
    };
    {
        let mut uploads = state.uploads.lock().unwrap_or_else(|p| p.into_inner());
        uploads.retain(|_, u| !u.worker.is_finished());
        if !uploads.is_empty() {
            return Err(busy());
        }
    }
    state.with_vault(|v| v.get(id).map(drop))?;
    // One upload at a time (the UI adds files one by one): a page calling this in a loop, or
    // twice at once, cannot pile up threads waiting for the vault. The check and the start
    // happen under one hold of the map (issue #10, item 17). Uploads whose page went away have
    // ended on their own (stall timeout) and are cleared here.
    let mut uploads = state.uploads.lock().unwrap_or_else(|p| p.into_inner());
    uploads.retain(|_, u| !u.worker.is_finished());
    if !uploads.is_empty() {
        return Err(busy());
    }
    let (tx, rx) = upload::channel();
    let handle = app.clone();
    let worker = std::thread::Builder::new()
        .name("kuager-upload".into())
        .spawn(move || {
            let state = handle.state::<AppState>();
            let reader = PieceReader::new(rx);
            let meta = vault::AttachMeta {
                name: (!name.is_empty()).then_some(name),
                caption: None,
                media_type,
                custody: None,
            };
            let mut slot = state.slot();
            match slot.as_mut() {
                Some(v) => v.attach(id, reader, meta),
                None => Err(vault::Error::Locked),
            }
        })
        .map_err(|_| IpcError::new(ErrorCode::Io, "the upload could not start"))?;
    let uid = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    uploads.insert(uid, Upload { tx, worker });
    Ok(uid)
}

/// One piece of the file, base64.
#[tauri::command]
pub async fn upload_chunk(app: AppHandle, upload: u64, data: String) -> CmdResult<()> {
    if data.len() > MAX_PIECE * 4 / 3 + 4 {
        return Err(IpcError::new(ErrorCode::Invalid, "the piece is too large"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|_| IpcError::new(ErrorCode::Invalid, "the piece is not base64"))?;
    let state = app.state::<AppState>();
    state.touch();
    let tx = state
        .uploads
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&upload)
        .map(|u| u.tx.clone())
        .ok_or_else(|| IpcError::new(ErrorCode::NotFound, "no such upload (it was stopped)"))?;
    // Blocks while the encrypting thread catches up: memory stays bounded.
    crate::state::blocking(|| tx.send(Piece::Data(bytes)))
        .map_err(|_| IpcError::new(ErrorCode::Io, "the upload stopped"))
}

/// The last piece was sent: waits for the attachment to be stored and returns the save.
#[tauri::command]
pub async fn upload_finish(app: AppHandle, upload: u64) -> CmdResult<SavedDto> {
    let state = app.state::<AppState>();
    let u = state
        .uploads
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&upload)
        .ok_or_else(|| IpcError::new(ErrorCode::NotFound, "no such upload (it was stopped)"))?;
    crate::state::blocking(|| u.tx.send(Piece::End))
        .map_err(|_| IpcError::new(ErrorCode::Io, "the upload stopped"))?;
    drop(u.tx);
    let saved = crate::state::blocking(|| u.worker.join())
        .map_err(|_| IpcError::new(ErrorCode::Io, "the upload failed"))??;
    state.touch();
    Ok(SavedDto {
        record: saved.record.to_string(),
        revision: saved.revision.to_string(),
        changed: saved.changed,
        warnings: vec![],
    })
}

/// Stops an upload; nothing of it is kept.
#[tauri::command]
pub async fn upload_abort(state: State<'_, AppState>, upload: u64) -> CmdResult<()> {
    let u = state
        .uploads
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&upload);
    if let Some(u) = u {
        drop(u.tx); // the reader sees the channel close without End: an error, nothing stored
        let _ = crate::state::blocking(|| u.worker.join());
    }
    Ok(())
}
