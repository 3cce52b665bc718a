import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The spool writer thread's script: `spool-writer.worker.js` beside the bundle's main.js (built
 * from src/spool-writer.worker.ts by scripts/build-app.mjs). Null when running from the TypeScript
 * sources (unit tests), where no such file exists: the spool then writes on the caller's thread.
 */
export function spoolWorkerScript(): URL | null {
  const url = new URL('./spool-writer.worker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}
