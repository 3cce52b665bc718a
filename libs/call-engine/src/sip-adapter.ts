import {
  SDP_STATUS_COUNT,
  SdpDirection,
  SdpStatus,
  SipMessageKind,
  parseSdp,
  type SdpAddress,
  type SessionDescription,
  type SipMessage,
} from '@callscope/sip-parser';
import { ipv4PortKey } from '@callscope/packet';
import { endpointKeyFromIpv6Groups, endpointKeyFromText } from './endpoint-key.js';
import type { SdpInfo, SdpMediaInfo, SdpPayload, SipEnvelope, SipEvent } from './sip-event.js';
import { MAX_LEG_ID_CHARS, parseIcid, parseSessionId, type CorrelationHeaders } from './leg-ids.js';

type Range = SipMessage['callId'];
const UTF8 = new TextDecoder();

/**
 * Decodes ranges of one buffer region to strings. The region is decoded once; when it is pure
 * ASCII (byte offsets are character offsets) each field is a cheap substring of it, instead of
 * a TextDecoder call per field — that alone made up most of the per-message cost.
 */
class RegionText {
  private text = '';
  private start = 0;
  private ascii = false;
  private buf: Uint8Array = new Uint8Array(0);

  reset(buf: Uint8Array, start: number, length: number): void {
    this.buf = buf;
    this.start = start;
    this.text = UTF8.decode(buf.subarray(start, start + length));
    this.ascii = this.text.length === length;
  }

  get(r: Range): string {
    if (r.offset < 0 || r.length <= 0) return '';
    const from = r.offset - this.start;
    if (this.ascii && from >= 0 && from + r.length <= this.text.length) return this.text.substring(from, from + r.length);
    return UTF8.decode(this.buf.subarray(r.offset, r.offset + r.length));
  }
}

const headerText = new RegionText();
const sdpText = new RegionText();

const BACKSLASH = 0x5c;
const HEX = '0123456789abcdef';

/**
 * Length of the valid UTF-8 sequence starting at `i` (RFC 3629 §4: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 when the byte at `i` starts none.
 */
function utf8SequenceLength(buf: Uint8Array, i: number, end: number): number {
  const b = buf[i]!;
  if (b < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) n = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b === 0xe0) lo = 0xa0; // overlong
    else if (b === 0xed) hi = 0x9f; // UTF-16 surrogates
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b === 0xf0) lo = 0x90; // overlong
    else if (b === 0xf4) hi = 0x8f; // above U+10FFFF
  } else return 0;
  if (i + n > end) return 0;
  const b1 = buf[i + 1]!;
  if (b1 < lo || b1 > hi) return 0;
  for (let k = 2; k < n; k++) {
    const c = buf[i + k]!;
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return n;
}

/**
 * The text of an identity field (Call-ID, From/To tag): two fields get the same text only when
 * their bytes are the same, so distinct dialogs never merge into one call record. ASCII and valid
 * UTF-8 are the text as written; decoding bytes that are not UTF-8 would map them all to U+FFFD
 * (`abc\xff@h` and `abc\xfe@h` would be one call), so then every byte outside a valid sequence is
 * written `\xNN` (lower-case hex) and, in that escaped form only, a backslash as `\\`: escaped forms
 * decode back to their bytes, hence never collide with each other. Residual: an escaped form equals
 * a valid Call-ID that literally contains the same `\xNN` text (e.g. the ASCII `abc\xff@h`) —
 * both would have to appear in one capture; escaping backslashes in valid text too would change
 * Call-IDs as users search for them, for a theoretical case.
 * Returns null for an absent range. The common case (pure ASCII) costs one scan of the field.
 */
function identityText(buf: Uint8Array, r: Range, stats: SipAdapterStats | undefined): string | null {
  if (!r.present) return null;
  const start = r.offset;
  const end = start + r.length;
  let i = start;
  while (i < end && buf[i]! < 0x80) i++;
  if (i === end) return headerText.get(r);
  let valid = true;
  while (i < end) {
    const n = utf8SequenceLength(buf, i, end);
    if (n === 0) {
      valid = false;
      break;
    }
    i += n;
  }
  if (valid) return UTF8.decode(buf.subarray(start, end));
  // Rare: allocation per byte is fine here, never taken by well-formed traffic.
  if (stats !== undefined) stats.identityEscaped++;
  let out = '';
  i = start;
  while (i < end) {
    const b = buf[i]!;
    const n = utf8SequenceLength(buf, i, end);
    if (n === 0) {
      out += '\\x' + HEX[b >> 4]! + HEX[b & 0xf]!;
      i++;
    } else if (b === BACKSLASH) {
      out += '\\\\';
      i++;
    } else {
      out += n === 1 ? String.fromCharCode(b) : UTF8.decode(buf.subarray(i, i + n));
      i += n;
    }
  }
  return out;
}

/**
 * What {@link toSipEvent} met, summed over messages: give one per pipeline and surface it in its
 * stats (the SIP message and SDP scratch objects hold these per message; this keeps the totals).
 */
export class SipAdapterStats {
  /**
   * Identity fields (Call-ID, From tag, To tag) holding bytes that are not valid UTF-8: kept exact
   * with `\xNN` escapes (see identityText) rather than merged through U+FFFD.
   */
  identityEscaped = 0;
  /**
   * Header fields past `SIP_MAX_HEADERS` (sum of `SipMessage.headersOverCap`): not indexed, the
   * message was still used and its known headers read.
   */
  headersOverCap = 0;
  /**
   * Bodies labelled `application/sdp` that were not SDP at all (`SdpStatus.NotSdp`/`Empty`): no
   * media learnt from that message.
   */
  sdpRejected = 0;
  /** SDP media sections skipped for an invalid `m=` or media-level `c=` line (sum of `mediaRejected`); the others were kept. */
  sdpMediaRejected = 0;
  /** SDP lines skipped, per `SdpStatus` reason (sum of `SessionDescription.rejectedLines`). */
  readonly sdpLinesRejected = new Uint32Array(SDP_STATUS_COUNT);
}

const DIRECTIONS: Record<number, SdpMediaInfo['direction']> = {
  [SdpDirection.SendRecv]: 'sendrecv',
  [SdpDirection.SendOnly]: 'sendonly',
  [SdpDirection.RecvOnly]: 'recvonly',
  [SdpDirection.Inactive]: 'inactive',
};

/** Largest non-SDP body kept as text (SIP INFO DTMF bodies are a few dozen bytes). */
const MAX_BODY_TEXT = 512;


/**
 * The endpoint key of an SDP address and a port, from the numbers parseSdp read out of the message
 * bytes. Only when the address did not parse as its type token says (an FQDN, or `IN IP4` with an
 * IPv6 address) is its text decoded and tried as either family, as the call table always has.
 */
function sdpEndpointKey(a: SdpAddress, port: number): number | string | null {
  if (a.family === 4) return ipv4PortKey(a.ipv4, port);
  if (a.family === 6) return endpointKeyFromIpv6Groups(a.ipv6, port);
  return endpointKeyFromText(sdpText.get(a.address), port);
}

/**
 * The Call-ID of a parsed (possibly header-truncated) message as the call table keys it (see
 * identityText), or null when it has none: for a message the pipeline cannot use whole, such as
 * the head of one too large to reassemble.
 */
export function callIdOf(msg: SipMessage): string | null {
  if (!msg.callId.present || msg.callId.length === 0) return null;
  headerText.reset(msg.buf, msg.offset, msg.headerLength);
  return identityText(msg.buf, msg.callId, undefined);
}

/**
 * Decodes the fields a dialog keeps from a parsed message into a {@link SipEvent}: the one place
 * where SIP bytes become strings (per SIP message, never per RTP packet). Returns null when the
 * message lacks what a dialog needs (a non-empty Call-ID, CSeq): parseSipMessage already rejects
 * those (MissingCallId, BadCallId, BadCSeq). The Call-ID and tags are identity: their text differs
 * whenever their bytes do (see identityText). `stats`, when given, sums what was met;
 * `correlation`, when given, names the carrier headers to read.
 */
export function toSipEvent(
  msg: SipMessage,
  env: SipEnvelope,
  sdpScratch: SessionDescription,
  stats?: SipAdapterStats,
  correlation?: CorrelationHeaders,
): SipEvent | null {
  if (!msg.callId.present || msg.callId.length === 0 || msg.cseq < 0) return null;
  const isRequest = msg.kind === SipMessageKind.Request;
  headerText.reset(msg.buf, msg.offset, msg.headerLength);
  const text = (r: Range) => headerText.get(r);
  const opt = (r: Range) => (r.present ? headerText.get(r) : null);
  const contentType = msg.contentType.present ? text(msg.contentType).toLowerCase() : '';
  let sdp: SdpInfo | null = null;
  let bodyText: string | null = null;
  if (stats !== undefined) stats.headersOverCap += msg.headersOverCap;
  if (msg.body.present && msg.body.length > 0) {
    const isSdp = contentType.startsWith('application/sdp');
    if (isSdp || contentType === '') {
      if (parseSdp(msg.buf, msg.body.offset, msg.body.length, sdpScratch) === SdpStatus.Ok) {
        sdpText.reset(msg.buf, msg.body.offset, msg.body.length);
        sdp = toSdpInfo(sdpScratch);
        if (stats !== undefined) countSdp(sdpScratch, stats);
      } else if (isSdp && stats !== undefined) stats.sdpRejected++; // without Content-Type, a body need not be SDP
    } else if (msg.body.length <= MAX_BODY_TEXT) bodyText = UTF8.decode(msg.buf.subarray(msg.body.offset, msg.body.offset + msg.body.length));
  }
  const contactExpires = msg.contact.present ? msg.contact.expires : -1;
  const expires = contactExpires >= 0 ? contactExpires : msg.expires >= 0 ? msg.expires : null;
  // Every field written out: an object spread followed by more properties is a V8 slow path
  // (measured at tens of microseconds per object on Node 20), and one literal keeps one shape.
  return {
    tsUs: env.tsUs,
    srcIp: env.srcIp,
    srcPort: env.srcPort,
    dstIp: env.dstIp,
    dstPort: env.dstPort,
    transport: env.transport,
    vlan: env.vlan,
    isRequest,
    method: isRequest ? text(msg.methodText) : text(msg.cseqMethodText),
    statusCode: isRequest ? 0 : msg.statusCode,
    reason: isRequest ? '' : text(msg.reasonPhrase),
    callId: identityText(msg.buf, msg.callId, stats)!,
    cseq: msg.cseq,
    fromUser: text(msg.from.uri.user),
    fromDomain: text(msg.from.uri.host),
    fromName: opt(msg.from.displayName),
    fromTag: identityText(msg.buf, msg.from.tag, stats),
    toUser: text(msg.to.uri.user),
    toDomain: text(msg.to.uri.host),
    toTag: identityText(msg.buf, msg.to.tag, stats),
    ruriUser: isRequest ? opt(msg.requestUri.user) : null,
    userAgent: opt(msg.userAgent) ?? opt(msg.server),
    contact: msg.contact.present && !msg.contact.star ? text(msg.contact.uri.uri) : null,
    expires,
    hasAuthorization: msg.authorization.present || msg.proxyAuthorization.present,
    sdp,
    contentType,
    bodyText,
    xCid: msg.xCid.present && msg.xCid.length > 0 ? text(msg.xCid).slice(0, MAX_LEG_ID_CHARS) : null,
    sessionId: msg.sessionId.present ? parseSessionId(text(msg.sessionId)) : null,
    icid: msg.pChargingVector.present ? parseIcid(text(msg.pChargingVector)) : null,
    correlation: correlation === undefined ? null : correlation.read(msg),
  };
}

function countSdp(sdp: SessionDescription, stats: SipAdapterStats): void {
  stats.sdpMediaRejected += sdp.mediaRejected;
  for (let k = 0; k < SDP_STATUS_COUNT; k++) stats.sdpLinesRejected[k]! += sdp.rejectedLines[k]!;
}

function toSdpInfo(sdp: SessionDescription): SdpInfo {
  const media: SdpMediaInfo[] = [];
  for (let i = 0; i < sdp.mediaCount; i++) {
    const m = sdp.media[i]!;
    const c = m.connection;
    if (!c.present || c.address.length <= 0) continue; // no c= anywhere: nothing to match RTP against
    const payloads: SdpPayload[] = [];
    for (let p = 0; p < m.payloadTypeCount; p++) {
      const pt = m.payloadTypes[p]!;
      const map = m.rtpmap(pt);
      payloads.push({
        pt,
        codec: map !== undefined && map.encoding.present ? sdpText.get(map.encoding) : null,
        clockRate: map !== undefined && map.clockRate > 0 ? map.clockRate : 0,
      });
    }
    const rtcpPort = m.rtcpMux ? m.port : m.rtcpPort >= 0 ? m.rtcpPort : m.port + 1;
    media.push({
      media: sdpText.get(m.media),
      rtpKey: sdpEndpointKey(c, m.port),
      rtcpKey: sdpEndpointKey(c, rtcpPort),
      port: m.port,
      rtcpPort,
      rtcpMux: m.rtcpMux,
      direction: DIRECTIONS[m.direction] ?? 'sendrecv',
      payloads,
    });
  }
  return { media };
}
