import type { Pool } from 'mysql2/promise';
import { countUsers, createFirstUser } from '@callscope/cdr-schema';
import { generatePassword, hashPassword } from './password.js';

/** Name of the account created on a database without accounts. */
export const FIRST_ADMIN_NAME = 'admin';

/** Outcome of {@link ensureFirstAdmin}. */
export interface FirstAdminOutcome {
  /** This call created the account (false: accounts existed, or another GUI process won the race). */
  readonly created: boolean;
  /** The random password chosen, when this call created the account without a configured one: print it once. */
  readonly generatedPassword: string | null;
}

/**
 * At start: when the database holds no account at all, creates `admin` (role admin) with the
 * configured password, else with a random one returned for the caller to show once. An existing
 * account is never touched, so a configured password does not reset anything later (change it
 * in the GUI, part 2).
 */
export async function ensureFirstAdmin(db: Pool, configuredPassword: string | null): Promise<FirstAdminOutcome> {
  if ((await countUsers(db)) > 0) return { created: false, generatedPassword: null };
  const password = configuredPassword ?? generatePassword();
  const created = await createFirstUser(db, { name: FIRST_ADMIN_NAME, role: 'admin', passwordHash: await hashPassword(password) });
  return { created, generatedPassword: created && configuredPassword === null ? password : null };
}
