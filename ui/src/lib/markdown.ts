// The subset of Markdown the guides in docs/guide are written in, read into blocks the Help
// screen renders with Svelte's text bindings (never as HTML: nothing here becomes markup).
// Headings, paragraphs, images on a line of their own, lists (numbered or not, whose items may
// hold paragraphs and images indented under them), pipe tables; inline **strong**, *emphasis*,
// `code` and [links](target). Anything else is shown as the text it is.

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'strong'; v: string }
  | { t: 'em'; v: string }
  | { t: 'code'; v: string }
  | { t: 'link'; v: string; href: string };

export type Block =
  | { type: 'heading'; level: number; text: Inline[] }
  | { type: 'paragraph'; text: Inline[] }
  | { type: 'image'; alt: string; src: string }
  | { type: 'list'; ordered: boolean; items: Block[][] }
  | { type: 'table'; head: Inline[][]; rows: Inline[][][] };

const INLINE = /\*\*(.+?)\*\*|\*(.+?)\*|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)/g;

/** A line's inline marks. */
export function inlines(s: string): Inline[] {
  const out: Inline[] = [];
  let at = 0;
  for (const m of s.matchAll(INLINE)) {
    if (m.index > at) out.push({ t: 'text', v: s.slice(at, m.index) });
    if (m[1] !== undefined) out.push({ t: 'strong', v: m[1] });
    else if (m[2] !== undefined) out.push({ t: 'em', v: m[2] });
    else if (m[3] !== undefined) out.push({ t: 'code', v: m[3] });
    else out.push({ t: 'link', v: m[4] ?? '', href: m[5] ?? '' });
    at = m.index + m[0].length;
  }
  if (at < s.length) out.push({ t: 'text', v: s.slice(at) });
  return out;
}

const HEADING = /^(#{1,6})\s+(.*)$/;
const IMAGE = /^!\[([^\]]*)\]\(([^)\s]+)\)$/;
const ITEM = /^(\d+\.|[-*])\s+(.*)$/;
const INDENTED = /^\s{2,}\S/;
const RULE = /^\|?\s*:?-{3,}/;

const cells = (line: string) =>
  line.trim().replace(/^\||\|$/g, '').split('|').map((c) => inlines(c.trim()));
const isOrdered = (marker: string) => /\d/.test(marker);

/** The blocks of a Markdown text. */
export function parse(md: string): Block[] {
  return blocks(md.replace(/\r\n?/g, '\n').split('\n'));
}

function blocks(lines: string[]): Block[] {
  const at = (i: number) => lines[i] ?? '';
  const nextFilled = (i: number) => {
    while (i < lines.length && at(i).trim() === '') i++;
    return i;
  };
  const out: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = at(i);
    const trimmed = line.trim();
    if (!trimmed) {
      i++;
      continue;
    }
    const h = HEADING.exec(trimmed);
    if (h) {
      out.push({ type: 'heading', level: (h[1] ?? '#').length, text: inlines(h[2] ?? '') });
      i++;
      continue;
    }
    const img = IMAGE.exec(trimmed);
    if (img) {
      out.push({ type: 'image', alt: img[1] ?? '', src: img[2] ?? '' });
      i++;
      continue;
    }
    if (trimmed.startsWith('|')) {
      const rows: string[] = [];
      while (i < lines.length && at(i).trim().startsWith('|')) rows.push(at(i++));
      const body = rows.slice(1).filter((r) => !RULE.test(r.trim()));
      out.push({ type: 'table', head: cells(rows[0] ?? ''), rows: body.map(cells) });
      continue;
    }
    const item = ITEM.exec(line);
    if (item) {
      const ordered = isOrdered(item[1] ?? '');
      const items: Block[][] = [];
      for (;;) {
        const m = ITEM.exec(at(i));
        if (!m || isOrdered(m[1] ?? '') !== ordered) break;
        // The item's first line, then what is indented under it (blank lines inside it too).
        const body = [m[2] ?? ''];
        i++;
        for (;;) {
          if (i < lines.length && INDENTED.test(at(i))) {
            body.push(at(i).replace(/^\s{1,4}/, ''));
            i++;
            continue;
          }
          const j = nextFilled(i);
          if (j > i && j < lines.length && INDENTED.test(at(j))) {
            for (; i < j; i++) body.push('');
            continue;
          }
          break;
        }
        items.push(blocks(body));
        // Blank lines between the items of one list.
        const j = nextFilled(i);
        const next = ITEM.exec(at(j));
        if (j >= lines.length || !next || isOrdered(next[1] ?? '') !== ordered) break;
        i = j;
      }
      out.push({ type: 'list', ordered, items });
      continue;
    }
    // A paragraph: lines until a blank one or the start of another block.
    const text: string[] = [];
    while (i < lines.length) {
      const l = at(i).trim();
      if (!l || HEADING.test(l) || IMAGE.test(l) || l.startsWith('|')) break;
      if (text.length > 0 && ITEM.test(at(i))) break;
      text.push(l);
      i++;
    }
    out.push({ type: 'paragraph', text: inlines(text.join(' ')) });
  }
  return out;
}
