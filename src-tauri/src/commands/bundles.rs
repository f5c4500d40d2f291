//! Export: the coordinators' keys, the destination folder, the bundle with progress and cancel.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use tauri::{AppHandle, Emitter, Manager, State};
use tauri_plugin_dialog::DialogExt;

use super::short;
use crate::dto::{
    ExportDone, ExportProgress, ExportRequest, ExportScope, ExportedFile, RecipientDto,
    VaultSettingsDto,
};
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::state::AppState;

/// The keys bundles are encrypted to.
#[tauri::command]
pub async fn recipients_list(state: State<'_, AppState>) -> CmdResult<Vec<RecipientDto>> {
    let r = state.with_vault(|v| v.recipients())?;
    Ok(r.into_iter()
        .map(|e| RecipientDto {
            recipient: e.recipient,
            label: e.label,
        })
        .collect())
}

/// Adds a coordinator key (`age1…`, `ssh-ed25519 …`): who can read what leaves the vault, so
/// the vault's passphrase is asked again (an open window alone, or a script in it, cannot).
#[tauri::command]
pub async fn recipients_add(
    state: State<'_, AppState>,
    recipient: String,
    label: Option<String>,
    passphrase: vault::Passphrase,
) -> CmdResult<()> {
    let r: vault::bundle::Recipient = short(&recipient, "key")?.parse()?;
    let label = label
        .map(|l| short(&l, "label"))
        .transpose()?
        .filter(|l| !l.is_empty());
    state.with_vault(|v| {
        let ok = v.confirm_passphrase(&passphrase)?;
        v.add_recipient(&r, label.as_deref(), ok)
    })
}

/// Removes a coordinator key (after the vault's passphrase, like adding one).
#[tauri::command]
pub async fn recipients_remove(
    state: State<'_, AppState>,
    recipient: String,
    passphrase: vault::Passphrase,
) -> CmdResult<()> {
    let r = short(&recipient, "key")?;
    state.with_vault(|v| {
        let ok = v.confirm_passphrase(&passphrase)?;
        v.remove_recipient(&r, ok).map(drop)
    })
}

/// The vault's label and bundle policy.
#[tauri::command]
pub async fn vault_settings(state: State<'_, AppState>) -> CmdResult<VaultSettingsDto> {
    let s = state.with_vault(|v| v.settings())?;
    Ok(VaultSettingsDto {
        label: s.label,
        passphrase_bundles: s.passphrase_bundles,
        max_autolock_minutes: s.max_autolock_minutes,
    })
}

/// Names the vault for coordinators (inside bundles only, never in a file name); empty clears.
#[tauri::command]
pub async fn set_vault_label(state: State<'_, AppState>, label: String) -> CmdResult<()> {
    let label = short(&label, "label")?;
    let label = label.trim();
    state.with_vault(|v| v.set_label((!label.is_empty()).then_some(label)))
}

/// The organisation's choice whether bundles may be encrypted to a passphrase (audited).
/// Allowing them needs the vault's passphrase again: an open window alone (or a script in it)
/// cannot open this way out.
#[tauri::command]
pub async fn set_passphrase_bundles(
    state: State<'_, AppState>,
    allow: bool,
    passphrase: Option<vault::Passphrase>,
) -> CmdResult<()> {
    let passphrase = passphrase.filter(|p| !p.expose().is_empty());
    state.with_vault(|v| {
        let ok = match (&passphrase, allow) {
            (Some(p), true) => Some(v.confirm_passphrase(p)?),
            _ => None,
        };
        v.set_passphrase_bundles(allow, ok)
    })
}

/// The folder bundles go to: the one picked in the folder dialog, or Documents/Kuager (made).
pub(crate) fn export_dir(state: &AppState) -> CmdResult<PathBuf> {
    let picked = state
        .export_folder
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if let Some(dir) = picked.filter(|d| d.is_dir()) {
        return Ok(dir);
    }
    let base = dirs::document_dir()
        .or_else(dirs::home_dir)
        .ok_or_else(|| IpcError::new(ErrorCode::Io, "no documents folder for this user"))?;
    let dir = base.join("Kuager");
    std::fs::create_dir_all(&dir).map_err(|_| {
        IpcError::new(
            ErrorCode::Io,
            "the Kuager folder in Documents could not be made",
        )
    })?;
    Ok(dir)
}

/// Where the next bundle will be written (shown to the user).
#[tauri::command]
pub async fn export_folder(state: State<'_, AppState>) -> CmdResult<String> {
    Ok(export_dir(&state)?.to_string_lossy().into_owned())
}

/// The system's folder picker, opened from here; the choice is kept here too, so the webview
/// never supplies a path of its own.
#[tauri::command]
pub async fn pick_export_folder(app: AppHandle) -> Option<String> {
    let picked = crate::state::blocking(|| app.dialog().file().blocking_pick_folder())
        .and_then(|p| p.into_path().ok())?;
    let shown = picked.to_string_lossy().into_owned();
    *app.state::<AppState>()
        .export_folder
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(picked);
    Some(shown)
}

/// How often an export's progress reaches the window, at most.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// Writes a bundle; progress as `export-progress` events; `export_cancel` stops it.
#[tauri::command]
pub async fn export_bundle(app: AppHandle, request: ExportRequest) -> CmdResult<ExportDone> {
    let state = app.state::<AppState>();
    let folder = export_dir(&state)?;
    let scope = match request.scope {
        ExportScope::All => vault::bundle::ExportScope::All,
        ExportScope::SinceLast => vault::bundle::ExportScope::SinceLast,
    };
    let extra_recipients = super::recipients(&request.extra_recipients)?;
    let vault_passphrase = request.vault_passphrase.filter(|p| !p.expose().is_empty());
    let confirmed = match &vault_passphrase {
        Some(p) => Some(state.with_vault(|v| v.confirm_passphrase(p))?),
        None => None,
    };
    state.export_cancel.store(false, Ordering::Relaxed);
    let opts = vault::bundle::ExportOptions {
        scope,
        extra_recipients,
        confirmed,
        output: folder,
        armor: false,
        passphrase: request.passphrase,
        cancel: Some(state.export_cancel.clone()),
        limits: Default::default(),
    };
    let emitter = app.clone();
    let mut last: Option<std::time::Instant> = None;
    let mut progress = move |written: u64| {
        // A few updates a second are all a progress bar needs; each one costs the window a
        // message and a repaint, which at format 2's speed took time from the lock.
        if last.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return;
        }
        last = Some(std::time::Instant::now());
        let _ = emitter.emit("export-progress", ExportProgress { written });
    };
    let r = state.with_vault(|v| crate::background::run(|| v.export(&opts, &mut progress)))?;
    // The last figure, which the few-a-second updates may have skipped.
    let written = r.bundles.iter().map(|b| b.size).sum();
    let _ = app.emit("export-progress", ExportProgress { written });
    Ok(ExportDone {
        files: r
            .bundles
            .into_iter()
            .map(|b| ExportedFile {
                path: b.path.to_string_lossy().into_owned(),
                sha256: b.sha256,
                size: b.size,
            })
            .collect(),
        records: r.records as u32,
        revisions: r.revisions as u32,
        blobs: r.blobs as u32,
        recipients: r.recipients,
    })
}

/// Stops a running export (its partial file is removed). Not async: on the main thread, it
/// cannot queue behind commands waiting for the vault the export holds (issue #10, item 5).
#[tauri::command]
pub fn export_cancel(state: State<'_, AppState>) -> CmdResult<()> {
    state.export_cancel.store(true, Ordering::Relaxed);
    Ok(())
}
