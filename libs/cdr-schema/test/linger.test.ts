// Regression test for callscope issue 18, finding 7: after the database connection dropped under a
// statement run with a `timeout` (the CDR writer's 30 s), the process stayed alive ~30 s after it
// had ended its pool and printed its summary. mysql2 fails the statement when the connection dies
// but leaves the statement's timeout timer armed (see clearStatementTimerOnConnectionLoss in
// src/db-pool.ts). A child process opens its pool through openPool, as the writer does, loses its
// connection in the middle of a statement, ends the pool and must then exit at once.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPool } from '../src/db-pool.js';
import { SERVER_URL } from './helpers.js';

/** The child's statement timeout: long enough that a timer left armed cannot go unnoticed. */
const STATEMENT_TIMEOUT_MS = 30_000;
/** How long the child may take to exit after its pool has ended (it needs a few ms). */
const EXIT_LIMIT_MS = 3_000;

let dir: string;
let bundle: string;
let admin: Pool;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cdr-linger-'));
  bundle = join(dir, 'db-pool.cjs');
  // CommonJS so that mysql2 (CommonJS) is bundled along and the child needs nothing else.
  buildSync({ entryPoints: [new URL('../src/db-pool.ts', import.meta.url).pathname], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle, logLevel: 'silent' });
  admin = createPool({ uri: SERVER_URL, connectionLimit: 1 });
});

afterAll(async () => {
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The child: one pooled connection, its id on stdout, then a statement that would run 60 s with a
 * 30 s timeout; whatever ends the statement, it destroys the connection, ends the pool and says so.
 */
function childSource(url: string, timeoutMs = STATEMENT_TIMEOUT_MS): string {
  return `
const { openPool, endPool } = require(${JSON.stringify(bundle)});
(async () => {
  const { pool } = openPool(${JSON.stringify(url)});
  const idle = await pool.getConnection();
  const conn = await pool.getConnection();
  idle.release();
  const [rows] = await conn.query('SELECT CONNECTION_ID() AS id');
  process.stdout.write('id ' + rows[0].id + '\\n');
  let outcome = 'answered';
  try {
    await conn.query({ sql: 'SELECT SLEEP(60)', timeout: ${timeoutMs} });
  } catch (err) {
    outcome = err.code;
  }
  conn.destroy();
  await endPool(pool);
  process.stdout.write('ended ' + outcome + '\\n');
})();
`;
}

/** Resolves once the server runs the child's `SELECT SLEEP` on connection `id`. */
async function statementRunning(id: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [rows] = await admin.query<RowDataPacket[]>('SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = ?', [id]);
    if (String(rows[0]?.['INFO'] ?? '').startsWith('SELECT SLEEP')) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`connection ${id} never ran the statement`);
}

interface ChildRun {
  /** How the child's statement ended (the mysql2 error code). */
  outcome: string;
  /** ms from "pool ended" to the child's exit, or null when it was still running at the limit. */
  exitAfterMs: number | null;
  code: number | null;
}

/** Runs the child against `url`; `drop(id)` takes its connection away under the statement. */
async function runChild(url: string, drop: (id: number) => Promise<void>, timeoutMs = STATEMENT_TIMEOUT_MS): Promise<ChildRun> {
  const child = spawn(process.execPath, ['-e', childSource(url, timeoutMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', resolve);
  });
  let out = '';
  let wake = (): void => undefined;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    wake();
  });
  /** The word after `prefix` on a line of the child's stdout, once it has printed one. */
  const line = async (prefix: string): Promise<string> => {
    for (;;) {
      const m = new RegExp(`^${prefix} (\\S+)$`, 'm').exec(out);
      if (m) return m[1]!;
      const next = new Promise<'data'>((resolve) => {
        wake = () => {
          resolve('data');
        };
      });
      if ((await Promise.race([next, exited.then(() => 'exit' as const)])) === 'exit' && !new RegExp(`^${prefix} `, 'm').test(out)) {
        throw new Error(`child exited before "${prefix}"; stdout: ${out}`);
      }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const id = Number(await line('id'));
    await statementRunning(id);
    await drop(id);
    const outcome = await line('ended');
    const endedAt = Date.now();
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => {
        resolve('late');
      }, EXIT_LIMIT_MS);
    });
    const code = await Promise.race([exited, late]);
    return code === 'late' ? { outcome, exitAfterMs: null, code: null } : { outcome, exitAfterMs: Date.now() - endedAt, code };
  } finally {
    clearTimeout(timer);
    child.kill('SIGKILL');
    await exited;
  }
}

describe('a process whose database connection dropped under a statement exits right after ending its pool (issue 18, finding 7)', () => {
  it('the server closes the connection (KILL CONNECTION)', async () => {
    const run = await runChild(SERVER_URL, async (id) => {
      await admin.query(`KILL CONNECTION ${id}`);
    });
    expect(run.outcome).toBe('PROTOCOL_CONNECTION_LOST');
    expect(run.exitAfterMs, `the child was still running ${EXIT_LIMIT_MS} ms after ending its pool: a statement timer left armed`).not.toBeNull();
    expect(run.code).toBe(0);
  });

  it('the connection is cut (a TCP relay in front of the server drops both sides, as a SIGKILLed server does)', async () => {
    const target = new URL(SERVER_URL);
    const sockets = new Set<Socket>();
    const relay: Server = createServer((client) => {
      const server = connect(Number(target.port || 3306), target.hostname);
      for (const s of [client, server]) {
        sockets.add(s);
        s.on('error', () => undefined); // the cut resets them; nothing to report
      }
      client.pipe(server).pipe(client);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const port = (relay.address() as { port: number }).port;
      const url = new URL(SERVER_URL);
      url.host = `127.0.0.1:${port}`;
      const run = await runChild(url.toString(), async () => {
        for (const s of sockets) s.destroy();
        await Promise.resolve();
      });
      expect(run.outcome).toMatch(/^(PROTOCOL_CONNECTION_LOST|ECONNRESET)$/);
      expect(run.exitAfterMs, `the child was still running ${EXIT_LIMIT_MS} ms after ending its pool: a statement timer left armed`).not.toBeNull();
      expect(run.code).toBe(0);
    } finally {
      await new Promise((resolve) => relay.close(resolve));
    }
  });

  it('the server hangs (a relay that stops passing bytes but keeps its sockets, as a SIGSTOPped server does): the statement times out, the pool ends within its grace', async () => {
    const target = new URL(SERVER_URL);
    const pairs: [Socket, Socket][] = [];
    const relay: Server = createServer((client) => {
      const server = connect(Number(target.port || 3306), target.hostname);
      for (const s of [client, server]) s.on('error', () => undefined);
      client.pipe(server).pipe(client);
      pairs.push([client, server]);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const port = (relay.address() as { port: number }).port;
      const url = new URL(SERVER_URL);
      url.host = `127.0.0.1:${port}`;
      const run = await runChild(
        url.toString(),
        async () => {
          // Frozen: nothing passes any more and nothing is read, not even a FIN.
          for (const [client, server] of pairs) {
            client.unpipe(server);
            server.unpipe(client);
            client.pause();
            server.pause();
          }
          await Promise.resolve();
        },
        500,
      );
      expect(run.outcome).toBe('PROTOCOL_SEQUENCE_TIMEOUT');
      expect(run.exitAfterMs, `the child was still running ${EXIT_LIMIT_MS} ms after ending its pool: a socket to the hung server kept it alive`).not.toBeNull();
      expect(run.code).toBe(0);
    } finally {
      for (const [client, server] of pairs) {
        client.destroy();
        server.destroy();
      }
      await new Promise((resolve) => relay.close(resolve));
    }
  });

  it('a statement on a live connection still times out (the fix leaves the timeout itself alone)', async () => {
    const { pool } = openPool(SERVER_URL, { connectionLimit: 1 });
    const conn = await pool.getConnection();
    try {
      const started = Date.now();
      await expect(conn.query({ sql: 'SELECT SLEEP(5)', timeout: 300 })).rejects.toMatchObject({ code: 'PROTOCOL_SEQUENCE_TIMEOUT' });
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      // As the writer does after a timeout: the connection is still busy with the statement.
      conn.destroy();
      await pool.end();
    }
  });
});
