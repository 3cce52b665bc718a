/**
 * Result of {@link PacketDecoder.decode}: one number per outcome, so a caller can switch on it and
 * bump `counts[status]` without allocating. `Ok` is the only status for which the transport fields
 * of the `out` object are valid; `Fragment` means the datagram was held for reassembly.
 *
 * The table is ordered by layer, outermost first; values are stable (they index counter arrays and
 * may be exported to metrics), so new statuses are appended, never inserted.
 */
export const DecodeStatus = {
  /** A transport result (UDP, TCP or another IP protocol) is in `out`. */
  Ok: 0,
  /** An IP fragment was stored; the datagram completes when its last missing fragment arrives. */
  Fragment: 1,
  /** The link type number is not one the decoder knows. */
  UnsupportedLinkType: 2,
  /** Fewer bytes than the link-layer header (Ethernet 14, SLL 16, SLL2 20, NULL/LOOP 4). */
  TruncatedLink: 3,
  /** An 802.1Q / 802.1ad tag is cut short. */
  TruncatedVlan: 4,
  /** An MPLS label stack entry (or the pseudowire control word) is cut short. */
  TruncatedMpls: 5,
  /** The link/VLAN/GRE protocol field names something that is not IP (ARP, LLDP, LLC, ...). */
  UnsupportedEtherType: 6,
  /**
   * Fewer than 20 (IPv4) or 40 (IPv6) bytes where an IP header must start, or the header (IHL * 4),
   * IPv4 total length or IPv6 payload length runs past the captured bytes (snaplen cut or a lying length).
   */
  TruncatedIp: 7,
  /** The version nibble does not match the protocol announced by the layer below. */
  BadIpVersion: 8,
  /** IPv4 IHL below 5 (RFC 791 section 3.1: at least 20 bytes). */
  BadIhl: 9,
  /** IPv4 total length smaller than its own header (IHL * 4). */
  BadIpLength: 10,
  /** An IPv6 extension header is cut short or its length runs past the packet. */
  BadIpv6ExtHeader: 11,
  /** IPv6 ESP (RFC 4303): the rest is encrypted, nothing to decode. */
  Encrypted: 12,
  /** A fragment that cannot be part of a valid datagram (non-last length not a multiple of 8, past the end, empty). */
  BadFragment: 13,
  /** The fragment's datagram was discarded: it grew past the size limit or the fragment-count limit. */
  FragmentTooBig: 14,
  /** Fewer than 8 bytes of UDP header. */
  TruncatedUdp: 15,
  /** UDP length field below 8 or above the IP payload length. */
  BadUdpLength: 16,
  /** Fewer than 20 bytes of TCP header. */
  TruncatedTcp: 17,
  /** TCP data offset below 5 or past the IP payload. */
  BadTcpHeaderLength: 18,
  /** GRE header (with its optional checksum/key/sequence fields) is cut short. */
  TruncatedGre: 19,
  /** GRE version other than 0 or routing present (RFC 2784 section 2.3, RFC 1701 source routes). */
  UnsupportedGre: 20,
  /** ERSPAN type II/III header (or the type III platform sub-header) is cut short. */
  TruncatedErspan: 21,
  /** ERSPAN version field or frame type not supported. */
  UnsupportedErspan: 22,
  /** Fewer than 8 bytes of VXLAN header on the VXLAN port. */
  TruncatedVxlan: 23,
  /** VXLAN header without the I (valid VNI) flag (RFC 7348 section 5). */
  BadVxlan: 24,
  /** TZSP header or one of its tagged fields is cut short, or no END tag. */
  TruncatedTzsp: 25,
  /** TZSP version other than 1, a packet type that carries no frame, or an unsupported encapsulation. */
  UnsupportedTzsp: 26,
  /** HEP header/chunk cut short, or a HEP3 chunk length that lies. */
  TruncatedHep: 27,
  /** HEP without the mandatory fields (family, addresses, ports, payload) or an unknown version. */
  BadHep: 28,
  /** More nested tunnels than `maxTunnelDepth`: a loop or a hostile packet. */
  TunnelDepthExceeded: 29,
} as const;

/** One of the values of {@link DecodeStatus}. */
export type DecodeStatus = (typeof DecodeStatus)[keyof typeof DecodeStatus];

/** Number of statuses; sizes counter arrays indexed by status. */
export const DECODE_STATUS_COUNT = 30;

/** Status names by value, for logs and metric labels (`DECODE_STATUS_NAMES[status]`). */
export const DECODE_STATUS_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, value] of Object.entries(DecodeStatus)) names[value] = name;
  return names;
})();
