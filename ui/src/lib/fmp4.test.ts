import { describe, expect, it } from 'vitest';
import { pieces } from './fmp4';
import { concat } from './bytes';

/** A box: size, kind, body. */
function box(kind: string, ...body: Uint8Array[]): Uint8Array {
  const size = 8 + body.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, size);
  out.set([...kind].map((c) => c.charCodeAt(0)), 4);
  let at = 8;
  for (const b of body) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}
const u32 = (...v: number[]) => {
  const b = new Uint8Array(4 * v.length);
  v.forEach((x, i) => new DataView(b.buffer).setUint32(4 * i, x));
  return b;
};
const u64 = (v: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v));
  return b;
};

/** A fragmented file: track 1 at 12800 a second (video), track 2 at 48000 (sound). */
function file(): Uint8Array {
  const trak = (id: number, scale: number) =>
    box('trak',
      box('tkhd', u32(0, 0, 0, id), new Uint8Array(68)),
      box('mdia', box('mdhd', u32(0, 0, 0, scale, 0))));
  const moof = (seq: number, track: number, time: number) =>
    box('moof', box('mfhd', u32(0, seq)),
      box('traf', box('tfhd', u32(0x020000, track)), box('tfdt', u32(0x01000000), u64(time))));
  return concat(
    box('ftyp', new TextEncoder().encode('isom')),
    box('moov', box('mvhd', new Uint8Array(100)), trak(1, 12800), trak(2, 48000)),
    moof(1, 1, 0), box('mdat', new Uint8Array(100)),
    moof(2, 1, 19200), box('mdat', new Uint8Array(50)),
    moof(3, 1, 38400), box('mdat', new Uint8Array(10)),
  );
}

describe('the pieces of a fragmented MP4', () => {
  it('are the init segment and each moof with its mdat, with the time each starts at', () => {
    const f = file();
    const p = pieces(f)!;
    expect(p.fragments.map((x) => x.time)).toEqual([0, 1.5, 3]);
    expect(p.init.start).toBe(0);
    expect(p.init.end).toBe(p.fragments[0].start);
    for (let i = 0; i + 1 < p.fragments.length; i++) expect(p.fragments[i].end).toBe(p.fragments[i + 1].start);
    expect(p.fragments[2].end).toBe(f.length);
    expect(String.fromCharCode(...f.subarray(p.fragments[1].start + 4, p.fragments[1].start + 8))).toBe('moof');
  });

  it('are nothing for a file that is not fragmented or is cut short', () => {
    expect(pieces(box('ftyp', new Uint8Array(8)))).toBeNull();
    const f = file();
    // Cut inside the index (moov): a box running past the end is not read.
    expect(pieces(f.subarray(0, 300))).toBeNull();
    expect(pieces(new Uint8Array(0))).toBeNull();
  });
});
