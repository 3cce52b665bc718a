import { ByteRange } from './byte-range.js';
import {
  COLON, CR, HTAB, LF, SP, ascii, isDigit, isLws, isTokenChar, lower, parseDecimal, skipLws, trimEnd,
} from './bytes.js';
import { findAuthParam, findParam, nextComma } from './header-params.js';
import { SipHeader, sipHeaderFromBytes } from './header-name.js';
import { parseExpires, parseNameAddr } from './name-addr.js';
import { SipMessageKind } from './sip-message.js';
import type { NameAddr } from './name-addr.js';
import type { SipCredentials, SipMessage, SipReason } from './sip-message.js';
import { sipMethodFromBytes } from './sip-method.js';
import { SipStatus } from './sip-status.js';
import { parseSipUri } from './sip-uri.js';
import { parseVia } from './via.js';

const SIP_VERSION = ascii('sip/2.0');
const USERNAME = ascii('username');
const CAUSE = ascii('cause');
const TEXT = ascii('text');
// Scratch range for parameter lookups; module-level so the hot path allocates nothing.
const scratch = new ByteRange();

/**
 * Parses one SIP message (RFC 3261 §7) from `buf[offset, offset+length)` into `out`.
 *
 * ```
 * generic-message = start-line *message-header CRLF [ message-body ]
 * start-line      = Request-Line / Status-Line
 * Request-Line    = Method SP Request-URI SP SIP-Version CRLF        (§7.1, §25.1)
 * Status-Line     = SIP-Version SP Status-Code SP Reason-Phrase CRLF (§7.2)
 * message-header  = field-name HCOLON field-value CRLF               (§7.3, folding §7.3.1)
 * ```
 * Accepts bare LF line ends and leading CRLF keepalives (RFC 5626 §3.5.1). For a datagram, a body
 * without Content-Length runs to the end (§18.3); a shorter-than-promised body gives
 * {@link SipStatus.BodyTruncated}, not a failure. Header fields past `SIP_MAX_HEADERS` are
 * read but not indexed (`out.headersOverCap`). Never throws on wire input; allocates nothing.
 *
 * @throws RangeError when offset/length lie outside `buf` (a programmer error).
 */
export function parseSipMessage(buf: Uint8Array, offset: number, length: number, out: SipMessage): SipStatus {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buf.length) {
    throw new RangeError(`range ${offset}+${length} outside buffer of ${buf.length}`);
  }
  out.reset(buf);
  const end = offset + length;
  let i = offset;
  while (i < end && (buf[i] === CR || buf[i] === LF)) i++;
  if (i >= end) return SipStatus.Empty;
  out.offset = i;

  // ---- start line ----
  const lineStart = i;
  let lf = i;
  while (lf < end && buf[lf] !== LF) {
    if (buf[lf] === 0) return SipStatus.NulByte;
    lf++;
  }
  if (lf >= end) return SipStatus.NoStartLine;
  const lineEnd = lf > lineStart && buf[lf - 1] === CR ? lf - 1 : lf;
  const startStatus = parseStartLine(buf, lineStart, lineEnd, out);
  if (startStatus !== SipStatus.Ok) return startStatus;
  i = lf + 1;

  // ---- headers ----
  let bodyStart = -1;
  while (i < end) {
    const c = buf[i]!;
    if (c === LF) {
      bodyStart = i + 1;
      break;
    }
    if (c === CR && i + 1 < end && buf[i + 1] === LF) {
      bodyStart = i + 2;
      break;
    }
    // field-name HCOLON: HCOLON = *( SP / HTAB ) ":" SWS
    const nameStart = i;
    let j = i;
    while (j < end && buf[j] !== COLON && buf[j] !== LF) {
      if (buf[j] === 0) return SipStatus.NulByte;
      j++;
    }
    if (j >= end) return SipStatus.HeadersTruncated;
    if (buf[j] !== COLON) return SipStatus.HeaderWithoutColon;
    let nameEnd = j;
    while (nameEnd > nameStart && (buf[nameEnd - 1] === SP || buf[nameEnd - 1] === HTAB)) nameEnd--;
    if (nameEnd === nameStart) return SipStatus.BadHeaderName;
    for (let k = nameStart; k < nameEnd; k++) {
      if (!isTokenChar(buf[k]!)) return SipStatus.BadHeaderName;
    }
    // Value: up to the line end, extended over continuation lines (obsolete folding, §7.3.1).
    let k = j + 1;
    let valueLineEnd: number;
    for (;;) {
      while (k < end && buf[k] !== LF) {
        if (buf[k] === 0) return SipStatus.NulByte;
        k++;
      }
      if (k >= end) return SipStatus.HeadersTruncated;
      valueLineEnd = k;
      if (k + 1 < end && (buf[k + 1] === SP || buf[k + 1] === HTAB)) {
        k++;
        continue;
      }
      break;
    }
    const valueStart = skipLws(buf, j + 1, valueLineEnd);
    const valueEnd = trimEnd(buf, valueStart, valueLineEnd);
    const id = sipHeaderFromBytes(buf, nameStart, nameEnd);
    // Past the table's cap the header is only counted (headersOverCap), but still applied: a long
    // Record-Route/Via/P- list before Call-ID must not lose the call.
    out.addHeader(id, nameStart, nameEnd, valueStart, valueEnd);
    const headerStatus = applyHeader(buf, id, valueStart, valueEnd, out);
    if (headerStatus !== SipStatus.Ok) return headerStatus;
    i = k + 1;
  }
  if (bodyStart < 0) return SipStatus.HeadersTruncated;
  if (!out.callId.present) return SipStatus.MissingCallId;
  // The value is trimmed of LWS, so a blank (even folded) Call-ID is empty here (RFC 3261 §25.1).
  if (out.callId.length === 0) return SipStatus.BadCallId;
  if (out.cseq < 0) return SipStatus.BadCSeq;

  // ---- body ----
  out.headerLength = bodyStart - out.offset;
  const available = end - bodyStart;
  let status: SipStatus = SipStatus.Ok;
  if (out.contentLength < 0) {
    out.body.set(bodyStart, end);
  } else if (out.contentLength > available) {
    out.body.set(bodyStart, end);
    status = SipStatus.BodyTruncated;
  } else {
    out.body.set(bodyStart, bodyStart + out.contentLength);
    out.trailingBytes = available - out.contentLength;
  }
  out.length = out.body.offset + out.body.length - out.offset;
  return status;
}

function parseStartLine(buf: Uint8Array, start: number, end: number, out: SipMessage): SipStatus {
  // Status-Line: "SIP/2.0" SP 3DIGIT SP Reason-Phrase. The version literal is case-insensitive (RFC 5234 §2.3).
  if (end - start >= 4 && lower(buf[start]!) === 0x73 && lower(buf[start + 1]!) === 0x69 && lower(buf[start + 2]!) === 0x70 && buf[start + 3] === 0x2f) {
    let v = start;
    while (v < end && buf[v] !== SP) v++;
    if (!equalsVersion(buf, start, v)) return SipStatus.BadVersion;
    const code = v + 1;
    if (code + 3 > end || !isDigit(buf[code]!) || !isDigit(buf[code + 1]!) || !isDigit(buf[code + 2]!)) return SipStatus.BadStatusCode;
    if (code + 3 < end && buf[code + 3] !== SP) return SipStatus.BadStatusCode;
    const value = parseDecimal(buf, code, code + 3);
    if (value < 100 || value > 699) return SipStatus.BadStatusCode;
    out.kind = SipMessageKind.Response;
    out.statusCode = value;
    const reasonStart = Math.min(code + 4, end);
    out.reasonPhrase.set(reasonStart, trimEnd(buf, reasonStart, end));
    return SipStatus.Ok;
  }
  // Request-Line: Method SP Request-URI SP SIP-Version
  let m = start;
  while (m < end && isTokenChar(buf[m]!)) m++;
  if (m === start || m >= end || buf[m] !== SP) return SipStatus.NoStartLine;
  let vStart = end;
  while (vStart > m && buf[vStart - 1] !== SP) vStart--;
  const uriStart = m + 1;
  const uriEnd = vStart - 1;
  if (uriEnd <= uriStart) return SipStatus.NoStartLine;
  for (let k = uriStart; k < uriEnd; k++) {
    if (buf[k]! <= SP || buf[k] === 0x7f) return SipStatus.NoStartLine;
  }
  if (!equalsVersion(buf, vStart, end)) {
    // "INVITE sip:x SIP/3.0" is SIP with another version; anything else is not a start line.
    return end - vStart >= 4 && lower(buf[vStart]!) === 0x73 && lower(buf[vStart + 1]!) === 0x69 && lower(buf[vStart + 2]!) === 0x70 && buf[vStart + 3] === 0x2f
      ? SipStatus.BadVersion
      : SipStatus.NoStartLine;
  }
  out.kind = SipMessageKind.Request;
  out.methodText.set(start, m);
  out.method = sipMethodFromBytes(buf, start, m);
  parseSipUri(buf, uriStart, uriEnd, out.requestUri);
  return SipStatus.Ok;
}

function equalsVersion(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start !== SIP_VERSION.length) return false;
  for (let k = 0; k < SIP_VERSION.length; k++) {
    if (lower(buf[start + k]!) !== SIP_VERSION[k]) return false;
  }
  return true;
}

function applyHeader(buf: Uint8Array, id: SipHeader, start: number, end: number, out: SipMessage): SipStatus {
  switch (id) {
    case SipHeader.CallId:
      if (!out.callId.present) out.callId.set(start, end);
      return SipStatus.Ok;
    case SipHeader.From:
      takeNameAddr(buf, start, end, out.from, out);
      return SipStatus.Ok;
    case SipHeader.To:
      takeNameAddr(buf, start, end, out.to, out);
      return SipStatus.Ok;
    case SipHeader.PAssertedIdentity:
      takeNameAddr(buf, start, nextComma(buf, start, end), out.pAssertedIdentity, out);
      return SipStatus.Ok;
    case SipHeader.RemotePartyId:
      takeNameAddr(buf, start, nextComma(buf, start, end), out.remotePartyId, out);
      return SipStatus.Ok;
    case SipHeader.CSeq:
      return out.cseq >= 0 ? SipStatus.Ok : parseCSeq(buf, start, end, out);
    case SipHeader.Via: {
      let v = start;
      while (v < end) {
        const comma = nextComma(buf, v, end);
        const vs = skipLws(buf, v, comma);
        const ve = trimEnd(buf, vs, comma);
        if (ve > vs) {
          if (out.via.count === 0 && !parseVia(buf, vs, ve, out.via)) out.malformedHeaders++;
          out.via.count++;
        }
        v = comma + 1;
      }
      return SipStatus.Ok;
    }
    case SipHeader.Contact: {
      let v = start;
      while (v < end) {
        const comma = nextComma(buf, v, end);
        const vs = skipLws(buf, v, comma);
        const ve = trimEnd(buf, vs, comma);
        if (ve > vs) {
          if (out.contactCount === 0) takeNameAddr(buf, vs, ve, out.contact, out);
          out.contactCount++;
        }
        v = comma + 1;
      }
      return SipStatus.Ok;
    }
    case SipHeader.Expires:
      if (out.expires < 0) {
        out.expires = parseExpires(buf, start, end);
        if (out.expires < 0) out.malformedHeaders++;
      }
      return SipStatus.Ok;
    case SipHeader.ContentLength: {
      const n = parseDecimal(buf, start, end);
      if (n < 0) return SipStatus.BadContentLength;
      if (out.contentLength < 0) out.contentLength = n;
      return SipStatus.Ok;
    }
    case SipHeader.ContentType:
      if (!out.contentType.present) out.contentType.set(start, end);
      return SipStatus.Ok;
    case SipHeader.MaxForwards:
      if (out.maxForwards < 0) {
        out.maxForwards = parseDecimal(buf, start, end);
        if (out.maxForwards < 0) out.malformedHeaders++;
      }
      return SipStatus.Ok;
    case SipHeader.Reason:
      if (!out.reason.present) parseReason(buf, start, nextComma(buf, start, end), out.reason);
      return SipStatus.Ok;
    case SipHeader.UserAgent:
      if (!out.userAgent.present) out.userAgent.set(start, end);
      return SipStatus.Ok;
    case SipHeader.Server:
      if (!out.server.present) out.server.set(start, end);
      return SipStatus.Ok;
    case SipHeader.XCid:
      if (!out.xCid.present) out.xCid.set(start, end);
      return SipStatus.Ok;
    case SipHeader.SessionId:
      if (!out.sessionId.present) out.sessionId.set(start, end);
      return SipStatus.Ok;
    case SipHeader.PChargingVector:
      if (!out.pChargingVector.present) out.pChargingVector.set(start, end);
      return SipStatus.Ok;
    case SipHeader.Authorization:
      takeCredentials(buf, start, end, out.authorization);
      return SipStatus.Ok;
    case SipHeader.ProxyAuthorization:
      takeCredentials(buf, start, end, out.proxyAuthorization);
      return SipStatus.Ok;
    case SipHeader.WwwAuthenticate:
      out.wwwAuthenticate = true;
      return SipStatus.Ok;
    case SipHeader.ProxyAuthenticate:
      out.proxyAuthenticate = true;
      return SipStatus.Ok;
    default:
      // Known-but-unused and unknown headers stay in the header table only.
      return SipStatus.Ok;
  }
}

function takeNameAddr(buf: Uint8Array, start: number, end: number, target: NameAddr, out: SipMessage): void {
  if (target.present) return;
  if (!parseNameAddr(buf, start, end, target)) out.malformedHeaders++;
}

function takeCredentials(buf: Uint8Array, start: number, end: number, target: SipCredentials): void {
  if (target.present) return;
  target.value.set(start, end);
  findAuthParam(buf, start, end, USERNAME, target.username);
}

// CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16)
function parseCSeq(buf: Uint8Array, start: number, end: number, out: SipMessage): SipStatus {
  let i = start;
  while (i < end && isDigit(buf[i]!)) i++;
  const n = parseDecimal(buf, start, i);
  if (n < 0 || i >= end || !isLws(buf[i]!)) return SipStatus.BadCSeq;
  const m = skipLws(buf, i, end);
  let e = m;
  while (e < end && isTokenChar(buf[e]!)) e++;
  if (e === m || e !== end) return SipStatus.BadCSeq;
  out.cseq = n;
  out.cseqMethodText.set(m, e);
  out.cseqMethod = sipMethodFromBytes(buf, m, e);
  return SipStatus.Ok;
}

// Reason = protocol *(SEMI reason-params); cause=1*DIGIT; text=quoted-string (RFC 3326 §2)
function parseReason(buf: Uint8Array, start: number, end: number, out: SipReason): void {
  out.value.set(start, end);
  let i = start;
  while (i < end && isTokenChar(buf[i]!)) i++;
  out.protocol.set(start, i);
  if (findParam(buf, i, end, CAUSE, scratch)) out.cause = parseDecimal(buf, scratch.offset, scratch.offset + scratch.length);
  findParam(buf, i, end, TEXT, out.text);
}
