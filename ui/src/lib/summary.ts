// A list row worded in the UI's language from the vault's typed facts (the command line words
// the same facts in English).
import { t, fmtDate, fmtNumber } from './i18n/index.svelte';
import type { SummaryDto } from './types';

export function summaryDetail(s: SummaryDto): string {
  const parts: string[] = [];
  for (const [key, value] of s.facts) {
    const n = Number(value);
    switch (key) {
      case 'names': parts.push(value); break;
      case 'born': parts.push(t('summary.born', { date: fmtDate(value) })); break;
      case 'recorded': parts.push(fmtDate(value)); break;
      case 'status':
        parts.push(s.kind === 'case' ? t(`cstatus.${value}` as 'cstatus.open') : t(`tstatus.${value}` as 'tstatus.draft'));
        break;
      case 'attachments': parts.push(t('summary.attachments', { n: fmtNumber(n) })); break;
      case 'number': parts.push(t('attempts.number', { n: fmtNumber(n) })); break;
      case 'submitted': parts.push(t('summary.submitted', { date: fmtDate(value) })); break;
      case 'outcome': parts.push(t(`outcome.${value}` as 'outcome.pending')); break;
      case 'outcome_on': parts.push(fmtDate(value)); break;
      case 'waiting': parts.push(t('attempts.waiting', { n: fmtNumber(n) })); break;
      case 'title': parts.push(value); break;
      case 'purged': parts.push(t('summary.purged')); break;
      default: break;
    }
  }
  return parts.join(' · ');
}

/** A row's title: a name or a case reference; what stands in for it when there is none. */
export function summaryTitle(s: SummaryDto): string {
  if (s.title !== null) return s.title;
  return s.facts.some(([k]) => k === 'purged') ? t('summary.purged_title') : t('summary.unknown_person');
}

/** A row's title and detail on one line (links in a case). */
export function summaryLine(s: SummaryDto): string {
  return [summaryTitle(s), summaryDetail(s)].filter(Boolean).join(' · ');
}
