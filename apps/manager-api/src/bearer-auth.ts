import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks `Authorization: Bearer <token>` (RFC 6750 §2.1) against the configured token in
 * constant time: both sides are hashed to 32-byte SHA-256 digests first, so
 * `crypto.timingSafeEqual` always compares equal lengths and the token length does not leak.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export class BearerAuth {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** Outcome for one request's Authorization header value (`undefined` when absent). */
  check(header: string | undefined): 'ok' | 'missing' | 'invalid' {
    if (header === undefined || header === '') return 'missing';
    const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
    if (match === null) return 'invalid';
    return timingSafeEqual(digest(match[1]!), this.expected) ? 'ok' : 'invalid';
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
