import {
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
 * Decodes the fields a dialog keeps from a parsed message into a {@link SipEvent}: the one place
 * where SIP bytes become strings (per SIP message, never per RTP packet). Returns null when the
 * message lacks what a dialog needs (Call-ID, CSeq).
 */
export function toSipEvent(msg: SipMessage, env: SipEnvelope, sdpScratch: SessionDescription): SipEvent | null {
  if (!msg.callId.present || msg.cseq < 0) return null;
  const isRequest = msg.kind === SipMessageKind.Request;
  headerText.reset(msg.buf, msg.offset, msg.headerLength);
  const text = (r: Range) => headerText.get(r);
  const opt = (r: Range) => (r.present ? headerText.get(r) : null);
  const contentType = msg.contentType.present ? text(msg.contentType).toLowerCase() : '';
  let sdp: SdpInfo | null = null;
  let bodyText: string | null = null;
  if (msg.body.present && msg.body.length > 0) {
    if (contentType.startsWith('application/sdp') || contentType === '') {
      if (parseSdp(msg.buf, msg.body.offset, msg.body.length, sdpScratch) === SdpStatus.Ok) {
        sdpText.reset(msg.buf, msg.body.offset, msg.body.length);
        sdp = toSdpInfo(sdpScratch);
      }
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
    callId: text(msg.callId),
    cseq: msg.cseq,
    fromUser: text(msg.from.uri.user),
    fromDomain: text(msg.from.uri.host),
    fromName: opt(msg.from.displayName),
    fromTag: opt(msg.from.tag),
    toUser: text(msg.to.uri.user),
    toDomain: text(msg.to.uri.host),
    toTag: opt(msg.to.tag),
    ruriUser: isRequest ? opt(msg.requestUri.user) : null,
    userAgent: opt(msg.userAgent) ?? opt(msg.server),
    contact: msg.contact.present && !msg.contact.star ? text(msg.contact.uri.uri) : null,
    expires,
    hasAuthorization: msg.authorization.present || msg.proxyAuthorization.present,
    sdp,
    contentType,
    bodyText,
  };
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
