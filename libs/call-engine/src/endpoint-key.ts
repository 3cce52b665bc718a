/**
 * Media endpoint keys: the call table finds the call of an RTP packet by its (address, port).
 * IPv4 endpoints use an exact number (`ipv4PortKey` of @callscope/packet) so the per-packet
 * lookup allocates nothing; IPv6 endpoints use `ipv6PortKey` text. SDP gives addresses as text,
 * parsed here once per SDP body with @callscope/sip-parser's address parsers.
 */
import { ipv4PortKey, ipv6PortKey } from '@callscope/packet';
import { parseIpv4 as parseIpv4Bytes, parseIpv6 as parseIpv6Bytes } from '@callscope/sip-parser';

/** ASCII bytes of an address text (anything else cannot be an address and fails the parse). */
function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = Math.min(text.charCodeAt(i), 0xff);
  return out;
}

/** IPv4 dotted text to an unsigned 32-bit number, or -1 when it is not one. */
export function parseIpv4(text: string): number {
  return parseIpv4Bytes(asciiBytes(text), 0, text.length);
}

const groups = new Uint16Array(8);

/** The endpoint key of an address given as text, or null when it is not an IP address. */
export function endpointKeyFromText(ip: string, port: number): number | string | null {
  const bytes = asciiBytes(ip);
  const v4 = parseIpv4Bytes(bytes, 0, bytes.length);
  if (v4 >= 0) return ipv4PortKey(v4, port);
  if (!parseIpv6Bytes(bytes, 0, bytes.length, groups)) return null;
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  return ipv6PortKey(words, port);
}
