import { basename } from 'node:path';
import { defineConfig } from 'vitest/config';

const workspaceRoot = new URL('.', import.meta.url).pathname;

/**
 * The one vitest configuration every project uses: tests beside the code (`src/**\/*.test.ts`)
 * and under `test/`, benchmarks under `bench/` (run by `npm run bench`, never by `npm test`).
 * Each run also writes a JSON report to dist/test-results/<project>.json, from which `npm test`
 * prints its closing "N passed, N failed" line (Nx restores it on a cache hit).
 */
export function defineProjectConfig(options: { testTimeout?: number } = {}) {
  const project = basename(process.cwd());
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      benchmark: { include: ['bench/**/*.bench.ts'] },
      testTimeout: options.testTimeout ?? 20_000,
      hookTimeout: 60_000,
      pool: 'forks',
      reporters: ['default', 'json'],
      outputFile: { json: `${workspaceRoot}dist/test-results/${project}.json` },
    },
  });
}
