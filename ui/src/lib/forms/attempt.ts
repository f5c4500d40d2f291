// A renunciation attempt: what the person's page prefills for the next one.
import type { Json } from './common';

/** "Add follow-up": a new attempt prefilled from the last one (same channel, request, papers). */
export function followUp(last: Json, lastId: string, today: Date): Json {
  const out: Json = { person: last.person, follows_up: lastId, submitted_on: today.toISOString().slice(0, 10) };
  for (const k of ['channel', 'request', 'documents_submitted', 'language_used']) {
    if (last[k] !== undefined) out[k] = last[k];
  }
  out.outcome = 'pending';
  return out;
}
