/**
 * IP addresses as stored in `VARBINARY(16)` columns: 4 bytes for IPv4, 16 for IPv6 (network
 * byte order, the same layout as MariaDB's `INET6_ATON`), so an IPv4 address costs 4 bytes and
 * equality/range filters compare raw bytes.
 *
 * @packageDocumentation
 */

/**
 * Converts IPv4 dotted-quad (RFC 791) or IPv6 text (RFC 4291 §2.2, including `::` and an
 * embedded IPv4 tail) to its 4- or 16-byte form. A zone suffix (`%eth0`) is ignored.
 *
 * @returns the bytes, or `null` if `text` is not an address.
 */
export function ipToBytes(text: string): Buffer | null {
  if (!text.includes(':')) return parseIpv4(text);
  const zone = text.indexOf('%');
  const body = zone >= 0 ? text.slice(0, zone) : text;
  const out = Buffer.alloc(16);
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : (halves[0] ?? '').split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : (halves[1] ?? '').split(':')) : [];
  const groups: number[] = [];
  const pushGroups = (parts: string[], into: number[]): boolean => {
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] ?? '';
      if (part.includes('.')) {
        // An embedded IPv4 address may only be the very last group (RFC 4291 §2.2 form 3).
        if (i !== parts.length - 1) return false;
        const v4 = parseIpv4(part);
        if (v4 === null) return false;
        into.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return false;
      into.push(parseInt(part, 16));
    }
    return true;
  };
  const tailGroups: number[] = [];
  if (!pushGroups(head, groups)) return null;
  if (halves.length === 2 && head.some((p) => p.includes('.'))) return null;
  if (!pushGroups(tail, tailGroups)) return null;
  const total = groups.length + tailGroups.length;
  if (halves.length === 2 ? total > 7 : total !== 8) return null;
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  tailGroups.forEach((g, i) => out.writeUInt16BE(g, 16 - (tailGroups.length - i) * 2));
  return out;
}

function parseIpv4(text: string): Buffer | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? '';
    if (!/^\d{1,3}$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    out[i] = value;
  }
  return out;
}

/**
 * Formats 4 or 16 address bytes as text: dotted quad, or RFC 5952 canonical IPv6 (lowercase,
 * longest run of two or more zero groups compressed to `::`, first run on a tie).
 *
 * @throws RangeError if `bytes` is neither 4 nor 16 bytes long.
 */
export function ipFromBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new RangeError(`an IP address has 4 or 16 bytes, got ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * A bounded memo of {@link ipToBytes}. A sensor's calls go between a few signalling and media
 * addresses over and over, and parsing one costs about as much as a whole row's other columns;
 * the writer converts each call's addresses once to validate and once to build rows.
 * The returned buffers are shared: callers must not modify them.
 */
export class IpBytesCache {
  private readonly map = new Map<string, Buffer | null>();
  private readonly maxEntries: number;

  /** @param maxEntries entries kept; the memo starts over when it is full (default 4096). */
  constructor(maxEntries = 4096) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    this.maxEntries = maxEntries;
  }

  /** Entries held. */
  get size(): number {
    return this.map.size;
  }

  /** {@link ipToBytes} of `text`, from the memo when it was seen before. */
  bytes(text: string): Buffer | null {
    let out = this.map.get(text);
    if (out === undefined) {
      out = ipToBytes(text);
      if (this.map.size >= this.maxEntries) this.map.clear();
      this.map.set(text, out);
    }
    return out;
  }
}
