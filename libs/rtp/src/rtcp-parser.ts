import { readU16BE, readU32BE } from '@callscope/pcap-format';
import {
  MAX_BYE_SSRCS,
  MAX_CNAMES,
  MAX_REPORT_BLOCKS,
  MAX_VOIP_METRICS,
  RtcpPacketType,
  type RtcpCompound,
} from './rtcp-compound.js';
import { checkRange } from './buffer-range.js';
import { RtcpStatus } from './rtcp-status.js';

/** Local bindings: under module runners that turn imports into getters (vitest) each call would pay one. */
const u16 = readU16BE;
const u32 = readU32BE;

const HEADER = 4;
const REPORT_BLOCK = 24;
const SR_SENDER_INFO = 20;
const SDES_END = 0;
const SDES_CNAME = 1;
const XR_VOIP_METRICS = 7;
/** RFC 3611 §4.7: the VoIP metrics block is 9 words, so its block length field is 8. */
const XR_VOIP_METRICS_WORDS = 8;

/**
 * Parse an RTCP compound packet at `buf[offset .. offset + length)` into `out`: SR, RR (report
 * blocks), SDES (CNAME), BYE, APP and XR (VoIP metrics block) are decoded, other well-formed
 * types are counted in `out.otherPackets`.
 *
 * Validates as RFC 3550 A.2 does: version 2 on every packet, the first packet an SR or RR,
 * padding only on the last packet, and every length field inside the datagram; then each block
 * against its own packet length. Never throws on wire input and allocates nothing.
 *
 * ```
 *  0                   1                   2                   3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|    RC   |      PT       |             length            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @see https://www.rfc-editor.org/rfc/rfc3550#section-6.4
 * @see https://www.rfc-editor.org/rfc/rfc3550#appendix-A.2
 * @throws RangeError when offset/length lie outside `buf` (a programmer error, not wire input).
 * @see https://www.rfc-editor.org/rfc/rfc3611#section-3
 */
export function parseRtcpCompound(buf: Uint8Array, offset: number, length: number, out: RtcpCompound): RtcpStatus {
  checkRange('parseRtcpCompound', buf.length, offset, length);
  out.reset();
  if (length < 8) return RtcpStatus.TooShort;
  const end = offset + length;
  let pos = offset;
  while (pos < end) {
    if (pos + HEADER > end) return RtcpStatus.TooShort;
    const b0 = buf[pos]!;
    if (b0 >>> 6 !== 2) return RtcpStatus.BadVersion;
    const count = b0 & 0x1f;
    const pt = buf[pos + 1]!;
    const packetLength = (((buf[pos + 2]! << 8) | buf[pos + 3]!) + 1) * 4;
    const packetEnd = pos + packetLength;
    if (packetEnd > end) return RtcpStatus.BadLength;
    if (out.packetCount === 0 && pt !== RtcpPacketType.SR && pt !== RtcpPacketType.RR) {
      return RtcpStatus.FirstNotReport;
    }
    let bodyEnd = packetEnd;
    if ((b0 & 0x20) !== 0) {
      if (packetEnd !== end) return RtcpStatus.BadPadding;
      const pad = buf[packetEnd - 1]!;
      if (pad === 0 || pos + HEADER + pad > packetEnd) return RtcpStatus.BadPadding;
      bodyEnd = packetEnd - pad;
    }
    const body = pos + HEADER;
    let status: RtcpStatus = RtcpStatus.Ok;
    switch (pt) {
      case RtcpPacketType.SR:
        status = parseSr(buf, body, bodyEnd, count, out);
        break;
      case RtcpPacketType.RR:
        status = parseRr(buf, body, bodyEnd, count, out);
        break;
      case RtcpPacketType.SDES:
        status = parseSdes(buf, body, bodyEnd, count, out);
        break;
      case RtcpPacketType.BYE:
        status = parseBye(buf, body, bodyEnd, count, out);
        break;
      case RtcpPacketType.APP:
        status = parseApp(buf, body, bodyEnd, count, out);
        break;
      case RtcpPacketType.XR:
        status = parseXr(buf, body, bodyEnd, out);
        break;
      default:
        out.otherPackets++;
    }
    if (status !== RtcpStatus.Ok) return status;
    out.packetCount++;
    pos = packetEnd;
  }
  return RtcpStatus.Ok;
}

function parseSr(buf: Uint8Array, pos: number, end: number, rc: number, out: RtcpCompound): RtcpStatus {
  if (pos + 4 + SR_SENDER_INFO > end) return RtcpStatus.TooShort;
  const ssrc = u32(buf, pos);
  if (!out.hasSenderReport) {
    out.hasSenderReport = true;
    out.srSsrc = ssrc;
    out.srNtpSec = u32(buf, pos + 4);
    out.srNtpFrac = u32(buf, pos + 8);
    out.srRtpTimestamp = u32(buf, pos + 12);
    out.srPacketCount = u32(buf, pos + 16);
    out.srOctetCount = u32(buf, pos + 20);
  } else {
    out.overflow++;
  }
  return parseReportBlocks(buf, pos + 4 + SR_SENDER_INFO, end, rc, ssrc, out);
}

function parseRr(buf: Uint8Array, pos: number, end: number, rc: number, out: RtcpCompound): RtcpStatus {
  if (pos + 4 > end) return RtcpStatus.TooShort;
  const ssrc = u32(buf, pos);
  if (out.rrSsrc === 0) out.rrSsrc = ssrc;
  return parseReportBlocks(buf, pos + 4, end, rc, ssrc, out);
}

/**
 * Report blocks (RFC 3550 §6.4.1): SSRC, fraction lost (8) + cumulative lost (24, signed),
 * extended highest sequence, jitter, LSR, DLSR.
 */
function parseReportBlocks(buf: Uint8Array, pos: number, end: number, rc: number, reporter: number, out: RtcpCompound): RtcpStatus {
  if (pos + rc * REPORT_BLOCK > end) return RtcpStatus.BadReportCount;
  for (let i = 0; i < rc; i++, pos += REPORT_BLOCK) {
    const n = out.reportCount;
    if (n >= MAX_REPORT_BLOCKS) {
      out.overflow++;
      continue;
    }
    out.reportReporter[n] = reporter;
    out.reportSource[n] = u32(buf, pos);
    out.reportFractionLost[n] = buf[pos + 4]!;
    // 24-bit two's complement: shift into the top of an int32 and back to sign-extend.
    out.reportCumulativeLost[n] = (((buf[pos + 5]! << 16) | (buf[pos + 6]! << 8) | buf[pos + 7]!) << 8) >> 8;
    out.reportHighestSeq[n] = u32(buf, pos + 8);
    out.reportJitter[n] = u32(buf, pos + 12);
    out.reportLsr[n] = u32(buf, pos + 16);
    out.reportDlsr[n] = u32(buf, pos + 20);
    out.reportCount = n + 1;
  }
  return RtcpStatus.Ok;
}

/** SDES (RFC 3550 §6.5): SC chunks of SSRC + items, each chunk ended by a null item and padded to 32 bits. */
function parseSdes(buf: Uint8Array, pos: number, end: number, sc: number, out: RtcpCompound): RtcpStatus {
  const base = pos;
  for (let c = 0; c < sc; c++) {
    if (pos + 4 > end) return RtcpStatus.BadSdes;
    const ssrc = u32(buf, pos);
    pos += 4;
    for (;;) {
      if (pos >= end) return RtcpStatus.BadSdes;
      const type = buf[pos]!;
      if (type === SDES_END) {
        // The null item plus padding up to the next 32-bit boundary.
        pos = align4(pos + 1, base);
        if (pos > end) return RtcpStatus.BadSdes;
        break;
      }
      if (pos + 2 > end) return RtcpStatus.BadSdes;
      const len = buf[pos + 1]!;
      if (pos + 2 + len > end) return RtcpStatus.BadSdes;
      if (type === SDES_CNAME) {
        const n = out.cnameCount;
        if (n < MAX_CNAMES) {
          out.cnameSsrc[n] = ssrc;
          out.cnameOffset[n] = pos + 2;
          out.cnameLength[n] = len;
          out.cnameCount = n + 1;
        } else {
          out.overflow++;
        }
      }
      pos += 2 + len;
    }
  }
  return RtcpStatus.Ok;
}

/**
 * Chunks start on 32-bit boundaries counted from the packet (RFC 3550 §6.5), not from the
 * buffer, whose capture offset need not be aligned; `base` is the 4-aligned body start.
 */
function align4(pos: number, base: number): number {
  return pos + ((4 - ((pos - base) & 3)) & 3);
}

/** BYE (RFC 3550 §6.6): SC SSRCs, then an optional length-prefixed reason. */
function parseBye(buf: Uint8Array, pos: number, end: number, sc: number, out: RtcpCompound): RtcpStatus {
  if (pos + sc * 4 > end) return RtcpStatus.BadBye;
  for (let i = 0; i < sc; i++, pos += 4) {
    if (out.byeCount < MAX_BYE_SSRCS) out.byeSsrc[out.byeCount++] = u32(buf, pos);
    else out.overflow++;
  }
  if (pos < end) {
    const len = buf[pos]!;
    if (pos + 1 + len > end) return RtcpStatus.BadBye;
    out.byeReasonOffset = pos + 1;
    out.byeReasonLength = len;
  }
  return RtcpStatus.Ok;
}

/** APP (RFC 3550 §6.7): SSRC, 4-octet ASCII name, application data. */
function parseApp(buf: Uint8Array, pos: number, end: number, subtype: number, out: RtcpCompound): RtcpStatus {
  if (pos + 8 > end) return RtcpStatus.BadApp;
  if (out.hasApp) {
    out.overflow++;
    return RtcpStatus.Ok;
  }
  out.hasApp = true;
  out.appSsrc = u32(buf, pos);
  out.appName = u32(buf, pos + 4);
  out.appSubtype = subtype;
  out.appDataOffset = pos + 8;
  out.appDataLength = end - pos - 8;
  return RtcpStatus.Ok;
}

/** XR (RFC 3611 §3): SSRC, then report blocks of BT(8), type-specific(8), length in words minus one. */
function parseXr(buf: Uint8Array, pos: number, end: number, out: RtcpCompound): RtcpStatus {
  if (pos + 4 > end) return RtcpStatus.TooShort;
  const reporter = u32(buf, pos);
  pos += 4;
  out.xrCount++;
  while (pos < end) {
    if (pos + 4 > end) return RtcpStatus.BadXrBlock;
    const bt = buf[pos]!;
    const words = (buf[pos + 2]! << 8) | buf[pos + 3]!;
    const blockEnd = pos + 4 + words * 4;
    if (blockEnd > end) return RtcpStatus.BadXrBlock;
    if (bt === XR_VOIP_METRICS) {
      if (words !== XR_VOIP_METRICS_WORDS) return RtcpStatus.BadXrBlock;
      if (out.voipMetricsCount < MAX_VOIP_METRICS) {
        const m = out.voipMetrics[out.voipMetricsCount++]!;
        const p = pos + 4;
        m.reporterSsrc = reporter;
        m.sourceSsrc = u32(buf, p);
        m.lossRate = buf[p + 4]!;
        m.discardRate = buf[p + 5]!;
        m.burstDensity = buf[p + 6]!;
        m.gapDensity = buf[p + 7]!;
        m.burstDuration = u16(buf, p + 8);
        m.gapDuration = u16(buf, p + 10);
        m.roundTripDelay = u16(buf, p + 12);
        m.endSystemDelay = u16(buf, p + 14);
        m.signalLevel = (buf[p + 16]! << 24) >> 24;
        m.noiseLevel = (buf[p + 17]! << 24) >> 24;
        m.rerl = buf[p + 18]!;
        m.gmin = buf[p + 19]!;
        m.rFactor = buf[p + 20]!;
        m.extRFactor = buf[p + 21]!;
        m.mosLq = buf[p + 22]!;
        m.mosCq = buf[p + 23]!;
        m.rxConfig = buf[p + 24]!;
        m.jbNominal = u16(buf, p + 26);
        m.jbMaximum = u16(buf, p + 28);
        m.jbAbsMax = u16(buf, p + 30);
      } else {
        out.overflow++;
      }
    } else {
      out.xrOtherBlocks++;
    }
    pos = blockEnd;
  }
  return RtcpStatus.Ok;
}
