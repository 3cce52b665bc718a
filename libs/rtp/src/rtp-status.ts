/**
 * Result of {@link parseRtpHeader}: one number per outcome so a caller can bump
 * `counts[status]` without allocating. Values are stable (they index counter arrays), new
 * statuses are appended. Only `Ok` leaves the `out` object valid.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3550#section-5.1
 */
export const RtpStatus = {
  /** A well-formed RTP header; `out` holds it. */
  Ok: 0,
  /** Fewer than the 12 fixed header bytes. */
  TooShort: 1,
  /** Version field is not 2 (RFC 3550 §5.1). */
  BadVersion: 2,
  /** The CSRC list (CC * 4 bytes) runs past the packet. */
  TruncatedCsrc: 3,
  /** The extension header or its declared length runs past the packet (RFC 3550 §5.3.1). */
  TruncatedExtension: 4,
  /** P bit set but the last octet is 0 or larger than what follows the header (RFC 3550 §5.1). */
  BadPadding: 5,
} as const;

/** One of the {@link RtpStatus} values. */
export type RtpStatus = (typeof RtpStatus)[keyof typeof RtpStatus];

/** Number of {@link RtpStatus} values, to size counter arrays. */
export const RTP_STATUS_COUNT = 6;
