/**
 * Link-layer header types the decoder understands, numbered as in pcap/pcapng files
 * (https://www.tcpdump.org/linktypes.html).
 */
export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order. */
  Null: 0,
  /** IEEE 802.3 Ethernet. */
  Ethernet: 1,
  /** Raw IP as libpcap's DLT_RAW on Linux reports it live (files use 101). */
  RawDlt: 12,
  /** Raw IP, version taken from the first nibble. */
  Raw: 101,
  /** OpenBSD loopback: 4-byte address family, always big-endian. */
  Loop: 108,
  /** Linux cooked capture v1 (`tcpdump -i any`), 16-byte header. */
  LinuxSll: 113,
  /** Raw IPv4. */
  Ipv4: 228,
  /** Raw IPv6. */
  Ipv6: 229,
  /** Linux cooked capture v2, 20-byte header. */
  LinuxSll2: 276,
} as const;

/** One of the values of {@link LinkType}. */
export type LinkType = (typeof LinkType)[keyof typeof LinkType];
