// Which screen is shown. Kept in memory only (no URL history, nothing in storage).
export type Route =
  | { name: 'home' }
  | { name: 'list'; kind: 'person' | 'testimony' | 'attempt' | 'case' }
  | { name: 'case'; id: string | null }
  | { name: 'person'; id: string | null }
  | { name: 'testimony'; id: string | null; witness?: string }
  | { name: 'attempt'; id: string | null; person?: string; prefill?: Record<string, unknown> }
  | { name: 'history'; id: string }
  | { name: 'export' }
  | { name: 'settings' }
  | { name: 'audit' };

let current = $state<Route>({ name: 'home' });

export const route = {
  get now(): Route {
    return current;
  },
  go(r: Route) {
    current = r;
    window.scrollTo(0, 0);
  },
};
