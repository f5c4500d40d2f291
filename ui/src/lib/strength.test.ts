import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { strength } from './strength';

// The vault's own cases (its Rust test checks the same file against the Rust rule).
const cases: { passphrase: string; score: number; bits: number }[] = JSON.parse(
  readFileSync(new URL('../../../src-tauri/vault/tests/data/strength.json', import.meta.url), 'utf8'),
);

describe('the strength meter in the page', () => {
  it('has cases to agree on', () => expect(cases.length).toBeGreaterThan(20));
  for (const c of cases) {
    it(`scores ${JSON.stringify(c.passphrase)} as the vault does`, () => {
      expect(strength(c.passphrase)).toEqual({ score: c.score, bits: c.bits });
    });
  }
});
