/**
 * Link-layer header types callscope reads and writes: the numbers in the pcap global header and
 * the pcapng Interface Description Block, as registered by tcpdump.org. The one table of the
 * workspace: the packet decoder, the capture readers and writers and the live capture all use it.
 *
 * @see https://www.tcpdump.org/linktypes.html
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcaplinktype/
 */
export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order, then the IP packet. */
  Null: 0,
  /** IEEE 802.3 Ethernet (DIX and 802.3 frames). */
  Ethernet: 1,
  /** Raw IP as libpcap's DLT_RAW on Linux reports it live (files use 101). */
  RawDlt: 12,
  /** Raw IP, no link header; the version nibble tells IPv4 from IPv6. */
  Raw: 101,
  /** OpenBSD loopback: 4-byte address family, always big-endian, then the IP packet. */
  Loop: 108,
  /** Linux "cooked" capture v1 (`tcpdump -i any`), 16-byte pseudo header. */
  LinuxSll: 113,
  /** Raw IPv4, no link header. */
  Ipv4: 228,
  /** Raw IPv6, no link header. */
  Ipv6: 229,
  /** Linux "cooked" capture v2, 20-byte pseudo header with interface index. */
  LinuxSll2: 276,
} as const;

/** One of the values of {@link LinkType}. */
export type LinkType = (typeof LinkType)[keyof typeof LinkType];
