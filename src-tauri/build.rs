//! Declares every IPC command the app has, so Tauri generates a permission for each and refuses
//! any command the window's capability (capabilities/main.json) does not list.

/// Every command, as registered in `src/lib.rs` (a test checks the two lists agree).
const COMMANDS: &[&str] = &[
    "app_info",
    "create_vault",
    "unlock",
    "lock",
    "touch",
    "set_language",
    "set_autolock",
    "change_passphrase",
    "rotate_keys",
    "erase_vault",
    "search",
    "list_records",
    "get_record",
    "save_record",
    "record_history",
    "audit_log",
    "person_attempts",
    "related_records",
    "record_summary",
    "draft_get",
    "draft_save",
    "draft_discard",
    "upload_begin",
    "upload_chunk",
    "upload_finish",
    "upload_abort",
    "recipients_list",
    "recipients_add",
    "recipients_remove",
    "export_folder",
    "pick_export_folder",
    "export_bundle",
    "export_cancel",
    "vault_settings",
    "set_vault_label",
    "set_passphrase_bundles",
    "profile_open",
    "profile_load",
    "profile_forget",
    "organisation",
    "identity_new",
    "profile_write",
    "incoming_begin",
    "incoming_pick",
    "incoming_chunk",
    "incoming_finish",
    "incoming_remove",
    "import_review",
    "import_run",
    "import_cancel",
    "device_trust",
    "devices_list",
    "device_rename",
    "device_revoke",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build");
}
