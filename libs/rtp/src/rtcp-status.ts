/**
 * Result of {@link parseRtcpCompound}; values are stable (they index counter arrays), new ones
 * are appended. Only `Ok` leaves the `out` object fully valid.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3550#appendix-A.2
 */
export const RtcpStatus = {
  /** Every packet of the compound is well formed; `out` holds them. */
  Ok: 0,
  /** Fewer than the 8 bytes of one RTCP header + SSRC, or a packet header cut short. */
  TooShort: 1,
  /** Version field is not 2. */
  BadVersion: 2,
  /** A packet's length field runs past the datagram (RFC 3550 §6.4.1 length, in words minus one). */
  BadLength: 3,
  /** Padding on a packet other than the last, or a padding count of 0 / past the packet (RFC 3550 A.2). */
  BadPadding: 4,
  /** The compound does not start with SR or RR (RFC 3550 §6.1, A.2). */
  FirstNotReport: 5,
  /** SR/RR report count (RC) says more 24-byte blocks than the packet holds. */
  BadReportCount: 6,
  /** An SDES chunk or item runs past its packet. */
  BadSdes: 7,
  /** A BYE SSRC list or reason runs past its packet. */
  BadBye: 8,
  /** An APP packet shorter than SSRC + name. */
  BadApp: 9,
  /** An XR report block runs past its packet, or a VoIP metrics block has the wrong length. */
  BadXrBlock: 10,
} as const;

/** One of the {@link RtcpStatus} values. */
export type RtcpStatus = (typeof RtcpStatus)[keyof typeof RtcpStatus];

/** Number of {@link RtcpStatus} values, to size counter arrays. */
export const RTCP_STATUS_COUNT = 11;
