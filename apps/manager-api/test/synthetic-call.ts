/**
 * Test helper: a synthetic call written into a spool through pcap-store's SpoolWriter, as the
 * sniffer writes one: an INVITE and a 200 OK with SDP (caller 10.0.0.1 media port 4000, callee
 * 10.0.0.2 port 4002) in the SIP file, RTP of both legs every 20 ms in the RTP file, optionally
 * with a silent gap in the middle (timestamps run on with the clock, as from a muted sender).
 * Frames are Ethernet II / IPv4 / UDP built here, so the test needs no capture on disk.
 */
import { SpoolWriter, type SpoolCallRef } from '@callscope/pcap-store';

/** LINKTYPE_ETHERNET (tcpdump.org link-layer header types). */
const LINKTYPE_ETHERNET = 1;
export const SYNTHETIC_CALLER = [10, 0, 0, 1] as const;
export const SYNTHETIC_CALLEE = [10, 0, 0, 2] as const;

/** What {@link spoolSyntheticCall} writes. */
export interface SyntheticCall {
  callId: string;
  /** Call start (the INVITE), epoch seconds: the spool key with 0 µs. */
  startSec: number;
  /** RTP payload type and its rtpmap encoding (`PCMA/8000`, `G729/8000`). */
  payloadType: number;
  rtpmap: string;
  /** Payload bytes per 20 ms packet (160 for G.711, 20 for G.729). */
  payloadBytes: number;
  /** Packets per leg before the gap, and after it. */
  packetsBefore: number;
  packetsAfter: number;
  /** Silence between them, s (0: none). */
  gapS: number;
  /** RTP clock, Hz (default 8000; 48000 for Opus, RFC 7587). */
  clockRate?: number;
  /** Payload of packet `k` of a leg (0 caller, 1 callee); default `payloadBytes` of {@link syntheticOctet}. */
  payload?: (leg: number, k: number) => Uint8Array;
  /** Sensor that saw the call (the spool key's third part); default the writer's (''). */
  sensor?: string;
}

/** First RTP arrival, µs after the INVITE: the audio's origin. */
export const FIRST_RTP_US = 200_000;
/** The callee's packets arrive this long after the caller's, µs. */
export const CALLEE_LAG_US = 5000;

/** Payload octet `i` of packet `k` of a leg (0 caller, 1 callee): varied, never G.711 silence. */
export const syntheticOctet = (leg: number, k: number, i: number): number => (leg * 89 + k * 7 + i * 13) & 0xff;

/** An Ethernet II / IPv4 / UDP frame around `payload` (IPv4 header checksum computed). */
export function udpFrame(src: readonly number[], srcPort: number, dst: readonly number[], dstPort: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + payload.length);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
  v.setUint16(12, 0x0800);
  const ip = 14;
  f[ip] = 0x45;
  v.setUint16(ip + 2, 20 + 8 + payload.length);
  f[ip + 8] = 64;
  f[ip + 9] = 17;
  f.set(src, ip + 12);
  f.set(dst, ip + 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += v.getUint16(ip + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(ip + 10, ~sum & 0xffff);
  v.setUint16(34, srcPort);
  v.setUint16(36, dstPort);
  v.setUint16(38, 8 + payload.length);
  f.set(payload, 42);
  return f;
}

function sipMessage(c: SyntheticCall, firstLine: string, from: readonly number[], port: number): Uint8Array {
  const body = `v=0\r\no=- 1 1 IN IP4 ${from.join('.')}\r\ns=-\r\nc=IN IP4 ${from.join('.')}\r\nt=0 0\r\nm=audio ${port} RTP/AVP ${c.payloadType} 101\r\na=rtpmap:${c.payloadType} ${c.rtpmap}\r\na=rtpmap:101 telephone-event/8000\r\n`;
  const response = firstLine.startsWith('SIP/');
  const head = [firstLine, 'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-synthetic', 'From: <sip:alice@example.com>;tag=a', `To: <sip:bob@example.com>${response ? ';tag=b' : ''}`, `Call-ID: ${c.callId}`, 'CSeq: 1 INVITE', `Contact: <sip:${response ? 'bob@10.0.0.2' : 'alice@10.0.0.1'}>`, 'Content-Type: application/sdp', `Content-Length: ${body.length}`];
  return new TextEncoder().encode(`${head.join('\r\n')}\r\n\r\n${body}`);
}

function rtpPacket(c: SyntheticCall, leg: number, k: number, seq: number, ts: number): Uint8Array {
  const payload = c.payload?.(leg, k) ?? Uint8Array.from({ length: c.payloadBytes }, (_, i) => syntheticOctet(leg, k, i));
  const p = new Uint8Array(12 + payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x80;
  p[1] = c.payloadType;
  v.setUint16(2, seq & 0xffff);
  v.setUint32(4, ts >>> 0);
  v.setUint32(8, 0x1000 + leg);
  p.set(payload, 12);
  return p;
}

/** Writes the call into `spoolDir` and closes the writer; resolves once the files are on disk. */
export async function spoolSyntheticCall(spoolDir: string, c: SyntheticCall): Promise<void> {
  const writer = new SpoolWriter({ spoolDir });
  const call: SpoolCallRef = { callId: c.callId, startSec: c.startSec, startUsec: 0, ...(c.sensor === undefined ? {} : { sensor: c.sensor }) };
  const at = (us: number, kind: 'sip' | 'rtp', frame: Uint8Array): void => {
    writer.write(call, kind, c.startSec + Math.floor(us / 1e6), (us % 1e6) * 1000, frame, frame.length, LINKTYPE_ETHERNET);
  };
  at(0, 'sip', udpFrame(SYNTHETIC_CALLER, 5060, SYNTHETIC_CALLEE, 5060, sipMessage(c, 'INVITE sip:bob@example.com SIP/2.0', SYNTHETIC_CALLER, 4000)));
  at(100_000, 'sip', udpFrame(SYNTHETIC_CALLEE, 5060, SYNTHETIC_CALLER, 5060, sipMessage(c, 'SIP/2.0 200 OK', SYNTHETIC_CALLEE, 4002)));
  for (let k = 0; k < c.packetsBefore + c.packetsAfter; k++) {
    const after = k >= c.packetsBefore ? 1 : 0;
    const tUs = FIRST_RTP_US + k * 20_000 + after * c.gapS * 1e6;
    const perMs = (c.clockRate ?? 8000) / 1000;
    const ts = k * 20 * perMs + after * c.gapS * 1000 * perMs;
    at(tUs, 'rtp', udpFrame(SYNTHETIC_CALLER, 4000, SYNTHETIC_CALLEE, 4002, rtpPacket(c, 0, k, k, ts)));
    at(tUs + CALLEE_LAG_US, 'rtp', udpFrame(SYNTHETIC_CALLEE, 4002, SYNTHETIC_CALLER, 4000, rtpPacket(c, 1, k, 1000 + k, 90_000 + ts)));
  }
  await writer.endCall(call);
  await writer.close();
}
