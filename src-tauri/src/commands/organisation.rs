//! The organisation: a coordinator's vault creates the organisation identity and writes the
//! organisation profile; a caseworker's vault loads one, after its signer's fingerprint was
//! compared aloud (docs/bundle-format.md "Organisation profile"; docs/threat-model.md
//! "Organisation profiles"). A profile can only make a vault stricter.

use std::io::Write;
use std::sync::atomic::Ordering;

use tauri::{AppHandle, Manager, State};
use vault::profile::{self, Coordinator, Opened, Policy};

use super::short;
use crate::dto::{
    OrganisationDto, ProfileDto, ProfileLoad, ProfileWriteRequest, ProfileWritten, RecipientDto,
};
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::state::AppState;

/// A profile to load as the page sent it, its size and the typed fingerprint's length bounded.
pub fn bounded(load: &ProfileLoad) -> CmdResult<Opened> {
    if load.fingerprint.len() > 200 {
        return Err(
            IpcError::new(ErrorCode::Invalid, "the fingerprint typed is too long")
                .field("fingerprint"),
        );
    }
    open(&load.text)
}

/// Reads a profile file's text as the page sent it: whole, signed by the key it names, valid
/// now. Nothing is kept.
pub fn open(text: &str) -> CmdResult<Opened> {
    if text.len() > profile::MAX_FILE_BYTES {
        return Err(IpcError::new(
            ErrorCode::Invalid,
            "this file is too large to be an organisation profile",
        )
        .field("organisation profile"));
    }
    Ok(profile::open(
        text.as_bytes(),
        time::OffsetDateTime::now_utc(),
    )?)
}

/// Loads a profile into the unlocked vault after the passphrase was confirmed; the app's idle
/// timer takes the profile's limit at once.
pub fn load(
    state: &AppState,
    v: &mut vault::Vault,
    load: &ProfileLoad,
    confirmed: vault::Confirmed,
) -> vault::Result<Opened> {
    let opened = v.load_profile(load.text.as_bytes(), &load.fingerprint, confirmed)?;
    let limit = v.settings()?.max_autolock_minutes.unwrap_or(0);
    state.policy_autolock.store(limit, Ordering::Relaxed);
    Ok(opened)
}

/// What a profile file says and who signed it, before anything is loaded (first run, Settings).
#[tauri::command]
pub async fn profile_open(text: String) -> CmdResult<ProfileDto> {
    let o = open(&text)?;
    Ok(ProfileDto::new(&o.profile, o.fingerprint, None))
}

/// Loads a profile: its coordinators' keys, its recovery key, its policy. The vault's
/// passphrase is asked again (it changes who can read what leaves the vault), and the
/// fingerprint the coordinator read aloud must be the signer's.
#[tauri::command]
pub async fn profile_load(
    app: AppHandle,
    request: ProfileLoad,
    passphrase: vault::Passphrase,
) -> CmdResult<ProfileDto> {
    let state = app.state::<AppState>();
    bounded(&request)?;
    let opened = state.with_vault(|v| {
        let ok = v.confirm_passphrase(&passphrase)?;
        load(&state, v, &request, ok)
    })?;
    let loaded = state.with_vault(|v| v.loaded_profile())?;
    Ok(ProfileDto::new(
        &opened.profile,
        opened.fingerprint,
        loaded.map(|l| l.loaded_at),
    ))
}

/// Forgets the loaded profile (its keys and policy stay), so that one signed by a new
/// organisation key can be loaded. After the passphrase.
#[tauri::command]
pub async fn profile_forget(
    state: State<'_, AppState>,
    passphrase: vault::Passphrase,
) -> CmdResult<()> {
    state.with_vault(|v| {
        let ok = v.confirm_passphrase(&passphrase)?;
        v.forget_profile(ok)
    })
}

/// The organisation identities, this vault's signing fingerprint, the loaded profile.
#[tauri::command]
pub async fn organisation(state: State<'_, AppState>) -> CmdResult<OrganisationDto> {
    state.with_vault(|v| {
        let identities = v
            .identities()?
            .into_iter()
            .map(|(recipient, label)| RecipientDto { recipient, label })
            .collect();
        let fingerprint = profile::fingerprint(&v.device_public_key()?.minisign);
        let profile = v
            .loaded_profile()?
            .map(|l| ProfileDto::new(&l.profile, l.fingerprint, Some(l.loaded_at)));
        Ok(OrganisationDto {
            identities,
            fingerprint,
            profile,
        })
    })
}

/// Creates an organisation identity in the vault (a coordinator's): bundles encrypted to its
/// public key, returned, can be imported here. The secret key never leaves the vault.
#[tauri::command]
pub async fn identity_new(state: State<'_, AppState>, label: String) -> CmdResult<String> {
    let label = short(&label, "label")?;
    state.with_vault(|v| v.new_identity((!label.is_empty()).then_some(label.as_str())))
}

/// Writes a signed organisation profile into the folder bundles go to, as a new file (never
/// over another), and returns where and the fingerprint to read aloud. The vault's passphrase
/// is asked again: every caseworker who loads the profile exports to the keys it names. The file is meant to be
/// handed out: it holds the organisation's name and public keys, nothing secret.
#[tauri::command]
pub async fn profile_write(
    state: State<'_, AppState>,
    request: ProfileWriteRequest,
    passphrase: vault::Passphrase,
) -> CmdResult<ProfileWritten> {
    let folder = super::bundles::export_dir(&state)?;
    let organisation = short(&request.organisation, "organisation's name")?;
    let recovery = request
        .recovery
        .map(|r| short(&r, "recovery key"))
        .transpose()?
        .filter(|r| !r.is_empty());
    let typed: Vec<Coordinator> = request
        .coordinators
        .iter()
        .map(|c| {
            Ok(Coordinator {
                recipient: short(&c.recipient, "key")?,
                label: c
                    .label
                    .as_deref()
                    .map(|l| short(l, "label"))
                    .transpose()?
                    .filter(|l| !l.is_empty()),
            })
        })
        .filter(|c: &CmdResult<Coordinator>| c.as_ref().map_or(true, |c| !c.recipient.is_empty()))
        .collect::<CmdResult<_>>()?;
    let bytes = state.with_vault(|v| {
        let ok = v.confirm_passphrase(&passphrase)?;
        let coordinators = if typed.is_empty() {
            v.identities()?
                .into_iter()
                .map(|(recipient, label)| Coordinator { recipient, label })
                .collect()
        } else {
            typed
        };
        if coordinators.is_empty() {
            return Err(vault::Error::Invalid {
                field: "coordinators".into(),
                message: "create the organisation identity first, or give the coordinators' keys"
                    .into(),
            });
        }
        v.write_profile(
            &vault::ProfileSpec {
                organisation,
                coordinators,
                recovery,
                policy: Policy {
                    passphrase_bundles: request.passphrase_bundles,
                    max_autolock_minutes: request.max_autolock_minutes,
                },
                valid_days: request.valid_days,
            },
            ok,
        )
    })?;
    let opened = profile::open(&bytes, time::OffsetDateTime::now_utc())?;
    let path = crate::state::blocking(|| new_file(&folder, &opened, &bytes))?;
    Ok(ProfileWritten {
        path: path.to_string_lossy().into_owned(),
        fingerprint: opened.fingerprint,
    })
}

/// `organisation-YYYY-MM-DD.kuager-profile` in `folder` (`-2`, `-3`… if taken): no name of
/// anyone, not even the organisation's, in a file name.
fn new_file(
    folder: &std::path::Path,
    opened: &Opened,
    bytes: &[u8],
) -> CmdResult<std::path::PathBuf> {
    let day = opened.profile.issued_at.get(..10).unwrap_or("profile");
    let failed = |_| IpcError::new(ErrorCode::Io, "the profile file could not be written");
    for n in 1..100 {
        let name = match n {
            1 => format!("organisation-{day}.kuager-profile"),
            n => format!("organisation-{day}-{n}.kuager-profile"),
        };
        let path = folder.join(name);
        let mut f = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(failed(e)),
        };
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| {
                let _ = std::fs::remove_file(&path);
                failed(e)
            })?;
        return Ok(path);
    }
    Err(IpcError::new(
        ErrorCode::Io,
        "too many profile files from today in the folder: move some away",
    ))
}
