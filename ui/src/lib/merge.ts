// A conflict's versions side by side, field by field, and the record merged from the fields
// chosen (the conflicts screen: ui/src/screens/Resolve.svelte). Pure, tested without a webview.

/** One top-level field across the versions: its value in each (undefined: absent there). */
export interface FieldRow {
  key: string;
  values: unknown[];
  /** Whether the versions disagree on it. */
  differs: boolean;
}

/** Equal as JSON (objects compared key by key, in any order). */
export function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Every field any version has, in the order they first appear. */
export function fieldRows(versions: Record<string, unknown>[]): FieldRow[] {
  const keys: string[] = [];
  for (const v of versions) for (const k of Object.keys(v)) if (!keys.includes(k)) keys.push(k);
  return keys.map((key) => {
    const values = versions.map((v) => v[key]);
    return { key, values, differs: values.some((x) => !same(x, values[0])) };
  });
}

/** The record with each field taken from the version chosen for it. Unchosen fields come from
 *  `fallback`, or — when `fallback` lacks one — from the first version that has it: a field
 *  one version added is not dropped unless someone chose to. A field absent from a chosen
 *  version is left out. */
export function merged(
  versions: Record<string, unknown>[],
  choice: Record<string, number>,
  fallback: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const row of fieldRows(versions)) {
    const from = choice[row.key] ?? defaultFor(row, fallback);
    const value = row.values[from];
    if (value !== undefined) out[row.key] = value;
  }
  return out;
}

/** The version a field is taken from unless chosen: `fallback`, or the first that has it. */
export function defaultFor(row: FieldRow, fallback: number): number {
  if (row.values[fallback] !== undefined) return fallback;
  const first = row.values.findIndex((v) => v !== undefined);
  return first < 0 ? fallback : first;
}

/**
 * A value as text for the screen (never markup). `word` names a value of a closed set in the
 * user's language, or a record id by its title; a value it does not know is shown as stored.
 */
export function show(v: unknown, word: (s: string) => string | undefined = () => undefined): string {
  if (v === undefined) return '—';
  if (typeof v === 'string') return word(v) ?? v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
    return v.map((x) => word(x) ?? x).join(', ');
  }
  return JSON.stringify(v, null, 2);
}
