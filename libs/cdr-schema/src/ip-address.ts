/**
 * IP addresses as stored in `VARBINARY(16)` columns: 4 bytes for IPv4, 16 for IPv6 (network
 * byte order, the same layout as MariaDB's `INET6_ATON`), so an IPv4 address costs 4 bytes and
 * equality/range filters compare raw bytes. The parsing and formatting are @callscope/packet's
 * (`parseIpText`, `formatIpBytes`); this module adds what mysql2 needs: a `Buffer`, and a memo.
 *
 * @packageDocumentation
 */
import { parseIpText } from '@callscope/packet';

/**
 * `parseIpText` of @callscope/packet as a `Buffer` (what mysql2 escapes as a binary literal):
 * 4 bytes for IPv4, 16 for IPv6 text (a zone suffix such as `%eth0` is ignored).
 *
 * @returns the bytes, or `null` if `text` is not an address.
 */
export function ipToBytes(text: string): Buffer | null {
  const bytes = parseIpText(text);
  return bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
