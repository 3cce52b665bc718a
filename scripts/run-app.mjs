#!/usr/bin/env node
// `npm run sniffer -- <args>`: builds the app through Nx (cached, output on stderr) and runs the
// bundle, so stdout carries only the program's own output (`npm run --silent sniffer -- ...`).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureNpm, ROOT } from './ensure.mjs';

const [app, ...args] = process.argv.slice(2);
ensureNpm();
const nx = join(ROOT, 'node_modules/.bin/nx');
const b = spawnSync(nx, ['run', `${app}:build`, '--outputStyle=static', '--verbose=false'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
if (b.status !== 0) {
  process.stderr.write(`[callscope] building ${app} failed\n`);
  process.exit(b.status ?? 1);
}
const r = spawnSync(process.execPath, ['--enable-source-maps', join(ROOT, 'dist/apps', app, 'main.js'), ...args], { stdio: 'inherit' });
process.exit(r.status ?? (r.signal ? 128 : 1));
