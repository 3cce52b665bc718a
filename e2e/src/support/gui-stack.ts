/**
 * The all-in-one system as tests and benchmarks need it, from the built bundles: captures
 * analysed into a private database and spool by `sniffer analyze`, manager-api over that spool
 * with a named token, and the web GUI over that database knowing the sensor through the token.
 * The same parts and settings `npm start` wires, on free ports, so tests can run beside a
 * developer's own system.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';

const root = new URL('../../../', import.meta.url).pathname;
const bundle = (app: string): string => join(root, 'dist/apps', app, 'main.js');
const SERVER = 'mysql://root@127.0.0.1:3306';

/** A running stack; `stop()` ends both servers and drops the database and spool. */
export interface GuiStack {
  readonly guiUrl: string;
  readonly managerUrl: string;
  readonly dbUrl: string;
  readonly spoolDir: string;
  readonly sensorName: string;
  readonly login: { readonly user: string; readonly password: string };
  /** Everything both servers logged so far (for failure messages). */
  logs(): string;
  stop(options?: { keep?: boolean }): Promise<void>;
}

/** Options of {@link startGuiStack}. */
export interface GuiStackOptions {
  /** Capture files analysed into the database and spool before the servers start. */
  readonly captures: readonly string[];
  /** Database name (dropped and created again). */
  readonly database: string;
  /** Keep an existing database as it is instead (benchmarks with millions of rows). */
  readonly reuseDatabase?: boolean;
}

/** A TCP port nothing listens on now (the OS picks it; a race with another process is possible but rare). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
    s.on('error', reject);
  });
}

async function waitHealthy(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited (${child.exitCode}):\n${log()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}: not healthy within 30 s:\n${log()}`);
}

/** Starts the stack; analyses the captures first (throws with sniffer's stderr when it fails). */
export async function startGuiStack(options: GuiStackOptions): Promise<GuiStack> {
  const dir = mkdtempSync(join(tmpdir(), 'callscope-gui-stack-'));
  const spoolDir = join(dir, 'spool');
  const dbUrl = `${SERVER}/${options.database}`;
  const sensorName = 'e2e-sensor';
  if (!options.reuseDatabase) {
    const conn = await createConnection(SERVER);
    await conn.query(`DROP DATABASE IF EXISTS \`${options.database}\``);
    await conn.query(`CREATE DATABASE \`${options.database}\``);
    await conn.end();
  }
  if (options.captures.length > 0) {
    execFileSync(process.execPath, [bundle('sniffer'), 'analyze', ...options.captures, '--db', dbUrl, '--queue-dir', join(dir, 'cdr-queue'), '--spool', spoolDir, '--sensor', sensorName, '--format', 'jsonl'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  }
  const token = 'gui-stack-token-0123456789abcdef';
  const hash = execFileSync(process.execPath, [bundle('manager-api'), 'hash-token'], { input: `${token}\n`, encoding: 'utf8' }).trim();
  const managerPort = await freePort();
  const managerConfig = join(dir, 'manager-api.json');
  writeFileSync(
    managerConfig,
    JSON.stringify({ listen: { host: '127.0.0.1', port: managerPort }, tokens: [{ name: 'web-gui', hash }], spool: { dir: spoolDir }, control: join(dir, 'none.sock'), rateLimit: { max: 100_000, windowS: 60 } }),
  );
  let output = '';
  const collect = (name: string, child: ChildProcess): void => {
    child.stdout?.on('data', (c: Buffer) => (output += `[${name}] ${c.toString()}`));
    child.stderr?.on('data', (c: Buffer) => (output += `[${name}] ${c.toString()}`));
  };
  const manager = spawn(process.execPath, [bundle('manager-api'), '--config', managerConfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  collect('manager-api', manager);
  const guiPort = await freePort();
  const login = { user: 'admin', password: 'e2e-admin-password-42' };
  const gui = spawn(process.execPath, [bundle('web-gui')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CALLSCOPE_DB_URL: dbUrl,
      CALLSCOPE_WEB_GUI_LISTEN_PORT: String(guiPort),
      CALLSCOPE_WEB_GUI_ADMIN_PASSWORD: login.password,
      CALLSCOPE_WEB_GUI_SENSORS: JSON.stringify([{ id: 1, name: sensorName, managerUrl: `http://127.0.0.1:${managerPort}`, token }]),
    },
  });
  collect('web-gui', gui);
  const logs = (): string => output;
  const stop = async ({ keep = false } = {}): Promise<void> => {
    const ended = [manager, gui].map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => { r(); }))));
    manager.kill('SIGTERM');
    gui.kill('SIGTERM');
    await Promise.all(ended);
    if (!keep) {
      rmSync(dir, { recursive: true, force: true });
      if (!options.reuseDatabase) {
        const conn = await createConnection(SERVER);
        await conn.query(`DROP DATABASE IF EXISTS \`${options.database}\``);
        await conn.end();
      }
    }
  };
  try {
    await waitHealthy(`http://127.0.0.1:${managerPort}/api/v1/health`, manager, logs);
    await waitHealthy(`http://127.0.0.1:${guiPort}/api/v1/health`, gui, logs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { guiUrl: `http://127.0.0.1:${guiPort}`, managerUrl: `http://127.0.0.1:${managerPort}`, dbUrl, spoolDir, sensorName, login, logs, stop };
}
