#!/usr/bin/env node
// `npm test`: installs what is missing (system packages, npm dependencies, a MariaDB), then runs
// every project's lint, typecheck, unit tests and build through Nx, then the e2e suite, and
// closes with one "N passed, N failed" line summed from the vitest reports.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCap, ensureDb, ensureNpm, ensureSystem, ROOT } from './ensure.mjs';

const say = (msg) => process.stderr.write(`[callscope] ${msg}\n`);
const step = (name, cmd, args) => {
  say(name);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } });
  return r.status ?? 1;
};

ensureSystem({ forTests: true });
ensureNpm();
// When the libpcap addon cannot load, ensureCap says exactly why and the live-capture e2e tests fail with it.
ensureCap();
try {
  await ensureDb();
} catch (err) {
  say(`database: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

const results = join(ROOT, 'dist/test-results');
rmSync(results, { recursive: true, force: true });
const nx = join(ROOT, 'node_modules/.bin/nx');
let failed = 0;
failed += step('tsconfig references match package.json', process.execPath, ['scripts/sync-tsconfig.mjs', '--check']) ? 1 : 0;
// CI runs everything for real: Nx's cache is per machine, and a CI result replayed from a
// developer's earlier run of the same inputs would prove nothing about this checkout.
const cacheArgs = process.env.CI ? ['--skip-nx-cache'] : [];
failed += step('lint, typecheck, test and build every project', nx, ['run-many', '-t', 'lint', 'typecheck', 'test', 'build', '--outputStyle=static', ...cacheArgs]) ? 1 : 0;

let passed = 0;
let testsFailed = 0;
if (existsSync(results)) {
  for (const f of readdirSync(results)) {
    const r = JSON.parse(readFileSync(join(results, f), 'utf8'));
    passed += r.numPassedTests ?? 0;
    // A file that fails to load has no failed tests but is a failed suite: count it too.
    testsFailed += (r.numFailedTests ?? 0) || (r.numFailedTestSuites ?? 0);
  }
}
console.log(`${passed} passed, ${testsFailed} failed`);
if (failed || testsFailed) {
  say('some checks failed (see above)');
  process.exit(1);
}
