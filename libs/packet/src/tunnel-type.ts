/**
 * Kinds of tunnel the decoder removes, recorded outermost first in
 * {@link DecodedPacket.tunnelTypes}.
 */
export const TunnelType = {
  /** IPv4 or IPv6 directly inside IPv4 or IPv6 (IP protocol 4 or 41), RFC 2003 / RFC 2473. */
  IpInIp: 1,
  /** GRE carrying IP, MPLS or Ethernet (RFC 2784, RFC 2890, RFC 1701 0x6558). */
  Gre: 2,
  /** ERSPAN type I/II inside GRE (protocol 0x88be). */
  Erspan2: 3,
  /** ERSPAN type III inside GRE (protocol 0x22eb). */
  Erspan3: 4,
  /** VXLAN over UDP (RFC 7348). */
  Vxlan: 5,
  /** TZSP over UDP. */
  Tzsp: 6,
  /** HEP v2 over UDP. */
  Hep2: 7,
  /** HEP v3 over UDP or TCP. */
  Hep3: 8,
  /** Ethernet pseudowire over MPLS after a control word (RFC 4448, RFC 4385). */
  MplsPseudowire: 9,
} as const;

/** One of the values of {@link TunnelType}. */
export type TunnelType = (typeof TunnelType)[keyof typeof TunnelType];

/** Names by value, for logs. */
export const TUNNEL_TYPE_NAMES: readonly string[] = ['', 'ip-in-ip', 'gre', 'erspan2', 'erspan3', 'vxlan', 'tzsp', 'hep2', 'hep3', 'mpls-pw'];
