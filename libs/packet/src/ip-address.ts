/**
 * Address helpers. The decoder stores IPv4 addresses as unsigned 32-bit numbers and IPv6 addresses
 * as four big-endian 32-bit words; these helpers turn them into text or map keys only when asked.
 */

/** Dotted-quad text of an IPv4 address held as an unsigned 32-bit number (allocates a string). */
export function formatIpv4(ip: number): string {
  return `${(ip >>> 24) & 0xff}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/**
 * RFC 5952 text of an IPv6 address held as four 32-bit words (lower case, longest run of two or more
 * zero groups compressed to `::`, first run on ties). Allocates a string.
 */
export function formatIpv6(words: ArrayLike<number>): string {
  const g: number[] = [];
  for (let i = 0; i < 4; i++) {
    const w = (words[i] ?? 0) >>> 0;
    g.push(w >>> 16, w & 0xffff);
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** Text of an address of either family: `version` 4 uses `v4`, 6 uses `v6`. Allocates a string. */
export function formatIp(version: number, v4: number, v6: ArrayLike<number>): string {
  if (version === 4) return formatIpv4(v4);
  if (version === 6) return formatIpv6(v6);
  return '';
}

/** Words of {@link formatIpBytes}: one conversion buffer, no allocation per call besides the text. */
const bytesWords = new Uint32Array(4);

/**
 * Text of an address held as network-order bytes (4: dotted quad; 16: RFC 5952 text as
 * {@link formatIpv6}), e.g. a `VARBINARY(16)` column or the result of `parseIpText`.
 *
 * @throws RangeError if `bytes` is neither 4 nor 16 bytes long.
 */
export function formatIpBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new RangeError(`an IP address has 4 or 16 bytes, got ${bytes.length}`);
  for (let i = 0; i < 4; i++) {
    bytesWords[i] = ((bytes[4 * i]! << 24) | (bytes[4 * i + 1]! << 16) | (bytes[4 * i + 2]! << 8) | bytes[4 * i + 3]!) >>> 0;
  }
  return formatIpv6(bytesWords);
}

/**
 * Exact numeric map key for an IPv4 endpoint: `ip * 65536 + port` (below 2^48, so a safe integer;
 * no allocation, no collision).
 */
export function ipv4PortKey(ip: number, port: number): number {
  return (ip >>> 0) * 65536 + (port & 0xffff);
}

/**
 * Numeric hash of an IPv6 endpoint (53 bits, FNV-1a style over the words and the port) for a first
 * map lookup without allocating. It can collide: a table keyed by it must compare the stored
 * address words on a hit, or use {@link ipv6PortKey} when an exact key is simpler.
 */
export function ipv6PortHash(words: ArrayLike<number>, port: number): number {
  let hi = 0x811c9dc5;
  let lo = 0x01000193 ^ (port & 0xffff);
  for (let i = 0; i < 4; i++) {
    const w = (words[i] ?? 0) >>> 0;
    hi = Math.imul(hi ^ w, 0x01000193) >>> 0;
    lo = Math.imul(lo ^ ((w >>> 16) | (w << 16)), 0x5bd1e995) >>> 0;
  }
  return (hi & 0x1fffff) * 4294967296 + lo;
}

/** Exact string key for an IPv6 endpoint: 32 hex digits, `/`, port (allocates). */
export function ipv6PortKey(words: ArrayLike<number>, port: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) s += ((words[i] ?? 0) >>> 0).toString(16).padStart(8, '0');
  return `${s}/${port & 0xffff}`;
}
