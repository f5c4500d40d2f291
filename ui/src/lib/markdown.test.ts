import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse, inlines, type Block } from './markdown';

const GUIDE = join(__dirname, '../../../docs/guide');
const SHOTS = join(__dirname, '../../../docs/screenshots');

function walk(blocks: Block[], f: (b: Block) => void) {
  for (const b of blocks) {
    f(b);
    if (b.type === 'list') for (const item of b.items) walk(item, f);
  }
}

describe('markdown', () => {
  it('reads inline marks, and leaves other text as it is', () => {
    expect(inlines('a **b** *c* `d` [e](f.md) <g>')).toEqual([
      { t: 'text', v: 'a ' }, { t: 'strong', v: 'b' }, { t: 'text', v: ' ' }, { t: 'em', v: 'c' },
      { t: 'text', v: ' ' }, { t: 'code', v: 'd' }, { t: 'text', v: ' ' },
      { t: 'link', v: 'e', href: 'f.md' }, { t: 'text', v: ' <g>' },
    ]);
  });

  it('reads headings, paragraphs, images, lists with indented parts, tables', () => {
    const md = [
      '# Title', '', 'One line', 'and the next.', '', '![Alt](x.png)', '',
      '1. **First**: text', '   going on.', '', '   ![In item](y.png)', '', '   More of it.',
      '2. Second', '', '- a', '  b', '- c', '', '| Key | Does |', '| --- | --- |', '| Esc | play |',
    ].join('\n');
    const b = parse(md);
    expect(b.map((x) => x.type)).toEqual(['heading', 'paragraph', 'image', 'list', 'list', 'table']);
    expect(b[1]).toEqual({ type: 'paragraph', text: [{ t: 'text', v: 'One line and the next.' }] });
    const ol = b[3] as Extract<Block, { type: 'list' }>;
    expect(ol.ordered).toBe(true);
    expect(ol.items.length).toBe(2);
    expect(ol.items[0].map((x) => x.type)).toEqual(['paragraph', 'image', 'paragraph']);
    const ul = b[4] as Extract<Block, { type: 'list' }>;
    expect(ul.ordered).toBe(false);
    expect(ul.items).toEqual([[{ type: 'paragraph', text: [{ t: 'text', v: 'a b' }] }], [{ type: 'paragraph', text: [{ t: 'text', v: 'c' }] }]]);
    expect(b[5]).toEqual({
      type: 'table',
      head: [[{ t: 'text', v: 'Key' }], [{ t: 'text', v: 'Does' }]],
      rows: [[[{ t: 'text', v: 'Esc' }], [{ t: 'text', v: 'play' }]]],
    });
  });

  // The guides as the Help screen shows them: every page in every language, read whole.
  const langs = ['kk', 'ru', 'en'];
  const pages = readdirSync(join(GUIDE, 'en')).filter((f) => f.endsWith('.md')).sort();

  it('the guide has the same pages in Kazakh, Russian and English', () => {
    expect(pages).toEqual(['caseworker.md', 'coordinator.md', 'threat-model.md']);
    for (const l of langs) expect(readdirSync(join(GUIDE, l)).sort()).toEqual(pages);
  });

  for (const page of pages) {
    it(`${page}: no Markdown left unread, its screenshots exist in its language, same outline in each language`, () => {
      const outline: string[][] = [];
      for (const l of langs) {
        const blocks = parse(readFileSync(join(GUIDE, l, page), 'utf8'));
        const shape: string[] = [];
        walk(blocks, (b) => {
          shape.push(b.type === 'heading' ? `h${b.level}` : b.type);
          if (b.type === 'image') {
            expect(b.src.startsWith('../../screenshots/'), b.src).toBe(true);
            expect(b.src.endsWith(`-${l}.png`), `${l}/${page}: ${b.src} is not in ${l}`).toBe(true);
            expect(existsSync(join(SHOTS, b.src.slice('../../screenshots/'.length))), b.src).toBe(true);
          }
          const texts = b.type === 'heading' || b.type === 'paragraph' ? b.text : [];
          for (const x of texts) {
            if (x.t === 'text') expect(x.v, `${l}/${page}`).not.toMatch(/\*\*|!\[|\]\(/);
          }
        });
        outline.push(shape);
      }
      expect(outline[1]).toEqual(outline[2]);
      expect(outline[0]).toEqual(outline[2]);
    });
  }
});
