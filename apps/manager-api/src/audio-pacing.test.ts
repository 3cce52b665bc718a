/**
 * Regression test for issue 14's pacing of long RTP gaps: a call whose media stops for an hour
 * used to come out of `calls/{callId}/audio` as one synchronous burst of silence (the whole gap,
 * 115 MB in stereo) buffered in the response stream. Now the render produces one chunk at a time
 * as the client reads. The call is synthetic (test/synthetic-call.ts: SIP with SDP and G.711
 * A-law RTP written through pcap-store's SpoolWriter, as the sniffer writes a spool); the client
 * is a real HTTP socket that reads slowly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { CALL_AUDIO_READABLE_HIGH_WATER_MARK } from '@callscope/call-artifacts';
import { decodeAlawSample } from '@callscope/rtp';
import { createLogger } from '@callscope/runtime';
import { loadManagerApiConfig } from './config.js';
import { buildServer } from './server.js';
import { MANAGER_API_VERSION } from './version.js';
import { CALLEE_LAG_US, spoolSyntheticCall, syntheticOctet } from '../test/synthetic-call.js';

const CALL_ID = 'gap-call@192.0.2.10';
const START_SEC = Date.parse('2026-11-29T18:00:00Z') / 1000;
const START = '2026-11-29T18:00:00.000000Z';
/** Talk before and after the gap, s; the gap, s. */
const TALK_S = 3;
const GAP_S = 3600;
/** Packets per leg before the gap (and as many after). */
const PER_TALK = TALK_S * 50;

let work: string;
let server: FastifyInstance | undefined;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'hA-audio-pacing-'));
  // Both legs 20 ms apart (the callee 5 ms later), TALK_S of talk, a GAP_S silence, TALK_S more.
  await spoolSyntheticCall(join(work, 'spool'), { callId: CALL_ID, startSec: START_SEC, payloadType: 8, rtpmap: 'PCMA/8000', payloadBytes: 160, packetsBefore: PER_TALK, packetsAfter: PER_TALK, gapS: GAP_S });
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

    const frames = Math.round((2 * TALK_S + GAP_S) * 8000 + CALLEE_LAG_US / 125); // the last callee packet ends 20 ms after it started
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
    expect(probe).toEqual(Array.from({ length: 160 }, (_, i) => decodeAlawSample(syntheticOctet(0, PER_TALK, i))));

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
