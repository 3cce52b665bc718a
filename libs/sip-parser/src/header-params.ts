import type { ByteRange } from './byte-range.js';
import { COMMA, DQUOTE, EQUAL, SEMI, equalsLower, isLws, skipLws, skipQuoted, trimEnd } from './bytes.js';

/**
 * Finds `;name[=value]` in a parameter list (RFC 3261 §25.1 `generic-param`) in [start, end),
 * where `start` is at or before the first `;`. Names are compared case-insensitively against the
 * lower-case `name`. A quoted value's range excludes the quotes. A flag parameter without `=` is
 * present with an empty value (`;rport`, `;lr`). The scan stops at a top-level `,` (next value).
 * Returns true when found; `out` is left untouched otherwise.
 */
export function findParam(buf: Uint8Array, start: number, end: number, name: Uint8Array, out: ByteRange): boolean {
  let i = start;
  while (i < end) {
    const c = buf[i]!;
    if (c === COMMA) return false;
    if (c === DQUOTE) {
      i = skipQuoted(buf, i, end);
      continue;
    }
    if (c !== SEMI) {
      i++;
      continue;
    }
    i = skipLws(buf, i + 1, end);
    const nameStart = i;
    while (i < end) {
      const d = buf[i]!;
      if (d === EQUAL || d === SEMI || d === COMMA || isLws(d)) break;
      i++;
    }
    const nameEnd = i;
    i = skipLws(buf, i, end);
    let valueStart = i;
    let valueEnd = i;
    const hasValue = i < end && buf[i] === EQUAL;
    if (hasValue) {
      i = skipLws(buf, i + 1, end);
      if (i < end && buf[i] === DQUOTE) {
        const q = skipQuoted(buf, i, end);
        valueStart = i + 1;
        valueEnd = q > valueStart && buf[q - 1] === DQUOTE ? q - 1 : q;
        i = q;
      } else {
        valueStart = i;
        while (i < end && buf[i] !== SEMI && buf[i] !== COMMA) i++;
        valueEnd = trimEnd(buf, valueStart, i);
      }
    }
    if (equalsLower(buf, nameStart, nameEnd, name)) {
      out.set(valueStart, hasValue ? valueEnd : valueStart);
      return true;
    }
  }
  return false;
}

/**
 * Finds `name=value` in a comma-separated auth-param list (RFC 3261 §25.1 `digest-response`,
 * `challenge`) in [start, end). The value's range excludes quotes. Returns true when found.
 */
export function findAuthParam(buf: Uint8Array, start: number, end: number, name: Uint8Array, out: ByteRange): boolean {
  let i = start;
  while (i < end) {
    i = skipLws(buf, i, end);
    const nameStart = i;
    while (i < end && buf[i] !== EQUAL && buf[i] !== COMMA && !isLws(buf[i]!)) i++;
    const nameEnd = i;
    i = skipLws(buf, i, end);
    if (i >= end || buf[i] !== EQUAL) {
      // The scheme token ("Digest") precedes the first parameter without a comma.
      if (i < end && buf[i] === COMMA) i++;
      continue;
    }
    i = skipLws(buf, i + 1, end);
    let valueStart = i;
    let valueEnd: number;
    if (i < end && buf[i] === DQUOTE) {
      const q = skipQuoted(buf, i, end);
      valueStart = i + 1;
      valueEnd = q > valueStart && buf[q - 1] === DQUOTE ? q - 1 : q;
      i = q;
    } else {
      while (i < end && buf[i] !== COMMA) i++;
      valueEnd = trimEnd(buf, valueStart, i);
    }
    if (equalsLower(buf, nameStart, nameEnd, name)) {
      out.set(valueStart, valueEnd);
      return true;
    }
    while (i < end && buf[i] !== COMMA) i++;
    i++;
  }
  return false;
}

/**
 * Index of the next top-level `,` in [start, end) — outside quoted strings and `<...>` — or `end`.
 * Used to split multi-value headers (RFC 3261 §7.3.1: `Via: a, b` equals two Via lines).
 */
export function nextComma(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let angle = false;
  while (i < end) {
    const c = buf[i]!;
    if (c === DQUOTE) {
      i = skipQuoted(buf, i, end);
      continue;
    }
    if (c === 0x3c) angle = true;
    else if (c === 0x3e) angle = false;
    else if (c === COMMA && !angle) return i;
    i++;
  }
  return end;
}
