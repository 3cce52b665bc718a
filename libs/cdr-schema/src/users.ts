/**
 * The web GUI's accounts (`users`, schema version 5). This module stores and reads rows; it does
 * not hash passwords: the GUI hands it the finished `scrypt$N$r$p$salt$hash` string, so the lib
 * stays free of any password policy and the hash format can change without a migration.
 *
 * @packageDocumentation
 */
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { IsoMicros } from '@callscope/cdr-model';
import { sqlToIso } from './cdr-row.js';

/** What an account may do: `admin` manages users (part 2), `viewer` reads calls. */
export type UserRole = 'admin' | 'viewer';

/** Every {@link UserRole}, in the column's ENUM order. */
export const USER_ROLES: readonly UserRole[] = ['admin', 'viewer'];

/** Longest account name the `users.name` column holds. */
export const MAX_USER_NAME_LENGTH = 64;

/** One `users` row. */
export interface UserRow {
  readonly id: number;
  readonly name: string;
  readonly role: UserRole;
  /** The stored password hash string, exactly as written (`scrypt$N$r$p$salt$hash`). */
  readonly passwordHash: string;
  readonly created: IsoMicros;
  readonly lastLogin: IsoMicros | null;
}

/** A new account: the name, its role and the already computed password hash. */
export interface NewUser {
  readonly name: string;
  readonly role: UserRole;
  readonly passwordHash: string;
}

const ISO = (col: string): string => `DATE_FORMAT(${col}, '%Y-%m-%d %H:%i:%s.%f')`;
const SELECT_USER = `SELECT id, name, role, password_hash, ${ISO('created')} AS created_s, ${ISO('last_login')} AS last_login_s FROM users`;

function toUserRow(r: RowDataPacket): UserRow {
  return {
    id: Number(r.id),
    name: String(r.name),
    role: r.role as UserRole,
    passwordHash: String(r.password_hash),
    created: sqlToIso(r.created_s as string),
    lastLogin: r.last_login_s === null ? null : sqlToIso(r.last_login_s as string),
  };
}

/** The account named exactly `name` (byte-exact, as the column compares), or null. */
export async function findUserByName(pool: Pool, name: string): Promise<UserRow | null> {
  if (name.length === 0 || name.length > MAX_USER_NAME_LENGTH) return null;
  const [rows] = await pool.execute<RowDataPacket[]>(`${SELECT_USER} WHERE name = ?`, [name]);
  return rows[0] === undefined ? null : toUserRow(rows[0]);
}

/** How many accounts exist. */
export async function countUsers(pool: Pool): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users');
  return Number(rows[0]?.n ?? 0);
}

/**
 * Creates an account; resolves with its id.
 *
 * @throws the driver's `ER_DUP_ENTRY` error when the name is taken.
 * @throws RangeError when the name is empty or longer than {@link MAX_USER_NAME_LENGTH}.
 */
export async function createUser(pool: Pool, user: NewUser): Promise<number> {
  checkName(user.name);
  const [res] = await pool.execute<ResultSetHeader>('INSERT INTO users (name, role, password_hash, created) VALUES (?, ?, ?, UTC_TIMESTAMP(6))', [
    user.name,
    user.role,
    user.passwordHash,
  ]);
  return res.insertId;
}

/**
 * Creates `user` only when no account exists at all (the first start of a GUI on a fresh
 * database). One statement, so a second GUI process starting at the same moment either sees the
 * first one's row or collides on the unique name: in both cases exactly one first account exists
 * and only its creator hears `true` (and so prints its password).
 */
export async function createFirstUser(pool: Pool, user: NewUser): Promise<boolean> {
  checkName(user.name);
  for (let attempt = 1; ; attempt++) {
    try {
      const [res] = await pool.execute<ResultSetHeader>(
        `INSERT INTO users (name, role, password_hash, created)
         SELECT ?, ?, ?, UTC_TIMESTAMP(6) FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM users)`,
        [user.name, user.role, user.passwordHash],
      );
      return res.affectedRows === 1;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ER_DUP_ENTRY') return false;
      // Two racing INSERT ... SELECTs can deadlock on the table's locks; MariaDB then reports the
      // loser as a deadlock or, seen under load (CI), as ER_AUTOINC_READ_FAILED. Its transaction is
      // rolled back: run it again, and it sees the winner's row. After a short, growing pause: an
      // immediate retry met the same race five times on a loaded 2-core machine (fresh-machine run).
      if (attempt < 8 && (code === 'ER_LOCK_DEADLOCK' || code === 'ER_AUTOINC_READ_FAILED' || code === 'ER_LOCK_WAIT_TIMEOUT')) {
        await new Promise((resolve) => setTimeout(resolve, 5 * attempt * attempt));
        continue;
      }
      throw err;
    }
  }
}

/** Stamps a successful login on the account (`last_login`, UTC). */
export async function recordUserLogin(pool: Pool, userId: number): Promise<void> {
  await pool.execute('UPDATE users SET last_login = UTC_TIMESTAMP(6) WHERE id = ?', [userId]);
}

function checkName(name: string): void {
  if (name.length === 0 || name.length > MAX_USER_NAME_LENGTH) {
    throw new RangeError(`user name must have 1..${MAX_USER_NAME_LENGTH} characters, got ${name.length}`);
  }
}
