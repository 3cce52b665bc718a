// Byte-level helpers shared by the SIP and SDP scanners. Internal: not exported from index.ts.

/** ASCII codes used by the scanners; named so the grammar reads like the RFC. */
export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;
export const SEMI = 0x3b;
export const COMMA = 0x2c;
export const EQUAL = 0x3d;
export const DQUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const LAQUOT = 0x3c;
export const RAQUOT = 0x3e;
export const AT = 0x40;
export const SLASH = 0x2f;
export const LBRACKET = 0x5b;
export const RBRACKET = 0x5d;
export const QUESTION = 0x3f;
export const STAR = 0x2a;
export const DIGIT_0 = 0x30;
export const DIGIT_9 = 0x39;

/** Linear white space inside a (possibly folded) header value: SP, HTAB, CR, LF. */
export function isLws(c: number): boolean {
  return c === SP || c === HTAB || c === CR || c === LF;
}

/** ASCII decimal digit. */
export function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

/** Lower-cases an ASCII letter; other bytes unchanged. */
export function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/**
 * RFC 3261 §25.1 `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
 * A 128-entry table keeps the check to one load.
 */
const TOKEN = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;
for (const ch of "-.!%*_+`'~") TOKEN[ch.charCodeAt(0)] = 1;

/** True for an RFC 3261 `token` character. */
export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

/** Skips LWS forward from `i` (bounded by `end`). */
export function skipLws(buf: Uint8Array, i: number, end: number): number {
  while (i < end && isLws(buf[i]!)) i++;
  return i;
}

/** Moves `end` back over trailing LWS (not below `start`). */
export function trimEnd(buf: Uint8Array, start: number, end: number): number {
  while (end > start && isLws(buf[end - 1]!)) end--;
  return end;
}

/**
 * Parses an unsigned decimal in [start, end). Returns -1 when empty, non-digit or larger than
 * `max` (defaults to 2^32-1: CSeq numbers are 32-bit, RFC 3261 §8.1.1.5).
 */
export function parseDecimal(buf: Uint8Array, start: number, end: number, max = 0xffffffff): number {
  if (start >= end) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < DIGIT_0 || c > DIGIT_9) return -1;
    v = v * 10 + (c - DIGIT_0);
    if (v > max) return -1;
  }
  return v;
}

/** Case-insensitive compare of [start, start+lowerName.length) with an already lower-case name. */
export function equalsLower(buf: Uint8Array, start: number, end: number, lowerName: Uint8Array): boolean {
  if (end - start !== lowerName.length) return false;
  for (let i = 0; i < lowerName.length; i++) {
    if (lower(buf[start + i]!) !== lowerName[i]) return false;
  }
  return true;
}

/** Case-sensitive compare with an ASCII byte pattern. */
export function equalsBytes(buf: Uint8Array, start: number, end: number, pattern: Uint8Array): boolean {
  if (end - start !== pattern.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    if (buf[start + i] !== pattern[i]) return false;
  }
  return true;
}

/** ASCII string to bytes, for module-level constants only (never per packet). */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * Index just past the end of a quoted-string starting at `i` (which must be a DQUOTE), honouring
 * quoted-pair escapes (RFC 3261 §25.1). Returns `end` when the closing quote is missing.
 */
export function skipQuoted(buf: Uint8Array, i: number, end: number): number {
  i++;
  while (i < end) {
    const c = buf[i]!;
    if (c === BACKSLASH) {
      i += 2;
      continue;
    }
    i++;
    if (c === DQUOTE) return i;
  }
  return end;
}
