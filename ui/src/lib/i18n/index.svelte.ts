// Message catalogs (kk, ru, en) and locale-aware formatting. Switching language needs no
// restart: every `t()` call reads the current language, which is reactive state.
import en from './en.json';
import ru from './ru.json';
import kk from './kk.json';

export type Lang = 'kk' | 'ru' | 'en';
export type Key = keyof typeof en;
export const LANGS: Lang[] = ['kk', 'ru', 'en'];
export const catalogs: Record<Lang, Record<string, string>> = { en, ru, kk };

const LOCALES: Record<Lang, string> = { kk: 'kk-KZ', ru: 'ru-RU', en: 'en-GB' };

let current = $state<Lang>('kk');

export const i18n = {
  get lang(): Lang {
    return current;
  },
  set(lang: string) {
    if ((LANGS as string[]).includes(lang)) {
      current = lang as Lang;
      if (typeof document !== 'undefined') document.documentElement.lang = lang;
    }
  },
};

/** The message `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: Key, params: Record<string, string | number> = {}): string {
  const text = catalogs[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) =>
    name in params ? String(params[name]) : `{${name}}`,
  );
}

/** Formatters, made once per language and options: making one costs far more than using it
 *  (a list of a hundred rows with two dates and two numbers each made hundreds). */
const formatters = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();
function dateFormat(opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const k = `d|${current}|${JSON.stringify(opts)}`;
  let f = formatters.get(k) as Intl.DateTimeFormat | undefined;
  if (!f) {
    f = new Intl.DateTimeFormat(LOCALES[current], opts);
    formatters.set(k, f);
  }
  return f;
}

/** A date (RFC 3339 or a partial date like 2019-10) as the current locale writes it. */
export function fmtDate(value: string | null | undefined): string {
  if (!value) return '';
  const partial = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(~)?$/.exec(value);
  if (partial && !value.includes('T')) {
    const [, y, m, d, approx] = partial;
    const opts: Intl.DateTimeFormatOptions = { year: 'numeric' };
    if (m) opts.month = 'long';
    if (d) opts.day = 'numeric';
    const date = new Date(Date.UTC(Number(y), m ? Number(m) - 1 : 0, d ? Number(d) : 1));
    const s = dateFormat({ ...opts, timeZone: 'UTC' }).format(date);
    return approx ? `≈ ${s}` : s;
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return dateFormat({ dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** A number as the current locale writes it. */
export function fmtNumber(n: number): string {
  const k = `n|${current}`;
  let f = formatters.get(k) as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(LOCALES[current]);
    formatters.set(k, f);
  }
  return f.format(n);
}

/** A language's own name, in the current language. */
export function langName(l: Lang): string {
  return { kk: t('lang.kk'), ru: t('lang.ru'), en: t('lang.en') }[l];
}
