import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

// Tauri's isolation frame carries every IPC call; it is invisible and has nothing to say, so
// assistive technology and the Tab key skip it (it would otherwise be an unnamed frame).
function quietIsolationFrame(): boolean {
  const f = document.getElementById('__tauri_isolation__');
  if (!f) return false;
  f.setAttribute('title', 'IPC');
  f.setAttribute('aria-hidden', 'true');
  f.setAttribute('tabindex', '-1');
  return true;
}
if (!quietIsolationFrame()) {
  const watch = new MutationObserver(() => {
    if (quietIsolationFrame()) watch.disconnect();
  });
  watch.observe(document.documentElement, { childList: true, subtree: true });
}

mount(App, { target: document.getElementById('app')! });
