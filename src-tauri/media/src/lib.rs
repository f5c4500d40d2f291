//! `kuager-media:` — attachments shown or played in the window, decrypted into memory and served
//! with `Cache-Control: no-store`: never a plaintext file, never WebKit's cache. Images load it
//! with `<img>`; recordings are fetched by the page (which is why the app's own origin may read
//! the answer) and played with Web Audio, never a media element: WebKitGTK's player may buffer
//! what it plays to a file in `/var/tmp` (docs/threat-model.md, issue #10 item 1).
//!
//! The rules live here, apart from the app, so that they are tested (and mutation-tested,
//! docs/mutants.md) without a window: which requests are answered, which origins may read the
//! answer, which media types the window is told, how large an attachment may be, and that a lock
//! asked for while an attachment was being read sends nothing. The app
//! (`src-tauri/src/media.rs`) supplies the vault.

use std::borrow::Cow;
use std::io::{self, Read};

use http::{header, Request, Response, StatusCode};

pub mod fmp4;
pub mod webm;

/// The scheme name (`kuager-media://localhost/<sha256>?type=image/jpeg`).
pub const SCHEME: &str = "kuager-media";

/// The response header that names a rewritten video's codecs (`?as=mse`), for the page's
/// `MediaSource.addSourceBuffer`.
pub const CODECS: &str = "kuager-codecs";

/// Largest attachment shown in the window (bigger ones are exported, not previewed).
pub const MAX_PREVIEW: u64 = 512 << 20;

/// Why an attachment cannot be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// The vault is locked.
    Locked,
    /// No such attachment, or it could not be read.
    NotFound,
}

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

/// A video rewritten for the window's Media Source Extensions.
struct ForMse {
    bytes: Vec<u8>,
    /// Its media type: `video/mp4`, `audio/mp4`, `video/webm` or `audio/webm`.
    kind: &'static str,
    codecs: String,
}

/// `file` rewritten for MSE: a WebM or Matroska file as a plain WebM ([`webm`]), anything else
/// as a fragmented MP4 ([`fmp4`], which refuses what is not an MP4 or QuickTime file).
fn for_mse(file: &[u8]) -> Option<ForMse> {
    if webm::is_ebml(file) {
        let c = webm::clean(file).ok()?;
        let kind = if c.video { "video/webm" } else { "audio/webm" };
        return Some(ForMse {
            bytes: c.bytes,
            kind,
            codecs: c.codecs,
        });
    }
    let f = fmp4::fragment(file).ok()?;
    let kind = if f.video { "video/mp4" } else { "audio/mp4" };
    Some(ForMse {
        bytes: f.bytes,
        kind,
        codecs: f.codecs,
    })
}

/// Reads an attachment's plaintext into `body`, at most `max` bytes and one more (so that
/// [`serve`] can tell one that is too large).
pub fn read_capped(r: impl Read, max: u64, body: &mut Vec<u8>) -> io::Result<()> {
    r.take(max.saturating_add(1)).read_to_end(body).map(drop)
}

/// Answers one request for an attachment by its SHA-256. `read` fills the body (with
/// [`read_capped`]); `lock_pending` says whether a lock was asked for meanwhile, in which case
/// the plaintext is wiped and goes nowhere.
pub fn serve(
    request: &Request<Vec<u8>>,
    max: u64,
    read: impl FnOnce(&str, &mut Vec<u8>) -> Result<(), Unavailable>,
    lock_pending: impl Fn() -> bool,
) -> Response<Cow<'static, [u8]>> {
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
    let mut body = Vec::new();
    let read = read(sha, &mut body);
    // A lock asked for while this read: the plaintext goes nowhere. (The buffer grows as it
    // reads, so earlier, smaller copies are freed unwiped: the same heap SQLite leaves
    // decrypted pages in, covered by full-disk encryption — docs/threat-model.md.)
    let refused = |mut body: Vec<u8>, status| {
        zeroize::Zeroize::zeroize(&mut body);
        reply(status, vec![], "text/plain")
    };
    let mse = uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "as=mse"));
    match read {
        _ if lock_pending() => refused(body, StatusCode::FORBIDDEN),
        Ok(()) if body.len() as u64 > max => refused(body, StatusCode::PAYLOAD_TOO_LARGE),
        Ok(()) if mse => {
            let rewritten = for_mse(&body);
            // The original's plaintext is wiped; only the rewritten copy may go to the window,
            // and not if a lock came while it was made.
            zeroize::Zeroize::zeroize(&mut body);
            match rewritten {
                Some(f) if lock_pending() => refused(f.bytes, StatusCode::FORBIDDEN),
                Some(f) => {
                    let mut r = reply(StatusCode::OK, f.bytes, f.kind);
                    let h = r.headers_mut();
                    h.insert(CODECS, f.codecs.parse().expect("codecs strings are ASCII"));
                    h.insert(
                        header::ACCESS_CONTROL_EXPOSE_HEADERS,
                        CODECS.parse().unwrap(),
                    );
                    r
                }
                None => refused(body, StatusCode::UNSUPPORTED_MEDIA_TYPE),
            }
        }
        Ok(()) => reply(StatusCode::OK, body, kind),
        Err(Unavailable::Locked) => refused(body, StatusCode::FORBIDDEN),
        Err(Unavailable::NotFound) => refused(body, StatusCode::NOT_FOUND),
    }
}

#[cfg(test)]
mod tests;
