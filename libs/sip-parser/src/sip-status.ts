/**
 * Result of {@link parseSipMessage}. `Ok` and `BodyTruncated` leave a usable message in `out`
 * (see {@link isSipMessageUsable}); every other value is a rejection reason to count, one
 * counter per value (`malformed{proto="sip",reason}`).
 */
export const SipStatus = {
  /** Start line, headers and body parsed. */
  Ok: 0,
  /** Headers parsed, but Content-Length promises more body than the datagram holds (UDP truncation, RFC 3261 §18.3). `body` holds what is there. */
  BodyTruncated: 1,
  /** Nothing but CRLF keepalives (RFC 5626 §3.5.1) or zero bytes. */
  Empty: 2,
  /** The first line is neither a Request-Line nor a Status-Line (RFC 3261 §7.1, §7.2). */
  NoStartLine: 3,
  /** Status-Line with a status code that is not three digits in 100..699 (RFC 3261 §7.2, §21). */
  BadStatusCode: 4,
  /** SIP-Version other than SIP/2.0 (RFC 3261 §7.1). */
  BadVersion: 5,
  /** A header line without a colon (RFC 3261 §7.3.1). */
  HeaderWithoutColon: 6,
  /** Empty header name or a name with non-token bytes. */
  BadHeaderName: 7,
  /** More header fields than {@link SIP_MAX_HEADERS}. */
  TooManyHeaders: 8,
  /** The header section does not end with an empty line (message cut inside the headers). */
  HeadersTruncated: 9,
  /** A NUL byte in the start line or headers (never valid there; a common fuzzing and evasion vector). */
  NulByte: 10,
  /** Content-Length is not a decimal number (RFC 3261 §20.14). */
  BadContentLength: 11,
  /** CSeq is not `number LWS method` with a 32-bit number (RFC 3261 §8.1.1.5, §20.16). */
  BadCSeq: 12,
  /** No Call-ID header (RFC 3261 §8.1.1: mandatory; a dialog cannot be followed without it). */
  MissingCallId: 13,
} as const;
/** A value of {@link SipStatus}. */
export type SipStatus = (typeof SipStatus)[keyof typeof SipStatus];

/** Status names indexed by value, for counters and logs. */
export const SIP_STATUS_NAMES: readonly string[] = [
  'Ok', 'BodyTruncated', 'Empty', 'NoStartLine', 'BadStatusCode', 'BadVersion', 'HeaderWithoutColon',
  'BadHeaderName', 'TooManyHeaders', 'HeadersTruncated', 'NulByte', 'BadContentLength', 'BadCSeq',
  'MissingCallId',
];

/** True when `out` holds a message a call table may use (Ok or BodyTruncated). */
export function isSipMessageUsable(status: SipStatus): boolean {
  return status === SipStatus.Ok || status === SipStatus.BodyTruncated;
}

/** Cap on header fields per message: bounds the work a hostile message can cause. */
export const SIP_MAX_HEADERS = 256;
