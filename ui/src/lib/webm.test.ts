import { describe, expect, it } from 'vitest';
import { webmPieces } from './webm';
import { concat } from './bytes';

/** Sizes as few bytes as hold them (as the media scheme writes them), or all in 8 bytes. */
let long = false;

/** An element: its ID, its size, its body. */
function el(id: number, ...body: Uint8Array[]): Uint8Array {
  const idBytes: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) idBytes.unshift(v % 256);
  const size = body.reduce((n, b) => n + b.length, 0);
  const sizeBytes = long || size > 16382
    ? [0x01, 0, 0, 0, 0, 0, Math.floor(size / 256), size % 256]
    : size < 127 ? [0x80 | size] : [0x40 | Math.floor(size / 256), size % 256];
  return concat(new Uint8Array([...idBytes, ...sizeBytes]), ...body);
}
const uint = (v: number) => new Uint8Array([0, 0, Math.floor(v / 65536) % 256, Math.floor(v / 256) % 256, v % 256]);

/** Clusters at 0, 2 and 4.5 s, in a file whose unit is `scale` nanoseconds. */
function file(scale: number): Uint8Array {
  const cluster = (ms: number, n: number) =>
    el(0x1f43b675, el(0xe7, uint((ms * 1_000_000) / scale)), el(0xa3, new Uint8Array(n)));
  return concat(
    el(0x1a45dfa3, el(0x4282, new TextEncoder().encode('webm'))),
    el(0x18538067,
      el(0x1549a966, el(0x2ad7b1, uint(scale))),
      el(0x1654ae6b, el(0xae, el(0x86, new TextEncoder().encode('V_VP9')))),
      cluster(0, 100), cluster(2000, 50), cluster(4500, 10)),
  );
}

describe('the pieces of a WebM file', () => {
  it('are everything before the first cluster, then each cluster with the time it starts at', () => {
    const f = file(1_000_000);
    const p = webmPieces(f)!;
    expect(p.fragments.map((x) => x.time)).toEqual([0, 2, 4.5]);
    expect(p.init.start).toBe(0);
    expect(p.init.end).toBe(p.fragments[0]!.start);
    // Cluster ID at each start, one after another to the end of the file.
    for (const [k, x] of p.fragments.entries()) {
      expect([...f.subarray(x.start, x.start + 4)]).toEqual([0x1f, 0x43, 0xb6, 0x75]);
      expect(x.end).toBe(p.fragments[k + 1]?.start ?? f.length);
    }
  });

  it('reads sizes written in any length', () => {
    long = true;
    try {
      const p = webmPieces(file(1_000_000))!;
      expect(p.fragments.map((x) => x.time)).toEqual([0, 2, 4.5]);
      expect(p.fragments[0]!.end - p.fragments[0]!.start).toBe(4 + 8 + (1 + 8 + 5) + (1 + 8 + 100));
    } finally {
      long = false;
    }
    const p = webmPieces(file(1_000_000))!;
    expect(p.fragments[0]!.end - p.fragments[0]!.start).toBe(4 + 1 + (1 + 1 + 5) + (1 + 1 + 100));
  });

  it('marks the clusters whose first picture is a key frame', () => {
    // Video is track 2 (sound, track 1, comes first in each cluster and does not count).
    const entry = (n: number, kind: number) => el(0xae, el(0xd7, uint(n)), el(0x83, uint(kind)));
    const simple = (track: number, key: boolean) =>
      el(0xa3, new Uint8Array([0x80 | track, 0, 0, key ? 0x80 : 0, 1, 2, 3]));
    const group = (track: number, refers: boolean) =>
      el(0xa0, el(0xa1, new Uint8Array([0x80 | track, 0, 0, 0, 1])), ...(refers ? [el(0xfb, uint(40))] : []));
    const cluster = (ms: number, ...blocks: Uint8Array[]) => el(0x1f43b675, el(0xe7, uint(ms)), ...blocks);
    const f = concat(
      el(0x1a45dfa3, el(0x4282, new TextEncoder().encode('webm'))),
      el(0x18538067,
        el(0x1654ae6b, entry(1, 2), entry(2, 1)),
        cluster(0, simple(1, true), simple(2, true)),
        cluster(1000, simple(1, true), simple(2, false)),
        cluster(2000, group(2, true)),
        cluster(3000, simple(1, true), group(2, false)),
        cluster(4000, simple(1, true))),
    );
    expect(webmPieces(f)!.fragments.map((x) => x.key)).toEqual([true, false, false, true, true]);
  });

  it('reads times in the file own unit', () => {
    expect(webmPieces(file(10_000))!.fragments.map((x) => x.time)).toEqual([0, 2, 4.5]);
  });

  it('is null for what is not such a file, or is cut short', () => {
    expect(webmPieces(new Uint8Array([0, 0, 0, 8, 0x66, 0x74, 0x79, 0x70]))).toBeNull();
    const f = file(1_000_000);
    // Cut inside the segment: its size says more than there is.
    expect(webmPieces(f.subarray(0, f.length - 3))).toBeNull();
    expect(webmPieces(new Uint8Array())).toBeNull();
  });
});
