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
  return { pool, owned: true };
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
