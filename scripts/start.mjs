#!/usr/bin/env node
// `npm start`: installs what is missing, makes sure MariaDB answers, builds the sniffer and runs
// it on the bundled demo capture, printing the calls it found (and writing their CDRs).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureCap, ensureDb, ensureNpm, ensureSystem, ROOT, DEFAULT_DB_URL } from './ensure.mjs';

const say = (msg) => process.stderr.write(`[callscope] ${msg}\n`);
ensureSystem();
ensureNpm();
// The demo reads a capture file; live capture needs the libpcap addon, so its state is said here, not fatal.
ensureCap();
const dbUrl = process.env.CALLSCOPE_DB_URL || DEFAULT_DB_URL;
let dbArgs = [];
try {
  await ensureDb(dbUrl);
  dbArgs = ['--db', dbUrl];
} catch (err) {
  say(`database unavailable, CDRs are not stored: ${err instanceof Error ? err.message : String(err)}`);
}
const demo = process.env.CALLSCOPE_DEMO_PCAP || join(ROOT, 'fixtures/demo/demo-calls.pcap');
say(`analysing the demo capture ${demo}`);
const r = spawnSync(process.execPath, [join(ROOT, 'scripts/run-app.mjs'), 'sniffer', 'analyze', demo, '--format', 'table', ...dbArgs], {
  cwd: ROOT,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
