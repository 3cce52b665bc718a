/**
 * Regression test for issue 14's pacing of long RTP gaps: a call whose media stops for an hour
 * used to come out of `calls/{callId}/audio` as one synchronous burst of silence (the whole gap,
 * 115 MB in stereo) buffered in the response stream. Now the render produces one chunk at a time
 * as the client reads. The call is synthetic (Ethernet/IPv4/UDP frames built here, SIP with SDP
 * and G.711 A-law RTP) and written through pcap-store's SpoolWriter, as the sniffer writes a
 * spool; the client is a real HTTP socket that reads slowly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { CALL_AUDIO_READABLE_HIGH_WATER_MARK } from '@callscope/call-artifacts';
import { LinkType } from '@callscope/pcap-format';
import { SpoolWriter, type SpoolCallRef } from '@callscope/pcap-store';
import { decodeAlawSample } from '@callscope/rtp';
import { createLogger } from '@callscope/runtime';
import { loadManagerApiConfig } from './config.js';
import { buildServer } from './server.js';
import { MANAGER_API_VERSION } from './version.js';

const CALL_ID = 'gap-call@192.0.2.10';
const START_SEC = Date.parse('2026-11-29T18:00:00Z') / 1000;
const START = '2026-11-29T18:00:00.000000Z';
const CALLER = [10, 0, 0, 1] as const;
const CALLEE = [10, 0, 0, 2] as const;
/** Talk before and after the gap, s; the gap, s. */
const TALK_S = 3;
const GAP_S = 3600;
/** A-law octet of packet `k`'s sample `i`: varied, never silence after decoding. */
const octet = (leg: number, k: number, i: number): number => (leg * 89 + k * 7 + i * 13) & 0xff;

let work: string;
let server: FastifyInstance | undefined;
const logLines: Record<string, unknown>[] = [];

/** An Ethernet II / IPv4 / UDP frame around `payload` (IPv4 header checksum computed). */
function udpFrame(src: readonly number[], srcPort: number, dst: readonly number[], dstPort: number, payload: Uint8Array): Uint8Array {
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

function sip(firstLine: string, from: readonly number[], port: number): Uint8Array {
  const body = `v=0\r\no=- 1 1 IN IP4 ${from.join('.')}\r\ns=-\r\nc=IN IP4 ${from.join('.')}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n`;
  const head = [firstLine, 'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-gap', 'From: <sip:alice@example.com>;tag=a', `To: <sip:bob@example.com>${firstLine.startsWith('SIP/') ? ';tag=b' : ''}`, `Call-ID: ${CALL_ID}`, 'CSeq: 1 INVITE', 'Contact: <sip:alice@10.0.0.1>', 'Content-Type: application/sdp', `Content-Length: ${body.length}`];
  return new TextEncoder().encode(`${head.join('\r\n')}\r\n\r\n${body}`);
}

function rtp(leg: number, k: number, seq: number, ts: number): Uint8Array {
  const p = new Uint8Array(12 + 160);
  const v = new DataView(p.buffer);
  p[0] = 0x80;
  p[1] = 8;
  v.setUint16(2, seq & 0xffff);
  v.setUint32(4, ts >>> 0);
  v.setUint32(8, 0x1000 + leg);
  for (let i = 0; i < 160; i++) p[12 + i] = octet(leg, k, i);
  return p;
}

/** Packets per leg before the gap (and as many after). */
const PER_TALK = TALK_S * 50;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'hA-audio-pacing-'));
  const writer = new SpoolWriter({ spoolDir: join(work, 'spool') });
  const call: SpoolCallRef = { callId: CALL_ID, startSec: START_SEC, startUsec: 0 };
  const at = (us: number, kind: 'sip' | 'rtp', frame: Uint8Array): void => {
    writer.write(call, kind, START_SEC + Math.floor(us / 1e6), (us % 1e6) * 1000, frame, frame.length, LinkType.Ethernet);
  };
  at(0, 'sip', udpFrame(CALLER, 5060, CALLEE, 5060, sip('INVITE sip:bob@example.com SIP/2.0', CALLER, 4000)));
  at(100_000, 'sip', udpFrame(CALLEE, 5060, CALLER, 5060, sip('SIP/2.0 200 OK', CALLEE, 4002)));
  // Both legs 20 ms apart (the callee 5 ms later), TALK_S of talk, a GAP_S silence, TALK_S more;
  // timestamps run on with the clock across the gap (a muted sender), so no restart.
  const firstUs = 200_000;
  for (let k = 0; k < 2 * PER_TALK; k++) {
    const tUs = firstUs + k * 20_000 + (k >= PER_TALK ? GAP_S * 1e6 : 0);
    const ts = k * 160 + (k >= PER_TALK ? GAP_S * 8000 : 0);
    at(tUs, 'rtp', udpFrame(CALLER, 4000, CALLEE, 4002, rtp(0, k, k, ts)));
    at(tUs + 5000, 'rtp', udpFrame(CALLEE, 4002, CALLER, 4000, rtp(1, k, 1000 + k, 90_000 + ts)));
  }
  await writer.endCall(call);
  await writer.close();
});
afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

/** GET over a real socket, reading `slowBytes` slowly (a pause per chunk), then the rest at full speed. */
function download(port: number, path: string, slowBytes: number, onChunk: (c: Buffer, total: number) => void): Promise<{ status: number; length: number; total: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path }, (res) => {
      let total = 0;
      res.on('data', (c: Buffer) => {
        total += c.length;
        onChunk(c, total);
        if (total < slowBytes) {
          res.pause();
          setTimeout(() => res.resume(), 2);
        }
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, length: Number(res.headers['content-length']), total });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('calls/{callId}/audio paces a long RTP gap by the client', () => {
  it('an hour of silence mid-call: bounded buffer and memory, exact length, the talk after the gap in place', async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger({ app: 'manager-api', level: 'debug', pretty: false, destination: sink });
    const env = { CALLSCOPE_MANAGER_API_SPOOL_DIR: join(work, 'spool'), CALLSCOPE_MANAGER_API_CONTROL: join(work, 'no-daemon.sock') };
    server = buildServer(loadManagerApiConfig([], env).config, { version: MANAGER_API_VERSION, logger });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const address = server.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;

    const frames = Math.round((2 * TALK_S + GAP_S) * 8000 + 5000 / 125); // last callee packet ends 20 ms after it started
    const wavBytes = 44 + frames * 4;
    // The samples after the gap: the caller's first packet after it, at its place on the timeline.
    const afterGapPos = PER_TALK * 160 + GAP_S * 8000;
    const probeFrom = 44 + afterGapPos * 4;
    const probeBytes = Buffer.alloc(160 * 4);
    const base = process.memoryUsage();
    let peakGrowth = 0;
    const got = await download(port, `/api/v1/calls/${encodeURIComponent(CALL_ID)}/audio?start=${START}`, 4 * 1024 * 1024, (c, total) => {
      const m = process.memoryUsage();
      peakGrowth = Math.max(peakGrowth, m.heapUsed + m.arrayBuffers - base.heapUsed - base.arrayBuffers);
      // The frames of the first packet after the gap, wherever the chunk boundaries fall.
      const from = total - c.length;
      const lo = Math.max(from, probeFrom);
      const hi = Math.min(total, probeFrom + probeBytes.length);
      if (lo < hi) c.copy(probeBytes, lo - probeFrom, lo - from, hi - from);
    });
    expect(got.status).toBe(200);
    expect(got.length).toBe(wavBytes);
    expect(got.total).toBe(wavBytes);
    const probe = Array.from({ length: 160 }, (_, i) => probeBytes.readInt16LE(4 * i));
    expect(probe).toEqual(Array.from({ length: 160 }, (_, i) => decodeAlawSample(octet(0, PER_TALK, i))));

    const until = Date.now() + 5000;
    let sent: Record<string, unknown> | undefined;
    while ((sent = logLines.find((l) => l.msg === 'audio sent')) === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(sent).toMatchObject({ sent: true, bytes: wavBytes, durationCapped: false });
    // One 250 ms stereo chunk (8000 bytes) past the high-water mark at most: before pacing, the gap
    // went into the stream's buffer whole (> 100 MB).
    expect(sent!.peakBufferedBytes as number).toBeGreaterThan(0);
    expect(sent!.peakBufferedBytes as number).toBeLessThanOrEqual(CALL_AUDIO_READABLE_HIGH_WATER_MARK + 8000);
    // Heap + array buffers while 115 MB went through: far below the burst's size.
    expect(peakGrowth, `peak heap + arrayBuffers growth ${(peakGrowth / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(48 * 2 ** 20);
  }, 60_000);
});
