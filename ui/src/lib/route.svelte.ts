// Which screen is shown. Kept in memory only (no URL history, nothing in storage).
import type { RecordKind } from './types';

export type Route =
  | { name: 'home' }
  | { name: 'list'; kind: RecordKind }
  | { name: 'case'; id: string | null }
  | { name: 'person'; id: string | null; mergedFrom?: string }
  | { name: 'testimony'; id: string | null; witness?: string }
  | { name: 'attempt'; id: string | null; person?: string; prefill?: Record<string, unknown> }
  | { name: 'history'; id: string }
  | { name: 'export' }
  | { name: 'settings' }
  | { name: 'organisation' }
  | { name: 'receive' }
  | { name: 'devices' }
  | { name: 'conflicts' }
  | { name: 'resolve'; id: string }
  | { name: 'audit' }
  | { name: 'dashboards' }
  | { name: 'help' }
  | { name: 'partners'; records?: string[]; from?: string };

let current = $state<Route>({ name: 'home' });

export const route = {
  get now(): Route {
    return current;
  },
  go(r: Route) {
    current = r;
    // A new screen starts at its top (the content pane scrolls, not the window).
    document.querySelector('.shell > main')?.scrollTo(0, 0);
  },
};
