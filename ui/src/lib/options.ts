// The closed sets a record's fields take (docs/records.md), each with the catalog prefix that
// words its values in the UI's language: `outcome.no-response` → "no response". Every <select>
// of a record form is drawn from one of these (components/Choice.svelte).
import type { Key } from './i18n/index.svelte';

/** A closed set of values, and the catalog keys (`prefix.value`) that name them. */
export interface Options {
  prefix: string;
  values: readonly string[];
}

const set = (prefix: string, values: readonly string[]): Options => ({ prefix, values });

/** The catalog key that names `value` of `o`. */
export const optionKey = (o: Options, value: string) => `${o.prefix}.${value}` as Key;

export const SCRIPTS = set('script', ['cyrl', 'latn', 'hans', 'arab', 'other']);
export const NAME_KINDS = set('namekind', ['legal', 'alias', 'former', 'chinese-passport', 'transliteration']);
export const GENDERS = set('gender', ['female', 'male', 'other', 'unknown']);
export const PERSON_STATUSES = set('status', [
  'detained', 'camp', 'prison', 'forced-labour', 'released', 'abroad', 'deceased', 'unknown',
]);
export const DOCUMENT_TYPES = set('doc', [
  'kz-id-card', 'kz-passport', 'kz-iin', 'kandas-certificate', 'kz-residence-permit',
  'prc-passport', 'prc-resident-id', 'hukou', 'other',
]);
export const RELATIONS = set('relation', ['spouse', 'child', 'parent', 'sibling', 'other']);
export const CONSENT_SCOPES = set('scope', ['internal', 'partner-orgs', 'publish-anonymised', 'publish-named']);
export const RECORDED_HOW = set('how', ['signed-form', 'audio', 'oral']);
export const CONNECTIONS = set('connection', ['first-hand', 'relative', 'hearsay']);
export const SENSITIVITIES = set('sensitivity', ['normal', 'high', 'critical']);
export const REVIEW_STATUSES = set('tstatus', ['draft', 'reviewed', 'verified']);
export const EVENT_TYPES = set('event', [
  'detention', 'camp', 'prison', 'forced-labour', 'forced-abortion', 'sterilisation',
  'surveillance-contact', 'passport-confiscation', 'intimidation-abroad', 'travel-ban',
  'disappearance', 'death-in-custody', 'other',
]);
export const CASE_STATUSES = set('cstatus', ['open', 'waiting', 'closed']);
export const OUTCOMES = set('outcome', [
  'pending', 'no-response', 'accepted', 'refused', 'not-accepted-for-processing',
  'more-documents-requested', 'told-to-return-to-china', 'other',
]);
export const REQUESTS = set('request', [
  'renounce-prc-citizenship', 'cancel-hukou', 'annul-prc-passport', 'other',
]);
export const CHANNELS = set('channel', [
  'consulate-almaty', 'embassy-astana', 'other-consulate', 'mail', 'via-lawyer', 'in-china',
]);
