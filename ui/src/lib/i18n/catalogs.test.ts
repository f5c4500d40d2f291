// Every string in kk, ru and en: a key missing from a catalog, a key no screen uses, or an empty
// message fails here.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import en from './en.json';
import ru from './ru.json';
import kk from './kk.json';
import * as options from '../options';
import { optionKey, type Options } from '../options';

const SRC = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(svelte|ts)$/.test(name) && !name.endsWith('.test.ts') ? [p] : [];
  });
}

const code = sources(SRC).map((f) => readFileSync(f, 'utf8')).join('\n');
const keys = Object.keys(en);

describe('message catalogs', () => {
  it('have the same keys in kk, ru and en, none empty', () => {
    for (const [name, cat] of Object.entries({ ru, kk })) {
      expect(Object.keys(cat).sort(), name).toEqual([...keys].sort());
      for (const [k, v] of Object.entries(cat)) expect(v.trim(), `${name} ${k}`).not.toBe('');
    }
  });

  it('keep the placeholders of the English text', () => {
    const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const k of keys) {
      const e = (en as Record<string, string>)[k]!;
      expect(ph((ru as Record<string, string>)[k]!), `ru ${k}`).toEqual(ph(e));
      expect(ph((kk as Record<string, string>)[k]!), `kk ${k}`).toEqual(ph(e));
    }
  });

  it('write Kazakh in Cyrillic', () => {
    const latinOnly = Object.entries(kk).filter(
      ([k, v]) => !k.startsWith('lang.') && !/[\u0400-\u04FF]/.test(v) && /[a-z]{4,}/i.test(v),
    );
    expect(latinOnly).toEqual([]);
  });

  it('name every value of every closed set the forms offer', () => {
    const missing = Object.values(options)
      .filter((o): o is Options => typeof o === 'object' && o !== null && 'values' in o)
      .flatMap((o) => o.values.map((v) => optionKey(o, v)))
      .filter((k) => !keys.includes(k));
    expect(missing).toEqual([]);
  });

  it('have no key that the code never uses, and the code uses no key they lack', () => {
    const dynamicPrefixes = [...code.matchAll(/\bt\(`([a-z_]+)\.\$\{/g)].map((m) => `${m[1]}.`);
    const optionKeys = Object.values(options)
      .filter((o): o is Options => typeof o === 'object' && o !== null && 'values' in o)
      .flatMap((o) => o.values.map((v) => optionKey(o, v)) as string[]);
    const unused = keys.filter(
      (k) => !code.includes(`'${k}'`) && !dynamicPrefixes.some((p) => k.startsWith(p)) && !optionKeys.includes(k),
    );
    expect(unused).toEqual([]);
    const called = [...code.matchAll(/\bt\('([^']+)'/g)].map((m) => m[1]!);
    expect(called.filter((k) => !keys.includes(k))).toEqual([]);
  });
});
