import { describe, expect, it } from 'vitest';
import {
  attemptTimeline, canReview, followUp, guessScript, passphraseProblem, personFromForm,
  personToForm, testimonyFromForm, emptyTestimony,
} from './forms';

describe('person form', () => {
  it('keeps fields the form does not show, and drops emptied ones', () => {
    const previous = {
      names: [{ value: 'Сенбай', script: 'cyrl', parts: { given: 'Сенбай' } }],
      contact: { phones: ['+7 700 000 00 00'] },
      notes: 'old',
    };
    const form = personToForm(previous);
    form.names.push({ value: 'Senbay', script: 'latn', kind: 'transliteration' });
    form.notes = '';
    const out = personFromForm(form, previous);
    expect(out.contact).toEqual(previous.contact);
    expect(out.names).toEqual([
      { value: 'Сенбай', script: 'cyrl', parts: { given: 'Сенбай' } },
      { value: 'Senbay', script: 'latn', kind: 'transliteration' },
    ]);
    expect('notes' in out).toBe(false);
  });

  it('drops empty name rows and guesses scripts', () => {
    expect(guessScript('Шынар')).toBe('cyrl');
    expect(guessScript('Şynar')).toBe('latn');
    expect(guessScript('森拜')).toBe('hans');
    expect(guessScript('سەنباي')).toBe('arab');
    const out = personFromForm({ ...personToForm({}), names: [{ value: '  ', script: '', kind: '' }] });
    expect(out.names).toEqual([]);
  });
});

describe('testimony form', () => {
  it('cannot be reviewed without consent', () => {
    const f = emptyTestimony();
    f.witness = 'p';
    f.narrative = 'n';
    f.status = 'reviewed';
    expect(canReview(f.consent)).toBe(false);
    expect(testimonyFromForm(f).status).toBe('draft');
    f.consent.given = true;
    expect(testimonyFromForm(f).status).toBe('reviewed');
  });
});

describe('renunciation attempts', () => {
  const today = new Date(Date.UTC(2026, 10, 28));
  const rows = [
    { id: 'b', data: { submitted_on: '2026-03-01', outcome: 'no-response' } },
    { id: 'a', data: { submitted_on: '2025-06', outcome: 'refused', channel: 'consulate-almaty' } },
  ];
  it('are numbered in order and count the days without an answer', () => {
    const t = attemptTimeline(rows, today);
    expect(t.map((x) => [x.id, x.number])).toEqual([['a', 1], ['b', 2]]);
    expect(t[0]!.waiting).toBeNull();
    expect(t[1]!.waiting).toBe(272);
  });
  it('prefill a follow-up from the last one', () => {
    const f = followUp({ person: 'p', channel: 'consulate-almaty', request: 'renounce-prc-citizenship', outcome: 'refused', receipt_number: 'X1' }, 'b', today);
    expect(f).toEqual({ person: 'p', follows_up: 'b', submitted_on: '2026-11-28', channel: 'consulate-almaty', request: 'renounce-prc-citizenship', outcome: 'pending' });
  });
});

describe('passphrase', () => {
  it('must be strong enough and typed twice the same', () => {
    expect(passphraseProblem('a', 'a', 0)).toBe('weak');
    expect(passphraseProblem('river lantern orchard', 'river lantern orchar', 3)).toBe('differ');
    expect(passphraseProblem('river lantern orchard', 'river lantern orchard', 3)).toBeNull();
  });
});
