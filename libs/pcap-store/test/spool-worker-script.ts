/**
 * Builds the spool writer thread's script for tests: ThreadedSpoolWriter needs a JavaScript file to
 * start its worker from, and a worker thread does not get the test runner's TypeScript transform.
 * esbuild bundles test/spool-worker-entry.ts (which calls runSpoolWorker, as the sniffer's
 * src/spool-writer.worker.ts does) into a temporary .mjs under the repository's dist/, once per test
 * file. npm packages stay external, resolved from the repository's node_modules as the built
 * sniffer resolves them (bundled, @cloudpss/zstd cannot find its native binary and falls back to
 * wasm with a warning).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

let built: Promise<URL> | null = null;
let dir = '';

export function spoolWorkerScript(): Promise<URL> {
  built ??= (async () => {
    const root = fileURLToPath(new URL('../../../dist/test-workers/', import.meta.url));
    mkdirSync(root, { recursive: true });
    dir = mkdtempSync(join(root, 'spool-worker-'));
    const outfile = join(dir, 'spool-writer.worker.mjs');
    await build({
      entryPoints: [fileURLToPath(new URL('./spool-worker-entry.ts', import.meta.url))],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
      plugins: [
        {
          name: 'externalize-npm',
          setup(b) {
            b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@callscope/') || a.path.startsWith('node:') ? undefined : { path: a.path, external: true }));
          },
        },
      ],
    });
    return pathToFileURL(outfile);
  })();
  return built;
}

/** Removes the built script (call after the last writer of the test file closed). */
export function removeSpoolWorkerScript(): void {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  built = null;
  dir = '';
}

/** A worker script that fails the way a broken thread would: it throws before serving. */
export function failingWorkerScript(): URL {
  const d = mkdtempSync(join(tmpdir(), 'callscope-spool-worker-bad-'));
  const file = join(d, 'bad.worker.mjs');
  writeFileSync(file, "throw new Error('planted worker failure');\n");
  return pathToFileURL(file);
}
