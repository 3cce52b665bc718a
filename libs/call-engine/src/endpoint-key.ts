/**
 * Media endpoint keys: the call table finds the call of an RTP packet by its (address, port).
 * IPv4 endpoints use an exact number (`ipv4PortKey` of @callscope/packet) so the per-packet
 * lookup allocates nothing; IPv6 endpoints use `ipv6PortKey` text. An SDP address gets its key
 * from the numbers the SDP parser read out of the message bytes (sip-adapter.ts); text is parsed
 * here only for what arrives as text (the SIP source address, an SDP address whose type token
 * does not match it), with @callscope/packet's address parsers.
 */
import { ipv4PortKey, ipv6PortKey, parseIpv4Text, parseIpv6Text } from '@callscope/packet';

const groups = new Uint16Array(8);

/** The endpoint key of an address given as text, or null when it is not an IP address. */
export function endpointKeyFromText(ip: string, port: number): number | string | null {
  const v4 = parseIpv4Text(ip);
  if (v4 >= 0) return ipv4PortKey(v4, port);
  if (!parseIpv6Text(ip, groups)) return null;
  return endpointKeyFromIpv6Groups(groups, port);
}

/**
 * The endpoint key of an IPv6 address given as the eight 16-bit groups an address parser fills
 * (`SdpAddress.ipv6` of @callscope/sip-parser): the same key {@link endpointKeyFromText} gives
 * for its text.
 */
export function endpointKeyFromIpv6Groups(ipv6: Uint16Array, port: number): string {
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = ((ipv6[2 * i]! << 16) | ipv6[2 * i + 1]!) >>> 0;
  return ipv6PortKey(words, port);
}
