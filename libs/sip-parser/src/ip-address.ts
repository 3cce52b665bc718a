import { COLON, isDigit } from './bytes.js';

/**
 * Parses dotted-quad IPv4 text in [start, end) (RFC 8866 §9 `IP4-address`). Returns the address
 * as an unsigned 32-bit number, or -1 when the text is not an IPv4 address.
 */
export function parseIpv4(buf: Uint8Array, start: number, end: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (isDigit(c)) {
      part = part * 10 + (c - 0x30);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * Parses IPv6 text in [start, end) (RFC 4291 §2.2: `::` compression and a trailing dotted IPv4
 * part allowed; surrounding brackets accepted) into eight 16-bit groups in `out`.
 * Returns false (leaving `out` zeroed) when the text is not an IPv6 address.
 */
export function parseIpv6(buf: Uint8Array, start: number, end: number, out: Uint16Array): boolean {
  out.fill(0);
  if (end - start >= 2 && buf[start] === 0x5b && buf[end - 1] === 0x5d) {
    start++;
    end--;
  }
  if (end - start < 2) return false;
  let groups = 0;
  let gap = -1;
  let i = start;
  if (buf[i] === COLON) {
    if (buf[i + 1] !== COLON) return false;
    gap = 0;
    i += 2;
    if (i === end) return true;
  }
  while (i < end) {
    if (groups >= 8) return fail(out);
    let j = i;
    let v = 0;
    while (j < end && j - i < 4 && hexValue(buf[j]!) >= 0) {
      v = v * 16 + hexValue(buf[j]!);
      j++;
    }
    if (j < end && buf[j] === 0x2e) {
      // Trailing IPv4 (e.g. ::ffff:192.0.2.1) takes the last two groups.
      const v4 = parseIpv4(buf, i, end);
      if (v4 < 0 || groups > 6) return fail(out);
      out[groups++] = v4 >>> 16;
      out[groups++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (j === i) return fail(out);
    out[groups++] = v;
    i = j;
    if (i === end) break;
    if (buf[i] !== COLON) return fail(out);
    i++;
    if (i < end && buf[i] === COLON) {
      if (gap >= 0) return fail(out);
      gap = groups;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return fail(out);
    }
  }
  if (gap < 0) return groups === 8 ? true : fail(out);
  if (groups >= 8) return fail(out);
  // Move the groups after '::' to the end.
  const tail = groups - gap;
  for (let k = 0; k < tail; k++) {
    out[7 - k] = out[groups - 1 - k]!;
    out[groups - 1 - k] = 0;
  }
  for (let k = gap; k < 8 - tail; k++) out[k] = 0;
  return true;
}

function fail(out: Uint16Array): false {
  out.fill(0);
  return false;
}
