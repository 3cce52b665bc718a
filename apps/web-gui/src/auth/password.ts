import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * GUI account passwords: `scrypt$N$r$p$<salt base64url>$<hash base64url>` (RFC 7914), the same
 * layout manager-api uses for its tokens. Each stored string carries its own parameters and salt,
 * so raising the cost later leaves old hashes verifiable. Verification runs scrypt off the event
 * loop (libuv's thread pool) so a login never stalls other requests.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7914
 */
const PREFIX = 'scrypt';
/** Cost of new hashes: about 50 ms and 16 MiB on one core, paid once per login attempt. */
const NEW_N = 16_384;
const NEW_R = 8;
const NEW_P = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Bounds on stored parameters, so a tampered row cannot make one login take minutes. */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
/** Longest password hashed at all; longer ones fail verification after the same work. */
export const MAX_PASSWORD_LENGTH = 1024;
/** Shortest password accepted for a new account (config `adminPassword` included). */
export const MIN_PASSWORD_LENGTH = 8;

interface ParsedHash {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function parseHash(text: string): ParsedHash | null {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return null;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (!Number.isInteger(n) || n < 2 || n > MAX_N || (n & (n - 1)) !== 0) return null;
  if (!Number.isInteger(r) || r < 1 || r > MAX_R || !Number.isInteger(p) || p < 1 || p > MAX_P) return null;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const hash = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || hash.length < 16) return null;
  return { n, r, p, salt, hash };
}

function scryptAsync(password: string, salt: Buffer, length: number, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { N: n, r, p, maxmem: 128 * n * r * 2 + 1024 * 1024 }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

/** Hashes a password with a fresh random salt (for a new account or a password change). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(password, salt, HASH_BYTES, NEW_N, NEW_R, NEW_P);
  return [PREFIX, NEW_N, NEW_R, NEW_P, salt.toString('base64url'), hash.toString('base64url')].join('$');
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
  const parsed = parseHash(stored);
  if (parsed === null) return false;
  const tooLong = password.length > MAX_PASSWORD_LENGTH;
  const key = await scryptAsync(tooLong ? password.slice(0, MAX_PASSWORD_LENGTH) : password, parsed.salt, parsed.hash.length, parsed.n, parsed.r, parsed.p);
  return timingSafeEqual(key, parsed.hash) && !tooLong;
}

/** A random password for the first account: 18 random bytes, 24 URL-safe characters (144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
