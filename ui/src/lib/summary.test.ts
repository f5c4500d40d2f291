import { describe, expect, it } from 'vitest';
import { i18n } from './i18n/index.svelte';
import { summaryDetail } from './summary';
import type { SummaryDto } from './types';

const row = (kind: string, facts: [string, string][]): SummaryDto =>
  ({ id: 'x', kind, title: 'T', facts, updated_at: '2026-11-28T10:00:00Z', conflict: false });

describe('list row details', () => {
  it('are worded in the current language, never the vault English', () => {
    const attempt = row('attempt', [['number', '3'], ['submitted', '2024-03'], ['outcome', 'no-response'], ['waiting', '1000']]);
    i18n.set('en');
    expect(summaryDetail(attempt)).toBe('Attempt 3 · submitted March 2024 · no response · 1,000 days without an answer');
    i18n.set('ru');
    const ru = summaryDetail(attempt);
    expect(ru).toContain('Попытка 3');
    expect(ru).not.toMatch(/submitted|waiting|days/);
    i18n.set('kk');
    const kk = summaryDetail(row('testimony', [['recorded', '2019-10'], ['status', 'reviewed'], ['attachments', '2']]));
    expect(kk).toMatch(/[\u0400-\u04FF]/);
    expect(kk).not.toMatch(/reviewed|attachment/);
    expect(summaryDetail(row('case', [['title', 'Ghulja'], ['status', 'waiting']]))).toBe(`Ghulja · ${'күтуде'}`);
    i18n.set('en');
  });
});
