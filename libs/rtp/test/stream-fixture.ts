import { readFileSync } from 'node:fs';
import { type PayloadTypeMap, RtpStreamStats } from '../src/index.js';

/** One RTP packet of a fixture stream, with its exact capture arrival time. */
export interface FixturePacket {
  sec: number;
  nsec: number;
  seq: number;
  timestamp: number;
  payloadType: number;
  marker: boolean;
  payloadLength: number;
  /** Payload bytes (kept only for dynamic payload types). */
  payload: Uint8Array | null;
}

/** One stream of a fixture file (see test/fixtures/make-stream-fixtures.py for the format). */
export interface FixtureStream {
  ssrc: string;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  packets: FixturePacket[];
}

/** Directory of the per-stream fixtures. */
export const STREAM_FIXTURES = new URL('./fixtures/streams/', import.meta.url);

/** Read one `<capture>.rtp.txt` fixture, undoing its delta encoding exactly (integers only). */
export function readStreamFixture(name: string): FixtureStream[] {
  const text = readFileSync(new URL(`${name}.rtp.txt`, STREAM_FIXTURES), 'utf8');
  const streams: FixtureStream[] = [];
  let cur: FixtureStream | null = null;
  let sec = 0;
  let nsec = 0;
  let seq = 0;
  let ts = 0;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(' ');
    if (f[0] === 'S') {
      cur = { ssrc: f[1]!, src: f[2]!, srcPort: Number(f[3]), dst: f[4]!, dstPort: Number(f[5]), packets: [] };
      streams.push(cur);
      sec = Number(f[6]);
      nsec = Number(f[7]);
      seq = 0;
      ts = 0;
      continue;
    }
    if (cur === null) throw new Error(`packet line before a stream line in ${name}`);
    nsec += Number(f[0]);
    sec += Math.floor(nsec / 1e9);
    nsec %= 1e9;
    seq = (seq + Number(f[1]) + 65536) % 65536;
    ts = (ts + Number(f[2]) + 0x1_0000_0000) % 0x1_0000_0000;
    const hex = f[6];
    cur.packets.push({
      sec,
      nsec,
      seq,
      timestamp: ts,
      payloadType: Number(f[3]),
      marker: f[4] === '1',
      payloadLength: Number(f[5]),
      payload: hex === undefined ? null : Uint8Array.from(Buffer.from(hex, 'hex')),
    });
  }
  return streams;
}

/** Names of the captures that have a stream fixture. */
export const FIXTURE_CAPTURES = [
  'basic-call-linux-sll', 'basic-callee-bye-pcmu', 'basic-caller-bye-pcma', 'busy-hour-a',
  'dtmf-rfc2833', 'encap-erspan2-dtmf', 'encap-gre-rtp-loss-1pct', 'encap-vlan-basic-callee-bye',
  'encap-vxlan-reinvite-hold', 'ipv6-call', 'reinvite-hold-port-change', 'rtp-jitter-20ms',
  'rtp-loss-1pct', 'rtp-reorder', 'sip-tcp', 'sip-udp-fragmented-invite',
] as const;

/** A fixture stream's packets through {@link RtpStreamStats} with `payloadTypes`, finished. */
export function runFixtureStream(stream: FixtureStream, payloadTypes: PayloadTypeMap): RtpStreamStats {
  const stats = new RtpStreamStats({ payloadTypes });
  const h = { sequenceNumber: 0, timestamp: 0, payloadType: 0, marker: false };
  for (const p of stream.packets) {
    h.sequenceNumber = p.seq;
    h.timestamp = p.timestamp;
    h.payloadType = p.payloadType;
    h.marker = p.marker;
    stats.update(h, p.sec, p.nsec, p.payloadLength);
  }
  stats.finish();
  return stats;
}
