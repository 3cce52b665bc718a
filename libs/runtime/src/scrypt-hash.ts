import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * Stored secrets (manager-api tokens, GUI passwords) as `scrypt$N$r$p$<salt base64url>$<hash
 * base64url>` (RFC 7914). Each stored string carries its own parameters and salt, so raising the
 * cost later leaves old hashes verifiable; parameters read back are bounded, so a tampered config
 * or row cannot make one verification take minutes or gigabytes.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7914
 */
const PREFIX = 'scrypt';
/** Cost of new hashes: about 50 ms and 16 MiB on one core. */
const NEW_N = 16_384;
const NEW_R = 8;
const NEW_P = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

/** A parsed stored hash. */
export interface ScryptHash {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** scrypt's memory bound for N and r (128·N·r bytes, doubled, plus slack). */
const maxmem = (n: number, r: number): number => 128 * n * r * 2 + 1024 * 1024;

/** Parses a stored hash; null when it is not `scrypt$N$r$p$salt$hash` with sane parameters. */
export function parseScryptHash(text: string): ScryptHash | null {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return null;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (!Number.isInteger(n) || n < 2 || n > MAX_N || (n & (n - 1)) !== 0) return null;
  if (!Number.isInteger(r) || r < 1 || r > MAX_R || !Number.isInteger(p) || p < 1 || p > MAX_P) return null;
  if (!/^[A-Za-z0-9_-]{11,}$/.test(parts[4]!) || !/^[A-Za-z0-9_-]{22,}$/.test(parts[5]!)) return null;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const hash = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || hash.length < 16) return null;
  return { n, r, p, salt, hash };
}

const format = (salt: Buffer, hash: Buffer): string => [PREFIX, NEW_N, NEW_R, NEW_P, salt.toString('base64url'), hash.toString('base64url')].join('$');

/** Hashes a secret with a fresh random salt, blocking (a CLI such as `hash-token`). */
export function hashSecretSync(secret: string): string {
  const salt = randomBytes(SALT_BYTES);
  return format(salt, scryptSync(secret, salt, HASH_BYTES, { N: NEW_N, r: NEW_R, p: NEW_P, maxmem: maxmem(NEW_N, NEW_R) }));
}

/** scrypt of `secret` under a stored hash's salt and parameters, off the event loop (libuv's pool). */
export function deriveScrypt(secret: string, stored: ScryptHash): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, stored.salt, stored.hash.length, { N: stored.n, r: stored.r, p: stored.p, maxmem: maxmem(stored.n, stored.r) }, (err, key) => {
      if (err === null) resolve(key);
      else reject(err);
    });
  });
}

/** Hashes a secret with a fresh random salt, off the event loop (a server creating an account). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const stored: ScryptHash = { n: NEW_N, r: NEW_R, p: NEW_P, salt, hash: Buffer.alloc(HASH_BYTES) };
  return format(salt, await deriveScrypt(secret, stored));
}

/** Whether `secret` derives the stored hash, compared with `crypto.timingSafeEqual`. */
export async function scryptMatches(secret: string, stored: ScryptHash): Promise<boolean> {
  return timingSafeEqual(await deriveScrypt(secret, stored), stored.hash);
}
