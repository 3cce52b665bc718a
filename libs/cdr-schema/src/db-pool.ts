/**
 * One way to say "which database": an existing mysql2 promise pool (owned by the caller) or a
 * `mysql://user:pass@host:port/db` URL (the lib opens and closes its own pool).
 *
 * @packageDocumentation
 */
import { createConnection, createPool } from 'mysql2/promise';
import type { Pool } from 'mysql2/promise';

/** A mysql2 promise pool or a MySQL URL. */
export type DbTarget = Pool | string;

/** A pool plus whether this lib opened it (and so must end it). */
export interface OpenedPool {
  /** The pool to run queries on. */
  pool: Pool;
  /** `true` when the pool was created from a URL here and must be ended by the opener. */
  owned: boolean;
}

/** Options for pools the lib opens itself from a URL. */
export interface PoolOptions {
  /** Maximum connections (default 4). */
  connectionLimit?: number;
  /** TCP connect timeout in ms (default 3000): short, so an outage is detected quickly. */
  connectTimeoutMs?: number;
}

/**
 * Opens a pool for `target`. Times travel as `DATETIME(6)` literal strings in both directions
 * (`dateStrings`), so neither the client's nor the session's time zone can shift them.
 */
export function openPool(target: DbTarget, options: PoolOptions = {}): OpenedPool {
  if (typeof target !== 'string') return { pool: target, owned: false };
  const pool = createPool({
    uri: target,
    connectionLimit: options.connectionLimit ?? 4,
    connectTimeout: options.connectTimeoutMs ?? 3000,
    dateStrings: true,
    supportBigNumbers: true,
    timezone: 'Z',
    enableKeepAlive: true,
    charset: 'utf8mb4_unicode_ci',
  });
  pool.on('connection', (connection) => {
    clearStatementTimerOnConnectionLoss(connection);
    closeSocketOnDestroy(connection);
  });
  return { pool, owned: true };
}

/** The parts of mysql2's internal connection and statement objects {@link clearStatementTimerOnConnectionLoss} touches. */
interface MysqlConnectionInternals {
  _command?: { queryTimeout?: NodeJS.Timeout | null } | null;
  _notifyError?: (this: MysqlConnectionInternals, err: Error) => void;
}

/**
 * A statement run with `timeout` (the CDR writer's 30 s) arms a timer when it starts. mysql2
 * (3.24, and its master as of 2026-08) clears it when the result or an error packet arrives, but
 * not when the connection dies under the statement (server killed, connection reset): its
 * `_notifyError` fails the statement and forgets it with the timer still armed. That timer keeps
 * the process alive for the rest of the timeout after everything else has ended (callscope issue
 * 18, finding 7: a sniffer lingered ~30 s after its summary) and then fails the already failed
 * statement a second time. Here each connection of the pool clears the timer of the statement it
 * loses, before mysql2 fails it. If mysql2's internals change shape, nothing is wrapped;
 * `test/linger.test.ts` then fails.
 */
function clearStatementTimerOnConnectionLoss(connection: object): void {
  const conn = connection as MysqlConnectionInternals;
  const notifyError = conn._notifyError;
  if (typeof notifyError !== 'function') return;
  conn._notifyError = function notifyErrorClearingTimer(this: MysqlConnectionInternals, err: Error): void {
    const command = this._command;
    const timer = command?.queryTimeout;
    if (command && timer) {
      clearTimeout(timer);
      command.queryTimeout = null;
    }
    notifyError.call(this, err);
  };
}

/** The parts of a mysql2 connection {@link closeSocketOnDestroy} and {@link endPool} touch. */
interface MysqlSocketInternals {
  stream?: { destroy?: () => void; destroyed?: boolean } | null;
  close?: (this: MysqlSocketInternals) => void;
}

/**
 * mysql2's `destroy()` of a connection only half-closes its socket (`stream.end()`) and waits for
 * the server's side. A hung server (SIGSTOP, a frozen VM, a half-open link) never answers, so the
 * discarded connection's socket kept the process alive after its summary until the server woke
 * up (issue 18, finding 7, the frozen case). A connection the writer destroys is one it gave up
 * on: its socket is closed outright.
 */
function closeSocketOnDestroy(connection: object): void {
  const conn = connection as MysqlSocketInternals;
  const close = conn.close;
  if (typeof close !== 'function') return;
  conn.close = function closeAndDestroySocket(this: MysqlSocketInternals): void {
    close.call(this);
    if (this.stream?.destroyed === false) this.stream.destroy?.();
  };
}

/**
 * Ends a pool and closes its sockets within `graceMs`. mysql2's `end()` sends COM_QUIT and
 * resolves at once, leaving each socket half-closed until the server closes its side: a hung
 * server never does, and those sockets kept the process alive after its summary. Each socket
 * gets `graceMs` to close by itself, then is closed outright.
 */
export async function endPool(pool: Pool, graceMs = 1000): Promise<void> {
  const all = (pool as unknown as { pool?: { _allConnections?: { length: number; get(i: number): MysqlSocketInternals } } }).pool?._allConnections;
  const streams: NonNullable<MysqlSocketInternals['stream']>[] = [];
  for (let i = 0; all !== undefined && i < all.length; i++) {
    const stream = all.get(i).stream;
    if (stream) streams.push(stream);
  }
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  // A hung server may not even take the QUIT: ending is bounded by the grace as well.
  await Promise.race([pool.end().catch(() => undefined), grace]);
  const open = streams.filter((st) => st.destroyed === false);
  await Promise.race([Promise.all(open.map((st) => new Promise<void>((resolve) => {
          (st as unknown as NodeJS.EventEmitter).once('close', () => {
            resolve();
          });
        }))), grace]);
  clearTimeout(timer);
  for (const st of open) if (st.destroyed === false) st.destroy?.();
}

/**
 * `CREATE DATABASE IF NOT EXISTS` (utf8mb4) for the database a `mysql://` URL names, so a
 * sniffer or a GUI pointed at an empty server (a new all-in-one host, a test) can start on it.
 *
 * @throws Error when the URL names no database; the driver's error when the server refuses
 */
export async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (name === '') throw new Error(`the database URL names no database: ${u.protocol}//${u.host}/`);
  u.pathname = '/';
  const conn = await createConnection({ uri: u.toString(), connectTimeout: 10_000 });
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${name.replace(/`/g, '``')}\` CHARACTER SET utf8mb4`);
  } finally {
    await conn.end();
  }
}
