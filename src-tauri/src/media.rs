//! `kuager-media:` — attachments shown or played in the window, decrypted into memory and never
//! written anywhere. The rules (which requests, which origins, which media types, how large,
//! nothing sent when a lock is pending) are the `kuager-media` crate's
//! (`src-tauri/media/src/lib.rs`); this supplies the vault.

use std::borrow::Cow;

use kuager_media::{read_capped, serve, Unavailable, MAX_PREVIEW};
use tauri::http::{Request, Response};
use tauri::{AppHandle, Manager};

use crate::state::AppState;

pub use kuager_media::SCHEME;

/// Serves one attachment by its SHA-256, if the vault is unlocked and has it. Runs on its own
/// thread (the scheme is registered as asynchronous): the vault may be busy with an upload.
pub fn handle(app: &AppHandle, request: Request<Vec<u8>>) -> Response<Cow<'static, [u8]>> {
    let state = app.state::<AppState>();
    let read = |sha: &str, body: &mut Vec<u8>| {
        let slot = state.slot();
        let v = slot.as_ref().ok_or(Unavailable::Locked)?;
        let r = v.open_attachment(sha).map_err(|e| match e {
            vault::Error::Locked => Unavailable::Locked,
            _ => Unavailable::NotFound,
        })?;
        read_capped(r, MAX_PREVIEW, body).map_err(|_| Unavailable::NotFound)
    };
    serve(&request, MAX_PREVIEW, read, || state.lock_is_pending())
}
