// Tauri's isolation pattern: every IPC message from the app's page passes through this frame,
// which runs in its own origin. It lets through only our own command names and the event
// plugin's listen/unlisten; anything else (an injected script calling a plugin) is dropped.
const ALLOWED = new Set([
  'app_info', 'create_vault', 'unlock', 'lock', 'touch', 'set_language',
  'set_autolock', 'change_passphrase', 'rotate_keys', 'erase_vault', 'search', 'list_records', 'get_record',
  'save_record', 'record_history', 'audit_log', 'person_attempts', 'related_records', 'record_summary', 'duplicate_suggestions', 'merge_group', 'merge_people', 'unmerge_people', 'draft_get', 'draft_save',
  'draft_discard', 'upload_begin', 'upload_chunk', 'upload_finish', 'upload_abort',
  'audio_inputs', 'recording_start', 'recording_status', 'recording_pause', 'recording_mark', 'recording_stop', 'recordings_interrupted', 'recording_save', 'recording_discard', 'player_open', 'player_control', 'player_close',
  'recipients_list', 'recipients_add', 'recipients_remove', 'export_folder',
  'pick_export_folder', 'export_bundle', 'export_cancel', 'vault_settings', 'set_vault_label',
  'set_passphrase_bundles', 'profile_open', 'profile_load', 'profile_forget', 'organisation',
  'identity_new', 'profile_write', 'incoming_begin', 'incoming_pick', 'incoming_chunk', 'incoming_finish',
  'incoming_remove', 'import_review', 'import_run', 'import_cancel', 'device_trust',
  'devices_list', 'device_rename', 'device_revoke', 'conflicts_list', 'conflict_resolve',
  'dashboard', 'dashboard_records', 'follow_up_list', 'counts_preview', 'counts_save', 'partners_list', 'partners_add', 'partners_remove', 'partner_preview', 'partner_export',
  'plugin:event|listen', 'plugin:event|unlisten',
]);
window.__TAURI_ISOLATION_HOOK__ = (payload) => {
  if (payload && typeof payload.cmd === 'string' && ALLOWED.has(payload.cmd)) {
    return payload;
  }
  throw new Error('command refused');
};
