//! Receiving bundles on a coordinator's vault: files brought in from the page (picked or
//! dropped: `src/incoming.rs`), each reviewed before anything is written, its signer trusted
//! after its fingerprint was compared, then imported with progress and cancel; and the devices
//! bundles come from, renamed or revoked.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tauri::{AppHandle, Emitter, Manager, State};

use super::short;
use crate::dto::{
    ConflictDto, ConflictPage, DeviceDto, ImportProgress, IncomingDto, ReviewDto, SavedDto,
};
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::incoming::IncomingError;
use crate::state::AppState;

/// Largest piece accepted in one call (the page sends 1 MiB).
const MAX_PIECE: usize = 4 << 20;

impl From<IncomingError> for IpcError {
    fn from(e: IncomingError) -> Self {
        let code = match e {
            IncomingError::Limit(_)
            | IncomingError::Overrun
            | IncomingError::Short
            | IncomingError::NotAFile => ErrorCode::Invalid,
            IncomingError::Gone => ErrorCode::NotFound,
            IncomingError::Io => ErrorCode::Io,
        };
        IpcError::new(code, e.to_string())
    }
}

/// Starts bringing in a bundle file of `size` bytes, known to the user as `name`; its id.
#[tauri::command]
pub async fn incoming_begin(state: State<'_, AppState>, name: String, size: u64) -> CmdResult<u32> {
    let name = short(&name, "file name")?;
    if state.vault_status() != (true, true) {
        return Err(IpcError::new(ErrorCode::Locked, "the vault is locked"));
    }
    state.touch();
    let mut incoming = state.incoming();
    Ok(incoming.begin(&state.vault_dir, name, size)?)
}

/// One piece of it, base64.
#[tauri::command]
pub async fn incoming_chunk(state: State<'_, AppState>, id: u32, data: String) -> CmdResult<()> {
    if data.len() > MAX_PIECE * 4 / 3 + 4 {
        return Err(IpcError::new(ErrorCode::Invalid, "the piece is too large"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|_| IpcError::new(ErrorCode::Invalid, "the piece is not base64"))?;
    state.touch();
    let mut incoming = state.incoming();
    Ok(incoming.write(id, &bytes)?)
}

/// The system's file dialog, opened from here, for bundles to review: they are read where
/// they lie (no copy), and the page never names a path.
#[tauri::command]
pub async fn incoming_pick(app: AppHandle) -> CmdResult<Vec<IncomingDto>> {
    use tauri_plugin_dialog::DialogExt;
    let picked = crate::state::blocking(|| {
        app.dialog()
            .file()
            .add_filter("Kuager bundles", &["age"])
            .blocking_pick_files()
    })
    .unwrap_or_default();
    let state = app.state::<AppState>();
    if state.vault_status() != (true, true) {
        return Err(IpcError::new(ErrorCode::Locked, "the vault is locked"));
    }
    // Each file is looked at before the list is held: only regular files (a pipe or a device
    // would block a read), their sizes read off the lock.
    let files = crate::state::blocking(|| {
        picked
            .into_iter()
            .filter_map(|p| p.into_path().ok())
            .map(|path| match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => Ok((path, m.len())),
                Ok(_) => Err(IncomingError::NotAFile),
                Err(_) => Err(IncomingError::Io),
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    let mut incoming = state.incoming();
    files
        .into_iter()
        .map(|(path, size)| {
            let (id, e) = incoming.add_picked(path, size)?;
            Ok(IncomingDto {
                id,
                name: e.name.clone(),
                size: e.size,
            })
        })
        .collect()
}

/// The last piece was sent.
#[tauri::command]
pub async fn incoming_finish(state: State<'_, AppState>, id: u32) -> CmdResult<IncomingDto> {
    let mut incoming = state.incoming();
    let e = incoming.finish(id)?;
    Ok(IncomingDto {
        id,
        name: e.name.clone(),
        size: e.size,
    })
}

/// Puts a waiting file aside (its copy is removed; the file where it came from stays).
#[tauri::command]
pub async fn incoming_remove(state: State<'_, AppState>, id: u32) -> CmdResult<()> {
    state.incoming().remove(id);
    Ok(())
}

/// The copy of a waiting file, ready to read.
fn copy_of(state: &AppState, id: u32) -> CmdResult<(std::path::PathBuf, u64)> {
    let incoming = state.incoming();
    let e = incoming.get(id)?;
    Ok((e.path.clone(), e.size))
}

/// What a waiting bundle would bring, before anything is written: its signer, and — once the
/// signer is trusted — what is new, changed, conflicting and purged. A refused bundle's error
/// says why (`reason`).
#[tauri::command]
pub async fn import_review(state: State<'_, AppState>, id: u32) -> CmdResult<ReviewDto> {
    let (path, _) = copy_of(&state, id)?;
    // A lock stops a review as it stops an import.
    state.import_cancel.store(false, Ordering::Relaxed);
    let opts = vault::bundle::ImportOptions {
        cancel: Some(state.import_cancel.clone()),
        ..Default::default()
    };
    let r = state.with_vault(|v| crate::background::run(|| v.inspect(&path, &opts)))?;
    Ok(ReviewDto::new(id, &r))
}

/// How often an import's progress reaches the window.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Imports a waiting bundle whose signer is trusted; progress as `import-progress` events,
/// `import_cancel` stops it (nothing is written then). Its copy is removed once it is in.
#[tauri::command]
pub async fn import_run(app: AppHandle, id: u32) -> CmdResult<ReviewDto> {
    let state = app.state::<AppState>();
    let (path, total) = copy_of(&state, id)?;
    state.import_cancel.store(false, Ordering::Relaxed);
    let read = Arc::new(AtomicU64::new(0));
    let opts = vault::bundle::ImportOptions {
        progress: Some(read.clone()),
        cancel: Some(state.import_cancel.clone()),
        ..Default::default()
    };
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The ticker stops however the import ends (a panic included).
    struct Stop(Arc<std::sync::atomic::AtomicBool>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let stop = Stop(done.clone());
    let ticker = {
        let (app, read, done) = (app.clone(), read.clone(), done.clone());
        std::thread::Builder::new()
            .name("kuager-import-progress".into())
            .spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    let read = read.load(Ordering::Relaxed);
                    let _ = app.emit("import-progress", ImportProgress { id, read, total });
                    std::thread::sleep(PROGRESS_EVERY);
                }
            })
            .ok()
    };
    let r = state.with_vault(|v| crate::background::run(|| v.import(&path, &opts)));
    drop(stop);
    if let Some(t) = ticker {
        let _ = crate::state::blocking(|| t.join());
    }
    let r = r?;
    let _ = app.emit(
        "import-progress",
        ImportProgress {
            id,
            read: total,
            total,
        },
    );
    state.incoming().remove(id);
    Ok(ReviewDto::new(id, &r))
}

/// Stops a running import. Not async: on the main thread, it cannot queue behind commands
/// waiting for the vault the import holds (issue #10, item 5).
#[tauri::command]
pub fn import_cancel(state: State<'_, AppState>) -> CmdResult<()> {
    state.import_cancel.store(true, Ordering::Relaxed);
    Ok(())
}

/// How many records have conflicting versions, and a page of them, newest first.
#[tauri::command]
pub async fn conflicts_list(
    state: State<'_, AppState>,
    offset: u32,
    limit: u32,
) -> CmdResult<ConflictPage> {
    let limit = limit.clamp(1, 500) as usize;
    let (total, rows) = state.with_vault(|v| v.conflict_summaries(offset as usize, limit))?;
    Ok(ConflictPage {
        total: u32::try_from(total).unwrap_or(u32::MAX),
        rows: rows
            .into_iter()
            .map(|(s, n)| ConflictDto {
                summary: s.into(),
                versions: u32::try_from(n).unwrap_or(u32::MAX),
            })
            .collect(),
    })
}

/// Resolves a conflict with a merge revision whose parents are all its versions: the version
/// `keep` whole, or `merged` (the whole record, as the conflicts screen put it together from
/// the fields chosen). `seen` are the versions the screen showed: if others arrived since, it
/// is refused.
#[tauri::command]
pub async fn conflict_resolve(
    state: State<'_, AppState>,
    id: String,
    seen: Vec<String>,
    keep: Option<String>,
    merged: Option<String>,
) -> CmdResult<SavedDto> {
    if seen.len() > 64 || seen.iter().any(|s| s.len() > 128) {
        return Err(IpcError::new(ErrorCode::Invalid, "not a list of versions"));
    }
    let id = super::record_id(&id)?;
    if merged
        .as_ref()
        .is_some_and(|m| m.len() > vault::model::MAX_RECORD_BYTES)
    {
        return Err(IpcError::new(
            ErrorCode::Invalid,
            "the merged record is too large",
        ));
    }
    let saved = state.with_vault(|v| {
        let keep = keep
            .as_deref()
            .map(|k| v.find_revision(id, k.trim()))
            .transpose()?;
        v.resolve_seen(id, &seen, keep, merged.as_deref().map(str::as_bytes))
    })?;
    Ok(saved.into())
}

/// Trusts a caseworker's device under a label, after its fingerprint was compared with the
/// one the caseworker's Kuager shows.
#[tauri::command]
pub async fn device_trust(
    state: State<'_, AppState>,
    public_key: String,
    label: String,
) -> CmdResult<()> {
    let key = short(&public_key, "key")?;
    let label = short(&label, "label")?;
    state.with_vault(|v| v.trust_device(&key, &label).map(drop))
}

/// Every device this vault knows: trusted, then revoked.
#[tauri::command]
pub async fn devices_list(state: State<'_, AppState>) -> CmdResult<Vec<DeviceDto>> {
    let devices = state.with_vault(|v| v.devices())?;
    Ok(devices.into_iter().map(DeviceDto::from).collect())
}

/// Renames a trusted device.
#[tauri::command]
pub async fn device_rename(
    state: State<'_, AppState>,
    public_key: String,
    label: String,
) -> CmdResult<()> {
    let key = short(&public_key, "key")?;
    let label = short(&label, "label")?;
    state.with_vault(|v| v.rename_device(&key, &label))
}

/// Revokes a device: what it sent stays, what it sends later is refused; it cannot be trusted
/// again. After the vault's passphrase (an open window alone cannot cut a caseworker off).
#[tauri::command]
pub async fn device_revoke(
    state: State<'_, AppState>,
    public_key: String,
    passphrase: vault::Passphrase,
) -> CmdResult<()> {
    let key = short(&public_key, "key")?;
    state.with_vault(|v| {
        let _confirmed = v.confirm_passphrase(&passphrase)?;
        v.untrust_device(&key).map(drop)
    })
}
