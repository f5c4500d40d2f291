import { describe, expect, it } from 'vitest';
import {
  canReview, caseFromForm, caseToForm, emptyEvent, followUp, guessScript,
  keysInText, nextReference, passphraseProblem, personFromForm, personToForm, testimonyFromForm,
  testimonyToForm, emptyTestimony,
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

describe('relationships and photo', () => {
  it('keeps a relation per row and drops rows without a person', () => {
    const f = personToForm({ names: [{ value: 'Айгүл' }], relationships: [{ person: 'p1', relation: 'child', note: ' taken 2018 ' }] });
    expect(f.relationships).toEqual([{ person: 'p1', personName: '', relation: 'child', note: ' taken 2018 ' }]);
    f.relationships.push({ person: '', personName: '', relation: 'sibling', note: '' });
    f.photo = 'ab'.repeat(32);
    const out = personFromForm(f, {});
    expect(out.relationships).toEqual([{ person: 'p1', relation: 'child', note: 'taken 2018' }]);
    expect(out.photo).toBe('ab'.repeat(32));
    f.relationships = [];
    f.photo = '';
    const cleared = personFromForm(f, out);
    expect('relationships' in cleared).toBe(false);
    expect('photo' in cleared).toBe(false);
  });
});

describe('events of a testimony', () => {
  it('round-trips events and keeps the victims the form does not show', () => {
    const previous = {
      witness: 'w', narrative: 'n', consent: { given: true },
      events: [{ type: 'camp', from: '2018-03', place: 'Ghulja', victims: ['p2'], perpetrators: ['police', 'camp admin'] }],
    };
    const f = testimonyToForm(previous);
    expect(f.events[0]!.perpetrators).toBe('police; camp admin');
    f.events[0]!.to = '2019~';
    f.events.push({ ...emptyEvent(), type: 'travel-ban', description: 'passport kept', perpetrators: 'border post\n local office' });
    const out = testimonyFromForm(f, previous);
    expect(out.events).toEqual([
      { type: 'camp', from: '2018-03', to: '2019~', place: 'Ghulja', victims: ['p2'], perpetrators: ['police', 'camp admin'] },
      { type: 'travel-ban', description: 'passport kept', perpetrators: ['border post', 'local office'] },
    ]);
    f.events = [];
    expect('events' in testimonyFromForm(f, out)).toBe(false);
  });
});

describe('case form', () => {
  it('suggests the next reference of the year', () => {
    const today = new Date(2026, 10, 28);
    expect(nextReference([], today)).toBe('AJ-2026-0001');
    expect(nextReference(['AJ-2026-0141', 'AJ-2025-0900', 'AJ-2026-0009', 'other'], today)).toBe('AJ-2026-0142');
  });

  it('keeps links unique, drops empty fields and keeps unknown ones', () => {
    const previous = { reference: 'AJ-2026-0142', attachments: [{ blob: 'c'.repeat(64), size: 1 }], title: 'old' };
    const f = caseToForm(previous);
    f.title = ' ';
    f.persons.push({ id: 'p1', title: 'A' }, { id: 'p1', title: 'A' });
    f.testimonies.push({ id: 't1', title: 'T' });
    const out = caseFromForm(f, previous);
    expect(out).toEqual({ reference: 'AJ-2026-0142', attachments: previous.attachments, persons: ['p1'], testimonies: ['t1'] });
  });
});

describe('recipients file', () => {
  it('keeps age and ssh keys, skips comments and blank lines', () => {
    const text = '# coordinators\r\nage1abc\r\n\r\n  ssh-ed25519 AAAA x@y  \n# old: age1old\nnot a key\n';
    expect(keysInText(text)).toEqual(['age1abc', 'ssh-ed25519 AAAA x@y']);
  });
});

describe('status, ethnicity and protection flags', () => {
  it('round-trip, and dropping the status drops its date and source', () => {
    const previous = { names: [{ value: 'Айгүл' }], status: { value: 'camp', on: '2019~', source: 'her brother' }, do_not_contact: true };
    const f = personToForm(previous);
    expect([f.status, f.status_on, f.status_source, f.do_not_contact, f.anonymise]).toEqual(['camp', '2019~', 'her brother', true, false]);
    f.anonymise = true;
    f.ethnicity = ' Uyghur ';
    const out = personFromForm(f, previous);
    expect(out.status).toEqual({ value: 'camp', on: '2019~', source: 'her brother' });
    expect(out.anonymise_in_exports_to_partners).toBe(true);
    expect(out.ethnicity).toBe('Uyghur');
    f.status = '';
    f.do_not_contact = false;
    const cleared = personFromForm(f, out);
    expect('status' in cleared).toBe(false);
    expect('do_not_contact' in cleared).toBe(false);
  });
});

describe('testimony details', () => {
  it('split languages and tags into lists, lower-case the codes, drop empties', () => {
    const f = emptyTestimony();
    f.witness = 'w';
    f.languages = 'KK, ug;ru  kk';
    f.tags = 'camp, Ghulja, camp';
    f.connection = 'first-hand';
    f.interpreter = ' Aset ';
    const out = testimonyFromForm(f, {});
    expect(out.languages).toEqual(['kk', 'ug', 'ru']);
    expect(out.tags).toEqual(['camp', 'Ghulja']);
    expect(out.connection).toBe('first-hand');
    expect(out.interpreter).toBe('Aset');
    expect('summary' in out).toBe(false);
    const back = testimonyToForm(out);
    expect(back.languages).toBe('kk, ug, ru');
    back.languages = '';
    expect('languages' in testimonyFromForm(back, out)).toBe(false);
  });
});

describe('translations of a narrative', () => {
  it('keep language, text and translator; drop empty rows; the narrative is untouched', () => {
    const f = testimonyToForm({ witness: 'w', narrative: 'Мен 2018 жылы…', translations: [{ language: 'ru', text: 'В 2018 году…' }] });
    expect(f.translations).toEqual([{ language: 'ru', text: 'В 2018 году…', translated_by: '' }]);
    f.translations.push({ language: ' EN ', text: 'In 2018…', translated_by: ' Dana ' }, { language: '', text: ' ', translated_by: '' });
    const out = testimonyFromForm(f, {});
    expect(out.narrative).toBe('Мен 2018 жылы…');
    expect(out.translations).toEqual([
      { language: 'ru', text: 'В 2018 году…' },
      { language: 'en', text: 'In 2018…', translated_by: 'Dana' },
    ]);
    f.translations = [];
    expect('translations' in testimonyFromForm(f, out)).toBe(false);
  });
});

describe('contact of a person (high sensitivity)', () => {
  it('turns lines into phones and messenger accounts, and drops an empty block', () => {
    const previous = { names: [{ value: 'Айгүл' }], contact: { phones: ['+7 700 000 00 00'], messengers: [{ app: 'WeChat', handle: 'wxid_1' }] } };
    const f = personToForm(previous);
    expect(f.messengers).toBe('WeChat: wxid_1');
    f.messengers += '\n WhatsApp : +7 701 111 11 11 \n';
    const out = personFromForm(f, previous);
    expect(out.contact).toEqual({
      phones: ['+7 700 000 00 00'],
      messengers: [{ app: 'WeChat', handle: 'wxid_1' }, { app: 'WhatsApp', handle: '+7 701 111 11 11' }],
    });
    f.phones = '';
    f.messengers = '';
    expect('contact' in personFromForm(f, out)).toBe(false);
  });
});
