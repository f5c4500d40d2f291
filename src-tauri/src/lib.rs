//! The Kuager desktop app: a Tauri 2 shell over the `vault` crate. Commands are thin adapters
//! (`commands/`); this module builds the app, its one window (locked down: docs/threat-model.md R4, R9)
//! and the idle timer.
#![deny(missing_docs)]

pub mod background;
pub mod clock;
pub mod commands;
pub mod dto;
pub mod error;
pub mod incoming;
pub mod media;
pub mod recording;
#[cfg(target_os = "linux")]
mod sleep;
pub mod state;
pub mod upload;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};

use state::AppState;

/// The UI languages.
pub const LANGUAGES: &[&str] = &["kk", "ru", "en"];

/// What the user types to confirm an emergency erase (shown to them; the same in every
/// language so that a coerced user need not think).
pub const ERASE_WORD: &str = "ERASE";

/// The label of the only window.
pub const MAIN: &str = "main";

/// The vault folder: `KUAGER_VAULT`, or the same default as the `kuager` command.
pub fn vault_dir() -> PathBuf {
    std::env::var_os("KUAGER_VAULT")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("kuager").join("default")))
        .unwrap_or_else(|| PathBuf::from("kuager-vault"))
}

/// Where the settings outside the vault are kept (language, idle minutes).
pub fn config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("kuager").join("app.json"))
}

/// Where WebKit keeps what it writes for the window: with the app's settings.
fn webview_data_dir() -> Option<PathBuf> {
    config_path().and_then(|p| p.parent().map(|d| d.join("webview")))
}

/// The scrypt work factor for new keyslots: calibrated (never below 18).
pub(crate) fn test_work_factor() -> Option<u8> {
    None
}

/// Reloads the window: every decrypted string in the webview is dropped with the page.
pub fn reload(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(MAIN) {
        match w.url() {
            Ok(mut url) => {
                // A new load: the one before (unlocked) can no longer be gone back to.
                let query = app.state::<AppState>().next_page_query();
                url.set_query(Some(&query));
                let _ = w.navigate(url);
            }
            Err(_) => {
                let _ = w.reload();
            }
        }
    }
}

/// Locks the vault and reloads the window, at once: a busy vault is locked by a thread of its
/// own as soon as it is free (issue #10, item 5).
pub fn lock_and_reload(app: &AppHandle) -> state::Lock {
    let state = app.state::<AppState>();
    // The lock is asked for first: a recording that starts from now on sees it and stops
    // itself (`Audio::start`); one already running is stopped and saved here, on a thread
    // that applies the lock after (issue #14).
    let done = state.lock_now();
    recording::save_then_lock(app);
    if done == state::Lock::Pending {
        // Applied as soon as the vault is free (after a recording's save, if one runs).
        let app = app.clone();
        let _ = std::thread::Builder::new()
            .name("kuager-lock".into())
            .spawn(move || app.state::<AppState>().settle_pending_lock());
    }
    reload(app);
    done
}

/// Whether tauri-driver is driving this (debug) build. WebKitGTK cannot automate an ephemeral
/// (incognito) context — wry creates those with automation off — so only then does the window
/// keep an ordinary WebKit context; the end-to-end leak scan therefore proves that even a
/// persistent WebKit data folder receives nothing in plaintext. Release builds are never driven:
/// `run` removes the variable before Tauri reads it.
pub fn webdriver_automation() -> bool {
    cfg!(debug_assertions) && std::env::var("TAURI_WEBVIEW_AUTOMATION").as_deref() == Ok("true")
}

/// Only the app's own pages (and Tauri's isolation frame) may be shown in the window.
pub fn navigation_allowed(url: &tauri::Url) -> bool {
    match url.scheme() {
        "tauri" | "isolation" => true,
        "http" | "https" => matches!(
            url.host_str(),
            Some("tauri.localhost") | Some("isolation.localhost")
        ),
        "about" => url.as_str() == "about:blank",
        _ => false,
    }
}

/// Turns off WebKit's back/forward page cache, so that a page that held the unlocked vault is
/// never kept, whole, to be shown again (docs/threat-model.md, issue #10 item 16). Going back
/// is refused anyway ([`AppState::page_is_current`]); this keeps no such page in memory.
fn no_page_cache(window: &tauri::WebviewWindow) {
    #[cfg(target_os = "linux")]
    let _ = window.with_webview(|w| {
        use webkit2gtk::{SettingsExt, WebViewExt};
        if let Some(settings) = w.inner().settings() {
            settings.set_enable_page_cache(false);
        }
    });
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

fn idle_timer(app: AppHandle) {
    std::thread::Builder::new()
        .name("kuager-idle".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(2));
            let state = app.state::<AppState>();
            let minutes = state::effective_autolock(
                state
                    .config
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .autolock_minutes,
                state.policy_autolock.load(Ordering::Relaxed),
            );
            let idle = state
                .last_activity
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .elapsed();
            // Never waits for a busy vault: an export left running unattended is cancelled by
            // the idle lock like anything else (raise the idle minutes for very large ones).
            // An interview being recorded is activity, though nobody touches the keyboard
            // (docs/design-notes.md "Recordings").
            if state.audio.is_recording_now() {
                state.touch();
            }
            let unlocked = state.may_be_unlocked();
            if unlocked && idle >= Duration::from_secs(u64::from(minutes) * 60) {
                lock_and_reload(&app);
            }
        })
        .expect("the idle timer starts");
}

/// The app's one window: its page, its size, and the webview's lockdown (R9).
fn main_window(app: &mut tauri::App) -> tauri::Result<tauri::WebviewWindow> {
    let boot = app.state::<AppState>().boot_query();
    let url = WebviewUrl::App(format!("index.html?{boot}").into());
    let pages = app.handle().clone();
    let mut builder = WebviewWindowBuilder::new(app, MAIN, url);
    if let Some(dir) = webview_data_dir() {
        // WebKit makes a few files even for an incognito page (random salts, an empty
        // HSTS store: nothing from the vault). They go beside the app's settings, not in
        // a folder of their own, so that the vault and ~/.config/kuager are all Kuager
        // leaves in a home (packaging/README.md).
        builder = builder.data_directory(dir);
    }
    builder
        .title("Kuager")
        .inner_size(1200.0, 820.0)
        .min_inner_size(760.0, 560.0)
        // No localStorage, IndexedDB or cache on disk (R9).
        .incognito(!webdriver_automation())
        // Files are dropped onto the page (HTML5), streamed in through our commands.
        .disable_drag_drop_handler()
        .devtools(cfg!(debug_assertions))
        .on_navigation(move |url| {
            navigation_allowed(url) && pages.state::<AppState>().page_is_current(url)
        })
        .on_download(|_, _| false)
        .build()
}

/// Builds and runs the app.
pub fn run() {
    vault::harden::disable_core_dumps();
    if !cfg!(debug_assertions) {
        // Tauri would open the webview to WebDriver automation whenever this is set.
        std::env::remove_var("TAURI_WEBVIEW_AUTOMATION");
    }
    let state = AppState::new(vault_dir(), config_path());
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .register_asynchronous_uri_scheme_protocol(media::SCHEME, |ctx, request, responder| {
            let app = ctx.app_handle().clone();
            std::thread::spawn(move || responder.respond(media::handle(&app, request)));
        })
        .invoke_handler(tauri::generate_handler![
            commands::session::app_info,
            commands::session::create_vault,
            commands::session::unlock,
            commands::session::lock,
            commands::session::touch,
            commands::session::set_language,
            commands::session::set_autolock,
            commands::session::change_passphrase,
            commands::session::rotate_keys,
            commands::session::erase_vault,
            commands::records::search,
            commands::records::list_records,
            commands::records::get_record,
            commands::records::save_record,
            commands::records::record_history,
            commands::records::audit_log,
            commands::records::person_attempts,
            commands::records::related_records,
            commands::records::record_summary,
            commands::records::duplicate_suggestions,
            commands::records::merge_group,
            commands::records::merge_people,
            commands::records::unmerge_people,
            commands::records::draft_get,
            commands::records::draft_save,
            commands::records::draft_discard,
            commands::uploads::upload_begin,
            commands::uploads::upload_chunk,
            commands::uploads::upload_finish,
            commands::uploads::upload_abort,
            commands::recording::audio_inputs,
            commands::recording::recording_start,
            commands::recording::recording_status,
            commands::recording::recording_pause,
            commands::recording::recording_mark,
            commands::recording::recording_stop,
            commands::recording::recordings_interrupted,
            commands::recording::recording_save,
            commands::recording::recording_discard,
            commands::recording::player_open,
            commands::recording::player_control,
            commands::recording::player_close,
            commands::bundles::recipients_list,
            commands::bundles::recipients_add,
            commands::bundles::recipients_remove,
            commands::bundles::export_folder,
            commands::bundles::pick_export_folder,
            commands::bundles::export_bundle,
            commands::bundles::export_cancel,
            commands::bundles::vault_settings,
            commands::bundles::set_vault_label,
            commands::bundles::set_passphrase_bundles,
            commands::organisation::profile_open,
            commands::organisation::profile_load,
            commands::organisation::profile_forget,
            commands::organisation::organisation,
            commands::organisation::identity_new,
            commands::organisation::profile_write,
            commands::receive::incoming_begin,
            commands::receive::incoming_pick,
            commands::receive::incoming_chunk,
            commands::receive::incoming_finish,
            commands::receive::incoming_remove,
            commands::receive::import_review,
            commands::receive::import_run,
            commands::receive::import_cancel,
            commands::receive::device_trust,
            commands::receive::devices_list,
            commands::receive::device_rename,
            commands::receive::device_revoke,
            commands::receive::conflicts_list,
            commands::receive::conflict_resolve,
            commands::evidence::dashboard,
            commands::evidence::dashboard_records,
            commands::evidence::follow_up_list,
            commands::evidence::counts_preview,
            commands::evidence::counts_save,
            commands::partners::partners_list,
            commands::partners::partners_add,
            commands::partners::partners_remove,
            commands::partners::partner_preview,
            commands::partners::partner_export,
        ])
        .setup(|app| {
            let window = main_window(app)?;
            no_page_cache(&window);
            idle_timer(app.handle().clone());
            // What the vault locks on besides the button and the idle timer (stderr only: no
            // record, no path).
            #[cfg(target_os = "linux")]
            eprintln!("kuager: also locks on: {:?}", sleep::watch(app.handle()));
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("Kuager could not start");
}

/// A new vault for unit tests (fast keyslot), with the passphrase [`TEST_PASSPHRASE`].
#[cfg(test)]
pub(crate) fn test_vault(dir: &std::path::Path) -> vault::Vault {
    vault::Vault::create(
        dir,
        &vault::Passphrase::new(TEST_PASSPHRASE.into()),
        vault::CreateOptions {
            work_factor: Some(10),
            ..Default::default()
        },
    )
    .unwrap()
}

/// The passphrase of [`test_vault`].
#[cfg(test)]
pub(crate) const TEST_PASSPHRASE: &str = "correct horse battery staple";
