/**
 * Media endpoint keys: the call table finds the call of an RTP packet by its (address, port).
 * IPv4 endpoints use an exact number (`ip * 65536 + port`, the same as `ipv4PortKey` of
 * @callscope/packet) so the per-packet lookup allocates nothing; IPv6 endpoints use a string.
 * SDP gives addresses as text, parsed here once per SDP body.
 */
import { ipv4PortKey, ipv6PortKey } from '@callscope/packet';

/** IPv4 dotted text to an unsigned 32-bit number, or -1 when it is not one. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) return -1;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return -1;
    const v = Number(p);
    if (v > 255) return -1;
    n = n * 256 + v;
  }
  return n;
}

/** IPv6 text (RFC 4291 §2.2 forms, incl. `::` and a trailing dotted IPv4) to four words, or null. */
export function parseIpv6(text: string): Uint32Array | null {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string | undefined): number[] | null => {
    if (h === undefined || h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (g.includes('.')) {
        const v4 = parseIpv4(g);
        if (v4 < 0) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0 || (halves.length === 2 && missing < 1)) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = (((all[2 * i] ?? 0) << 16) | (all[2 * i + 1] ?? 0)) >>> 0;
  return words;
}

/** The endpoint key of an address given as text, or null when it is not an IP address. */
export function endpointKeyFromText(ip: string, port: number): number | string | null {
  const v4 = parseIpv4(ip);
  if (v4 >= 0) return ipv4PortKey(v4, port);
  const v6 = parseIpv6(ip);
  return v6 === null ? null : ipv6PortKey(v6, port);
}
