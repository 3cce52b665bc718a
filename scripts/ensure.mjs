#!/usr/bin/env node
// Makes a fresh Debian machine (only Node 20 + npm) ready for `npm start` and `npm test`:
//   --system  the build tools native addons need (make, g++, python3 for node-gyp), libpcap-dev
//             (live capture through libs/live-capture) and mariadb-server, via apt-get as root
//   --npm     npm dependencies, installed with `npm ci` when missing or older than package-lock.json
//   --cap     callscope's libpcap addon (libs/live-capture) built and loading; (re)built when it is
//             missing, older than its source or built by another Node.js
//   --db      a MariaDB answering at CALLSCOPE_DB_URL; when nothing answers on a local URL and
//             mariadbd is installed, a private instance with its data under var/mariadb
// Everything it does is said on stderr; stdout stays free for the programs run after it.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as addon from '../libs/live-capture/native/build.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_DB_URL = 'mysql://root@127.0.0.1:3306/callscope';
const say = (msg) => process.stderr.write(`[callscope] ${msg}\n`);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 2, 2], cwd: ROOT, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function findMariadbd() {
  for (const p of ['/usr/sbin/mariadbd', '/usr/sbin/mysqld', '/usr/bin/mariadbd']) if (existsSync(p)) return p;
  return null;
}

const hasLibpcap = () =>
  existsSync('/usr/include/pcap/pcap.h') || existsSync('/usr/include/pcap.h');

/**
 * What node-gyp needs to compile the libpcap addon (command -> Debian package). npm ships
 * node-gyp itself; without these live capture is off (the addon's install step says so).
 */
const BUILD_TOOLS = [
  { cmd: 'make', pkg: 'make' },
  { cmd: 'g++', pkg: 'g++' },
  { cmd: 'python3', pkg: 'python3' },
];

/** Debian packages missing for building the libpcap addon: the build tools and the libpcap headers. */
function missingForCapBuild() {
  const missing = BUILD_TOOLS.filter((t) => !have(t.cmd)).map((t) => t.pkg);
  if (!hasLibpcap()) missing.push('libpcap-dev');
  return missing;
}

/**
 * System packages: the native build tools and libpcap-dev (live capture) and mariadb-server (CDR
 * database); with `forTests`, also the tools the test suite uses as independent oracles and test
 * hosts: tshark (reads the spool's pcaps), iproute2 (network namespaces for the live-capture
 * tests), tcpreplay and tcpdump (the sensor daemon's live tests), sox and opus-tools (the call-audio oracles), chromium (the web GUI's browser tests). As root with apt-get they are installed; otherwise the exact command is printed.
 */
export function ensureSystem({ forTests = false } = {}) {
  const missing = missingForCapBuild();
  if (!findMariadbd() && !have('mariadb')) missing.push('mariadb-server');
  if (forTests && !have('tshark')) missing.push('tshark');
  if (forTests && !have('ip')) missing.push('iproute2');
  // The sensor daemon's live tests: tcpreplay sends real captures into a veth, and its count of
  // packets sent and a tcpdump of the same link are the oracles.
  if (forTests && !have('tcpreplay')) missing.push('tcpreplay');
  if (forTests && !have('tcpdump')) missing.push('tcpdump');
  // libs/rtp's call-audio oracle: tshark's RTP payload export decoded by sox.
  if (forTests && !have('sox')) missing.push('sox');
  // The Opus call-audio tests: opusenc makes the packets, opusdec is the reference decode.
  if (forTests && !(have('opusenc') && have('opusdec'))) missing.push('opus-tools');
  // The web GUI's browser tests drive Debian's Chromium through playwright-core.
  if (forTests && !have('chromium')) missing.push('chromium');
  if (missing.length === 0) return;
  if (!isRoot || !have('apt-get')) {
    say(`missing system packages: ${missing.join(', ')}. Install them (Debian/Ubuntu: sudo apt-get install -y ${missing.join(' ')}).`);
    say('make, g++, python3 and libpcap-dev build the live-capture addon (libs/live-capture); without them everything but live capture works. Without MariaDB, set CALLSCOPE_DB_URL to a reachable server.');
    return;
  }
  say(`installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  if (run('apt-get', ['install', '-y', '-qq', ...missing], { env }) !== 0) {
    say(`apt-get install ${missing.join(' ')} failed; continuing without them`);
  }
}

/**
 * npm dependencies: `npm ci` (exactly the locked tree, never a rewrite of package-lock.json) when
 * node_modules is missing or older than the lockfile.
 */
export function ensureNpm() {
  const marker = join(ROOT, 'node_modules/.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  const fresh = existsSync(marker) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs);
  if (fresh) return;
  say('installing npm dependencies (npm ci)');
  if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) {
    say('npm ci failed (see above). If it says package.json and package-lock.json are out of sync, run "npm install" and commit package-lock.json.');
    process.exit(1);
  }
}

function versionOf(cmd, args, pattern) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const m = pattern.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  return m ? m[1] : null;
}

/** One line naming the native build pieces present here, with versions; absent ones are not named. */
function buildLine() {
  const found = [];
  if (have('make')) found.push(`make ${versionOf('make', ['--version'], /GNU Make (\S+)/) ?? ''}`.trim());
  if (have('g++')) found.push(`g++ ${versionOf('g++', ['-dumpfullversion'], /^(\S+)/) ?? ''}`.trim());
  if (have('python3')) found.push(`python3 ${versionOf('python3', ['--version'], /Python (\S+)/) ?? ''}`.trim());
  if (hasLibpcap()) {
    const v = have('dpkg-query') ? versionOf('dpkg-query', ['-W', '-f=${Version}', 'libpcap-dev'], /^(\S+)/) : null;
    found.push(v ? `libpcap-dev ${v}` : 'libpcap headers');
  }
  return found.length > 0 ? found.join(', ') : 'none of make, g++, python3, libpcap-dev';
}

/**
 * callscope's libpcap addon (libs/live-capture, live capture) built and loading: (re)built with
 * node-gyp when build/Release/live_capture.node is missing, older than its C source or
 * binding.gyp, or built by another Node.js; when that cannot work or fails, what is missing is
 * said exactly. Returns whether the addon loads. Offline analysis never needs it.
 */
export function ensureCap() {
  const stale = addon.staleReason();
  if (stale === null) {
    const p = addon.probe();
    if (p.ok) {
      say(`live capture: the libpcap addon loads (${p.libpcap}; native build tools here: ${buildLine()})`);
      return true;
    }
    say(`the libpcap addon is built but does not load: ${p.detail}; rebuilding it`);
  } else {
    say(`the libpcap addon (libs/live-capture) needs building: ${stale}`);
  }
  const missing = addon.missingForBuild();
  if (missing.length > 0) {
    say(`cannot build the libpcap addon: missing ${missing.join(', ')} (present: ${buildLine()}). Install them (Debian/Ubuntu: sudo apt-get install -y ${missing.join(' ')}), then run npm start or npm test again. Live capture is off until then; everything else works.`);
    return false;
  }
  say(`building the libpcap addon with ${buildLine()}`);
  const failed = addon.build();
  const p = failed === null ? addon.probe() : { ok: false, detail: failed };
  if (p.ok) {
    say(`live capture: the libpcap addon is built and loads (${p.libpcap})`);
    return true;
  }
  say(`the libpcap addon does not work: ${p.detail}${/libpcap\.so/.test(p.detail ?? '') ? ' (the libpcap shared library is missing or broken: apt-get install --reinstall -y libpcap0.8)' : ''}. Build tools and headers present: ${buildLine()}.`);
  return false;
}

function parseDbUrl(url) {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || 3306), database: u.pathname.replace(/^\//, '') || 'callscope' };
}

function portAnswers(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function sqlWorks(url) {
  const { createConnection } = await import('mysql2/promise');
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '');
  u.pathname = '/';
  try {
    const conn = await createConnection({ uri: u.toString(), connectTimeout: 3000 });
    if (db) await conn.query(`CREATE DATABASE IF NOT EXISTS \`${db.replace(/`/g, '')}\` CHARACTER SET utf8mb4`);
    await conn.end();
    return null;
  } catch (err) {
    return err;
  }
}

/** A private MariaDB instance under var/mariadb, for machines where none runs. */
async function startPrivateMariadb(mariadbd, port) {
  const base = join(ROOT, 'var/mariadb');
  const data = join(base, 'data');
  mkdirSync(base, { recursive: true });
  const user = isRoot ? ['--user=root'] : [];
  if (!existsSync(join(data, 'mysql'))) {
    say(`initialising a private MariaDB data directory in ${data}`);
    const installDb = have('mariadb-install-db') ? 'mariadb-install-db' : 'mysql_install_db';
    const code = run(installDb, ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...user]);
    if (code !== 0) throw new Error(`${installDb} failed (exit ${code}); see the output above`);
  }
  say(`starting a private MariaDB on 127.0.0.1:${port} (data in ${data}, log in ${base}/error.log)`);
  const log = openSync(join(base, 'error.log'), 'a');
  const child = spawn(mariadbd, [
    '--no-defaults', `--datadir=${data}`, `--port=${port}`, '--bind-address=127.0.0.1',
    `--socket=${join(base, 'mariadb.sock')}`, `--pid-file=${join(base, 'mariadb.pid')}`, '--skip-name-resolve',
    // Sized as libs/cdr-schema/src/server-check.ts advises, so the CDR writer runs at its measured
    // rate here too (memory is only taken as pages are used). Log flush once a second: a test and
    // demo database, not one whose last second of commits must survive a power cut.
    '--innodb-buffer-pool-size=1G', '--innodb-log-file-size=512M', '--innodb-flush-log-at-trx-commit=2', ...user,
  ], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  for (let i = 0; i < 120; i++) {
    if (await portAnswers('127.0.0.1', port, 500)) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const tail = existsSync(join(base, 'error.log')) ? readFileSync(join(base, 'error.log'), 'utf8').split('\n').slice(-15).join('\n') : '';
  throw new Error(`the private MariaDB did not come up on port ${port}:\n${tail}`);
}

/** A MariaDB that answers SQL at CALLSCOPE_DB_URL, with the database created. */
export async function ensureDb(url = process.env.CALLSCOPE_DB_URL || DEFAULT_DB_URL) {
  const { host, port } = parseDbUrl(url);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);
  if (!(await portAnswers(host, port))) {
    const mariadbd = findMariadbd();
    if (!local || !mariadbd) {
      throw new Error(`no database answers at ${host}:${port} (CALLSCOPE_DB_URL)` + (local ? ' and mariadbd is not installed (apt-get install mariadb-server)' : ''));
    }
    await startPrivateMariadb(mariadbd, port);
  }
  const err = await sqlWorks(url);
  if (err) throw new Error(`MariaDB at ${host}:${port} answers but refused us: ${err.message}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = new Set(process.argv.slice(2));
  const all = args.size === 0;
  try {
    if (all || args.has('--system')) ensureSystem({ forTests: args.has('--test-tools') });
    if (all || args.has('--npm')) ensureNpm();
    if ((all || args.has('--cap')) && !ensureCap()) process.exitCode = 1;
    if (all || args.has('--db')) await ensureDb();
  } catch (err) {
    say(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
