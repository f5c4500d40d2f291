//! `kuager-media:` — attachments shown or played in the window, decrypted into memory and served
//! with `Cache-Control: no-store`: never a plaintext file, never WebKit's cache. Images load it
//! with `<img>`; recordings are fetched by the page (which is why the app's own origin may read
//! the answer) and played with Web Audio, never a media element: WebKitGTK's player may buffer
//! what it plays to a file in `/var/tmp` (docs/threat-model.md, issue #10 item 1).

use std::borrow::Cow;
use std::io::Read;

use tauri::http::{header, Request, Response, StatusCode};
use tauri::{AppHandle, Manager};

use crate::state::AppState;

/// The scheme name (`kuager-media://localhost/<sha256>?type=image/jpeg`).
pub const SCHEME: &str = "kuager-media";

/// Largest attachment shown in the window (bigger ones are exported, not previewed).
pub const MAX_PREVIEW: u64 = 512 << 20;

/// Media types the window may receive; anything else is served as opaque bytes.
fn media_type(requested: Option<&str>) -> &'static str {
    match requested.unwrap_or("") {
        "image/jpeg" => "image/jpeg",
        "image/png" => "image/png",
        "image/webp" => "image/webp",
        "image/gif" => "image/gif",
        "audio/mpeg" => "audio/mpeg",
        "audio/mp4" => "audio/mp4",
        "audio/ogg" => "audio/ogg",
        "audio/wav" => "audio/wav",
        "video/mp4" => "video/mp4",
        "video/webm" => "video/webm",
        _ => "application/octet-stream",
    }
}

/// The app's own pages (Linux and macOS; Windows): the only origins that may read a response
/// with `fetch`, as the audio player does (CORS: the media scheme is another origin).
const APP_ORIGINS: [&str; 2] = ["tauri://localhost", "http://tauri.localhost"];

fn reply(
    status: StatusCode,
    body: Vec<u8>,
    kind: &str,
    origin: Option<&'static str>,
) -> Response<Cow<'static, [u8]>> {
    let mut r = Response::builder();
    if let Some(o) = origin {
        r = r
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, o)
            .header(header::VARY, "Origin");
    }
    r.status(status)
        .header(header::CONTENT_TYPE, kind)
        .header(header::CACHE_CONTROL, "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .body(Cow::Owned(body))
        .expect("a valid response")
}

/// Serves one attachment by its SHA-256, if the vault is unlocked and has it. Runs on its own
/// thread (the scheme is registered as asynchronous): the vault may be busy with an upload.
pub fn handle(app: &AppHandle, request: Request<Vec<u8>>) -> Response<Cow<'static, [u8]>> {
    let origin = request.headers().get(header::ORIGIN).and_then(|o| {
        APP_ORIGINS
            .iter()
            .copied()
            .find(|a| o.as_bytes() == a.as_bytes())
    });
    let reply = |status, body, kind| reply(status, body, kind, origin);
    let uri = request.uri();
    let sha = uri.path().trim_start_matches('/');
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return reply(StatusCode::BAD_REQUEST, vec![], "text/plain");
    }
    let kind = media_type(
        uri.query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("type=")))
            .map(|t| t.replace("%2F", "/"))
            .as_deref(),
    );
    let state = app.state::<AppState>();
    let slot = state.slot();
    let Some(v) = slot.as_ref() else {
        return reply(StatusCode::FORBIDDEN, vec![], "text/plain");
    };
    let mut body = Vec::new();
    let read = v.open_attachment(sha).and_then(|r| {
        r.take(MAX_PREVIEW + 1)
            .read_to_end(&mut body)
            .map_err(|e| vault::Error::Io {
                context: "reading an attachment".into(),
                source: e,
            })
    });
    drop(slot);
    // A lock asked for while this read: the plaintext goes nowhere. (The buffer grows as it
    // reads, so earlier, smaller copies are freed unwiped: the same heap SQLite leaves
    // decrypted pages in, covered by full-disk encryption — docs/threat-model.md.)
    let refused = |mut body: Vec<u8>, status| {
        zeroize::Zeroize::zeroize(&mut body);
        reply(status, vec![], "text/plain")
    };
    match read {
        _ if state.lock_is_pending() => refused(body, StatusCode::FORBIDDEN),
        Ok(_) if body.len() as u64 > MAX_PREVIEW => refused(body, StatusCode::PAYLOAD_TOO_LARGE),
        Ok(_) => reply(StatusCode::OK, body, kind),
        Err(vault::Error::Locked) => refused(body, StatusCode::FORBIDDEN),
        Err(_) => refused(body, StatusCode::NOT_FOUND),
    }
}
