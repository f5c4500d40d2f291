// What every record form shares: reading stored JSON leniently, attachments, and the checks of
// keys and passphrases typed on the first screens.

/** A record's fields as stored (JSON). */
export type Json = Record<string, unknown>;

/** An attachment as a record lists it (the file itself stays encrypted in the vault). */
export interface Attachment {
  blob: string; size: number; media_type?: string; name?: string; caption?: string;
  /** Set by the vault when the file came in; never edited (docs/records.md "Custody"). */
  custody?: Custody;
}

/** Where an original came from (set by the vault). */
export interface Custody {
  how: 'recorded' | 'attached' | 'derived';
  at: string;
  device: string;
  derived_from?: string;
  duration_ms?: number;
  input?: string;
  markers?: { at_ms: number; note?: string }[];
}

/** `m:ss`, or `h:mm:ss` from an hour. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const mm = Math.floor(s / 60) % 60;
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${String(mm).padStart(2, '0')}:${ss}` : `${Math.floor(s / 60)}:${ss}`;
}

/** A string field, or '' when absent or not a string. */
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
/** An array field of objects, or [] when absent. */
export const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

/** Sets a field to a non-empty value, or removes it. */
export function setOrDrop(o: Json, k: string, v: string) {
  if (v) o[k] = v; else delete o[k];
}

/** The age and SSH public keys in a recipients file (comments and blank lines skipped). */
export function keysInText(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.startsWith('age1') || l.startsWith('ssh-'));
}

/** Why a new passphrase cannot be used yet, or null. */
export function passphraseProblem(a: string, b: string, score: number): 'weak' | 'differ' | null {
  if (score < 1) return 'weak';
  if (a !== b) return 'differ';
  return null;
}
