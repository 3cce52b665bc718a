import { parseIpv4, parseIpv6 } from '@callscope/packet';
import { CR, LF, SLASH, SP, ascii, equalsBytes, equalsLower, isDigit, parseDecimal } from './bytes.js';
import { SDP_MAX_FORMATS, SDP_MAX_MEDIA, SDP_MAX_RTPMAPS, SdpDirection } from './session-description.js';
import type { SdpAddress, SdpMedia, SdpRtpMap, SessionDescription } from './session-description.js';
import { SdpStatus } from './sdp-status.js';

const A_RTPMAP = ascii('rtpmap');
const A_FMTP = ascii('fmtp');
const A_PTIME = ascii('ptime');
const A_RTCP = ascii('rtcp');
const A_RTCP_MUX = ascii('rtcp-mux');
const A_SENDRECV = ascii('sendrecv');
const A_SENDONLY = ascii('sendonly');
const A_RECVONLY = ascii('recvonly');
const A_INACTIVE = ascii('inactive');
const TELEPHONE_EVENT = ascii('telephone-event');
const IP4 = ascii('IP4');
const IP6 = ascii('IP6');

// Token boundaries inside the current line; module-level scratch so parsing allocates nothing.
const tokStart = new Int32Array(8);
const tokEnd = new Int32Array(8);

/**
 * Parses an SDP body (RFC 8866 §5, §9 grammar; RFC 4566 before it) from `buf[offset, offset+length)`.
 *
 * ```
 * v=0
 * o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
 * c=<nettype> <addrtype> <connection-address>
 * m=<media> <port>[/<number of ports>] <proto> <fmt> ...
 * a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
 * ```
 * Session-level `c=` and direction are inherited by media sections that lack their own
 * (RFC 8866 §5.7; RFC 3264 §5.1). Unknown lines and attributes are skipped; caps are counted.
 *
 * Failures stay as local as the grammar allows, so that one bad line never costs a call its
 * media: only a body that does not start with `v=0` is refused whole ({@link SdpStatus.NotSdp}).
 * An invalid `m=` line (port 99999, no format, NUL byte) or an invalid media-level `c=` loses that
 * one section (`out.mediaRejected`); any other bad line is skipped. Each rejected line is counted
 * by reason in `out.rejectedLines`. Never throws on wire input; allocates nothing.
 *
 * @throws RangeError when offset/length lie outside `buf` (a programmer error).
 */
export function parseSdp(buf: Uint8Array, offset: number, length: number, out: SessionDescription): SdpStatus {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buf.length) {
    throw new RangeError(`range ${offset}+${length} outside buffer of ${buf.length}`);
  }
  out.reset(buf);
  const end = offset + length;
  let i = offset;
  while (i < end && (buf[i] === CR || buf[i] === LF)) i++;
  if (i >= end) return SdpStatus.Empty;
  let first = true;
  let media: SdpMedia | undefined;
  // Lines after an m= line that was rejected or over the cap belong to that section: skipped unread.
  let skipSection = false;
  while (i < end) {
    let lf = i;
    let nul = false;
    while (lf < end && buf[lf] !== LF) {
      if (buf[lf] === 0) nul = true;
      lf++;
    }
    const lineEnd = lf > i && buf[lf - 1] === CR ? lf - 1 : lf;
    const next = lf + 1;
    if (lineEnd === i) {
      i = next; // blank lines are tolerated (some stacks end the body with an extra CRLF)
      continue;
    }
    // <type>=<value> with a lower-case letter type (RFC 8866 §5); 0 when the line is not even that.
    const type = lineEnd - i >= 2 && buf[i + 1] === 0x3d && buf[i]! >= 0x61 && buf[i]! <= 0x7a ? buf[i]! : 0;
    const vs = i + 2;
    i = next;
    if (first) {
      // Only v=0 first makes a body SDP: anything else (another body type, garbage) is refused whole.
      if (nul || type !== 0x76 || lineEnd - vs !== 1 || buf[vs] !== 0x30) return SdpStatus.NotSdp;
      first = false;
      continue;
    }
    if (type === 0x6d) {
      // m= opens a new section whatever state the previous one was in.
      const before = out.mediaCount;
      const status = nul ? SdpStatus.NulByte : startMedia(buf, vs, lineEnd, out);
      if (status !== SdpStatus.Ok) {
        out.rejectedLines[status]!++;
        out.mediaRejected++;
      }
      skipSection = out.mediaCount === before; // rejected, or over the cap (counted in mediaDropped)
      media = skipSection ? undefined : out.media[before];
      continue;
    }
    if (skipSection) continue;
    if (nul || type === 0) {
      out.rejectedLines[nul ? SdpStatus.NulByte : SdpStatus.BadLine]!++;
      // A media-level c= we cannot read would leave the section on the session address: drop it.
      if (type === 0x63 && media !== undefined) {
        rejectMedia(out);
        media = undefined;
        skipSection = true;
      }
      continue;
    }
    switch (type) {
      case 0x6f: {
        // o= : not needed to follow media, so a bad one is counted and the body goes on.
        if (splitTokens(buf, vs, lineEnd, 6) !== 6) {
          out.rejectedLines[SdpStatus.BadOrigin]!++;
          break;
        }
        out.originUsername.set(tokStart[0]!, tokEnd[0]!);
        out.sessionId.set(tokStart[1]!, tokEnd[1]!);
        out.sessionVersion.set(tokStart[2]!, tokEnd[2]!);
        setAddress(buf, tokStart[4]!, tokEnd[4]!, tokStart[5]!, tokEnd[5]!, out.originAddress);
        break;
      }
      case 0x63: {
        // c= : a bad session-level one leaves the session address absent (sections with their
        // own c= still work); a bad media-level one loses its section, which has no address then.
        if (splitTokens(buf, vs, lineEnd, 3) !== 3) {
          out.rejectedLines[SdpStatus.BadConnection]!++;
          if (media !== undefined) {
            rejectMedia(out);
            media = undefined;
            skipSection = true;
          }
          break;
        }
        setAddress(buf, tokStart[1]!, tokEnd[1]!, tokStart[2]!, tokEnd[2]!, media ? media.connection : out.connection);
        break;
      }
      case 0x61:
        parseAttribute(buf, vs, lineEnd, out, media);
        break;
      default:
        break; // s=, t=, b=, k=, ... are not needed to follow media
    }
  }
  if (first) return SdpStatus.NotSdp;
  return SdpStatus.Ok;
}

/** Takes back the media section being parsed (the last one stored) and counts it as rejected. */
function rejectMedia(out: SessionDescription): void {
  out.mediaCount--;
  out.mediaRejected++;
}

/** Splits [start, end) on single/multiple spaces into up to `max` tokens; the last token takes the rest. */
function splitTokens(buf: Uint8Array, start: number, end: number, max: number): number {
  let n = 0;
  let i = start;
  while (i < end && n < max) {
    while (i < end && buf[i] === SP) i++;
    if (i >= end) break;
    tokStart[n] = i;
    if (n === max - 1) {
      let e = end;
      while (e > i && buf[e - 1] === SP) e--;
      tokEnd[n++] = e;
      break;
    }
    while (i < end && buf[i] !== SP) i++;
    tokEnd[n++] = i;
  }
  return n;
}

function setAddress(buf: Uint8Array, typeStart: number, typeEnd: number, start: number, end: number, out: SdpAddress): void {
  out.clear();
  out.addressType.set(typeStart, typeEnd);
  // Multicast IPv4 carries "/ttl[/count]" (RFC 8866 §5.7); IPv6 "/count". The address is before the first '/'.
  let a = start;
  while (a < end && buf[a] !== SLASH && buf[a] !== SP) a++;
  out.address.set(start, a);
  if (equalsBytes(buf, typeStart, typeEnd, IP4)) {
    const v4 = parseIpv4(buf, start, a);
    if (v4 >= 0) {
      out.family = 4;
      out.ipv4 = v4;
    }
  } else if (equalsBytes(buf, typeStart, typeEnd, IP6) && parseIpv6(buf, start, a, out.ipv6)) {
    out.family = 6;
  }
}

function startMedia(buf: Uint8Array, start: number, end: number, out: SessionDescription): SdpStatus {
  // m=<media> <port>[/<n>] <proto> <fmt> ...
  if (splitTokens(buf, start, end, 4) !== 4) return SdpStatus.BadMedia;
  const portStart = tokStart[1]!;
  const portTokEnd = tokEnd[1]!;
  let p = portStart;
  while (p < portTokEnd && isDigit(buf[p]!)) p++;
  const port = parseDecimal(buf, portStart, p, 65535);
  if (port < 0) return SdpStatus.BadMedia;
  let portCount = 1;
  if (p < portTokEnd) {
    if (buf[p] !== SLASH) return SdpStatus.BadMedia;
    portCount = parseDecimal(buf, p + 1, portTokEnd, 65535);
    if (portCount < 1) return SdpStatus.BadMedia;
  }
  if (out.mediaCount >= SDP_MAX_MEDIA) {
    out.mediaDropped++;
    return SdpStatus.Ok;
  }
  const m = out.media[out.mediaCount++]!;
  m.clear();
  m.media.set(tokStart[0]!, tokEnd[0]!);
  m.port = port;
  m.portCount = portCount;
  m.proto.set(tokStart[2]!, tokEnd[2]!);
  const fs = tokStart[3]!;
  const fe = tokEnd[3]!;
  m.formats.set(fs, fe);
  m.connection.copyFrom(out.connection);
  m.direction = out.direction;
  // Numeric formats are RTP payload types; others (e.g. "webrtc-datachannel") stay in `formats`.
  let i = fs;
  while (i < fe) {
    while (i < fe && buf[i] === SP) i++;
    const s = i;
    while (i < fe && buf[i] !== SP) i++;
    if (i === s) break;
    const pt = parseDecimal(buf, s, i, 127);
    if (pt < 0) continue;
    if (m.payloadTypeCount >= SDP_MAX_FORMATS) {
      out.rtpmapDropped++;
      continue;
    }
    m.payloadTypes[m.payloadTypeCount++] = pt;
  }
  return SdpStatus.Ok;
}

function parseAttribute(buf: Uint8Array, start: number, end: number, out: SessionDescription, media: SdpMedia | undefined): void {
  let colon = start;
  while (colon < end && buf[colon] !== 0x3a) colon++;
  const nameEnd = colon;
  const vs = colon < end ? colon + 1 : end;
  const direction = equalsLower(buf, start, nameEnd, A_SENDRECV) ? SdpDirection.SendRecv
    : equalsLower(buf, start, nameEnd, A_SENDONLY) ? SdpDirection.SendOnly
      : equalsLower(buf, start, nameEnd, A_RECVONLY) ? SdpDirection.RecvOnly
        : equalsLower(buf, start, nameEnd, A_INACTIVE) ? SdpDirection.Inactive : 0;
  if (direction !== 0) {
    setDirection(out, media, direction);
    return;
  }
  if (media === undefined) return; // the remaining attributes are media-level only
  if (equalsLower(buf, start, nameEnd, A_RTPMAP)) {
    if (!parseRtpmap(buf, vs, end, out, media)) out.malformedAttributes++;
  } else if (equalsLower(buf, start, nameEnd, A_FMTP)) {
    if (!parseFmtp(buf, vs, end, out, media)) out.malformedAttributes++;
  } else if (equalsLower(buf, start, nameEnd, A_PTIME)) {
    let e = vs;
    while (e < end && isDigit(buf[e]!)) e++;
    const v = parseDecimal(buf, vs, e, 100000);
    if (v < 0) out.malformedAttributes++;
    else media.ptime = v;
  } else if (equalsLower(buf, start, nameEnd, A_RTCP_MUX)) {
    media.rtcpMux = true;
  } else if (equalsLower(buf, start, nameEnd, A_RTCP)) {
    // a=rtcp:<port> [<nettype> <addrtype> <connection-address>] (RFC 3605 §2.1)
    const n = splitTokens(buf, vs, end, 4);
    const port = n >= 1 ? parseDecimal(buf, tokStart[0]!, tokEnd[0]!, 65535) : -1;
    if (port < 0 || (n !== 1 && n !== 4)) {
      out.malformedAttributes++;
      return;
    }
    media.rtcpPort = port;
    if (n === 4) setAddress(buf, tokStart[2]!, tokEnd[2]!, tokStart[3]!, tokEnd[3]!, media.rtcpAddress);
  }
}

function setDirection(out: SessionDescription, media: SdpMedia | undefined, d: SdpDirection): void {
  if (media === undefined) {
    out.direction = d;
  } else {
    media.direction = d;
    media.directionExplicit = true;
  }
}

function entryFor(out: SessionDescription, media: SdpMedia, pt: number): SdpRtpMap | undefined {
  const existing = media.rtpmap(pt);
  if (existing) return existing;
  if (media.rtpmapCount >= SDP_MAX_RTPMAPS) {
    out.rtpmapDropped++;
    return undefined;
  }
  const r = media.rtpmaps[media.rtpmapCount++]!;
  r.clear();
  r.payloadType = pt;
  return r;
}

// <payload type> <encoding name>/<clock rate>[/<encoding parameters>]
function parseRtpmap(buf: Uint8Array, start: number, end: number, out: SessionDescription, media: SdpMedia): boolean {
  let i = start;
  while (i < end && isDigit(buf[i]!)) i++;
  const pt = parseDecimal(buf, start, i, 127);
  if (pt < 0 || i >= end || buf[i] !== SP) return false;
  while (i < end && buf[i] === SP) i++;
  const encStart = i;
  while (i < end && buf[i] !== SLASH && buf[i] !== SP) i++;
  const encEnd = i;
  if (encEnd === encStart || i >= end || buf[i] !== SLASH) return false;
  const rateStart = ++i;
  while (i < end && isDigit(buf[i]!)) i++;
  const rate = parseDecimal(buf, rateStart, i);
  if (rate <= 0) return false;
  let channels = 1;
  if (i < end && buf[i] === SLASH) {
    const cs = ++i;
    while (i < end && isDigit(buf[i]!)) i++;
    channels = parseDecimal(buf, cs, i, 255);
    if (channels <= 0) return false;
  }
  const r = entryFor(out, media, pt);
  if (r === undefined) return true; // counted in rtpmapDropped
  r.encoding.set(encStart, encEnd);
  r.clockRate = rate;
  r.channels = channels;
  if (equalsLower(buf, encStart, encEnd, TELEPHONE_EVENT) && media.telephoneEventPayloadType < 0) {
    media.telephoneEventPayloadType = pt;
  }
  return true;
}

// a=fmtp:<format> <format specific parameters> (RFC 8866 §6.15)
function parseFmtp(buf: Uint8Array, start: number, end: number, out: SessionDescription, media: SdpMedia): boolean {
  let i = start;
  while (i < end && isDigit(buf[i]!)) i++;
  const pt = parseDecimal(buf, start, i, 127);
  if (pt < 0) return false;
  while (i < end && buf[i] === SP) i++;
  const r = entryFor(out, media, pt);
  if (r !== undefined) r.fmtp.set(i, end);
  return true;
}
