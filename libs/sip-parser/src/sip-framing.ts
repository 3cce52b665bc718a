import { COLON, CR, LF, SP, HTAB, ascii, equalsLower, isDigit, isTokenChar, lower, parseDecimal, skipLws, trimEnd } from './bytes.js';

/**
 * How a stream buffer relates to SIP message boundaries (RFC 3261 §18.3: on stream transports
 * the message length comes from Content-Length).
 */
export const SipFraming = {
  /** The buffer does not start with a SIP start line (after keepalive CRLFs). */
  NotSip: 0,
  /** A message has begun but is not complete yet (or only keepalives so far): wait for more. */
  Partial: 1,
  /** Exactly one complete message (plus optional leading keepalives). */
  Complete: 2,
  /** One complete message followed by more bytes (the next message or part of it). */
  Multiple: 3,
} as const;
/** A value of {@link SipFraming}. */
export type SipFraming = (typeof SipFraming)[keyof typeof SipFraming];

/** Where the first message in a stream buffer lies; filled by {@link frameSipMessage}. */
export class SipFrame {
  /** Start of the message (after leading CRLF keepalives). */
  offset = 0;
  /** Length of the whole message (headers + body); valid for Complete/Multiple. */
  length = 0;
  /** Leading keepalive bytes skipped before the message (RFC 5626 §3.5.1 CRLF, CRLFCRLF). */
  keepaliveBytes = 0;
  /** Header section length including the empty line; 0 while unknown. */
  headerLength = 0;
  /** Content-Length value (0 when the header is missing). */
  contentLength = 0;
  /** True when no Content-Length header was found (required on streams, RFC 3261 §20.14). */
  missingContentLength = false;
}

const CONTENT_LENGTH = ascii('content-length');
/** Largest header section accepted while looking for its end; beyond it the data is not SIP. */
export const SIP_MAX_HEADER_BYTES = 65536;

/**
 * Finds the first SIP message in `buf[offset, offset+length)` of a stream: skips keepalive
 * CRLFs, checks that a start line begins, finds the empty line ending the headers and adds
 * Content-Length (missing = 0). Does not validate the message: run {@link parseSipMessage} on
 * the framed bytes. Never throws on wire input; allocates nothing.
 *
 * @throws RangeError when offset/length lie outside `buf` (a programmer error).
 */
export function frameSipMessage(buf: Uint8Array, offset: number, length: number, out: SipFrame): SipFraming {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buf.length) {
    throw new RangeError(`range ${offset}+${length} outside buffer of ${buf.length}`);
  }
  const end = offset + length;
  let i = offset;
  while (i < end && (buf[i] === CR || buf[i] === LF)) i++;
  out.offset = i;
  out.length = 0;
  out.keepaliveBytes = i - offset;
  out.headerLength = 0;
  out.contentLength = 0;
  out.missingContentLength = false;
  if (i >= end) return SipFraming.Partial;
  const lineCheck = looksLikeStartLine(buf, i, end);
  if (lineCheck === 0) return SipFraming.NotSip;
  // Find the empty line; look at each header line for Content-Length on the way.
  let lineStart = i;
  let contentLength = -1;
  let k = i;
  for (;;) {
    while (k < end && buf[k] !== LF) k++;
    if (k >= end) {
      return k - i > SIP_MAX_HEADER_BYTES ? SipFraming.NotSip : SipFraming.Partial;
    }
    if (lineStart !== i && contentLength < 0) contentLength = contentLengthOf(buf, lineStart, k);
    const next = k + 1;
    if (next >= end) return next - i > SIP_MAX_HEADER_BYTES ? SipFraming.NotSip : SipFraming.Partial;
    if (buf[next] === LF) {
      k = next + 1;
      break;
    }
    if (buf[next] === CR) {
      if (next + 1 >= end) return SipFraming.Partial;
      if (buf[next + 1] === LF) {
        k = next + 2;
        break;
      }
    }
    lineStart = next;
    k = next;
    if (k - i > SIP_MAX_HEADER_BYTES) return SipFraming.NotSip;
  }
  if (lineCheck === 2) return SipFraming.NotSip; // the start line was complete and is not SIP
  out.headerLength = k - i;
  out.missingContentLength = contentLength < 0;
  out.contentLength = contentLength < 0 ? 0 : contentLength;
  const total = out.headerLength + out.contentLength;
  out.length = total;
  const available = end - i;
  if (available < total) return SipFraming.Partial;
  return available === total ? SipFraming.Complete : SipFraming.Multiple;
}

/**
 * 1 when [start, end) begins like a Request-Line or Status-Line (or is too short to tell),
 * 0 when it cannot be one, 2 when the whole first line is present but is not a start line.
 */
function looksLikeStartLine(buf: Uint8Array, start: number, end: number): 0 | 1 | 2 {
  let i = start;
  while (i < end && isTokenChar(buf[i]!) && buf[i] !== 0x2f) i++;
  if (i === end) return 1; // a token so far
  if (i === start) return 0;
  const c = buf[i]!;
  if (c === 0x2f) {
    // "SIP/2.0 ..." status line
    if (i - start !== 3 || lower(buf[start]!) !== 0x73 || lower(buf[start + 1]!) !== 0x69 || lower(buf[start + 2]!) !== 0x70) return 0;
    return 1;
  }
  if (c !== SP) return 0;
  // Request-Line: the first line must end with " SIP/2.0".
  let lf = i;
  while (lf < end && buf[lf] !== LF) {
    if (buf[lf] === 0) return 0;
    lf++;
  }
  if (lf >= end) return 1;
  const lineEnd = lf > i && buf[lf - 1] === CR ? lf - 1 : lf;
  return isRequestLine(buf, start, lineEnd) ? 1 : 2;
}

/** True when [start, end) is `token SP something SP SIP/x.y` — the resync test after a gap. */
export function isSipStartLine(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start >= 12 && lower(buf[start]!) === 0x73 && lower(buf[start + 1]!) === 0x69 && lower(buf[start + 2]!) === 0x70 && buf[start + 3] === 0x2f) {
    // SIP/2.0 SP 3DIGIT
    let v = start + 4;
    while (v < end && buf[v] !== SP) v++;
    return v + 4 <= end && isDigit(buf[v + 1]!) && isDigit(buf[v + 2]!) && isDigit(buf[v + 3]!);
  }
  return isRequestLine(buf, start, end);
}

function isRequestLine(buf: Uint8Array, start: number, end: number): boolean {
  let m = start;
  while (m < end && isTokenChar(buf[m]!)) m++;
  if (m === start || m >= end || buf[m] !== SP) return false;
  const v = end - 8;
  if (v <= m + 1 || buf[v] !== SP) return false;
  return lower(buf[v + 1]!) === 0x73 && lower(buf[v + 2]!) === 0x69 && lower(buf[v + 3]!) === 0x70 && buf[v + 4] === 0x2f;
}

/** Content-Length (or compact `l`) value of the header line [start, lineEnd), or -1. */
function contentLengthOf(buf: Uint8Array, start: number, lineEnd: number): number {
  if (buf[start] === SP || buf[start] === HTAB) return -1;
  let c = start;
  while (c < lineEnd && buf[c] !== COLON) c++;
  if (c >= lineEnd) return -1;
  let nameEnd = c;
  while (nameEnd > start && (buf[nameEnd - 1] === SP || buf[nameEnd - 1] === HTAB)) nameEnd--;
  const isLong = equalsLower(buf, start, nameEnd, CONTENT_LENGTH);
  const isCompact = nameEnd - start === 1 && lower(buf[start]!) === 0x6c;
  if (!isLong && !isCompact) return -1;
  const vs = skipLws(buf, c + 1, lineEnd);
  return parseDecimal(buf, vs, trimEnd(buf, vs, lineEnd));
}
