#!/usr/bin/env node
// `npm start`: the all-in-one system on one host. Installs what is missing, makes sure MariaDB
// answers, builds the three services, then runs
//   - the sensor daemon (`sniffer run`) replaying the bundled demo capture in a loop with its
//     times moved to the present (or the captures given with `--replay FILE...`, once, flat out;
//     or live on the interfaces given with `-i IFACE`), writing CDRs and the spool;
//   - manager-api on 127.0.0.1:5029 over that spool and the daemon's control socket, with a token
//     made for this run;
//   - the web GUI on 127.0.0.1:8080 (CALLSCOPE_WEB_GUI_LISTEN_PORT to change), which knows the
//     sensor through that token;
// prints the GUI's URL and the login, and on Ctrl-C stops the sensor first (it closes its calls
// and flushes their CDRs), then the two servers. Each service logs to var/all-in-one/logs/.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCap, ensureDb, ensureNpm, ensureSystem, ROOT, DEFAULT_DB_URL } from './ensure.mjs';

const say = (msg) => process.stderr.write(`[callscope] ${msg}\n`);
const USAGE = `usage: npm start [-- --replay FILE... | -i IFACE...]
  (no option)      replay the bundled demo capture in a loop, its times moved to the present
  --replay FILE    replay these captures once, as fast as possible, times moved to the present
  -i IFACE         capture live on this interface (repeatable; needs root or CAP_NET_RAW)
environment: CALLSCOPE_DB_URL (default ${DEFAULT_DB_URL}), CALLSCOPE_WEB_GUI_LISTEN_PORT (8080),
             CALLSCOPE_MANAGER_API_LISTEN_PORT (5029), CALLSCOPE_ALL_IN_ONE_DIR (var/all-in-one: spool,
             logs, login)`;

let args;
try {
  args = parseArgs({
    options: { replay: { type: 'string', multiple: true }, interface: { type: 'string', short: 'i', multiple: true }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
} catch (err) {
  say(err instanceof Error ? err.message : String(err));
  say(USAGE);
  process.exit(2);
}
if (args.values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
// `npm start -- --replay a.pcap b.pcap`: the files after the first come as positionals.
const replayFiles = [...(args.values.replay ?? []), ...(args.values.replay ? args.positionals : [])].map((f) => resolve(f));
if (!args.values.replay && args.positionals.length > 0) {
  say(`unexpected argument ${args.positionals[0]}`);
  say(USAGE);
  process.exit(2);
}
for (const f of replayFiles) {
  if (!existsSync(f)) {
    say(`no such capture file: ${f}`);
    process.exit(2);
  }
}
const interfaces = args.values.interface ?? [];

ensureSystem();
ensureNpm();
// Live capture needs the libpcap addon; the replay does not, so its state is said, not fatal.
const capOk = ensureCap();
if (interfaces.length > 0 && !capOk) {
  say('live capture was asked for (-i) but the libpcap addon is not available (see above)');
  process.exit(5);
}
const dbUrl = process.env.CALLSCOPE_DB_URL || DEFAULT_DB_URL;
try {
  await ensureDb(dbUrl);
} catch (err) {
  say(`the all-in-one system needs its database: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(4);
}

say('building sniffer, manager-api and web-gui');
const nx = join(ROOT, 'node_modules/.bin/nx');
const built = spawnSync(nx, ['run-many', '-t', 'build', '-p', 'sniffer', 'manager-api', 'web-gui', '--outputStyle=static', '--verbose=false'], {
  cwd: ROOT,
  stdio: ['ignore', 2, 2],
  env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
});
if (built.status !== 0) {
  say('the build failed (see above)');
  process.exit(1);
}

// State of the all-in-one system: spool, control socket, logs, and the login made at first start.
const home = resolve(process.env.CALLSCOPE_ALL_IN_ONE_DIR || join(ROOT, 'var/all-in-one'));
const logs = join(home, 'logs');
mkdirSync(logs, { recursive: true });
const spoolDir = join(home, 'spool');
const control = join(home, 'sniffer.sock');
const guiPort = Number(process.env.CALLSCOPE_WEB_GUI_LISTEN_PORT || 8080);
const managerPort = Number(process.env.CALLSCOPE_MANAGER_API_LISTEN_PORT || 5029);
const sensorName = 'all-in-one';
const loginFile = join(home, 'login.json');
if (!existsSync(loginFile)) {
  // Used by the GUI only when its database has no user yet (first start); kept so it can be shown again.
  writeFileSync(loginFile, JSON.stringify({ user: 'admin', password: randomBytes(12).toString('base64url') }) + '\n', { mode: 0o600 });
}
chmodSync(loginFile, 0o600);
const login = JSON.parse(readFileSync(loginFile, 'utf8'));

const app = (name) => join(ROOT, 'dist/apps', name, 'main.js');
// A token for this run: manager-api stores only its hash; the GUI holds the token itself.
const token = randomBytes(24).toString('base64url');
const hashed = spawnSync(process.execPath, [app('manager-api'), 'hash-token'], { input: `${token}\n`, encoding: 'utf8' });
if (hashed.status !== 0) {
  say(`manager-api hash-token failed: ${hashed.stderr}`);
  process.exit(1);
}
const tokenHash = hashed.stdout.trim();
const managerConfig = join(home, 'manager-api.json');
writeFileSync(
  managerConfig,
  JSON.stringify({ listen: { host: '127.0.0.1', port: managerPort }, tokens: [{ name: 'web-gui', hash: tokenHash }], spool: { dir: spoolDir }, control }, null, 2) + '\n',
  { mode: 0o600 },
);

const sources =
  interfaces.length > 0
    ? interfaces.flatMap((i) => ['-i', i])
    : replayFiles.length > 0
      ? [...replayFiles.flatMap((f) => ['--replay', f]), '--replay-now', '--speed', '0']
      : ['--replay', process.env.CALLSCOPE_DEMO_PCAP || join(ROOT, 'fixtures/demo/demo-calls.pcap'), '--replay-now', '--loop', '--speed', '1'];

/** Running children by name, with what their end means. */
const children = new Map();
let stopping = false;

function startChild(name, argv, env = {}) {
  const logFile = join(logs, `${name}.log`);
  const out = createWriteStream(logFile, { flags: 'a' });
  // Own process group: Ctrl-C reaches only this script, which stops the children in order.
  const child = spawn(process.execPath, ['--enable-source-maps', ...argv], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
  children.set(name, { child, exited, logFile });
  void exited.then(({ code, signal }) => {
    out.end();
    children.delete(name);
    if (stopping) return;
    if (name === 'sniffer' && code === 0 && replayFiles.length > 0) {
      say(`the replay of ${replayFiles.length} file(s) is done; its calls stay searchable (Ctrl-C stops the GUI)`);
      return;
    }
    say(`${name} stopped unexpectedly (${signal ?? `exit ${code}`}); its log ends with:`);
    process.stderr.write(tail(logFile));
    void stopAll(1);
  });
  return child;
}

function tail(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n') + '\n';
  } catch {
    return '';
  }
}

async function waitHealthy(name, url, ms = 30_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!children.has(name)) return false;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  say('stopping: sensor first (it closes open calls and flushes their CDRs), then manager-api and the web GUI');
  const stop = async (name, graceMs) => {
    const c = children.get(name);
    if (!c) return;
    c.child.kill('SIGTERM');
    const timer = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
    const { code: exit, signal } = await c.exited;
    clearTimeout(timer);
    if (exit !== 0) say(`${name} ended with ${signal ?? `exit ${exit}`} (log: ${c.logFile})`);
  };
  await stop('sniffer', 15_000);
  await Promise.all([stop('manager-api', 5000), stop('web-gui', 5000)]);
  say('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

const common = { CALLSCOPE_DB_URL: dbUrl };
startChild(
  'sniffer',
  [app('sniffer'), 'run', ...sources, '--db', dbUrl, '--queue-dir', join(home, 'cdr-queue'), '--spool', spoolDir, '--control', control, '--sensor', sensorName],
  common,
);
startChild('manager-api', [app('manager-api'), '--config', managerConfig], common);
startChild('web-gui', [app('web-gui')], {
  ...common,
  CALLSCOPE_WEB_GUI_LISTEN_PORT: String(guiPort),
  CALLSCOPE_WEB_GUI_ADMIN_PASSWORD: login.password,
  CALLSCOPE_WEB_GUI_SENSORS: JSON.stringify([{ id: 1, name: sensorName, managerUrl: `http://127.0.0.1:${managerPort}`, token }]),
});

const guiUp = await waitHealthy('web-gui', `http://127.0.0.1:${guiPort}/api/v1/health`);
const managerUp = await waitHealthy('manager-api', `http://127.0.0.1:${managerPort}/api/v1/health`);
if (!guiUp || !managerUp) {
  if (!stopping) {
    const which = !guiUp ? 'web-gui' : 'manager-api';
    say(`${which} did not come up; its log ends with:`);
    process.stderr.write(tail(join(logs, `${which}.log`)));
    await stopAll(1);
  }
} else {
  const what =
    interfaces.length > 0 ? `capturing on ${interfaces.join(', ')}` : replayFiles.length > 0 ? `replaying ${replayFiles.length} capture(s)` : 'replaying the demo capture in a loop';
  process.stdout.write(
    `\nweb GUI: http://127.0.0.1:${guiPort}\nlogin: ${login.user} / ${login.password}   (kept in ${loginFile}; used when the GUI's database has no user yet)\n` +
      `sensor "${sensorName}" ${what}; manager-api on 127.0.0.1:${managerPort}; logs in ${logs}\nCtrl-C stops everything.\n\n`,
  );
}
