/**
 * The web GUI's login sessions (`gui_sessions`, schema version 5), keyed by the SHA-256 of the
 * session token. Only the hash is ever written: the token lives in the browser's cookie alone.
 * Ages are measured by the database clock (`UTC_TIMESTAMP(6)`) at both ends, so GUI processes
 * with skewed clocks agree on when a session expires.
 *
 * @packageDocumentation
 */
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { UserRole } from './users.js';

/** Bytes of a session token hash (SHA-256). */
export const SESSION_HASH_BYTES = 32;

/** A session as read back with its account, and how old and how idle it is. */
export interface GuiSessionRow {
  readonly userId: number;
  readonly userName: string;
  readonly role: UserRole;
  /** Seconds since the login. */
  readonly ageS: number;
  /** Seconds since the session was last marked seen ({@link touchGuiSession}). */
  readonly idleS: number;
}

/** Expiry rules of {@link deleteExpiredGuiSessions}. */
export interface GuiSessionLimits {
  /** A session unused this long is over. */
  readonly idleS: number;
  /** A session this old is over however busy it is. */
  readonly absoluteS: number;
}

function checkHash(tokenHash: Buffer): void {
  if (tokenHash.length !== SESSION_HASH_BYTES) throw new RangeError(`session token hash must be ${SESSION_HASH_BYTES} bytes, got ${tokenHash.length}`);
}

/** Stores a new session of `userId` (created and last seen now). */
export async function createGuiSession(pool: Pool, tokenHash: Buffer, userId: number): Promise<void> {
  checkHash(tokenHash);
  await pool.execute('INSERT INTO gui_sessions (token_hash, user_id, created, last_seen) VALUES (?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))', [tokenHash, userId]);
}

/** The session with this token hash and its account, or null. Expiry is the caller's rule. */
export async function findGuiSession(pool: Pool, tokenHash: Buffer): Promise<GuiSessionRow | null> {
  checkHash(tokenHash);
  const [rows] = await pool.execute<RowDataPacket[]>(
    `SELECT s.user_id, u.name, u.role,
       TIMESTAMPDIFF(MICROSECOND, s.created, UTC_TIMESTAMP(6)) AS age_us,
       TIMESTAMPDIFF(MICROSECOND, s.last_seen, UTC_TIMESTAMP(6)) AS idle_us
     FROM gui_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`,
    [tokenHash],
  );
  const r = rows[0];
  if (r === undefined) return null;
  return { userId: Number(r.user_id), userName: String(r.name), role: r.role as UserRole, ageS: Number(r.age_us) / 1e6, idleS: Number(r.idle_us) / 1e6 };
}

/** Marks the session seen now (restarts its idle time). */
export async function touchGuiSession(pool: Pool, tokenHash: Buffer): Promise<void> {
  checkHash(tokenHash);
  await pool.execute('UPDATE gui_sessions SET last_seen = UTC_TIMESTAMP(6) WHERE token_hash = ?', [tokenHash]);
}

/** Deletes one session (logout, or found expired); resolves with whether it existed. */
export async function deleteGuiSession(pool: Pool, tokenHash: Buffer): Promise<boolean> {
  checkHash(tokenHash);
  const [res] = await pool.execute<ResultSetHeader>('DELETE FROM gui_sessions WHERE token_hash = ?', [tokenHash]);
  return res.affectedRows > 0;
}

/** Deletes every session past either limit; resolves with how many went. */
export async function deleteExpiredGuiSessions(pool: Pool, limits: GuiSessionLimits): Promise<number> {
  const [res] = await pool.execute<ResultSetHeader>(
    `DELETE FROM gui_sessions
     WHERE last_seen < UTC_TIMESTAMP(6) - INTERVAL ? SECOND OR created < UTC_TIMESTAMP(6) - INTERVAL ? SECOND`,
    [Math.floor(limits.idleS), Math.floor(limits.absoluteS)],
  );
  return res.affectedRows;
}
