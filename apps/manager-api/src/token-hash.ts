import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * Stored API tokens: `scrypt$N$r$p$<salt base64url>$<hash base64url>` (RFC 7914 parameters).
 * The config holds only this string, so a leaked config file does not leak a usable token;
 * scrypt rather than a plain digest because operators pick tokens by hand and some are short.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7914
 */
const PREFIX = 'scrypt';
/** Cost parameters of new hashes: ~50 ms and 16 MiB on one core, paid once per token per process (see {@link TokenVerifier}). */
const NEW_N = 16_384;
const NEW_R = 8;
const NEW_P = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Upper bounds on stored parameters so a bad config cannot make one verification take minutes. */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
/** Verified tokens kept in memory (by SHA-256), so each request is not an scrypt. */
const MAX_CACHED = 1024;
/** Longest presented token that is hashed at all; longer ones are refused without work. */
export const MAX_TOKEN_LENGTH = 512;

/** A parsed stored hash. */
export interface StoredTokenHash {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** Parses a stored hash; null when it is not `scrypt$N$r$p$salt$hash` with sane parameters. */
export function parseTokenHash(text: string): StoredTokenHash | null {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return null;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (!Number.isInteger(n) || n < 2 || n > MAX_N || (n & (n - 1)) !== 0) return null;
  if (!Number.isInteger(r) || r < 1 || r > MAX_R || !Number.isInteger(p) || p < 1 || p > MAX_P) return null;
  if (!/^[A-Za-z0-9_-]{16,}$/.test(parts[4]!) || !/^[A-Za-z0-9_-]{22,}$/.test(parts[5]!)) return null;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const hash = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || hash.length < 16) return null;
  return { n, r, p, salt, hash };
}

/** scrypt memory bound for parameters N, r (128·N·r bytes, plus slack). */
function maxmem(n: number, r: number): number {
  return 128 * n * r * 2 + 1024 * 1024;
}

/** Hashes a token for the config (`manager-api hash-token`): scrypt with a fresh random salt. */
export function hashToken(token: string): string {
  const salt = randomBytes(SALT_BYTES);
  const hash = scryptSync(token, salt, HASH_BYTES, { N: NEW_N, r: NEW_R, p: NEW_P, maxmem: maxmem(NEW_N, NEW_R) });
  return [PREFIX, NEW_N, NEW_R, NEW_P, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** One configured token: its name (logged) and its stored hash. */
export interface NamedTokenHash {
  readonly name: string;
  readonly hash: string;
}

/** Outcome of {@link TokenVerifier.check}: the token's name, or why the request is refused. */
export type TokenCheck = { readonly ok: true; readonly name: string } | { readonly ok: false; readonly reason: 'missing' | 'invalid' };

/**
 * Checks `Authorization: Bearer <token>` (RFC 6750 §2.1) against named stored hashes. Each
 * stored hash is compared with `crypto.timingSafeEqual` against scrypt of the presented token
 * under that hash's salt, for every configured token (no early exit, so the time does not say
 * which token came close). A verified token is remembered by its SHA-256 (never the token
 * itself), so later requests cost one SHA-256; failures are not remembered, so a wrong token
 * costs an scrypt per configured token each time (rate limits bound that).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export class TokenVerifier {
  private readonly entries: { readonly name: string; readonly stored: StoredTokenHash }[];
  private readonly verified = new Map<string, string>();

  /** @throws TypeError when a hash is not a valid stored hash (config validation checks this first). */
  constructor(tokens: readonly NamedTokenHash[]) {
    this.entries = tokens.map((t) => {
      const stored = parseTokenHash(t.hash);
      if (stored === null) throw new TypeError(`token ${JSON.stringify(t.name)}: hash is not scrypt$N$r$p$salt$hash`);
      return { name: t.name, stored };
    });
  }

  /** Name of an already verified token for this header (cheap: no scrypt), else null. */
  cachedName(header: string | undefined): string | null {
    const token = bearerToken(header);
    return token === null ? null : (this.verified.get(sha256(token)) ?? null);
  }

  /** Outcome for one request's Authorization header value (`undefined` when absent). */
  async check(header: string | undefined): Promise<TokenCheck> {
    if (header === undefined || header === '') return { ok: false, reason: 'missing' };
    const token = bearerToken(header);
    if (token === null) return { ok: false, reason: 'invalid' };
    const key = sha256(token);
    const known = this.verified.get(key);
    if (known !== undefined) return { ok: true, name: known };
    let name: string | null = null;
    for (const entry of this.entries) {
      const s = entry.stored;
      const derived = await new Promise<Buffer>((resolve, reject) => {
        scrypt(token, s.salt, s.hash.length, { N: s.n, r: s.r, p: s.p, maxmem: maxmem(s.n, s.r) }, (err, key) => {
          if (err === null) resolve(key);
          else reject(err);
        });
      });
      if (timingSafeEqual(derived, s.hash) && name === null) name = entry.name;
    }
    if (name === null) return { ok: false, reason: 'invalid' };
    if (this.verified.size >= MAX_CACHED) this.verified.clear();
    this.verified.set(key, name);
    return { ok: true, name };
  }
}

/** The token of a `Bearer` header (RFC 6750 b64token), or null when the header is not one. */
function bearerToken(header: string | undefined): string | null {
  if (header === undefined || header.length > MAX_TOKEN_LENGTH + 16) return null;
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  return match === null ? null : match[1]!;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}
