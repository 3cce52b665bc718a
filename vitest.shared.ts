import { defineConfig } from 'vitest/config';

/**
 * The one vitest configuration every project uses: tests beside the code (`src/**\/*.test.ts`)
 * and under `test/`, benchmarks under `bench/` (run by `npm run bench`, never by `npm test`).
 */
export function defineProjectConfig(options: { testTimeout?: number } = {}) {
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      benchmark: { include: ['bench/**/*.bench.ts'] },
      testTimeout: options.testTimeout ?? 20_000,
      pool: 'forks',
    },
  });
}
