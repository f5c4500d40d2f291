// The pieces of a WebM file as the media scheme rewrites it (`?as=mse` for a WebM or Matroska
// attachment: see src-tauri/media/src/webm/mod.rs — every element of known size, one segment,
// its information and track list, then clusters), for feeding a SourceBuffer a little at a time:
// the init segment (everything before the first cluster), then each cluster with the time it
// starts at and whether its first picture is a key frame (a decoder can begin there: Matroska
// does not require a cluster to start with one). Only what is needed to find those is read.

import type { Piece, Pieces } from './fmp4';

const SEGMENT = 0x18538067;
const INFO = 0x1549a966;
const TIMESTAMP_SCALE = 0x2ad7b1;
const CLUSTER = 0x1f43b675;
const TIMESTAMP = 0xe7;
const TRACKS = 0x1654ae6b;
const TRACK_ENTRY = 0xae;
const TRACK_NUMBER = 0xd7;
const TRACK_TYPE = 0x83;
const SIMPLE_BLOCK = 0xa3;
const BLOCK_GROUP = 0xa0;
const BLOCK = 0xa1;
const REFERENCE_BLOCK = 0xfb;

type Element = { id: number; start: number; body: number; end: number };

/** A variable-length number at `at`: its value (marker kept for IDs) and length; null if cut. */
function vint(b: Uint8Array, at: number, keepMarker: boolean): { value: number; len: number } | null {
  const first = b[at];
  if (first === undefined || first === 0) return null;
  const len = Math.clz32(first) - 23;
  if (at + len > b.length) return null;
  let value = keepMarker ? first : first & (0xff >> len);
  for (let k = 1; k < len; k++) value = value * 256 + (b[at + k] ?? 0);
  return { value, len };
}

function* elements(b: Uint8Array, from: number, to: number): Generator<Element> {
  let at = from;
  while (at < to) {
    const id = vint(b, at, true);
    if (!id || id.len > 4) return;
    const size = vint(b, at + id.len, false);
    if (!size) return;
    const body = at + id.len + size.len;
    const end = body + size.value;
    if (end > to) return;
    yield { id: id.value, start: at, body, end };
    at = end;
  }
}

/** An unsigned number's body (the scheme lets none longer than 8 bytes through; past 2^53 it
 *  is approximate, which a time in a file never is). */
function uint(b: Uint8Array, e: Element): number {
  let v = 0;
  for (let k = e.body; k < Math.min(e.end, e.body + 8); k++) v = v * 256 + (b[k] ?? 0);
  return v;
}

/** The number of the video track among the tracks in `tracks`; null when there is none. */
function videoTrack(b: Uint8Array, tracks: Element): number | null {
  for (const t of elements(b, tracks.body, tracks.end)) {
    if (t.id !== TRACK_ENTRY) continue;
    const parts = [...elements(b, t.body, t.end)];
    const kind = parts.find((x) => x.id === TRACK_TYPE);
    const number = parts.find((x) => x.id === TRACK_NUMBER);
    if (kind && number && uint(b, kind) === 1) return uint(b, number);
  }
  return null;
}

/** Whether the first block of track `video` in `cluster` is a key frame (a SimpleBlock with its
 *  key flag, or a block group that refers to no other frame); true when it has none. */
function startsWithKey(b: Uint8Array, cluster: Element, video: number): boolean {
  for (const e of elements(b, cluster.body, cluster.end)) {
    const block = e.id === BLOCK_GROUP
      ? [...elements(b, e.body, e.end)].find((x) => x.id === BLOCK)
      : e.id === SIMPLE_BLOCK ? e : undefined;
    if (!block) continue;
    const track = vint(b, block.body, false);
    if (!track || track.value !== video) continue;
    if (e.id === BLOCK_GROUP) return ![...elements(b, e.body, e.end)].some((x) => x.id === REFERENCE_BLOCK);
    return ((b[block.body + track.len + 2] ?? 0) & 0x80) !== 0;
  }
  return true;
}

/** The init segment and the clusters of `b`, each cluster with its start in seconds (its
 *  Timestamp in the file's unit). Null when `b` is not a WebM file of that shape. */
export function webmPieces(b: Uint8Array): Pieces | null {
  const segment = [...elements(b, 0, b.length)].find((e) => e.id === SEGMENT);
  if (!segment) return null;
  let scale = 1_000_000;
  let video: number | null = null;
  const fragments: Piece[] = [];
  for (const e of elements(b, segment.body, segment.end)) {
    if (e.id === INFO) {
      const s = [...elements(b, e.body, e.end)].find((x) => x.id === TIMESTAMP_SCALE);
      if (s) scale = uint(b, s);
    } else if (e.id === TRACKS) {
      video = videoTrack(b, e);
    } else if (e.id === CLUSTER) {
      const t = [...elements(b, e.body, e.end)].find((x) => x.id === TIMESTAMP);
      if (!t) return null;
      const key = video === null || startsWithKey(b, e, video);
      fragments.push({ start: e.start, end: e.end, time: (uint(b, t) * scale) / 1e9, key });
    }
  }
  const first = fragments[0];
  if (!first) return null;
  return { init: { start: 0, end: first.start, time: 0, key: true }, fragments };
}
