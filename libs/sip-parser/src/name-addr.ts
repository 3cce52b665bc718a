import { ByteRange } from './byte-range.js';
import { DQUOTE, LAQUOT, RAQUOT, SEMI, ascii, isLws, skipLws, skipQuoted, trimEnd } from './bytes.js';
import { findParam } from './header-params.js';
import { SipUri, parseSipUri } from './sip-uri.js';

const TAG = ascii('tag');
const EXPIRES = ascii('expires');

/**
 * A From/To/Contact/P-Asserted-Identity/Remote-Party-ID value (RFC 3261 §20.10, §20.20, §20.39;
 * RFC 3325 §9.1; draft-ietf-sip-privacy-04 for Remote-Party-ID):
 *
 * ```
 * ( name-addr / addr-spec ) *( SEMI param )
 * name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 * ```
 * With the bare addr-spec form, everything after the first `;` is a header parameter (§20.10).
 */
export class NameAddr {
  /** The whole value (first value of a multi-value header). */
  readonly value = new ByteRange();
  /** Display name; quotes are excluded from the range when it is a quoted-string. */
  readonly displayName = new ByteRange();
  /** The URI and its parts. */
  readonly uri = new SipUri();
  /** `tag` header parameter (RFC 3261 §19.3), absent when not given. */
  readonly tag = new ByteRange();
  /** `expires` header parameter text (Contact, RFC 3261 §20.10). */
  readonly expiresParam = new ByteRange();
  /** `expires` parameter as a number, -1 when absent or not a number. */
  expires = -1;
  /** Contact `*` (RFC 3261 §10.2.2, remove all bindings). */
  star = false;

  /** True when the header was present. */
  get present(): boolean {
    return this.value.present;
  }

  /** Marks every field absent. */
  clear(): void {
    this.value.clear();
    this.displayName.clear();
    this.uri.clear();
    this.tag.clear();
    this.expiresParam.clear();
    this.expires = -1;
    this.star = false;
  }
}

/**
 * Parses one name-addr/addr-spec value in [start, end) (LWS already trimmed by the caller).
 * Returns false when a `<` has no matching `>` (the value range is still recorded).
 */
export function parseNameAddr(buf: Uint8Array, start: number, end: number, out: NameAddr): boolean {
  out.clear();
  out.value.set(start, end);
  let i = start;
  if (end - start === 1 && buf[start] === 0x2a) {
    out.star = true;
    return true;
  }
  // Find '<' outside a quoted display name.
  let laquot = -1;
  while (i < end) {
    const c = buf[i]!;
    if (c === DQUOTE) {
      i = skipQuoted(buf, i, end);
      continue;
    }
    if (c === LAQUOT) {
      laquot = i;
      break;
    }
    if (c === SEMI) break;
    i++;
  }
  let paramsStart: number;
  if (laquot >= 0) {
    let r = laquot + 1;
    while (r < end && buf[r] !== RAQUOT) r++;
    if (r >= end) return false;
    const dStart = skipLws(buf, start, laquot);
    const dEnd = trimEnd(buf, dStart, laquot);
    if (dEnd > dStart) {
      if (buf[dStart] === DQUOTE && dEnd - dStart >= 2 && buf[dEnd - 1] === DQUOTE) out.displayName.set(dStart + 1, dEnd - 1);
      else out.displayName.set(dStart, dEnd);
    }
    parseSipUri(buf, skipLws(buf, laquot + 1, r), trimEnd(buf, laquot + 1, r), out.uri);
    paramsStart = r + 1;
  } else {
    let u = start;
    while (u < end && buf[u] !== SEMI && !isLws(buf[u]!)) u++;
    parseSipUri(buf, start, u, out.uri);
    paramsStart = u;
  }
  findParam(buf, paramsStart, end, TAG, out.tag);
  if (findParam(buf, paramsStart, end, EXPIRES, out.expiresParam)) {
    out.expires = parseExpires(buf, out.expiresParam.offset, out.expiresParam.offset + out.expiresParam.length);
  }
  return true;
}

/** delta-seconds (RFC 3261 §25.1); values above 2^32-1 are clamped as §20.19 requires. */
export function parseExpires(buf: Uint8Array, start: number, end: number): number {
  if (start >= end) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) return -1;
    v = Math.min(v * 10 + (c - 0x30), 0xffffffff);
  }
  return v;
}
