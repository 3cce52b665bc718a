import { randomBytes } from 'node:crypto';
import { hashSecret, parseScryptHash, scryptMatches } from '@callscope/runtime';

/**
 * GUI account passwords, stored in the runtime's scrypt format (`scrypt$N$r$p$salt$hash`, the
 * one manager-api uses for its tokens). Verification runs scrypt off the event loop (libuv's
 * thread pool) so a login never stalls other requests.
 */

/** Longest password hashed at all; longer ones fail verification after the same work. */
export const MAX_PASSWORD_LENGTH = 1024;
/** Shortest password accepted for a new account (config `adminPassword` included). */
export const MIN_PASSWORD_LENGTH = 8;

/** Hashes a password with a fresh random salt (for a new account or a password change). */
export function hashPassword(password: string): Promise<string> {
  return hashSecret(password);
}

/**
 * A hash of a random password nobody knows, with the parameters of new hashes: a login for an
 * unknown name is checked against it, so it costs the same scrypt as a wrong password and the
 * answer time does not tell which names exist.
 */
export function decoyPasswordHash(): Promise<string> {
  return hashPassword(randomBytes(24).toString('base64url'));
}

/**
 * Whether `password` matches the stored hash, compared with `crypto.timingSafeEqual`. A stored
 * string that does not parse never matches (and is not an error: the caller answers "wrong
 * password" either way). Over-long passwords are cut before hashing so the work is bounded, and
 * then refused.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseScryptHash(stored);
  if (parsed === null) return false;
  const tooLong = password.length > MAX_PASSWORD_LENGTH;
  return (await scryptMatches(tooLong ? password.slice(0, MAX_PASSWORD_LENGTH) : password, parsed)) && !tooLong;
}

/** A random password for the first account: 18 random bytes, 24 URL-safe characters (144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
