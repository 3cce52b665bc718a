/**
 * A classic pcap of N short, distinct SIP calls, written fast enough for load-shaped tests (20,000
 * calls in well under 2 s): each call is one UDP dialog INVITE / 100 / 180 / 200 / ACK / BYE / 200
 * between 10.0.0.1:5060 and 10.0.0.2:5060 (RFC 3261), with its own Call-ID, tags and caller, and
 * optionally a few RTP packets per leg (RFC 3550) to the SDP addresses. Calls start
 * `spacingMs` apart and last about one second, so some overlap and none is still open at the end:
 * `sniffer analyze` yields exactly N call records and no registrations.
 *
 * Frames are Ethernet II / IPv4 / UDP (UDP checksum 0, allowed over IPv4; IPv4 header checksum
 * computed), pcap 2.4 little-endian, microsecond times, LINKTYPE_ETHERNET.
 *
 * Timeline of call `i` (ms after its start, `start + i * spacingMs`):
 *
 * ```
 *  caller 10.0.0.1                      callee 10.0.0.2
 *      |  0    INVITE (SDP) ------------------>  |
 *      |  10   <-------------------- 100 Trying  |
 *      |  20   <-------------------- 180 Ringing |
 *      |  100  <------------------------ 200 OK (SDP)
 *      |  110  ACK --------------------------->  |
 *      |  120+ RTP both ways every 20 ms (optional)
 *      |  1000 BYE --------------------------->  |
 *      |  1010 <------------------------- 200 OK |
 * ```
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** LINKTYPE_ETHERNET (tcpdump.org link-layer header types). */
const LINKTYPE_ETHERNET = 1;
const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_RECORD_HEADER_BYTES = 16;
/** Ethernet II + IPv4 (no options) + UDP headers. */
const FRAME_HEADER_BYTES = 14 + 20 + 8;
const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_UDP = 17;
const SIP_PORT = 5060;
const CALLER_IP = [10, 0, 0, 1] as const;
const CALLEE_IP = [10, 0, 0, 2] as const;
const CALLER_RTP_PORT = 40_000;
const CALLEE_RTP_PORT = 50_000;
/** PCMU (RFC 3551), 160 bytes per 20 ms. */
const RTP_PAYLOAD_TYPE = 0;
const RTP_PAYLOAD_BYTES = 160;
/** Buffer flushed to the file when fuller than this. */
const FLUSH_BYTES = 4 * 1024 * 1024;

/** Options of {@link writeSipCallsPcap}. */
export interface SipCallsPcapOptions {
  /** Number of calls (>= 0). */
  calls: number;
  /** INVITE time of the first call, epoch seconds (default 2026-11-30T10:00:00Z). */
  startSec?: number;
  /** Between two calls' INVITEs, ms (default 50). */
  spacingMs?: number;
  /** RTP packets per leg and call, 20 ms apart from 120 ms after the INVITE (default 0, at most 40). */
  rtpPacketsPerLeg?: number;
  /** Call-IDs are `<prefix>-<i>@callscope.test` (default `call`); see {@link sipCallsPcapCallId}. */
  callIdPrefix?: string;
}

/** What {@link writeSipCallsPcap} wrote. */
export interface SipCallsPcapResult {
  calls: number;
  /** Packets in the file: 7 SIP per call plus the RTP. */
  packets: number;
  /** SIP INVITE requests (one per call): what `tshark -Y sip.Method==INVITE` counts. */
  invites: number;
  bytes: number;
}

/** Default INVITE time of the first call: 2026-11-30T10:00:00Z. */
export const SIP_CALLS_PCAP_START_SEC = Date.UTC(2026, 10, 30, 10, 0, 0) / 1000;

/** The Call-ID of call `i` of a file written with `prefix`. */
export function sipCallsPcapCallId(prefix: string, i: number): string {
  return `${prefix}-${i}@callscope.test`;
}

interface Packet {
  /** Time after the call's INVITE, µs. */
  atUs: number;
  fromCaller: boolean;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

function sdp(ip: readonly number[], port: number): string {
  const addr = ip.join('.');
  return `v=0\r\no=- 1 1 IN IP4 ${addr}\r\ns=-\r\nc=IN IP4 ${addr}\r\nt=0 0\r\nm=audio ${port} RTP/AVP ${RTP_PAYLOAD_TYPE}\r\na=rtpmap:${RTP_PAYLOAD_TYPE} PCMU/8000\r\n`;
}

/** The SIP messages (and RTP) of call `i`, in time order. */
function callPackets(prefix: string, i: number, rtpPerLeg: number): Packet[] {
  const callId = sipCallsPcapCallId(prefix, i);
  const caller = `u${i}`;
  const from = `From: <sip:${caller}@callscope.test>;tag=f${i}`;
  const toBare = `To: <sip:bob${i % 100}@callscope.test>`;
  const to = `${toBare};tag=t${i}`;
  const ruri = `sip:bob${i % 100}@10.0.0.2`;
  const via = (branch: string) => `Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK${branch}${i}`;
  const msg = (lines: string[], body = ''): Buffer => {
    const head = body === '' ? [...lines, 'Content-Length: 0'] : [...lines, 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(body)}`];
    return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'latin1');
  };
  const withRtp = rtpPerLeg > 0;
  const offer = withRtp ? sdp(CALLER_IP, CALLER_RTP_PORT) : '';
  const answer = withRtp ? sdp(CALLEE_IP, CALLEE_RTP_PORT) : '';
  const invVia = via('i');
  const contactA = `Contact: <sip:${caller}@10.0.0.1:5060>`;
  const contactB = 'Contact: <sip:bob@10.0.0.2:5060>';
  const sip = (atMs: number, fromCaller: boolean, payload: Buffer): Packet => ({ atUs: atMs * 1000, fromCaller, srcPort: SIP_PORT, dstPort: SIP_PORT, payload });
  const packets: Packet[] = [
    sip(0, true, msg([`INVITE ${ruri} SIP/2.0`, invVia, 'Max-Forwards: 70', from, toBare, `Call-ID: ${callId}`, 'CSeq: 1 INVITE', contactA], offer)),
    sip(10, false, msg(['SIP/2.0 100 Trying', invVia, from, toBare, `Call-ID: ${callId}`, 'CSeq: 1 INVITE'])),
    sip(20, false, msg(['SIP/2.0 180 Ringing', invVia, from, to, `Call-ID: ${callId}`, 'CSeq: 1 INVITE', contactB])),
    sip(100, false, msg(['SIP/2.0 200 OK', invVia, from, to, `Call-ID: ${callId}`, 'CSeq: 1 INVITE', contactB], answer)),
    sip(110, true, msg([`ACK sip:bob@10.0.0.2:5060 SIP/2.0`, via('a'), 'Max-Forwards: 70', from, to, `Call-ID: ${callId}`, 'CSeq: 1 ACK'])),
  ];
  for (let k = 0; k < rtpPerLeg; k++) {
    for (const fromCaller of [true, false]) {
      const rtp = Buffer.alloc(12 + RTP_PAYLOAD_BYTES, 0x55);
      rtp[0] = 0x80;
      rtp[1] = RTP_PAYLOAD_TYPE;
      rtp.writeUInt16BE(k & 0xffff, 2);
      rtp.writeUInt32BE(k * 160, 4);
      rtp.writeUInt32BE(((i * 2 + (fromCaller ? 0 : 1)) ^ 0x5eed0000) >>> 0, 8);
      packets.push({
        atUs: 120_000 + k * 20_000 + (fromCaller ? 0 : 1000),
        fromCaller,
        srcPort: fromCaller ? CALLER_RTP_PORT : CALLEE_RTP_PORT,
        dstPort: fromCaller ? CALLEE_RTP_PORT : CALLER_RTP_PORT,
        payload: rtp,
      });
    }
  }
  const byeVia = via('b');
  packets.push(
    sip(1000, true, msg([`BYE sip:bob@10.0.0.2:5060 SIP/2.0`, byeVia, 'Max-Forwards: 70', from, to, `Call-ID: ${callId}`, 'CSeq: 2 BYE'])),
    sip(1010, false, msg(['SIP/2.0 200 OK', byeVia, from, to, `Call-ID: ${callId}`, 'CSeq: 2 BYE'])),
  );
  return packets;
}

/** Appends one pcap record (header + Ethernet/IPv4/UDP frame) to `out` at `offset`; returns the new offset. */
function putRecord(out: Buffer, offset: number, timeUs: number, p: Packet): number {
  const frameLength = FRAME_HEADER_BYTES + p.payload.length;
  let o = offset;
  out.writeUInt32LE(Math.floor(timeUs / 1e6), o);
  out.writeUInt32LE(timeUs % 1e6, o + 4);
  out.writeUInt32LE(frameLength, o + 8);
  out.writeUInt32LE(frameLength, o + 12);
  o += PCAP_RECORD_HEADER_BYTES;
  // Ethernet II: locally administered MACs, one per side.
  out.fill(0, o, o + 12);
  out[o] = 0x02;
  out[o + 5] = p.fromCaller ? 2 : 1;
  out[o + 6] = 0x02;
  out[o + 11] = p.fromCaller ? 1 : 2;
  out.writeUInt16BE(ETHERTYPE_IPV4, o + 12);
  const ip = o + 14;
  out.fill(0, ip, ip + 20);
  out[ip] = 0x45;
  out.writeUInt16BE(20 + 8 + p.payload.length, ip + 2);
  out[ip + 8] = 64;
  out[ip + 9] = IPPROTO_UDP;
  const src = p.fromCaller ? CALLER_IP : CALLEE_IP;
  const dst = p.fromCaller ? CALLEE_IP : CALLER_IP;
  for (let k = 0; k < 4; k++) {
    out[ip + 12 + k] = src[k]!;
    out[ip + 16 + k] = dst[k]!;
  }
  let sum = 0;
  for (let k = 0; k < 20; k += 2) sum += out.readUInt16BE(ip + k);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  out.writeUInt16BE(~sum & 0xffff, ip + 10);
  const udp = ip + 20;
  out.writeUInt16BE(p.srcPort, udp);
  out.writeUInt16BE(p.dstPort, udp + 2);
  out.writeUInt16BE(8 + p.payload.length, udp + 4);
  out.writeUInt16BE(0, udp + 6);
  p.payload.copy(out, udp + 8);
  return udp + 8 + p.payload.length;
}

/**
 * Writes the capture to `path` (replacing it) with packets in time order across calls. Throws
 * `RangeError` on a negative or fractional call count or an RTP count outside 0..40.
 */
export function writeSipCallsPcap(path: string, options: SipCallsPcapOptions): SipCallsPcapResult {
  const { calls } = options;
  const startSec = options.startSec ?? SIP_CALLS_PCAP_START_SEC;
  const spacingMs = options.spacingMs ?? 50;
  const rtpPerLeg = options.rtpPacketsPerLeg ?? 0;
  const prefix = options.callIdPrefix ?? 'call';
  if (!Number.isInteger(calls) || calls < 0) throw new RangeError(`calls must be an integer >= 0, got ${calls}`);
  if (!Number.isInteger(rtpPerLeg) || rtpPerLeg < 0 || rtpPerLeg > 40) throw new RangeError(`rtpPacketsPerLeg must be an integer 0..40, got ${rtpPerLeg}`);
  if (!(spacingMs > 0)) throw new RangeError(`spacingMs must be > 0, got ${spacingMs}`);
  const startUs = Math.round(startSec * 1e6);
  const spacingUs = Math.round(spacingMs * 1000);

  // Merge the calls' timelines in time order: call i's packets are at startUs + i * spacingUs + atUs;
  // calls overlap, so keep the packets of the calls still running in a small time-sorted window.
  const fd = openSync(path, 'w');
  let bytes = 0;
  let packets = 0;
  const buf = Buffer.alloc(FLUSH_BYTES + 70_000);
  let off = 0;
  const flush = () => {
    if (off === 0) return;
    writeSync(fd, buf, 0, off);
    bytes += off;
    off = 0;
  };
  try {
    buf.writeUInt32LE(PCAP_MAGIC_US, 0);
    buf.writeUInt16LE(2, 4);
    buf.writeUInt16LE(4, 6);
    buf.writeInt32LE(0, 8);
    buf.writeUInt32LE(0, 12);
    buf.writeUInt32LE(65_535, 16);
    buf.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    off = 24;
    /** Packets of started calls not yet written, as [absolute µs, packet], kept sorted by time. */
    let window: [number, Packet][] = [];
    let next = 0;
    while (next < calls || window.length > 0) {
      const nextStart = next < calls ? startUs + next * spacingUs : Infinity;
      // Admit every call that starts before the earliest waiting packet (or all when none waits).
      if (next < calls && (window.length === 0 || nextStart <= window[0]![0])) {
        for (const p of callPackets(prefix, next, rtpPerLeg)) window.push([nextStart + p.atUs, p]);
        window.sort((a, b) => a[0] - b[0]);
        next++;
        continue;
      }
      // Write every packet due before the next call starts.
      let k = 0;
      while (k < window.length && window[k]![0] < nextStart) {
        const [t, p] = window[k]!;
        off = putRecord(buf, off, t, p);
        packets++;
        if (off > FLUSH_BYTES) flush();
        k++;
      }
      window = window.slice(k);
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return { calls, packets, invites: calls, bytes };
}
