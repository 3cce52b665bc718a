import { createHash } from 'node:crypto';
import { hashSecretSync, parseScryptHash, scryptMatches, type ScryptHash } from '@callscope/runtime';

/**
 * Stored API tokens: `scrypt$N$r$p$<salt base64url>$<hash base64url>` (RFC 7914 parameters).
 * The config holds only this string, so a leaked config file does not leak a usable token;
 * scrypt rather than a plain digest because operators pick tokens by hand and some are short.
 *
 * The format and its bounds are the runtime's (`scrypt-hash.ts`), shared with the GUI's passwords.
 */

/** Verified tokens kept in memory (by SHA-256), so each request is not an scrypt. */
const MAX_CACHED = 1024;
/** Longest presented token that is hashed at all; longer ones are refused without work. */
export const MAX_TOKEN_LENGTH = 512;

/** A parsed stored token hash (the runtime's scrypt format). */
export type StoredTokenHash = ScryptHash;

/** Parses a stored hash; null when it is not `scrypt$N$r$p$salt$hash` with sane parameters. */
export const parseTokenHash = parseScryptHash;

/** Hashes a token for the config (`manager-api hash-token`): scrypt with a fresh random salt. */
export const hashToken = hashSecretSync;

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
      if ((await scryptMatches(token, entry.stored)) && name === null) name = entry.name;
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
