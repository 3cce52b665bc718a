/**
 * Link-layer header types that callscope's decoder understands, as registered by tcpdump.org.
 * They are the numbers in the pcap global header and the pcapng Interface Description Block.
 *
 * @see https://www.tcpdump.org/linktypes.html
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcaplinktype/
 */

/** BSD loopback: 4-byte host-order address family, then the IP packet. */
export const LINKTYPE_NULL = 0;
/** IEEE 802.3 Ethernet (DIX and 802.3 frames). */
export const LINKTYPE_ETHERNET = 1;
/** Raw IP, no link header; the version nibble tells IPv4 from IPv6. */
export const LINKTYPE_RAW = 101;
/** OpenBSD loopback: 4-byte network-order address family, then the IP packet. */
export const LINKTYPE_LOOP = 108;
/** Linux "cooked" capture v1 (`tcpdump -i any`), 16-byte pseudo header. */
export const LINKTYPE_LINUX_SLL = 113;
/** Raw IPv4, no link header. */
export const LINKTYPE_IPV4 = 228;
/** Raw IPv6, no link header. */
export const LINKTYPE_IPV6 = 229;
/** Linux "cooked" capture v2, 20-byte pseudo header with interface index. */
export const LINKTYPE_LINUX_SLL2 = 276;
