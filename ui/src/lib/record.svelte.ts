// What every record screen (person, testimony, attempt, case) does the same way: read the
// current version, save a new one on top of it, and say how it went.
import { ipc } from './ipc';
import { t } from './i18n/index.svelte';
import { explain } from './errors';
import { route, type Route } from './route.svelte';
import type { Json } from './forms';
import type { RecordKind } from './types';

/** The screen that shows record `id` of `kind`. */
export function screenOf(kind: RecordKind, id: string): Route {
  switch (kind) {
    case 'person': return { name: 'person', id };
    case 'testimony': return { name: 'testimony', id };
    case 'attempt': return { name: 'attempt', id };
    case 'case': return { name: 'case', id };
  }
}

export class RecordScreen {
  readonly kind: RecordKind;
  readonly id: string | null;
  /** The version the form shows: a save builds on it (a stale one makes a second version,
   *  never a silent overwrite). */
  base: string | null = null;
  /** Its fields as stored: what the form does not show is kept from here. */
  previous: Json = {};
  saving = $state(false);
  status = $state('');
  error = $state('');

  constructor(kind: RecordKind, id: string | null) {
    this.kind = kind;
    this.id = id;
  }

  /** The current version's fields (null for a new record). */
  async load(): Promise<Json | null> {
    if (!this.id) return null;
    const r = await ipc.get(this.id);
    const head = r.heads[r.heads.length - 1];
    if (!head?.data) return null;
    this.previous = head.data;
    this.base = head.id;
    return head.data;
  }

  /** Runs `work`; a failure is shown on the screen, not thrown. */
  async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      this.error = explain(e);
    }
  }

  /**
   * Saves `data` as the record's new version and says so. Then: `next` (a screen to go to), or
   * for a new record its own screen, or `reload` for an edited one. `draftKey`: a draft the
   * vault drops once this is saved.
   */
  async save(
    data: Json,
    reload: () => Promise<void>,
    opts: { draftKey?: string; next?: (record: string) => Route } = {},
  ): Promise<boolean> {
    this.saving = true;
    this.error = '';
    try {
      const r = await ipc.save({ kind: this.kind, id: this.id, base: this.base, data, draft_key: opts.draftKey ?? null });
      this.status = r.changed ? t('record.saved') : t('record.unchanged');
      const next = opts.next?.(r.record) ?? (this.id ? null : screenOf(this.kind, r.record));
      if (next) route.go(next);
      else await reload();
      return true;
    } catch (e) {
      this.error = explain(e);
      return false;
    } finally {
      this.saving = false;
    }
  }
}
