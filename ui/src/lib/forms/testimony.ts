// A testimony's form: consent first, narrative as told, translations, events.
import { arr, setOrDrop, str, type Json } from './common';

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
  /** Transcripts of recordings attached, beside the narrative (never replacing it). */
  transcripts: TranscriptRow[];
}

/** The draft key of the transcript of recording `blob` of testimony `record`. */
export function transcriptDraftKey(record: string, blob: string): string {
  return `transcript:${record}:${blob}`;
}

/** A transcript of one recording (its SHA-256), with its own translations. */
export interface TranscriptRow { recording: string; text: string; translations: TranslationRow[] }

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
    translations: [], transcripts: [],
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
    translations: arr(d.translations).map(translationToRow),
    transcripts: arr(d.transcripts).map((x) => ({
      recording: str(x.recording), text: str(x.text), translations: arr(x.translations).map(translationToRow),
    })),
  };
}

function translationToRow(x: Json): TranslationRow {
  return { language: str(x.language), text: str(x.text), translated_by: str(x.translated_by) };
}

/** A testimony can be marked reviewed or verified only with consent given (docs/records.md, testimony `status`). */
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
  const translations = translationsFromRows(f.translations);
  if (translations.length) out.translations = translations; else delete out.translations;
  // A transcript with no text is dropped (its recording stays attached).
  const transcripts = f.transcripts.filter((x) => x.text.trim()).map((x) => {
    const o: Json = { recording: x.recording, text: x.text };
    const tr = translationsFromRows(x.translations);
    if (tr.length) o.translations = tr;
    return o;
  });
  if (transcripts.length) out.transcripts = transcripts; else delete out.transcripts;
  const events = f.events.map(eventFromRow);
  if (events.length) out.events = events; else delete out.events;
  return out;
}

function translationsFromRows(rows: TranslationRow[]): Json[] {
  return rows.filter((x) => x.text.trim() || x.language.trim()).map((x) => {
    const o: Json = { language: x.language.trim().toLowerCase(), text: x.text };
    if (x.translated_by.trim()) o.translated_by = x.translated_by.trim();
    return o;
  });
}
