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
  /**
   * Retired: no longer returned. A message with more header fields than {@link SIP_MAX_HEADERS}
   * is parsed; the fields past the cap are left out of the header table and counted in
   * `SipMessage.headersOverCap` (rejecting it lost the call). The value is kept so that status
   * numbers, and counters keyed by them, stay stable.
   */
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
  /**
   * Call-ID present but empty or blank (only whitespace, folded or not). RFC 3261 §25.1:
   * `callid = word [ "@" word ]`, at least one character; such a value names no dialog, and two
   * such messages must not be taken for one call.
   */
  BadCallId: 14,
} as const;
/** A value of {@link SipStatus}. */
export type SipStatus = (typeof SipStatus)[keyof typeof SipStatus];

/** Status names indexed by value, for counters and logs. */
export const SIP_STATUS_NAMES: readonly string[] = [
  'Ok', 'BodyTruncated', 'Empty', 'NoStartLine', 'BadStatusCode', 'BadVersion', 'HeaderWithoutColon',
  'BadHeaderName', 'TooManyHeaders', 'HeadersTruncated', 'NulByte', 'BadContentLength', 'BadCSeq',
  'MissingCallId', 'BadCallId',
];

/** True when `out` holds a message a call table may use (Ok or BodyTruncated). */
export function isSipMessageUsable(status: SipStatus): boolean {
  return status === SipStatus.Ok || status === SipStatus.BodyTruncated;
}

/**
 * Size of the header table of a {@link SipMessage}: bounds its memory. Header fields past it are
 * still read for the fields the message keeps (Call-ID, CSeq, From, To, Via, Contact, ...) but are
 * not indexed; the work per message stays linear in its bytes, which framing bounds.
 */
export const SIP_MAX_HEADERS = 256;
