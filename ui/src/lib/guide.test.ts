import { describe, expect, it } from 'vitest';
import { GUIDE_PAGES, guideLink, guidePage, screenshot } from './guide';
import type { Block } from './markdown';

function images(blocks: Block[]): string[] {
  return blocks.flatMap((b) =>
    b.type === 'image' ? [b.src] : b.type === 'list' ? b.items.flatMap(images) : [],
  );
}

describe('the guide built into the app', () => {
  for (const lang of ['kk', 'ru', 'en']) {
    for (const page of GUIDE_PAGES) {
      it(`${lang}/${page}: its text and every screenshot it shows are bundled`, async () => {
        const blocks = await guidePage(lang, page);
        expect(blocks[0]?.type).toBe('heading');
        for (const src of images(blocks)) expect(screenshot(src), src).toBeTruthy();
      });
    }
  }

  it('follows links between its own pages only', () => {
    expect(guideLink('coordinator.md')).toBe('coordinator');
    expect(guideLink('threat-model.md')).toBe('threat-model');
    expect(guideLink('../../recovery.md')).toBeNull();
    expect(guideLink('https://example.org/')).toBeNull();
    expect(guideLink('other.md')).toBeNull();
  });
});
