// A case's form: its reference, and the people, testimonies and attempts it holds.
import { setOrDrop, str, type Json } from './common';

/** A record linked from a case; `title` only for display. */
export interface Link { id: string; title: string }
export interface CaseForm {
  reference: string;
  title: string;
  assigned_to: string;
  status: string;
  notes: string;
  persons: Link[];
  testimonies: Link[];
  attempts: Link[];
}

/** A suggested reference for a new case: PREFIX-YEAR-NNNN, one past the highest seen this year. */
export function nextReference(existing: string[], today: Date, prefix = 'AJ'): string {
  const year = today.getFullYear();
  const re = new RegExp(`^${prefix}-${year}-(\\d+)$`);
  const top = existing.reduce((m, r) => Math.max(m, Number(re.exec(r)?.[1] ?? 0)), 0);
  return `${prefix}-${year}-${String(top + 1).padStart(4, '0')}`;
}

export function emptyCase(reference = ''): CaseForm {
  return { reference, title: '', assigned_to: '', status: 'open', notes: '', persons: [], testimonies: [], attempts: [] };
}

export function caseToForm(d: Json): CaseForm {
  const links = (v: unknown): Link[] => (Array.isArray(v) ? (v as unknown[]).map((id) => ({ id: str(id), title: '' })) : []);
  return {
    reference: str(d.reference), title: str(d.title), assigned_to: str(d.assigned_to),
    status: str(d.status), notes: str(d.notes),
    persons: links(d.persons), testimonies: links(d.testimonies), attempts: links(d.attempts),
  };
}

export function caseFromForm(f: CaseForm, previous: Json = {}): Json {
  const out: Json = { ...previous, reference: f.reference.trim() };
  for (const k of ['title', 'assigned_to', 'notes'] as const) setOrDrop(out, k, f[k].trim());
  setOrDrop(out, 'status', f.status);
  for (const k of ['persons', 'testimonies', 'attempts'] as const) {
    const ids = [...new Set(f[k].map((l) => l.id))];
    if (ids.length) out[k] = ids; else delete out[k];
  }
  return out;
}
