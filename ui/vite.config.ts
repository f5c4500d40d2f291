import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Everything is bundled into ui/dist and embedded in the app: no dev server, no CDN, no fonts
// from the network (docs/threat-model.md R10: the app makes no connection, ever).
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: {
    target: 'safari15',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // No inline assets: the CSP allows only 'self' for images and fonts.
    assetsInlineLimit: 0,
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
});
