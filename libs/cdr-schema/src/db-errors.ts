/**
 * Classifies mysql2 errors: is the database unreachable (queue to disk and retry later), is it a
 * transient conflict (retry now), or does the data itself fail (retrying cannot help)?
 *
 * @packageDocumentation
 */

/** Error codes after which the same batch may succeed later. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_GONE_ERROR',
  'ER_SERVER_LOST',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
  'ER_OPTION_PREVENTS_STATEMENT', // read_only during a fail-over
  'ER_CANT_LOCK', // InnoDB in read-only recovery
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  // Schema or permission problems are fixed by an operator (run the migration, grant rights):
  // the data must wait for that on disk rather than be dropped as "bad".
  'ER_NO_SUCH_TABLE',
  'ER_BAD_DB_ERROR',
  'ER_BAD_FIELD_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_ERROR',
]);

interface ErrorLike {
  code?: unknown;
  fatal?: unknown;
  message?: unknown;
}

/**
 * Whether `err` means the database is unreachable or the batch hit a transient conflict, so the
 * same batch may succeed later. Anything else (bad value, missing table) is a data/schema error.
 */
export function isRetryableDbError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as ErrorLike;
  if (e.fatal === true) return true;
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
  // mysql2 reports some pool/connect failures without a code.
  return typeof e.message === 'string' && /connection|closed state|timeout/i.test(e.message);
}

/** Short text of an error for logs and counters. */
export function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as ErrorLike;
    const code = typeof e.code === 'string' ? e.code : 'ERROR';
    const message = typeof e.message === 'string' ? e.message : '';
    return `${code}: ${message}`;
  }
  return String(err);
}
