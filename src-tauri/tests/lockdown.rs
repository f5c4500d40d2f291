//! docs/threat-model.md R6 and R9, read from the files that configure the app: any loosening of the
//! webview's lockdown, any command not declared everywhere it must be, and any drift of the
//! generated TypeScript types fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn json(rel: &str) -> serde_json::Value {
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Quoted snake_case names between two markers of a file.
fn quoted_between(text: &str, start: &str, end: &str) -> BTreeSet<String> {
    let a = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not found"))
        + start.len();
    let b = a + text[a..]
        .find(end)
        .unwrap_or_else(|| panic!("{end} not found"));
    text[a..b]
        .split(['"', '\''])
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn declared_commands() -> BTreeSet<String> {
    quoted_between(&read("build.rs"), "const COMMANDS: &[&str] = &[", "];")
}

#[test]
fn every_command_is_declared_permitted_and_let_through_the_isolation_frame() {
    let declared = declared_commands();
    assert!(declared.len() > 20, "{declared:?}");
    let lib = read("src/lib.rs");
    let a = lib.find("generate_handler![").unwrap();
    let b = a + lib[a..].find("])").unwrap();
    let registered: BTreeSet<String> = lib[a..b]
        .split(',')
        .filter_map(|p| p.trim().rsplit("::").next())
        .filter(|n| !n.is_empty() && !n.contains('['))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        registered, declared,
        "lib.rs registers other commands than build.rs declares"
    );

    let cap = json("capabilities/main.json");
    let perms: BTreeSet<String> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().expect("plain permission names only").to_owned())
        .collect();
    let ours: BTreeSet<String> = declared
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    let core: BTreeSet<String> = ["core:event:allow-listen", "core:event:allow-unlisten"]
        .map(String::from)
        .into();
    let expected: BTreeSet<String> = ours.union(&core).cloned().collect();
    assert_eq!(
        perms, expected,
        "the capability grants something else than our commands"
    );

    let isolation = read("../ui/isolation/index.js");
    let allowed = quoted_between(&isolation, "new Set([", "]);");
    let mut expected: BTreeSet<String> = declared.clone();
    expected.insert("plugin:event|listen".into());
    expected.insert("plugin:event|unlisten".into());
    assert_eq!(
        allowed, expected,
        "the isolation frame lets through other commands"
    );
}

#[test]
fn the_window_is_locked_down() {
    let conf = json("tauri.conf.json");
    let app = &conf["app"];
    assert_eq!(app["withGlobalTauri"], false);
    assert_eq!(
        app["windows"],
        serde_json::json!([]),
        "the window is built in code (lib.rs)"
    );
    let sec = &app["security"];
    assert_eq!(sec["pattern"]["use"], "isolation");
    assert_eq!(sec["capabilities"], serde_json::json!(["main"]));
    assert_eq!(sec["freezePrototype"], true);
    assert_eq!(sec["dangerousDisableAssetCspModification"], false);
    assert!(sec.get("assetProtocol").is_none(), "no asset protocol");
    assert!(
        conf["build"].get("devUrl").is_none(),
        "no dev server: assets are embedded"
    );
    // The whole policy, exactly: any source added anywhere (a remote origin in `img-src`, an
    // `http:` in `style-src`) must be a decision made here too. Only the app's own files, its
    // IPC, and the `kuager-media:` scheme for pictures and for recordings fetched into memory
    // and played with Web Audio; no media element may load anything (WebKit's player buffers
    // what it plays to a file in /var/tmp: issue #10, item 1).
    let media = "kuager-media: http://kuager-media.localhost";
    assert_eq!(
        sec["csp"],
        serde_json::json!({
            "default-src": "'self'",
            "script-src": "'self'",
            "style-src": "'self'",
            "img-src": format!("'self' {media}"),
            "media-src": "'none'",
            "font-src": "'self'",
            "connect-src": format!("ipc: http://ipc.localhost {media}"),
            "object-src": "'none'",
            "base-uri": "'none'",
            "form-action": "'none'",
            "frame-ancestors": "'none'",
        }),
        "the content security policy changed"
    );

    let cap = json("capabilities/main.json");
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
    assert!(cap.get("webviews").is_none() && cap.get("remote").is_none());
    let files: Vec<_> = std::fs::read_dir(root().join("capabilities"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["main.json"], "one capability only");

    let manifest = read("Cargo.toml");
    for plugin in [
        "tauri-plugin-shell",
        "tauri-plugin-fs",
        "tauri-plugin-http",
        "tauri-plugin-updater",
    ] {
        assert!(
            !manifest.contains(plugin),
            "{plugin} must not be a dependency"
        );
    }
    let workspace = std::fs::read_to_string(root().join("../Cargo.toml")).unwrap();
    let tauri_line = workspace
        .lines()
        .find(|l| l.starts_with("tauri = "))
        .expect("tauri in the workspace");
    assert!(
        !tauri_line.contains("devtools"),
        "devtools must not be compiled into releases"
    );
    assert!(tauri_line.contains("isolation"));

    let lib = read("src/lib.rs");
    for must in [
        ".incognito(!webdriver_automation())",
        "std::env::remove_var(\"TAURI_WEBVIEW_AUTOMATION\")",
        ".on_download(|_, _| false)",
        "navigation_allowed(url) && pages.state::<AppState>().page_is_current(url)",
        "no_page_cache(&window);",
        "settings.set_enable_page_cache(false);",
        ".devtools(cfg!(debug_assertions))",
    ] {
        assert!(lib.contains(must), "lib.rs no longer has {must}");
    }
}

#[test]
fn release_builds_are_incognito_and_never_driven() {
    // This test binary is a debug build: without the variable the window is incognito.
    std::env::remove_var("TAURI_WEBVIEW_AUTOMATION");
    assert!(!kuager_app::webdriver_automation());
    let lib = read("src/lib.rs");
    let f = lib.find("pub fn webdriver_automation").unwrap();
    assert!(lib[f..f + 200].contains("cfg!(debug_assertions)"));
}

#[test]
fn navigation_is_allowed_to_the_app_only() {
    use kuager_app::navigation_allowed;
    let ok = [
        "tauri://localhost/index.html",
        "http://tauri.localhost/",
        "isolation://localhost/x",
    ];
    let refused = [
        "https://example.org/",
        "http://localhost:8080/",
        "file:///etc/passwd",
        "data:text/html,hi",
        "javascript:alert(1)",
        "http://tauri.localhost.evil.example/",
    ];
    for u in ok {
        assert!(navigation_allowed(&u.parse().unwrap()), "{u}");
    }
    for u in refused {
        assert!(!navigation_allowed(&u.parse().unwrap()), "{u}");
    }
}

/// The IPC types the UI compiles against are generated from the Rust ones and committed;
/// `KUAGER_WRITE_TYPES=1 cargo test -p kuager-app --test lockdown` (or `make types`) refreshes them.
#[test]
fn typescript_types_match_the_rust_ones() {
    let path = root().join("../ui/src/lib/types.ts");
    let fresh = kuager_app::dto::typescript();
    if std::env::var_os("KUAGER_WRITE_TYPES").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "ui/src/lib/types.ts is out of date with src-tauri/src/dto/: run `make types`"
    );
}

/// Regression: a command running on the main thread (`draft_get` as a testimony opened) waited
/// for the vault while an upload held it, and the upload's next piece could not be dispatched
/// by the blocked main thread: a 60-second stall, then a failed attachment. Every command is
/// async (off the main thread), and so is the `kuager-media:` handler — but for the three that
/// must never queue behind async commands waiting for the vault (issue #10, item 5): `lock`,
/// `export_cancel` and `touch` run on the main thread and never wait for the vault.
#[test]
fn no_command_runs_on_the_main_thread() {
    const NEVER_WAIT: [&str; 4] = [
        "pub fn lock(",
        "pub fn export_cancel(",
        "pub fn import_cancel(",
        "pub fn touch(",
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("src/commands")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, _) in text.match_indices("#[tauri::command]") {
            let next = text[i..].lines().nth(1).unwrap_or_default();
            if NEVER_WAIT.iter().any(|n| next.starts_with(n)) {
                seen += 1;
                let body = &text[i..i + text[i..].find("\n}\n").unwrap()];
                for waits in ["with_vault", "slot()", ".lock()", "blocking"] {
                    assert!(
                        !body.contains(waits),
                        "{}: `{next}` may wait ({waits})",
                        path.display()
                    );
                }
                continue;
            }
            assert!(
                next.starts_with("pub async fn"),
                "{}: a synchronous command: {next}",
                path.display()
            );
        }
    }
    assert_eq!(seen, NEVER_WAIT.len(), "the commands that never wait");
    let lock_now = read("src/state.rs");
    let lock_now = &lock_now[lock_now.find("pub fn lock_now").unwrap()..];
    let lock_now = &lock_now[..lock_now.find("\n    }\n").unwrap()];
    assert!(
        lock_now.contains("self.vault.try_lock()") && !lock_now.contains("self.slot()"),
        "lock_now must not wait for the vault"
    );
    assert!(read("src/lib.rs").contains("register_asynchronous_uri_scheme_protocol(media::SCHEME"));
}

/// Passphrases cross the IPC boundary straight into `vault::Passphrase`, which wipes them when
/// dropped (issue #10, item 10): no command or request takes one as a plain `String`, and the
/// strength meter runs in the page (there is no command to send a passphrase to on each key).
#[test]
fn passphrases_are_never_plain_strings_at_the_ipc_boundary() {
    let mut files = Vec::new();
    for dir in ["src/dto", "src/commands"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    let mut seen = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().map(str::trim) {
            let secret = ["passphrase:", "current:", "new:"]
                .iter()
                .any(|k| line.contains(k));
            if secret && !line.starts_with("//") {
                seen += usize::from(line.contains("vault::Passphrase"));
                assert!(
                    !line.contains("String"),
                    "{}: a passphrase as a plain string: {line}",
                    path.display()
                );
            }
        }
    }
    assert!(seen >= 8, "passphrases found at the boundary: {seen}");
    assert!(!read("build.rs").contains("passphrase_strength"));
}
