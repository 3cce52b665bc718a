import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Session tokens: 32 random bytes, base64url (43 characters), carried only by the HttpOnly
 * cookie. The database keeps their SHA-256 (a plain digest is enough: the token has 256 bits of
 * entropy, nothing to brute-force). The CSRF token is derived from the session token by HMAC,
 * so it needs no storage, changes with every login, and cannot be computed by a page that cannot
 * read the cookie.
 */
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Domain separation of the CSRF derivation (a version, should the scheme ever change). */
const CSRF_LABEL = 'callscope web-gui csrf v1';

/** A fresh random session token. */
export function newSessionToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Whether a cookie value has the shape of a session token (anything else is not even looked up). */
export function isSessionTokenShape(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/** The SHA-256 of a session token: the `gui_sessions` key. */
export function sessionTokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** The CSRF token of a session: HMAC-SHA256 keyed by the session token, base64url. */
export function csrfTokenOf(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update(CSRF_LABEL).digest('base64url');
}

/** Constant-time comparison of two strings (false when the lengths differ). */
export function safeEqualText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
