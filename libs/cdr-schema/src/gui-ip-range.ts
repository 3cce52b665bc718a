/**
 * IP address or CIDR text -> the byte range of `VARBINARY(16)` values it covers, for the GUI's
 * "either party's signalling address" filter. Addresses are stored in the `INET6_ATON` layout
 * (4 bytes IPv4, 16 bytes IPv6), so a prefix is a contiguous range of same-length byte strings:
 * `10.1.0.0/16` is `0a010000 .. 0a01ffff`, and the filter is `LENGTH(col) = 4 AND col BETWEEN lo
 * AND hi` (the length test keeps a 16-byte IPv6 value whose first bytes fall between two 4-byte
 * bounds out of an IPv4 range).
 *
 * @packageDocumentation
 */
import { parseIpText } from '@callscope/packet';

/** The stored byte strings an address or prefix covers, bounds included. */
export interface IpByteRange {
  /** Lowest address of the range (4 or 16 bytes). */
  readonly lo: Buffer;
  /** Highest address of the range (same length as `lo`). */
  readonly hi: Buffer;
}

/**
 * Parses `10.0.0.1`, `10.0.0.0/8`, `2001:db8::1` or `2001:db8::/32` into its byte range; the bits
 * of the address below the prefix are ignored (`10.1.2.3/16` is `10.1.0.0/16`, as `ip route` reads it).
 *
 * @returns the range, or `null` if `text` is not an address with an optional prefix length
 *   within 0..32 (IPv4) or 0..128 (IPv6).
 */
export function parseIpRange(text: string): IpByteRange | null {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  // A zone index (`fe80::1%eth0`) names a link, not an address: refused rather than ignored here.
  if (addrText.includes('%')) return null;
  const bytes = parseIpText(addrText);
  if (bytes === null) return null;
  const bits = bytes.length * 8;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > bits) return null;
  }
  const lo = Buffer.from(bytes);
  const hi = Buffer.from(bytes);
  for (let i = 0; i < lo.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    const mask = (0xff << (8 - keep)) & 0xff;
    lo[i] = lo[i]! & mask;
    hi[i] = (hi[i]! & mask) | (~mask & 0xff);
  }
  return { lo, hi };
}
