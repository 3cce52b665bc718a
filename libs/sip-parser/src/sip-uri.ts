import { ByteRange } from './byte-range.js';
import { AT, COLON, LBRACKET, QUESTION, RBRACKET, SEMI, isDigit, parseDecimal } from './bytes.js';

/**
 * The parts of a SIP/SIPS/tel URI a dialog keeps (RFC 3261 §19.1.1, §25.1; RFC 3966 for tel).
 *
 * ```
 * sip:user:password@host:port;uri-parameters?headers
 * ```
 * `host` follows the RFC grammar: an IPv6 reference keeps its brackets (`[2001:db8::1]`).
 * For `tel:` URIs the number is the `user` and `host` is absent.
 */
export class SipUri {
  /** The whole URI. */
  readonly uri = new ByteRange();
  /** Scheme without the colon (`sip`, `sips`, `tel`, ...). */
  readonly scheme = new ByteRange();
  /** userinfo's user part (without password), absent when the URI has no `@`. */
  readonly user = new ByteRange();
  /** host (hostname, IPv4 or bracketed IPv6). */
  readonly host = new ByteRange();
  /** Port number, or -1 when absent or not a valid port. */
  port = -1;

  /** Marks every part absent. */
  clear(): void {
    this.uri.clear();
    this.scheme.clear();
    this.user.clear();
    this.host.clear();
    this.port = -1;
  }
}

/**
 * Splits the URI in [start, end) into {@link SipUri} parts. Returns false when there is no
 * `scheme:` prefix (the whole range is still recorded as `uri`).
 */
export function parseSipUri(buf: Uint8Array, start: number, end: number, out: SipUri): boolean {
  out.clear();
  out.uri.set(start, end);
  let i = start;
  while (i < end && buf[i] !== COLON) i++;
  if (i === start || i >= end) return false;
  out.scheme.set(start, i);
  const rest = i + 1;
  const isTel = i - start === 3 && (buf[start]! | 0x20) === 0x74 && (buf[start + 1]! | 0x20) === 0x65 && (buf[start + 2]! | 0x20) === 0x6c;
  if (isTel) {
    let j = rest;
    while (j < end && buf[j] !== SEMI && buf[j] !== QUESTION) j++;
    out.user.set(rest, j);
    return true;
  }
  // userinfo ends at the last '@' before the host; user may contain ';' (user parameters).
  let at = -1;
  for (let j = rest; j < end; j++) {
    const c = buf[j]!;
    if (c === AT) at = j;
    else if (c === QUESTION) break;
  }
  let hostStart = rest;
  if (at >= 0) {
    let u = rest;
    while (u < at && buf[u] !== COLON) u++;
    out.user.set(rest, u);
    hostStart = at + 1;
  }
  let j = hostStart;
  if (j < end && buf[j] === LBRACKET) {
    while (j < end && buf[j] !== RBRACKET) j++;
    if (j < end) j++;
  } else {
    while (j < end && buf[j] !== COLON && buf[j] !== SEMI && buf[j] !== QUESTION) j++;
  }
  out.host.set(hostStart, j);
  if (j < end && buf[j] === COLON) {
    const p = j + 1;
    let q = p;
    while (q < end && isDigit(buf[q]!)) q++;
    out.port = parseDecimal(buf, p, q, 65535);
  }
  return true;
}
