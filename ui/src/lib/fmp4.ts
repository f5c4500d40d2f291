// The pieces of a fragmented MP4 (what the media scheme answers `?as=mse` with for an MP4: see
// src-tauri/media/src/fmp4/mod.rs), for feeding a SourceBuffer a little at a time: the init
// segment, then each fragment (`moof` + `mdat`) with the time it starts at. Only what is needed
// to find those is read; anything else is the window's media stack's to parse.

/** A piece of a file: where it is, when it starts, and whether a decoder can begin there (it
 *  starts with a key frame). */
export type Piece = { start: number; end: number; time: number; key: boolean };
export type Pieces = { init: Piece; fragments: Piece[] };

type Box = { kind: string; start: number; body: number; end: number };

function* boxes(b: Uint8Array, from: number, to: number): Generator<Box> {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = from;
  while (at + 8 <= to) {
    let size = v.getUint32(at);
    let body = at + 8;
    if (size === 1) {
      if (at + 16 > to) return;
      size = Number(v.getBigUint64(at + 8));
      body = at + 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < body - at || at + size > to) return;
    const kind = String.fromCharCode(...b.subarray(at + 4, at + 8));
    yield { kind, start: at, body, end: at + size };
    at += size;
  }
}

const child = (b: Uint8Array, parent: Box, kind: string) =>
  [...boxes(b, parent.body, parent.end)].find((x) => x.kind === kind);

/** The init segment and the fragments of `b`, each fragment with its start in seconds (from the
 *  first track's decode time and timescale). Null when `b` is not a fragmented MP4. */
export function pieces(b: Uint8Array): Pieces | null {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const top = [...boxes(b, 0, b.length)];
  const moov = top.find((x) => x.kind === 'moov');
  if (!moov) return null;
  // Each track's timescale, by its id (tkhd and mdhd, version 0 or 1).
  const scales = new Map<number, number>();
  for (const trak of boxes(b, moov.body, moov.end)) {
    if (trak.kind !== 'trak') continue;
    const tkhd = child(b, trak, 'tkhd');
    const mdia = child(b, trak, 'mdia');
    const mdhd = mdia && child(b, mdia, 'mdhd');
    if (!tkhd || !mdhd) continue;
    const id = v.getUint32(tkhd.body + (b[tkhd.body] === 1 ? 20 : 12));
    scales.set(id, v.getUint32(mdhd.body + (b[mdhd.body] === 1 ? 20 : 12)));
  }
  const fragments: Piece[] = [];
  for (let k = 0; k < top.length; k++) {
    const moof = top[k];
    if (moof?.kind !== 'moof') continue;
    const traf = child(b, moof, 'traf');
    const tfhd = traf && child(b, traf, 'tfhd');
    const tfdt = traf && child(b, traf, 'tfdt');
    if (!tfhd || !tfdt) return null;
    const scale = scales.get(v.getUint32(tfhd.body + 4)) ?? 0;
    const base = b[tfdt.body] === 1 ? Number(v.getBigUint64(tfdt.body + 4)) : v.getUint32(tfdt.body + 4);
    // A fragment is its moof and what follows up to the next moof (its mdat).
    let end = moof.end;
    for (let after = top[k + 1]; after && after.kind !== 'moof'; after = top[k + 1]) {
      end = after.end;
      k += 1;
    }
    // The media scheme starts every fragment at a key frame.
    fragments.push({ start: moof.start, end, time: scale > 0 ? base / scale : 0, key: true });
  }
  const first = fragments[0];
  if (!first) return null;
  return { init: { start: 0, end: first.start, time: 0, key: true }, fragments };
}
