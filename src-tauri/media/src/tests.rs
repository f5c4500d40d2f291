//! The media scheme's rules, request by request.

use std::cell::Cell;

use super::*;

const SHA: &str = "5f2b1c0e9d8a7b6c5f2b1c0e9d8a7b6c5f2b1c0e9d8a7b6c5f2b1c0e9d8a7b6c";

fn request(path: &str, origin: Option<&str>) -> Request<Vec<u8>> {
    let mut b = Request::builder().uri(format!("kuager-media://localhost{path}"));
    if let Some(o) = origin {
        b = b.header(header::ORIGIN, o);
    }
    b.body(Vec::new()).unwrap()
}

/// Serves `path` with an attachment of `content`, no lock pending.
fn get(path: &str, content: &[u8]) -> Response<Cow<'static, [u8]>> {
    serve(
        &request(path, None),
        MAX_PREVIEW,
        |_, body| {
            body.extend_from_slice(content);
            Ok(())
        },
        || false,
    )
}

fn header_of<'r>(r: &'r Response<Cow<'static, [u8]>>, name: &str) -> Option<&'r str> {
    r.headers().get(name).map(|v| v.to_str().unwrap())
}

#[test]
fn only_a_sha256_is_asked_for_and_nothing_is_read_otherwise() {
    for path in [
        "/",
        "/abc",
        &format!("/{}", &SHA[..63]),
        &format!("/{SHA}0"),
        &format!("/{}g", &SHA[..63]),
        &format!("/../{}", &SHA[3..]),
        &format!("/{SHA}/x"),
    ] {
        let asked = Cell::new(false);
        let r = serve(
            &request(path, None),
            MAX_PREVIEW,
            |_, _| {
                asked.set(true);
                Ok(())
            },
            || false,
        );
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(!asked.get(), "{path}: the vault was asked");
        assert!(r.body().is_empty());
    }
}

#[test]
fn the_attachment_asked_for_is_served_with_its_media_type() {
    let asked = Cell::new(String::new());
    let r = serve(
        &request(&format!("/{SHA}?type=image/png"), None),
        MAX_PREVIEW,
        |sha, body| {
            asked.set(sha.to_owned());
            body.extend_from_slice(b"picture");
            Ok(())
        },
        || false,
    );
    assert_eq!(asked.take(), SHA);
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(&r.body()[..], b"picture");
    assert_eq!(header_of(&r, "content-type"), Some("image/png"));
}

#[test]
fn the_window_is_told_only_the_media_types_it_may_show() {
    for t in [
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "audio/wav",
        "video/mp4",
        "video/webm",
    ] {
        let r = get(&format!("/{SHA}?type={t}"), b"x");
        assert_eq!(header_of(&r, "content-type"), Some(t));
        let encoded = t.replace('/', "%2F");
        let r = get(&format!("/{SHA}?n=1&type={encoded}"), b"x");
        assert_eq!(header_of(&r, "content-type"), Some(t), "{encoded}");
    }
    for asked in [
        "?type=text/html",
        "?type=image/svg%2Bxml",
        "?type=",
        "",
        "?kind=image/png",
    ] {
        let r = get(&format!("/{SHA}{asked}"), b"<script>");
        assert_eq!(
            header_of(&r, "content-type"),
            Some("application/octet-stream"),
            "{asked}"
        );
    }
}

#[test]
fn nothing_is_cached_or_sniffed_whatever_the_answer() {
    let answers = [
        get(&format!("/{SHA}"), b"x"),
        get("/nope", b"x"),
        serve(
            &request(&format!("/{SHA}"), None),
            MAX_PREVIEW,
            |_, _| Err(Unavailable::NotFound),
            || false,
        ),
        serve(
            &request(&format!("/{SHA}"), None),
            MAX_PREVIEW,
            |_, _| Ok(()),
            || true,
        ),
    ];
    for r in &answers {
        assert_eq!(
            header_of(r, "cache-control"),
            Some("no-store"),
            "{}",
            r.status()
        );
        assert_eq!(header_of(r, "x-content-type-options"), Some("nosniff"));
    }
}

#[test]
fn only_the_apps_own_pages_may_read_an_answer() {
    for origin in ["tauri://localhost", "http://tauri.localhost"] {
        let r = serve(
            &request(&format!("/{SHA}"), Some(origin)),
            MAX_PREVIEW,
            |_, b| {
                b.push(1);
                Ok(())
            },
            || false,
        );
        assert_eq!(header_of(&r, "access-control-allow-origin"), Some(origin));
        assert_eq!(header_of(&r, "vary"), Some("Origin"));
    }
    for origin in [
        Some("https://example.org"),
        Some("tauri://localhost.example.org"),
        Some("http://tauri.localhost:8080"),
        Some("null"),
        None,
    ] {
        let r = serve(
            &request(&format!("/{SHA}"), origin),
            MAX_PREVIEW,
            |_, b| {
                b.push(1);
                Ok(())
            },
            || false,
        );
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            header_of(&r, "access-control-allow-origin"),
            None,
            "{origin:?}"
        );
    }
}

#[test]
fn a_lock_asked_for_during_the_read_sends_nothing() {
    let r = serve(
        &request(&format!("/{SHA}"), None),
        MAX_PREVIEW,
        |_, b| {
            b.extend_from_slice(b"testimony");
            Ok(())
        },
        || true,
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.body().is_empty());
}

#[test]
fn a_locked_vault_and_a_missing_attachment_send_nothing() {
    for (why, status) in [
        (Unavailable::Locked, StatusCode::FORBIDDEN),
        (Unavailable::NotFound, StatusCode::NOT_FOUND),
    ] {
        let r = serve(
            &request(&format!("/{SHA}"), None),
            MAX_PREVIEW,
            |_, b| {
                b.extend_from_slice(b"half of it");
                Err(why)
            },
            || false,
        );
        assert_eq!(r.status(), status);
        assert!(r.body().is_empty());
    }
}

#[test]
fn an_attachment_over_the_preview_limit_is_refused_and_one_at_it_served() {
    let at = |content: &[u8]| {
        serve(
            &request(&format!("/{SHA}"), None),
            10,
            |_, body| read_capped(content, 10, body).map_err(|_| Unavailable::NotFound),
            || false,
        )
    };
    assert_eq!(at(&[7; 10]).status(), StatusCode::OK);
    assert_eq!(at(&[7; 10]).body().len(), 10);
    let r = at(&[7; 100]);
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body().is_empty());
    // A photo of a few MiB is well within the real limit.
    let photo = vec![1u8; 3 << 20];
    let r = serve(
        &request(&format!("/{SHA}"), None),
        MAX_PREVIEW,
        |_, body| read_capped(&photo[..], MAX_PREVIEW, body).map_err(|_| Unavailable::NotFound),
        || false,
    );
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.body().len(), 3 << 20);
}

#[test]
fn reading_stops_one_byte_past_the_limit() {
    let mut body = Vec::new();
    read_capped(&[1u8; 100][..], 10, &mut body).unwrap();
    assert_eq!(body.len(), 11);
    let mut body = Vec::new();
    read_capped(&[1u8; 5][..], u64::MAX, &mut body).unwrap();
    assert_eq!(body.len(), 5);
}

#[test]
fn a_video_asked_for_mse_is_rewritten_and_its_codecs_named_to_the_app_only() {
    let made = crate::fmp4::tests::made();
    let r = serve(
        &request(
            &format!("/{SHA}?type=video/mp4&as=mse"),
            Some("tauri://localhost"),
        ),
        MAX_PREVIEW,
        |_, body| {
            body.extend_from_slice(&made.file);
            Ok(())
        },
        || false,
    );
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header_of(&r, "content-type"), Some("video/mp4"));
    assert_eq!(header_of(&r, CODECS), Some("avc1.64001f,mp4a.40.2"));
    assert_eq!(header_of(&r, "access-control-expose-headers"), Some(CODECS));
    assert_eq!(
        header_of(&r, "access-control-allow-origin"),
        Some("tauri://localhost")
    );
    assert_eq!(header_of(&r, "cache-control"), Some("no-store"));
    assert_eq!(&r.body()[4..8], b"ftyp");
    assert!(r.body().windows(4).any(|w| w == b"moof"));
    // The same file asked for as it is: served as it is.
    assert_eq!(
        &get(&format!("/{SHA}?type=video/mp4"), &made.file).body()[..],
        &made.file[..]
    );
}

#[test]
fn a_webm_asked_for_mse_is_rewritten_as_webm() {
    let made = crate::webm::tests::made();
    let r = get(&format!("/{SHA}?type=video/webm&as=mse"), &made.file);
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header_of(&r, "content-type"), Some("video/webm"));
    assert_eq!(header_of(&r, CODECS), Some("vp9,opus"));
    assert_eq!(
        &r.body()[..],
        &crate::webm::clean(&made.file).unwrap().bytes[..]
    );
    // Matroska too, whatever type the attachment was given: the bytes say what it is.
    let r = get(&format!("/{SHA}?type=video/x-matroska&as=mse"), &made.file);
    assert_eq!(header_of(&r, "content-type"), Some("video/webm"));
}

#[test]
fn a_file_that_is_no_playable_video_is_refused_and_sends_nothing() {
    let webm_h264 = {
        let mut f = crate::webm::tests::made().file;
        let at = f.windows(5).position(|w| w == b"V_VP9").unwrap();
        f[at..at + 5].copy_from_slice(b"V_AVC");
        f
    };
    for content in [
        &b"GIF89a not a video"[..],
        b"",
        b"\0\0\0\x08moov",
        &webm_h264,
    ] {
        let r = get(&format!("/{SHA}?type=video/mp4&as=mse"), content);
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(r.body().is_empty());
        assert_eq!(header_of(&r, CODECS), None);
    }
}

#[test]
fn a_lock_asked_for_while_a_video_is_rewritten_sends_nothing() {
    let made = crate::fmp4::tests::made();
    let asked = Cell::new(0);
    let r = serve(
        &request(&format!("/{SHA}?as=mse"), None),
        MAX_PREVIEW,
        |_, body| {
            body.extend_from_slice(&made.file);
            Ok(())
        },
        // No lock when the read ends; one by the time the rewrite is done.
        || {
            asked.set(asked.get() + 1);
            asked.get() > 1
        },
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.body().is_empty());
}
