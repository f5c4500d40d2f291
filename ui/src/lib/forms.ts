// Form logic kept apart from the screens, so it is tested without a webview (forms.test.ts).

export type Script = 'cyrl' | 'latn' | 'hans' | 'arab' | 'other';
export type NameKind = 'legal' | 'alias' | 'former' | 'chinese-passport' | 'transliteration';
export interface NameRow { value: string; script: Script | ''; kind: NameKind | '' }
export interface DocRow { type: string; number: string }
/** A relationship row; `person` is a record id, `personName` only for display. */
export interface RelationRow { person: string; personName: string; relation: string; note: string }

export interface PersonForm {
  names: NameRow[];
  gender: string;
  date_of_birth: string;
  documents: DocRow[];
  status: string;
  /** When the status was last known (a partial date), and who said so. */
  status_on: string;
  status_source: string;
  ethnicity: string;
  /** Protection flags (DATA-MODEL.md): never contact; anonymise in exports to partners. */
  do_not_contact: boolean;
  anonymise: boolean;
  notes: string;
  relationships: RelationRow[];
  /** The blob of the attachment that is the photo, or ''. */
  photo: string;
  /** Contact (high sensitivity): phones one per line, messengers as "app: handle" lines. */
  phones: string;
  messengers: string;
  contact_note: string;
}

type Json = Record<string, unknown>;

/** An attachment as a record lists it (the file itself stays encrypted in the vault). */
export interface Attachment { blob: string; size: number; media_type?: string; name?: string }

export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
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
  return { names: [{ value: '', script: '', kind: '' }], gender: '', date_of_birth: '', documents: [], status: '', status_on: '', status_source: '', ethnicity: '', do_not_contact: false, anonymise: false, notes: '', relationships: [], photo: '', phones: '', messengers: '', contact_note: '' };
}

export function personToForm(d: Json): PersonForm {
  const status = (d.status ?? {}) as Json;
  return {
    names: arr(d.names).map((n) => ({ value: str(n.value), script: str(n.script) as Script, kind: str(n.kind) as NameKind })),
    gender: str(d.gender),
    date_of_birth: str(d.date_of_birth),
    documents: arr(d.documents).map((x) => ({ type: str(x.type), number: str(x.number) })),
    status: str(status.value),
    status_on: str(status.on),
    status_source: str(status.source),
    ethnicity: str(d.ethnicity),
    do_not_contact: d.do_not_contact === true,
    anonymise: d.anonymise_in_exports_to_partners === true,
    notes: str(d.notes),
    relationships: arr(d.relationships).map((r) => ({
      person: str(r.person), personName: '', relation: str(r.relation) || 'other', note: str(r.note),
    })),
    photo: str(d.photo),
    ...contactToForm((d.contact ?? {}) as Json),
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
    const status: Json = { value: f.status };
    setOrDrop(status, 'on', f.status_on.trim());
    setOrDrop(status, 'source', f.status_source.trim());
    out.status = status;
  } else delete out.status;
  setOrDrop(out, 'ethnicity', f.ethnicity.trim());
  if (f.do_not_contact) out.do_not_contact = true; else delete out.do_not_contact;
  if (f.anonymise) out.anonymise_in_exports_to_partners = true; else delete out.anonymise_in_exports_to_partners;
  setOrDrop(out, 'notes', f.notes.trim());
  const rel = f.relationships.filter((r) => r.person).map((r) => {
    const o: Json = { person: r.person, relation: r.relation || 'other' };
    if (r.note.trim()) o.note = r.note.trim();
    return o;
  });
  if (rel.length) out.relationships = rel; else delete out.relationships;
  setOrDrop(out, 'photo', f.photo);
  const contact = contactFromForm(f);
  if (contact) out.contact = contact; else delete out.contact;
  return out;
}

function contactToForm(c: Json): Pick<PersonForm, 'phones' | 'messengers' | 'contact_note'> {
  const phones = Array.isArray(c.phones) ? (c.phones as unknown[]).map(str) : [];
  return {
    phones: phones.join('\n'),
    messengers: arr(c.messengers).map((m) => `${str(m.app)}: ${str(m.handle)}`).join('\n'),
    contact_note: str(c.note),
  };
}

/** The contact block, or null when every part is empty. "WeChat: wxid_1" → {app, handle}. */
function contactFromForm(f: PersonForm): Json | null {
  const lines = (s: string) => s.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const phones = lines(f.phones);
  const messengers = lines(f.messengers).map((l) => {
    const i = l.indexOf(':');
    return i > 0 ? { app: l.slice(0, i).trim(), handle: l.slice(i + 1).trim() } : { app: '', handle: l };
  });
  const c: Json = {};
  if (phones.length) c.phones = phones;
  if (messengers.length) c.messengers = messengers;
  if (f.contact_note.trim()) c.note = f.contact_note.trim();
  return Object.keys(c).length ? c : null;
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
  events: EventRow[];
  interpreter: string;
  /** Language codes, comma-separated as typed (kk, ug, ru…). */
  languages: string;
  summary: string;
  connection: string;
  reliability_note: string;
  /** Tags, comma-separated as typed. */
  tags: string;
  translations: TranslationRow[];
}

/** A translation of the narrative (the narrative itself stays as told). */
export interface TranslationRow { language: string; text: string; translated_by: string }

/**
 * An event told in a testimony. `kept` holds what the form does not show (victims), so an edit
 * keeps it.
 */
export interface EventRow {
  type: string; from: string; to: string; place: string; facility: string;
  perpetrators: string; description: string; kept: Json;
}

export const EVENT_TYPES = [
  'detention', 'camp', 'prison', 'forced-labour', 'forced-abortion', 'sterilisation',
  'surveillance-contact', 'passport-confiscation', 'intimidation-abroad', 'travel-ban',
  'disappearance', 'death-in-custody', 'other',
] as const;

export function emptyEvent(): EventRow {
  return { type: 'detention', from: '', to: '', place: '', facility: '', perpetrators: '', description: '', kept: {} };
}

function eventToRow(e: Json): EventRow {
  const perps = Array.isArray(e.perpetrators) ? (e.perpetrators as unknown[]).map(str).filter(Boolean) : [];
  return {
    type: str(e.type) || 'other', from: str(e.from), to: str(e.to), place: str(e.place),
    facility: str(e.facility), perpetrators: perps.join('; '), description: str(e.description),
    kept: { ...e },
  };
}

/** Perpetrators and institutions are typed in one field, separated by semicolons or lines. */
function eventFromRow(r: EventRow): Json {
  const o: Json = { ...r.kept, type: r.type || 'other' };
  for (const k of ['from', 'to', 'place', 'facility', 'description'] as const) setOrDrop(o, k, r[k].trim());
  const perps = r.perpetrators.split(/[;\n]/).map((p) => p.trim()).filter(Boolean);
  if (perps.length) o.perpetrators = perps; else delete o.perpetrators;
  return o;
}

export function emptyTestimony(): TestimonyForm {
  return {
    witness: '', witnessName: '', consent: { given: false, scope: '', recorded_how: '' },
    narrative: '', place: '', recorded_at: '', interviewer: '', status: 'draft', sensitivity: '', events: [],
    interpreter: '', languages: '', summary: '', connection: '', reliability_note: '', tags: '',
    translations: [],
  };
}

export function testimonyToForm(d: Json): TestimonyForm {
  const c = (d.consent ?? {}) as Json;
  return {
    witness: str(d.witness), witnessName: '',
    consent: { given: c.given === true, scope: str(c.scope), recorded_how: str(c.recorded_how) },
    narrative: str(d.narrative), place: str(d.place), recorded_at: str(d.recorded_at),
    interviewer: str(d.interviewer), status: str(d.status) || 'draft', sensitivity: str(d.sensitivity),
    events: arr(d.events).map(eventToRow),
    interpreter: str(d.interpreter),
    languages: (Array.isArray(d.languages) ? (d.languages as unknown[]).map(str) : []).join(', '),
    summary: str(d.summary),
    connection: str(d.connection),
    reliability_note: str(d.reliability_note),
    tags: (Array.isArray(d.tags) ? (d.tags as unknown[]).map(str) : []).join(', '),
    translations: arr(d.translations).map((x) => ({
      language: str(x.language), text: str(x.text), translated_by: str(x.translated_by),
    })),
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
  setOrDrop(out, 'interpreter', f.interpreter.trim());
  setOrDrop(out, 'summary', f.summary.trim());
  setOrDrop(out, 'connection', f.connection);
  setOrDrop(out, 'reliability_note', f.reliability_note.trim());
  // Language codes are single words (kk ug ru); a tag may have spaces (forced labour).
  const languages = [...new Set(f.languages.split(/[,;\s]+/).map((x) => x.trim().toLowerCase()).filter(Boolean))];
  const tags = [...new Set(f.tags.split(/[,;]/).map((x) => x.trim()).filter(Boolean))];
  if (languages.length) out.languages = languages; else delete out.languages;
  if (tags.length) out.tags = tags; else delete out.tags;
  // A translation needs its language and its text; a row with neither is dropped.
  const translations = f.translations.filter((x) => x.text.trim() || x.language.trim()).map((x) => {
    const o: Json = { language: x.language.trim().toLowerCase(), text: x.text };
    if (x.translated_by.trim()) o.translated_by = x.translated_by.trim();
    return o;
  });
  if (translations.length) out.translations = translations; else delete out.translations;
  const events = f.events.map(eventFromRow);
  if (events.length) out.events = events; else delete out.events;
  return out;
}

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

/** "Add follow-up": a new attempt prefilled from the last one (same channel, request, papers). */
export function followUp(last: Json, lastId: string, today: Date): Json {
  const out: Json = { person: last.person, follows_up: lastId, submitted_on: today.toISOString().slice(0, 10) };
  for (const k of ['channel', 'request', 'documents_submitted', 'language_used']) {
    if (last[k] !== undefined) out[k] = last[k];
  }
  out.outcome = 'pending';
  return out;
}

/** The age and SSH public keys in a recipients file (comments and blank lines skipped). */
export function keysInText(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.startsWith('age1') || l.startsWith('ssh-'));
}

/** Why a new passphrase cannot be used yet, or null. */
export function passphraseProblem(a: string, b: string, score: number): 'weak' | 'differ' | null {
  if (score < 1) return 'weak';
  if (a !== b) return 'differ';
  return null;
}
