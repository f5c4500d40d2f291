// Form logic kept apart from the screens, so it is tested without a webview (forms.test.ts).

export type Script = 'cyrl' | 'latn' | 'hans' | 'arab' | 'other';
export type NameKind = 'legal' | 'alias' | 'former' | 'chinese-passport' | 'transliteration';
export interface NameRow { value: string; script: Script | ''; kind: NameKind | '' }
export interface DocRow { type: string; number: string }

export interface PersonForm {
  names: NameRow[];
  gender: string;
  date_of_birth: string;
  documents: DocRow[];
  status: string;
  notes: string;
}

type Json = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

/** Guesses the script of a name as it is typed (the user can change it). */
export function guessScript(value: string): Script | '' {
  if (/[\u0400-\u04FF]/.test(value)) return 'cyrl';
  if (/[\u4E00-\u9FFF]/.test(value)) return 'hans';
  if (/[\u0600-\u06FF]/.test(value)) return 'arab';
  if (/[A-Za-z]/.test(value)) return 'latn';
  return '';
}

export function emptyPerson(): PersonForm {
  return { names: [{ value: '', script: '', kind: '' }], gender: '', date_of_birth: '', documents: [], status: '', notes: '' };
}

export function personToForm(d: Json): PersonForm {
  const status = (d.status ?? {}) as Json;
  return {
    names: arr(d.names).map((n) => ({ value: str(n.value), script: str(n.script) as Script, kind: str(n.kind) as NameKind })),
    gender: str(d.gender),
    date_of_birth: str(d.date_of_birth),
    documents: arr(d.documents).map((x) => ({ type: str(x.type), number: str(x.number) })),
    status: str(status.value),
    notes: str(d.notes),
  };
}

/**
 * The record for a person form. Fields the form does not show are kept from `previous`, so an
 * edit never drops what another screen or a bundle put there.
 */
export function personFromForm(f: PersonForm, previous: Json = {}): Json {
  const out: Json = { ...previous };
  out.names = f.names
    .filter((n) => n.value.trim())
    .map((n) => {
      const previousName = arr(previous.names).find((p) => p.value === n.value.trim()) ?? {};
      const name: Json = { ...previousName, value: n.value.trim() };
      if (n.script) name.script = n.script; else delete name.script;
      if (n.kind) name.kind = n.kind; else delete name.kind;
      return name;
    });
  setOrDrop(out, 'gender', f.gender);
  setOrDrop(out, 'date_of_birth', f.date_of_birth.trim());
  const docs = f.documents.filter((x) => x.number.trim() && x.type).map((x) => {
    const old = arr(previous.documents).find((p) => p.number === x.number.trim()) ?? {};
    return { ...old, type: x.type, number: x.number.trim() };
  });
  if (docs.length) out.documents = docs; else delete out.documents;
  if (f.status) {
    const old = (previous.status ?? {}) as Json;
    out.status = old.value === f.status ? old : { value: f.status };
  } else delete out.status;
  setOrDrop(out, 'notes', f.notes.trim());
  return out;
}

function setOrDrop(o: Json, k: string, v: string) {
  if (v) o[k] = v; else delete o[k];
}

export interface Consent { given: boolean; scope: string; recorded_how: string }
export interface TestimonyForm {
  witness: string;
  witnessName: string;
  consent: Consent;
  narrative: string;
  place: string;
  recorded_at: string;
  interviewer: string;
  status: string;
  sensitivity: string;
}

export function emptyTestimony(): TestimonyForm {
  return {
    witness: '', witnessName: '', consent: { given: false, scope: '', recorded_how: '' },
    narrative: '', place: '', recorded_at: '', interviewer: '', status: 'draft', sensitivity: '',
  };
}

export function testimonyToForm(d: Json): TestimonyForm {
  const c = (d.consent ?? {}) as Json;
  return {
    witness: str(d.witness), witnessName: '',
    consent: { given: c.given === true, scope: str(c.scope), recorded_how: str(c.recorded_how) },
    narrative: str(d.narrative), place: str(d.place), recorded_at: str(d.recorded_at),
    interviewer: str(d.interviewer), status: str(d.status) || 'draft', sensitivity: str(d.sensitivity),
  };
}

/** A testimony can be marked reviewed or verified only with consent given (DATA-MODEL.md). */
export function canReview(c: Consent): boolean {
  return c.given;
}

export function testimonyFromForm(f: TestimonyForm, previous: Json = {}): Json {
  const out: Json = { ...previous, witness: f.witness, narrative: f.narrative };
  const oldConsent = (previous.consent ?? {}) as Json;
  const consent: Json = { ...oldConsent, given: f.consent.given };
  if (f.consent.scope) consent.scope = f.consent.scope; else delete consent.scope;
  if (f.consent.recorded_how) consent.recorded_how = f.consent.recorded_how; else delete consent.recorded_how;
  out.consent = consent;
  setOrDrop(out, 'place', f.place.trim());
  setOrDrop(out, 'recorded_at', f.recorded_at.trim());
  setOrDrop(out, 'interviewer', f.interviewer.trim());
  setOrDrop(out, 'sensitivity', f.sensitivity);
  const status = f.status === 'draft' || canReview(f.consent) ? f.status : 'draft';
  setOrDrop(out, 'status', status);
  return out;
}

export interface AttemptLine {
  id: string;
  number: number;
  submitted_on: string;
  outcome: string;
  /** Days without an answer, while none came (absent, pending or no-response). */
  waiting: number | null;
  data: Json;
}

const WAITING = new Set(['', 'pending', 'no-response']);

/** The earliest day a partial date can mean (2019 → 2019-01-01). */
export function earliest(partial: string): Date | null {
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?~?$/.exec(partial);
  if (!m) return null;
  return new Date(Date.UTC(Number(m[1]), m[2] ? Number(m[2]) - 1 : 0, m[3] ? Number(m[3]) : 1));
}

/** A person's attempts in order, numbered from 1, with the days each has waited. */
export function attemptTimeline(rows: { id: string; data: Json }[], today: Date): AttemptLine[] {
  const sorted = [...rows].sort((a, b) => str(a.data.submitted_on).localeCompare(str(b.data.submitted_on)));
  return sorted.map((r, i) => {
    const outcome = str(r.data.outcome);
    const start = earliest(str(r.data.submitted_on));
    const waiting = WAITING.has(outcome) && start
      ? Math.max(0, Math.floor((today.getTime() - start.getTime()) / 86_400_000))
      : null;
    return { id: r.id, number: i + 1, submitted_on: str(r.data.submitted_on), outcome, waiting, data: r.data };
  });
}

/** "Add follow-up": a new attempt prefilled from the last one (same channel, request, papers). */
export function followUp(last: Json, lastId: string, today: Date): Json {
  const out: Json = { person: last.person, follows_up: lastId, submitted_on: today.toISOString().slice(0, 10) };
  for (const k of ['channel', 'request', 'documents_submitted', 'language_used']) {
    if (last[k] !== undefined) out[k] = last[k];
  }
  out.outcome = 'pending';
  return out;
}

/** Why a new passphrase cannot be used yet, or null. */
export function passphraseProblem(a: string, b: string, score: number): 'weak' | 'differ' | null {
  if (score < 1) return 'weak';
  if (a !== b) return 'differ';
  return null;
}
