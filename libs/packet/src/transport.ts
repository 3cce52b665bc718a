/** What kind of transport result {@link DecodedPacket} holds after `DecodeStatus.Ok`. */
export const Transport = {
  /** Nothing decoded (status was not Ok). */
  None: 0,
  /** UDP (RFC 768): ports and payload are set. */
  Udp: 1,
  /** TCP (RFC 9293): ports, seq/ack, flags and payload are set. */
  Tcp: 2,
  /** Any other IP protocol (ICMP, SCTP, ESP-less IPv6 "no next header", ...): `ipProtocol` and payload are set. */
  Other: 3,
} as const;

/** One of the values of {@link Transport}. */
export type Transport = (typeof Transport)[keyof typeof Transport];
