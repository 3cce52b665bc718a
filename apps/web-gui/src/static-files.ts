import { basename } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fastifyStatic } from '@fastify/static';

/** Hashed build output (`/assets/index-CBMVor_H.js`): a name never changes content, so cache it for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** `index.html` and other unhashed files: always revalidate, so a new release is seen at once. */
const REVALIDATE = 'no-cache';

/**
 * Serves the built front end of `root` at `/`: `/assets/*` with a year-long immutable cache,
 * everything else (`index.html`) revalidated on each load. Missing files fall to the server's
 * not-found handler, which answers {@link isSpaNavigation} requests with `index.html`.
 */
export function registerStaticFiles(app: FastifyInstance, root: string): void {
  void app.register(fastifyStatic, {
    root,
    index: ['index.html'],
    dotfiles: 'ignore',
    wildcard: true,
    // One Cache-Control of our own; @fastify/static's max-age default would add a second opinion.
    cacheControl: false,
    setHeaders: (reply, path) => {
      const hashed = path.startsWith(`${root.replace(/\/$/, '')}/assets/`);
      void reply.header('cache-control', hashed ? IMMUTABLE : REVALIDATE);
    },
  });
}

/**
 * Whether a request is a browser navigating to one of the front end's own routes (`/calls`,
 * `/calls/123?start=...`, `/login`), so it gets `index.html` and the client router takes over: a
 * GET or HEAD that accepts HTML, outside `/api/` and `/assets/`, whose last path segment has no
 * file extension (a missing `app.js` stays a 404, not HTML the browser would refuse as script).
 */
export function isSpaNavigation(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = request.url.split('?', 1)[0]!;
  if (path.startsWith('/api/') || path === '/api' || path.startsWith('/assets/')) return false;
  if (basename(path).includes('.')) return false;
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html');
}
