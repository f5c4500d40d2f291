//! First run, unlock and lock, settings, passphrase change, emergency erase.

use std::sync::atomic::Ordering;

use tauri::{AppHandle, Manager, State};

use crate::dto::{AppInfo, CreateRequest, RotatedDto};
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::state::AppState;

/// What the first screen needs.
#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> CmdResult<AppInfo> {
    let (vault_exists, unlocked) = state.vault_status();
    let coordinator = unlocked
        && state
            .with_vault(|v| v.identities())
            .is_ok_and(|ids| !ids.is_empty());
    let c = state
        .config
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    Ok(AppInfo {
        vault_exists,
        unlocked,
        coordinator,
        language: c.language,
        autolock_minutes: c.autolock_minutes,
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// First run: creates the vault, with the coordinators' keys and an optional recovery key.
#[tauri::command]
pub async fn create_vault(app: AppHandle, request: CreateRequest) -> CmdResult<()> {
    let state = app.state::<AppState>();
    let recipients = super::recipients(&request.recipients)?;
    let recovery = match request.recovery.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => {
            vec![r.parse::<age::x25519::Recipient>().map_err(|_| {
                IpcError::new(ErrorCode::Invalid, "the recovery key is not an age1… key")
                    .field("recovery")
            })?]
        }
        _ => vec![],
    };
    // A profile is checked before anything is written: whole, signed, valid now, and signed
    // by the key whose fingerprint the coordinator read aloud.
    if let Some(p) = &request.profile {
        let opened = super::organisation::bounded(p)?;
        if !opened.fingerprint_matches(&p.fingerprint) {
            return Err(IpcError::new(
                ErrorCode::Invalid,
                "the fingerprint typed is not this profile's: do not use this file; ask the \
                 coordinator to read theirs aloud again",
            )
            .field("fingerprint"));
        }
    }
    let mut slot = state.slot();
    if slot.is_some() {
        return Err(IpcError::new(
            ErrorCode::VaultExists,
            "a vault already exists here",
        ));
    }
    let passphrase = request.passphrase;
    let v = crate::state::blocking(|| -> CmdResult<vault::Vault> {
        let mut v = vault::Vault::create(
            &state.vault_dir,
            &passphrase,
            vault::CreateOptions {
                recovery,
                recipients,
                work_factor: crate::test_work_factor(),
            },
        )?;
        if let Some(p) = &request.profile {
            // The first run is one step: a vault whose profile cannot be loaded is not kept.
            let loaded = v
                .confirm_passphrase(&passphrase)
                .and_then(|ok| super::organisation::load(&state, &mut v, p, ok));
            if let Err(e) = loaded {
                let _ = v.erase();
                return Err(e.into());
            }
        }
        Ok(v)
    })?;
    *slot = Some(v);
    drop(slot);
    state.touch();
    Ok(())
}

/// Unlocks the vault. A lock pressed while this waited for the vault wins: the unlock is
/// refused (the page that asked is gone, and the unlock screen must not open by itself).
#[tauri::command]
pub async fn unlock(app: AppHandle, passphrase: vault::Passphrase) -> CmdResult<()> {
    let state = app.state::<AppState>();
    let locks = state.locks();
    state.with_vault(|v| {
        if state.locks() != locks {
            return Err(vault::Error::Locked);
        }
        v.unlock(&passphrase)?;
        // The organisation profile's limit on the idle time, for the idle timer; a vault whose
        // limit cannot be read does not stay open without it.
        match v.settings() {
            Ok(s) => {
                let limit = s.max_autolock_minutes.unwrap_or(0);
                state.policy_autolock.store(limit, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                v.lock();
                Err(e)
            }
        }
    })
}

/// Locks now (button, panic shortcut) and reloads the window so no decrypted text survives.
/// Not async: it runs on the main thread, which nothing else blocks, so it can never queue
/// behind async commands waiting for the vault (issue #10, item 5); it never waits itself.
#[tauri::command]
pub fn lock(app: AppHandle) {
    crate::lock_and_reload(&app);
}

/// User activity seen by the UI (keys, pointer), for the idle timer (on the main thread too:
/// it only notes the time).
#[tauri::command]
pub fn touch(state: State<'_, AppState>) -> CmdResult<()> {
    state.touch();
    Ok(())
}

/// Switches the UI language (kept outside the vault: the unlock screen needs it).
#[tauri::command]
pub async fn set_language(state: State<'_, AppState>, language: String) -> CmdResult<()> {
    if !crate::LANGUAGES.contains(&language.as_str()) {
        return Err(IpcError::new(ErrorCode::Invalid, "unknown language"));
    }
    state
        .config
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .language = language;
    state.save_config()
}

/// Sets the idle time before the vault locks itself.
#[tauri::command]
pub async fn set_autolock(state: State<'_, AppState>, minutes: u32) -> CmdResult<()> {
    if !(1..=120).contains(&minutes) {
        return Err(IpcError::new(
            ErrorCode::Invalid,
            "choose between 1 and 120 minutes",
        ));
    }
    let limit = state.policy_autolock.load(Ordering::Relaxed);
    if crate::state::effective_autolock(minutes, limit) != minutes {
        return Err(IpcError::new(
            ErrorCode::Invalid,
            format!("your organisation's profile allows at most {limit} minutes"),
        ));
    }
    state
        .config
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .autolock_minutes = minutes;
    state.save_config()
}

/// Changes the passphrase (the current one is asked again).
#[tauri::command]
pub async fn change_passphrase(
    app: AppHandle,
    current: vault::Passphrase,
    new: vault::Passphrase,
) -> CmdResult<()> {
    let state = app.state::<AppState>();
    state.with_vault(|v| {
        let _confirmed = v.confirm_passphrase(&current)?;
        v.change_passphrase(&new, crate::test_work_factor())
    })
}

/// Rotates the vault's keys and sets the passphrase (after a coerced passphrase or a copied
/// vault): afterwards no earlier keyslot opens anything. Re-encrypts every attachment, so it
/// may take a while; the vault's passphrase is asked again.
#[tauri::command]
pub async fn rotate_keys(
    app: AppHandle,
    current: vault::Passphrase,
    new: vault::Passphrase,
) -> CmdResult<RotatedDto> {
    let state = app.state::<AppState>();
    let r = state.with_vault(|v| {
        let ok = v.confirm_passphrase(&current)?;
        v.rotate_keys(ok, &new, crate::test_work_factor())
    })?;
    Ok(RotatedDto {
        attachments: r.attachments as u32,
        recovery_slots: r.recovery_slots as u32,
        recovery_slots_removed: r.recovery_slots_removed as u32,
    })
}

/// R5: emergency erase, after the user typed the confirmation word shown to them.
#[tauri::command]
pub async fn erase_vault(app: AppHandle, confirmation: String) -> CmdResult<()> {
    if confirmation.trim() != crate::ERASE_WORD {
        return Err(IpcError::new(
            ErrorCode::Invalid,
            "type the confirmation word exactly to erase the vault",
        ));
    }
    let state = app.state::<AppState>();
    // An emergency erase saves nothing: the recording stops and goes with the vault.
    let _ = crate::state::blocking(|| state.audio.stop());
    state
        .audio
        .saving
        .store(false, std::sync::atomic::Ordering::SeqCst);
    state.lock_now();
    let taken = state.slot().take();
    if let Some(v) = taken {
        crate::state::blocking(|| v.erase())?;
    }
    crate::reload(&app);
    Ok(())
}
