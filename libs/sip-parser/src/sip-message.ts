import { ByteRange, decodeRange } from './byte-range.js';
import { NameAddr } from './name-addr.js';
import { SipHeader } from './header-name.js';
import { SipMethod } from './sip-method.js';
import { SipUri } from './sip-uri.js';
import { SIP_MAX_HEADERS } from './sip-status.js';
import { Via } from './via.js';

/** Authorization / Proxy-Authorization credentials (RFC 3261 §20.7, §20.28): presence and user only. */
export class SipCredentials {
  /** Header value; contains the digest response, so never log it (STYLE.md: redact Authorization). */
  readonly value = new ByteRange();
  /** `username` auth-param without quotes. */
  readonly username = new ByteRange();

  /** True when the header was present. */
  get present(): boolean {
    return this.value.present;
  }

  /** Marks the credentials absent. */
  clear(): void {
    this.value.clear();
    this.username.clear();
  }
}

/** Reason header (RFC 3326 §2): `protocol ;cause=N ;text="..."`. */
export class SipReason {
  /** Whole value. */
  readonly value = new ByteRange();
  /** Protocol token (`SIP`, `Q.850`). */
  readonly protocol = new ByteRange();
  /** `cause` as a number, -1 when absent. */
  cause = -1;
  /** `text` parameter without quotes. */
  readonly text = new ByteRange();

  /** True when the header was present. */
  get present(): boolean {
    return this.value.present;
  }

  /** Marks every field absent. */
  clear(): void {
    this.value.clear();
    this.protocol.clear();
    this.cause = -1;
    this.text.clear();
  }
}

/** Request or response: the two SIP message kinds (RFC 3261 §7). */
export const SipMessageKind = {
  /** Not parsed or rejected. */
  None: 0,
  /** Request-Line `Method SP Request-URI SP SIP-Version`. */
  Request: 1,
  /** Status-Line `SIP-Version SP Status-Code SP Reason-Phrase`. */
  Response: 2,
} as const;
/** A value of {@link SipMessageKind}. */
export type SipMessageKind = (typeof SipMessageKind)[keyof typeof SipMessageKind];

/**
 * A parsed SIP message: caller-owned, reused for every message (allocate one per worker).
 * Every text field is a {@link ByteRange} into `buf`; decode with {@link SipMessage.text} only
 * what is kept. `buf` is the caller's buffer: copy the bytes before the buffer is reused if the
 * message must outlive it.
 *
 * All headers, known or not, are in the header table (`headerCount`, {@link SipMessage.headerId},
 * {@link SipMessage.headerName}, {@link SipMessage.headerValue}) in message order, so the ranges
 * reproduce every header value byte for byte — up to {@link SIP_MAX_HEADERS} of them. Header
 * fields past that cap are counted in {@link SipMessage.headersOverCap} and left out of the table,
 * but every field above (Call-ID, CSeq, From, To, Via, Contact, ...) is still taken from them.
 */
export class SipMessage {
  /** The buffer the ranges refer to (the last one parsed). */
  buf: Uint8Array = new Uint8Array(0);
  /** Start of the message (after any leading CRLF keepalives). */
  offset = 0;
  /** Bytes from `offset` to the end of the body actually present. */
  length = 0;
  /** Bytes from `offset` to the start of the body (start line + headers + empty line). */
  headerLength = 0;
  /** Request or response. */
  kind: SipMessageKind = SipMessageKind.None;

  /** Request method (requests only). */
  method: SipMethod = SipMethod.None;
  /** Method token as written (requests). */
  readonly methodText = new ByteRange();
  /** Request-URI and its parts (requests). */
  readonly requestUri = new SipUri();
  /** Status code (responses), 0 for requests. */
  statusCode = 0;
  /** Reason-Phrase (responses). */
  readonly reasonPhrase = new ByteRange();

  /** Call-ID (RFC 3261 §20.8). */
  readonly callId = new ByteRange();
  /** From (RFC 3261 §20.20). */
  readonly from = new NameAddr();
  /** To (RFC 3261 §20.39). */
  readonly to = new NameAddr();
  /** CSeq sequence number (RFC 3261 §20.16), -1 when absent. */
  cseq = -1;
  /** CSeq method as a number. */
  cseqMethod: SipMethod = SipMethod.None;
  /** CSeq method as written. */
  readonly cseqMethodText = new ByteRange();
  /** Top Via (RFC 3261 §20.42) and the total Via count. */
  readonly via = new Via();
  /** First Contact value (RFC 3261 §20.10); `star` for `Contact: *`. */
  readonly contact = new NameAddr();
  /** Number of Contact values (headers and comma-separated values). */
  contactCount = 0;
  /** Expires header in seconds (RFC 3261 §20.19), -1 when absent or invalid. */
  expires = -1;
  /** Content-Length (RFC 3261 §20.14), -1 when absent. */
  contentLength = -1;
  /** Content-Type value (RFC 3261 §20.15). */
  readonly contentType = new ByteRange();
  /** Max-Forwards (RFC 3261 §20.22), -1 when absent or invalid. */
  maxForwards = -1;
  /** Reason (RFC 3326). */
  readonly reason = new SipReason();
  /** P-Asserted-Identity, first value (RFC 3325 §9.1). */
  readonly pAssertedIdentity = new NameAddr();
  /** Remote-Party-ID, first value (draft-ietf-sip-privacy-04 §6). */
  readonly remotePartyId = new NameAddr();
  /** User-Agent (RFC 3261 §20.41). */
  readonly userAgent = new ByteRange();
  /** Server (RFC 3261 §20.35). */
  readonly server = new ByteRange();
  /** X-CID (correlation id set by some SBCs to link call legs). */
  readonly xCid = new ByteRange();
  /** Session-ID (RFC 7989). */
  readonly sessionId = new ByteRange();
  /** P-Charging-Vector (RFC 7315 §4.6): the IMS charging id shared by every leg of a session. */
  readonly pChargingVector = new ByteRange();
  /** Authorization (RFC 3261 §20.7). */
  readonly authorization = new SipCredentials();
  /** Proxy-Authorization (RFC 3261 §20.28). */
  readonly proxyAuthorization = new SipCredentials();
  /** WWW-Authenticate seen (RFC 3261 §20.44). */
  wwwAuthenticate = false;
  /** Proxy-Authenticate seen (RFC 3261 §20.27). */
  proxyAuthenticate = false;
  /** Body (RFC 3261 §7.4): Content-Length bytes, or the rest of the datagram without Content-Length. */
  readonly body = new ByteRange();
  /** Bytes after the body that Content-Length did not cover (ignored per RFC 3261 §18.3). */
  trailingBytes = 0;
  /** Known headers whose value could not be parsed (left absent, not fatal). */
  malformedHeaders = 0;

  /**
   * Header fields past {@link SIP_MAX_HEADERS}: not in the header table (the message is still
   * parsed and its known fields read from them). Non-zero means the table is incomplete; count it
   * (a sensor counter `sipHeadersOverCap`, summing this per message) rather than treat it as an error.
   */
  headersOverCap = 0;
  /** Number of header fields in the table (at most {@link SIP_MAX_HEADERS}). */
  headerCount = 0;
  // [nameStart, nameEnd, valueStart, valueEnd] per header; valueEnd excludes the line end.
  private readonly headerBounds = new Int32Array(SIP_MAX_HEADERS * 4);
  private readonly headerIds = new Uint8Array(SIP_MAX_HEADERS);

  /** Resets every field before a parse. */
  reset(buf: Uint8Array): void {
    this.buf = buf;
    this.offset = 0;
    this.length = 0;
    this.headerLength = 0;
    this.kind = SipMessageKind.None;
    this.method = SipMethod.None;
    this.methodText.clear();
    this.requestUri.clear();
    this.statusCode = 0;
    this.reasonPhrase.clear();
    this.callId.clear();
    this.from.clear();
    this.to.clear();
    this.cseq = -1;
    this.cseqMethod = SipMethod.None;
    this.cseqMethodText.clear();
    this.via.clear();
    this.contact.clear();
    this.contactCount = 0;
    this.expires = -1;
    this.contentLength = -1;
    this.contentType.clear();
    this.maxForwards = -1;
    this.reason.clear();
    this.pAssertedIdentity.clear();
    this.remotePartyId.clear();
    this.userAgent.clear();
    this.server.clear();
    this.xCid.clear();
    this.sessionId.clear();
    this.pChargingVector.clear();
    this.authorization.clear();
    this.proxyAuthorization.clear();
    this.wwwAuthenticate = false;
    this.proxyAuthenticate = false;
    this.body.clear();
    this.trailingBytes = 0;
    this.malformedHeaders = 0;
    this.headerCount = 0;
    this.headersOverCap = 0;
  }

  /**
   * Appends a header to the table; when the table is full, counts it in
   * {@link SipMessage.headersOverCap} instead and returns false.
   */
  addHeader(id: SipHeader, nameStart: number, nameEnd: number, valueStart: number, valueEnd: number): boolean {
    const n = this.headerCount;
    if (n >= SIP_MAX_HEADERS) {
      this.headersOverCap++;
      return false;
    }
    const b = n * 4;
    this.headerBounds[b] = nameStart;
    this.headerBounds[b + 1] = nameEnd;
    this.headerBounds[b + 2] = valueStart;
    this.headerBounds[b + 3] = valueEnd;
    this.headerIds[n] = id;
    this.headerCount = n + 1;
    return true;
  }

  /** Id of header `index` (0-based, message order). */
  headerId(index: number): SipHeader {
    this.checkIndex(index);
    return this.headerIds[index] as SipHeader;
  }

  /** Name range of header `index` as written (compact or full, original case). */
  headerName(index: number, out: ByteRange): ByteRange {
    this.checkIndex(index);
    out.set(this.headerBounds[index * 4]!, this.headerBounds[index * 4 + 1]!);
    return out;
  }

  /** Value range of header `index`: from the first non-blank byte after the colon to the last non-blank byte, folded lines included. */
  headerValue(index: number, out: ByteRange): ByteRange {
    this.checkIndex(index);
    out.set(this.headerBounds[index * 4 + 2]!, this.headerBounds[index * 4 + 3]!);
    return out;
  }

  /** Index of the `nth` (0-based) header with this id, or -1. */
  findHeader(id: SipHeader, nth = 0): number {
    for (let i = 0; i < this.headerCount; i++) {
      if (this.headerIds[i] === id && nth-- === 0) return i;
    }
    return -1;
  }

  /** Decodes a range of this message to a string (allocates: only for values that are kept). */
  text(range: ByteRange): string {
    return decodeRange(this.buf, range);
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.headerCount) {
      throw new RangeError(`header index ${index} outside 0..${this.headerCount - 1}`);
    }
  }
}
