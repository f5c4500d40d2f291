//! Export: the coordinators' keys, the destination folder, the bundle with progress and cancel.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use tauri::{AppHandle, Emitter, Manager, State};
use tauri_plugin_dialog::DialogExt;

use super::short;
use crate::dto::{ExportDone, ExportProgress, ExportRequest, RecipientDto, VaultSettingsDto};
use crate::error::{CmdResult, IpcError};
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

/// Adds a coordinator key (`age1…`, `ssh-ed25519 …`).
#[tauri::command]
pub async fn recipients_add(
    state: State<'_, AppState>,
    recipient: String,
    label: Option<String>,
) -> CmdResult<()> {
    let r: vault::bundle::Recipient = short(&recipient, "key")?.parse()?;
    let label = label
        .map(|l| short(&l, "label"))
        .transpose()?
        .filter(|l| !l.is_empty());
    state.with_vault(|v| v.add_recipient(&r, label.as_deref()))
}

/// Removes a coordinator key.
#[tauri::command]
pub async fn recipients_remove(state: State<'_, AppState>, recipient: String) -> CmdResult<()> {
    let r = short(&recipient, "key")?;
    state.with_vault(|v| v.remove_recipient(&r).map(drop))
}

/// The vault's label and bundle policy.
#[tauri::command]
pub async fn vault_settings(state: State<'_, AppState>) -> CmdResult<VaultSettingsDto> {
    let s = state.with_vault(|v| v.settings())?;
    Ok(VaultSettingsDto {
        label: s.label,
        passphrase_bundles: s.passphrase_bundles,
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
#[tauri::command]
pub async fn set_passphrase_bundles(state: State<'_, AppState>, allow: bool) -> CmdResult<()> {
    state.with_vault(|v| v.set_passphrase_bundles(allow))
}

/// Where bundles go unless the user picks another folder: Documents/Kuager (created).
#[tauri::command]
pub async fn export_default_folder() -> CmdResult<String> {
    let base = dirs::document_dir()
        .or_else(dirs::home_dir)
        .ok_or_else(|| IpcError::new("io", "no documents folder for this user"))?;
    let dir = base.join("Kuager");
    std::fs::create_dir_all(&dir)
        .map_err(|_| IpcError::new("io", "the Kuager folder in Documents could not be made"))?;
    Ok(dir.to_string_lossy().into_owned())
}

/// The system's folder picker, opened from here: the webview never supplies a path of its own.
#[tauri::command]
pub async fn pick_export_folder(app: AppHandle) -> Option<String> {
    app.dialog()
        .file()
        .blocking_pick_folder()
        .and_then(|p| p.into_path().ok())
        .map(|p| p.to_string_lossy().into_owned())
}

/// Writes a bundle; progress as `export-progress` events; `export_cancel` stops it.
#[tauri::command]
pub async fn export_bundle(app: AppHandle, request: ExportRequest) -> CmdResult<ExportDone> {
    let state = app.state::<AppState>();
    let folder = PathBuf::from(short(&request.folder, "folder")?);
    if !folder.is_absolute() || !folder.is_dir() {
        return Err(IpcError::new("invalid", "choose an existing folder"));
    }
    let scope = match request.scope.as_str() {
        "all" => vault::bundle::ExportScope::All,
        "since-last" => vault::bundle::ExportScope::SinceLast,
        _ => return Err(IpcError::new("invalid", "unknown export scope")),
    };
    let extra_recipients = super::recipients(&request.extra_recipients)?;
    state.export_cancel.store(false, Ordering::Relaxed);
    let opts = vault::bundle::ExportOptions {
        scope,
        extra_recipients,
        output: folder,
        armor: false,
        passphrase: request.passphrase.map(vault::Passphrase::new),
        cancel: Some(state.export_cancel.clone()),
    };
    let emitter = app.clone();
    let mut progress = move |written: u64| {
        let _ = emitter.emit("export-progress", ExportProgress { written });
    };
    let r = state.with_vault(|v| v.export(&opts, &mut progress))?;
    Ok(ExportDone {
        path: r.path.to_string_lossy().into_owned(),
        sha256: r.sha256,
        size: r.size,
        records: r.records as u32,
        revisions: r.revisions as u32,
        blobs: r.blobs as u32,
        recipients: r.recipients,
    })
}

/// Stops a running export (its partial file is removed).
#[tauri::command]
pub async fn export_cancel(state: State<'_, AppState>) -> CmdResult<()> {
    state.export_cancel.store(true, Ordering::Relaxed);
    Ok(())
}
