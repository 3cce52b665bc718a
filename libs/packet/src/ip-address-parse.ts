/**
 * Parsing of IP address text: the one parser of the workspace. The byte forms read the text where
 * it lies (an SDP body, a header) without allocating; the string forms copy ASCII text into a
 * scratch buffer and call them, so every caller agrees on what an address is.
 *
 * Results use the decoder's shapes: IPv4 as an unsigned 32-bit number, IPv6 as eight 16-bit
 * groups; {@link parseIpText} gives the 4 or 16 network-order bytes of either family.
 */

const DOT = 0x2e;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function checkRange(buf: Uint8Array, start: number, end: number): void {
  if (!(start >= 0 && start <= end && end <= buf.length)) {
    throw new RangeError(`address range [${start}, ${end}) is outside a buffer of ${buf.length} bytes`);
  }
}

/**
 * Parses dotted-quad IPv4 text in `buf[start, end)` (RFC 791 / RFC 8866 §9 `IP4-address`: four
 * decimal parts of 1 to 3 digits, each at most 255).
 *
 * @returns the address as an unsigned 32-bit number, or -1 when the text is not an IPv4 address.
 * @throws RangeError when `[start, end)` is not inside `buf` (a programmer error).
 */
export function parseIpv4(buf: Uint8Array, start: number, end: number): number {
  checkRange(buf, start, end);
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x30 && c <= 0x39) {
      part = part * 10 + (c - 0x30);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === DOT) {
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

function fail(out: Uint16Array): false {
  out.fill(0);
  return false;
}

/**
 * Parses IPv6 text in `buf[start, end)` (RFC 4291 §2.2: `::` compression and a trailing dotted
 * IPv4 part allowed; surrounding brackets, as in URIs and SDP, accepted) into eight 16-bit groups.
 *
 * @param out - eight groups, written in place (zeroed when the text is not an address)
 * @returns false when the text is not an IPv6 address.
 * @throws RangeError when `[start, end)` is not inside `buf` (a programmer error).
 */
export function parseIpv6(buf: Uint8Array, start: number, end: number, out: Uint16Array): boolean {
  checkRange(buf, start, end);
  out.fill(0);
  if (end - start >= 2 && buf[start] === OPEN_BRACKET && buf[end - 1] === CLOSE_BRACKET) {
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
    if (j < end && buf[j] === DOT) {
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

/** Longest address text worth parsing: a full IPv6 with an IPv4 tail and brackets is 47 bytes. */
const MAX_ADDRESS_TEXT = 64;
const scratch = new Uint8Array(MAX_ADDRESS_TEXT);
const scratchGroups = new Uint16Array(8);

/**
 * Copies ASCII `text` into the scratch buffer. Returns its length, or -1 when the text is too long
 * or holds a character outside ASCII: neither can be an address.
 */
function toScratch(text: string): number {
  const n = text.length;
  if (n > MAX_ADDRESS_TEXT) return -1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return -1;
    scratch[i] = c;
  }
  return n;
}

/** {@link parseIpv4} of a string: the address as an unsigned 32-bit number, or -1. */
export function parseIpv4Text(text: string): number {
  const n = toScratch(text);
  return n < 0 ? -1 : parseIpv4(scratch, 0, n);
}

/** {@link parseIpv6} of a string (brackets accepted) into eight groups; false if not an address. */
export function parseIpv6Text(text: string, out: Uint16Array): boolean {
  const n = toScratch(text);
  return n < 0 ? fail(out) : parseIpv6(scratch, 0, n, out);
}

/**
 * Converts address text to its network-order bytes: 4 for dotted-quad IPv4, 16 for IPv6 text
 * (RFC 4291 §2.2). A zone suffix (`fe80::1%eth0`, RFC 4007 §11) is ignored; brackets are URI
 * syntax (RFC 3986 §3.2.2), not address text, and are refused. Allocates the result.
 *
 * @returns a new array of 4 or 16 bytes, or null when `text` is not an IP address.
 */
export function parseIpText(text: string): Uint8Array | null {
  if (!text.includes(':')) {
    const v4 = parseIpv4Text(text);
    if (v4 < 0) return null;
    return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff);
  }
  if (text.charCodeAt(0) === OPEN_BRACKET) return null;
  const zone = text.indexOf('%');
  if (!parseIpv6Text(zone >= 0 ? text.slice(0, zone) : text, scratchGroups)) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = scratchGroups[i]!;
    out[2 * i] = g >>> 8;
    out[2 * i + 1] = g & 0xff;
  }
  return out;
}
