// The only file that talks to the Rust side. Every command is typed with the types generated
// from Rust (types.ts); errors arrive as IpcError {code, message, field}.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  AppInfo, AttemptRow, AuditDto, CreateRequest, DraftDto, ExportDone, ExportProgress,
  ExportRequest, HistoryDto, HitDto, IpcError, ListPage, OrganisationDto, ProfileDto,
  ConflictPage, DeviceDto, DuplicateDto, ImportProgress, IncomingDto, MergeGroupDto, ReviewDto,
  ProfileLoad, ProfileWriteRequest, ProfileWritten, RecipientDto, RecordDto, RecordKind,
  RotatedDto, SaveRequest, SavedDto, SummaryDto, VaultSettingsDto, ChartDto, CountLabelsDto,
  CountsFileDto, FollowUpDto, PartnerDto, PartnerPreviewDto, PartnerSentDto,
  InputDto, RecordingStatusDto, InterruptedDto, PlayerDto,
} from './types';

export type { IpcError };

export function isIpcError(e: unknown): e is IpcError {
  return typeof e === 'object' && e !== null && 'code' in e && 'message' in e;
}

export const ipc = {
  appInfo: () => invoke<AppInfo>('app_info'),
  createVault: (request: CreateRequest) => invoke<null>('create_vault', { request }),
  unlock: (passphrase: string) => invoke<null>('unlock', { passphrase }),
  lock: () => invoke<null>('lock'),
  touch: () => invoke<null>('touch'),
  setLanguage: (language: string) => invoke<null>('set_language', { language }),
  setAutolock: (minutes: number) => invoke<null>('set_autolock', { minutes }),
  changePassphrase: (current: string, next: string) =>
    invoke<null>('change_passphrase', { current, new: next }),
  rotateKeys: (current: string, next: string) =>
    invoke<RotatedDto>('rotate_keys', { current, new: next }),
  eraseVault: (confirmation: string) => invoke<null>('erase_vault', { confirmation }),

  search: (query: string, limit = 50) => invoke<HitDto[]>('search', { query, limit }),
  list: (kind: RecordKind | null, offset: number, limit: number) =>
    invoke<ListPage>('list_records', { kind, offset, limit }),
  get: (id: string) => invoke<RecordDto>('get_record', { id }),
  save: (request: SaveRequest) => invoke<SavedDto>('save_record', { request }),
  history: (id: string) => invoke<HistoryDto[]>('record_history', { id }),
  audit: () => invoke<AuditDto[]>('audit_log'),
  summary: (id: string) => invoke<SummaryDto>('record_summary', { id }),
  related: (id: string) => invoke<SummaryDto[]>('related_records', { id }),
  duplicates: (id: string) => invoke<DuplicateDto[]>('duplicate_suggestions', { id }),
  mergeGroup: (id: string) => invoke<MergeGroupDto>('merge_group', { id }),
  mergePeople: (survivor: string, absorbed: string) =>
    invoke<MergeGroupDto>('merge_people', { survivor, absorbed }),
  unmergePeople: (survivor: string, absorbed: string) =>
    invoke<MergeGroupDto>('unmerge_people', { survivor, absorbed }),
  attempts: (person: string) => invoke<AttemptRow[]>('person_attempts', { person }),
  draftGet: (key: string) => invoke<DraftDto | null>('draft_get', { key }),
  draftSave: (key: string, record: string | null, body: string) =>
    invoke<null>('draft_save', { key, record, body }),
  draftDiscard: (key: string) => invoke<null>('draft_discard', { key }),

  uploadBegin: (record: string, name: string, mediaType: string | null) =>
    invoke<number>('upload_begin', { record, name, mediaType }),
  uploadChunk: (upload: number, data: string) => invoke<null>('upload_chunk', { upload, data }),
  uploadFinish: (upload: number) => invoke<SavedDto>('upload_finish', { upload }),
  uploadAbort: (upload: number) => invoke<null>('upload_abort', { upload }),

  audioInputs: () => invoke<InputDto[]>('audio_inputs'),
  recordingStart: (record: string, input: string | null) =>
    invoke<null>('recording_start', { record, input }),
  recordingStatus: () => invoke<RecordingStatusDto | null>('recording_status'),
  recordingPause: (paused: boolean) => invoke<null>('recording_pause', { paused }),
  recordingMark: (note: string | null) => invoke<number>('recording_mark', { note }),
  recordingStop: () => invoke<SavedDto>('recording_stop'),
  recordingsInterrupted: () => invoke<InterruptedDto[]>('recordings_interrupted'),
  recordingSave: (id: string) => invoke<SavedDto>('recording_save', { id }),
  recordingDiscard: (id: string) => invoke<null>('recording_discard', { id }),
  playerOpen: (blob: string) => invoke<PlayerDto>('player_open', { blob }),
  playerControl: (action: 'play' | 'pause' | 'seek' | 'rate' | 'status', value: number | null = null) =>
    invoke<PlayerDto>('player_control', { action, value }),
  playerClose: () => invoke<null>('player_close'),

  recipients: () => invoke<RecipientDto[]>('recipients_list'),
  addRecipient: (recipient: string, label: string | null, passphrase: string) =>
    invoke<null>('recipients_add', { recipient, label, passphrase }),
  removeRecipient: (recipient: string, passphrase: string) =>
    invoke<null>('recipients_remove', { recipient, passphrase }),
  vaultSettings: () => invoke<VaultSettingsDto>('vault_settings'),
  setVaultLabel: (label: string) => invoke<null>('set_vault_label', { label }),
  setPassphraseBundles: (allow: boolean, passphrase: string | null) =>
    invoke<null>('set_passphrase_bundles', { allow, passphrase }),
  exportFolder: () => invoke<string>('export_folder'),
  pickExportFolder: () => invoke<string | null>('pick_export_folder'),
  exportBundle: (request: ExportRequest) => invoke<ExportDone>('export_bundle', { request }),
  exportCancel: () => invoke<null>('export_cancel'),

  organisation: () => invoke<OrganisationDto>('organisation'),
  identityNew: (label: string) => invoke<string>('identity_new', { label }),
  profileOpen: (text: string) => invoke<ProfileDto>('profile_open', { text }),
  profileLoad: (request: ProfileLoad, passphrase: string) =>
    invoke<ProfileDto>('profile_load', { request, passphrase }),
  profileForget: (passphrase: string) => invoke<null>('profile_forget', { passphrase }),
  profileWrite: (request: ProfileWriteRequest, passphrase: string) =>
    invoke<ProfileWritten>('profile_write', { request, passphrase }),

  incomingBegin: (name: string, size: number) => invoke<number>('incoming_begin', { name, size }),
  incomingChunk: (id: number, data: string) => invoke<null>('incoming_chunk', { id, data }),
  incomingPick: () => invoke<IncomingDto[]>('incoming_pick'),
  incomingFinish: (id: number) => invoke<IncomingDto>('incoming_finish', { id }),
  incomingRemove: (id: number) => invoke<null>('incoming_remove', { id }),
  importReview: (id: number) => invoke<ReviewDto>('import_review', { id }),
  importRun: (id: number) => invoke<ReviewDto>('import_run', { id }),
  importCancel: () => invoke<null>('import_cancel'),
  onImportProgress: (f: (p: ImportProgress) => void): Promise<UnlistenFn> =>
    listen<ImportProgress>('import-progress', (e) => f(e.payload)),
  deviceTrust: (publicKey: string, label: string) => invoke<null>('device_trust', { publicKey, label }),
  devices: () => invoke<DeviceDto[]>('devices_list'),
  deviceRename: (publicKey: string, label: string) => invoke<null>('device_rename', { publicKey, label }),
  deviceRevoke: (publicKey: string, passphrase: string) =>
    invoke<null>('device_revoke', { publicKey, passphrase }),
  conflicts: (offset: number, limit: number) =>
    invoke<ConflictPage>('conflicts_list', { offset, limit }),
  resolve: (id: string, seen: string[], keep: string | null, merged: string | null) =>
    invoke<SavedDto>('conflict_resolve', { id, seen, keep, merged }),
  onExportProgress: (f: (p: ExportProgress) => void): Promise<UnlistenFn> =>
    listen<ExportProgress>('export-progress', (e) => f(e.payload)),

  dashboard: (which: 'attempts' | 'testimonies') => invoke<ChartDto[]>('dashboard', { which }),
  chartRecords: (chartKey: string, row: string, column: string | null) =>
    invoke<SummaryDto[]>('dashboard_records', { chartKey, row, column }),
  followUp: (minDays: number, limit: number) => invoke<FollowUpDto[]>('follow_up_list', { minDays, limit }),
  countsPreview: (chartKey: string, labels: CountLabelsDto) =>
    invoke<CountsFileDto>('counts_preview', { chartKey, labels }),
  countsSave: (chartKey: string, labels: CountLabelsDto, fileFormat: 'csv' | 'svg' | 'png') =>
    invoke<CountsFileDto>('counts_save', { chartKey, labels, fileFormat }),
  partners: () => invoke<PartnerDto[]>('partners_list'),
  addPartner: (key: string, label: string, passphrase: string) =>
    invoke<null>('partners_add', { key, label, passphrase }),
  removePartner: (label: string, passphrase: string) =>
    invoke<null>('partners_remove', { label, passphrase }),
  partnerPreview: (partner: string, records: string[] | null) =>
    invoke<PartnerPreviewDto>('partner_preview', { partner, records }),
  partnerExport: (partner: string, records: string[] | null, digest: string) =>
    invoke<PartnerSentDto>('partner_export', { partner, records, digest }),
};

/** The first name of a person record, for display (a short id if it cannot be read). */
export async function personName(id: string): Promise<string> {
  const r = await ipc.get(id).catch(() => null);
  const head = r?.heads[r.heads.length - 1];
  const names = head?.data?.names as { value?: string }[] | undefined;
  return names?.[0]?.value ?? id.slice(0, 8);
}

/** The URL of an attachment, decrypted into memory by the app (never a file). */
export function mediaUrl(blob: string, mediaType: string | null | undefined): string {
  const base = navigator.userAgent.includes('Windows')
    ? 'http://kuager-media.localhost/'
    : 'kuager-media://localhost/';
  return `${base}${blob}?type=${encodeURIComponent(mediaType ?? '')}`;
}

/** Streams a File into a record's attachments in 1 MiB pieces. */
export async function uploadFile(
  record: string,
  file: File,
  progress: (sent: number) => void,
): Promise<SavedDto> {
  const id = await ipc.uploadBegin(record, file.name, file.type || null);
  const PIECE = 1 << 20;
  try {
    for (let off = 0; off < file.size; off += PIECE) {
      const buf = new Uint8Array(await file.slice(off, off + PIECE).arrayBuffer());
      await ipc.uploadChunk(id, toBase64(buf));
      buf.fill(0);
      progress(Math.min(off + PIECE, file.size));
    }
    return await ipc.uploadFinish(id);
  } catch (e) {
    await ipc.uploadAbort(id).catch(() => undefined);
    throw e;
  }
}

/** Brings a bundle file in from the page, in 1 MiB pieces, to wait for review. */
export async function bringIn(file: File): Promise<IncomingDto> {
  const id = await ipc.incomingBegin(file.name, file.size);
  const PIECE = 1 << 20;
  try {
    for (let off = 0; off < file.size; off += PIECE) {
      const buf = new Uint8Array(await file.slice(off, off + PIECE).arrayBuffer());
      await ipc.incomingChunk(id, toBase64(buf));
    }
    return await ipc.incomingFinish(id);
  } catch (e) {
    await ipc.incomingRemove(id).catch(() => undefined);
    throw e;
  }
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  const STEP = 0x8000;
  for (let i = 0; i < bytes.length; i += STEP) {
    s += String.fromCharCode(...bytes.subarray(i, i + STEP));
  }
  return btoa(s);
}
