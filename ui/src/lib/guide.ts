// The user guide (docs/guide/<lang>/*.md), built into the app so Help opens it in the UI's
// language without a browser or a network: the Markdown and the screenshots it shows are
// bundled by Vite into ui/dist, which the app embeds. Each page is a chunk of its own, loaded
// when Help shows it: the page every unlock and every lock loads stays small.
import { parse, type Block } from './markdown';

export const GUIDE_PAGES = ['caseworker', 'coordinator', 'threat-model'] as const;
export type GuidePage = (typeof GUIDE_PAGES)[number];

const PAGES = import.meta.glob('../../../docs/guide/*/*.md', {
  query: '?raw',
  import: 'default',
}) as Record<string, () => Promise<string>>;

// Only the screenshots the guide shows (a test checks that each one it names is here).
const SHOTS = import.meta.glob(
  '../../../docs/screenshots/{first-run,search,testimony,recording,transcribe,export,organisation,receive,devices,conflicts,resolve,duplicates}-*.png',
  { query: '?url', import: 'default', eager: true },
) as Record<string, string>;

/** A page of the guide in `lang` (English where a language lacks it). */
export async function guidePage(lang: string, page: GuidePage): Promise<Block[]> {
  const load = PAGES[`../../../docs/guide/${lang}/${page}.md`] ?? PAGES[`../../../docs/guide/en/${page}.md`];
  return parse(load ? await load() : '');
}

/** The bundled address of a screenshot the guide names (`../../screenshots/x-en.png`). */
export function screenshot(src: string): string | undefined {
  const name = src.replace(/^(\.\.\/)*screenshots\//, '');
  return SHOTS[`../../../docs/screenshots/${name}`];
}

/** The guide page a link goes to (`coordinator.md`), or null for anything else: the Help
 *  screen follows links between its own pages only, never out of the app. */
export function guideLink(href: string): GuidePage | null {
  const m = /^([a-z-]+)\.md$/.exec(href);
  const page = m?.[1];
  return (GUIDE_PAGES as readonly string[]).includes(page ?? '') ? (page as GuidePage) : null;
}
