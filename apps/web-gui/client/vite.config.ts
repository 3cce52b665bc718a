import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The browser bundle: built into `dist/apps/web-gui/public` beside the server bundle, which serves
 * it with @fastify/static. Asset names carry a content hash, so the server can let browsers cache
 * `/assets/*` for a year and only `index.html` is revalidated.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // Preact's automatic JSX runtime (no React, no compat layer).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../../dist/apps/web-gui/public', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    sourcemap: true,
    reportCompressedSize: true,
  },
  server: {
    // `npx vite client` during development: API calls go to a GUI server on its default port.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
