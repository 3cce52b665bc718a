/**
 * RTP/RTCP discrimination on one transport address (rtcp-mux).
 *
 * RFC 5761 §4: with RTP and RTCP on the same port, the second octet tells them apart: RTCP
 * packet types 192..223 (SR 200, RR 201, SDES 202, BYE 203, APP 204, RTPFB 205, PSFB 206,
 * XR 207, ...) land there, and RTP payload types 64..95 — whose marker-bit forms would collide —
 * must not be used. RFC 7983 §7: a first octet in 128..191 means RTP/RTCP (version 2), which
 * separates them from STUN (0..3), ZRTP (16..19), DTLS (20..63) and TURN channels (64..79).
 *
 * @see https://www.rfc-editor.org/rfc/rfc5761#section-4
 * @see https://www.rfc-editor.org/rfc/rfc7983#section-7
 */

import { checkRange } from './buffer-range.js';

const RTCP_PT_MIN = 192;
const RTCP_PT_MAX = 223;

/**
 * True when the bytes look like an RTCP packet: version 2, second octet in 192..223, at least
 * the 8-byte common header (SSRC included) and a length field that fits the datagram.
 *
 * @throws RangeError when offset/length lie outside `buf` (a programmer error, not wire input).
 * @see https://www.rfc-editor.org/rfc/rfc5761#section-4
 */
export function isRtcp(buf: Uint8Array, offset: number, length: number): boolean {
  checkRange('isRtcp', buf.length, offset, length);
  if (length < 8) return false;
  if (buf[offset]! >>> 6 !== 2) return false;
  const pt = buf[offset + 1]!;
  if (pt < RTCP_PT_MIN || pt > RTCP_PT_MAX) return false;
  const words = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  return (words + 1) * 4 <= length;
}

/**
 * True when the bytes look like RTP: version 2, 12 fixed bytes plus the CSRC list, and a
 * payload type outside 64..95 (reserved by RFC 5761 §4 so that RTP cannot be mistaken for RTCP).
 * A heuristic, as no RTP field is self-checking; the session's SDP is the real authority.
 *
 * @throws RangeError when offset/length lie outside `buf` (a programmer error, not wire input).
 * @see https://www.rfc-editor.org/rfc/rfc5761#section-4
 */
export function isLikelyRtp(buf: Uint8Array, offset: number, length: number): boolean {
  checkRange('isLikelyRtp', buf.length, offset, length);
  if (length < 12) return false;
  const b0 = buf[offset]!;
  if (b0 >>> 6 !== 2) return false;
  const pt = buf[offset + 1]! & 0x7f;
  if (pt >= 64 && pt <= 95) return false;
  return 12 + (b0 & 0x0f) * 4 <= length;
}
