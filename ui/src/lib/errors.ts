import { isIpcError } from './ipc';
import { t, type Key } from './i18n/index.svelte';
import type { ErrorCode, RejectReason } from './types';

const KNOWN: Partial<Record<ErrorCode, Key>> = {
  wrong_passphrase: 'error.wrong_passphrase',
  weak_passphrase: 'error.weak_passphrase',
  locked: 'error.locked',
  not_found: 'error.not_found',
  nothing_to_export: 'error.nothing_to_export',
  needs_passphrase: 'error.needs_passphrase',
  cancelled: 'error.cancelled',
  io: 'error.io',
  database: 'error.database',
  upgrade_failed: 'error.upgrade_failed',
};

/** A message for the user: our own text for known codes, the vault's explanation otherwise. */
export function explain(e: unknown): string {
  if (isIpcError(e)) {
    const k = KNOWN[e.code];
    if (k) return t(k);
    return e.field ? `${e.field}: ${e.message}` : e.message;
  }
  return t('error.unexpected');
}

/** Why a bundle was refused, in the user's words (every reason: the type checker insists). */
const REJECTED: Record<RejectReason, Key> = {
  not_a_bundle: 'reject.not_a_bundle',
  not_for_this_vault: 'reject.not_for_this_vault',
  wrong_passphrase: 'reject.wrong_passphrase',
  damaged: 'reject.damaged',
  tampered: 'reject.tampered',
  revoked: 'reject.revoked',
  too_large: 'reject.too_large',
  missing_earlier: 'reject.missing_earlier',
  invalid: 'reject.invalid',
};

/** A refused bundle: why in the user's language, then the details (in English). */
export function explainBundle(e: unknown): string {
  if (isIpcError(e) && e.code === 'bundle_rejected' && e.reason) {
    return `${t(REJECTED[e.reason])} (${e.message})`;
  }
  if (isIpcError(e) && e.code === 'unknown_signer') return t('reject.unknown_signer');
  return explain(e);
}

/** A refused organisation profile: says so first, in the user's language, then why. */
export function explainProfile(e: unknown): string {
  const aboutProfile = isIpcError(e) && (e.field === 'organisation profile' || e.field === 'fingerprint');
  const why = aboutProfile ? e.message : explain(e);
  return aboutProfile ? `${t('profile.refused')} ${why}` : why;
}
