#!/usr/bin/env node
// Makes a fresh Debian machine (only Node 20 + npm) ready for `npm start` and `npm test`:
//   --system  libpcap-dev (for live capture through `cap`) and mariadb-server, via apt-get as root
//   --npm     npm dependencies, installed when missing or older than package-lock.json
//   --db      a MariaDB answering at CALLSCOPE_DB_URL; when nothing answers on a local URL and
//             mariadbd is installed, a private instance with its data under var/mariadb
// Everything it does is said on stderr; stdout stays free for the programs run after it.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync, openSync, readFileSync, utimesSync } from 'node:fs';
import { connect } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

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
 * System packages: libpcap-dev (live capture) and mariadb-server (CDR database); with
 * `forTests`, also the tools the test suite uses as independent oracles and test hosts: tshark
 * (reads the spool's pcaps) and iproute2 (network namespaces for the live-capture test).
 */
export function ensureSystem({ forTests = false } = {}) {
  const missing = [];
  if (!hasLibpcap()) missing.push('libpcap-dev');
  if (!findMariadbd() && !have('mariadb')) missing.push('mariadb-server');
  if (forTests && !have('tshark')) missing.push('tshark');
  if (forTests && !have('ip')) missing.push('iproute2');
  if (missing.length === 0) return;
  if (!isRoot || !have('apt-get')) {
    say(`missing system packages: ${missing.join(', ')}. Install them (Debian/Ubuntu: sudo apt-get install -y ${missing.join(' ')}).`);
    say('Without libpcap-dev everything but live capture works; without MariaDB, set CALLSCOPE_DB_URL to a reachable server.');
    return;
  }
  say(`installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  if (run('apt-get', ['install', '-y', '-qq', ...missing], { env }) !== 0) {
    say(`apt-get install ${missing.join(' ')} failed; continuing without them`);
  }
  // `cap` compiles against libpcap at install time: rebuild it now that the headers exist.
  if (missing.includes('libpcap-dev') && existsSync(join(ROOT, 'node_modules/cap'))) run('npm', ['rebuild', 'cap']);
}

/** npm dependencies: install when node_modules is missing or older than the lockfile. */
export function ensureNpm() {
  const marker = join(ROOT, 'node_modules/.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  const fresh = existsSync(marker) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs);
  if (fresh) return;
  say('installing npm dependencies');
  // `npm install`, not `npm ci`: ci rejects lockfiles in which npm left out platform-specific
  // optional packages (seen with npm 11), and install still honours the locked versions.
  const args = ['install', '--no-audit', '--no-fund'];
  if (run('npm', args) !== 0) {
    say(`npm ${args[0]} failed`);
    process.exit(1);
  }
  // npm may rewrite package-lock.json after its marker: stamp the marker so the next run is fresh.
  if (existsSync(marker)) utimesSync(marker, new Date(), new Date());
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
    if (all || args.has('--db')) await ensureDb();
  } catch (err) {
    say(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
