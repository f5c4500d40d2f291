import { describe, expect, it } from 'vitest';
import { fieldRows, merged, same, show } from './merge';

const a = { narrative: "A's correction", language: 'kk', events: [{ type: 'camp', place: 'Ghulja' }] };
const b = { narrative: "B's correction", language: 'kk', events: [{ place: 'Ghulja', type: 'camp' }], consent: { scope: 'internal' } };

describe('a conflict, field by field', () => {
  it('marks the fields the versions disagree on, objects compared key by key', () => {
    const rows = fieldRows([a, b]);
    expect(rows.map((r) => [r.key, r.differs])).toEqual([
      ['narrative', true],
      ['language', false],
      ['events', false],
      ['consent', true],
    ]);
    expect(same({ x: 1, y: [1, 2] }, { y: [1, 2], x: 1 })).toBe(true);
    expect(same([1, 2], [2, 1])).toBe(false);
    expect(same(undefined, null)).toBe(false);
  });

  it('takes each field from the version chosen for it, the fallback elsewhere', () => {
    expect(merged([a, b], { narrative: 0 }, 1)).toEqual({ ...b, narrative: "A's correction" });
    // A field absent from the chosen version is left out.
    expect(merged([a, b], { consent: 0 }, 1)).toEqual({
      narrative: "B's correction", language: 'kk', events: b.events,
    });
    // Unchosen, a field only one version has is kept (not dropped by the fallback's absence).
    expect(merged([a, b], {}, 0)).toEqual({ ...a, consent: b.consent });
  });

  it('shows values as text', () => {
    expect(show('<b>x</b>')).toBe('<b>x</b>');
    expect(show(undefined)).toBe('—');
    expect(show({ a: 1 })).toBe('{\n  "a": 1\n}');
    const word = (s: string) => ({ reviewed: 'проверено', kk: 'қазақша' } as Record<string, string>)[s];
    expect(show('reviewed', word)).toBe('проверено');
    expect(show(['kk', 'ug'], word)).toBe('қазақша, ug');
    expect(show('Almaty', word)).toBe('Almaty');
  });
});
