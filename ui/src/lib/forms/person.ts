// A person's form: names in several scripts, documents, status, protection flags, contact.
import { arr, setOrDrop, str, type Json } from './common';

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
  /** Protection flags (docs/records.md): never contact; anonymise in exports to partners. */
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
