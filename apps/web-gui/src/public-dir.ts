import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Finds the browser files: the configured folder, else `public/` beside the bundled `main.js`
 * (`dist/apps/web-gui/public`), else that same built folder seen from `apps/web-gui/src` (running
 * from source after `nx build web-gui`: the Vite build of client/ writes it).
 * Resolved from `import.meta.url`, never `__dirname`, because the app is bundled as ESM.
 *
 * @throws Error listing the folders tried when none holds an index.html.
 */
export function resolvePublicDir(configured: string | null, moduleUrl: string): string {
  const candidates =
    configured !== null
      ? [configured]
      : [fileURLToPath(new URL('./public/', moduleUrl)), fileURLToPath(new URL('../../../dist/apps/web-gui/public/', moduleUrl))];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (found === undefined) throw new Error(`no index.html in ${candidates.join(' or ')}; set publicDir`);
  return found;
}
