import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openCallPcap, readCallPcap, spoolCallName, spoolFileName, spoolFilePath, spoolMinuteDir } from '@callscope/pcap-store';
import { ConfigError } from '@callscope/runtime';
import { API_ERRORS } from './api-errors.js';
import { loadManagerApiConfig } from './config.js';
import { buildServer, reloadTls } from './server.js';
import { hashToken } from './token-hash.js';
import { MANAGER_API_VERSION } from './version.js';
import { spoolSyntheticCall } from '../test/synthetic-call.js';

const TOKEN = 'test-token-0123456789';
const TOKENS = JSON.stringify([{ name: 'gui', hash: hashToken(TOKEN) }]);
const AUTH = { authorization: `Bearer ${TOKEN}` };
const CORPUS = new URL('../../../fixtures/corpus/', import.meta.url);

const CALL_ID = 'spooled-call@192.0.2.1';
const START = '2026-11-29T17:00:00.123456Z';
const START_SEC = Date.parse('2026-11-29T17:00:00Z') / 1000;

let work: string;
let spool: string;
let server: FastifyInstance | undefined;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'hD-manager-api-'));
  spool = join(work, 'spool');
  // A spooled call: a corpus capture stored under the name the spool gives (Call-ID, start).
  const name = spoolCallName(CALL_ID, START_SEC, 123456);
  const path = spoolFilePath(spool, spoolMinuteDir(START_SEC), spoolFileName(name, 'sip', 0, false));
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(new URL('basic-callee-bye-pcmu.pcap', CORPUS), path);
  // A call whose file is not a capture.
  const bad = spoolFilePath(spool, spoolMinuteDir(START_SEC), spoolFileName(spoolCallName('corrupt', START_SEC, 123456), 'sip', 0, false));
  writeFileSync(bad, 'this is not a pcap file, just text long enough to have a header');
  // A file outside the spool that traversal attempts aim at.
  writeFileSync(join(work, 'secret.pcap'), readFileSync(new URL('basic-callee-bye-pcmu.pcap', CORPUS)));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function build(env: Record<string, string> = {}, tls: { cert: Buffer; key: Buffer } | null = null): FastifyInstance {
  const base = { CALLSCOPE_MANAGER_API_SPOOL_DIR: spool, CALLSCOPE_MANAGER_API_CONTROL: join(work, 'no-daemon.sock') };
  server = buildServer(loadManagerApiConfig([], { ...base, ...env }).config, { version: MANAGER_API_VERSION, tls });
  return server;
}

async function expectError(app: FastifyInstance, url: string, status: number, code: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await app.inject({ method: 'GET', url, headers });
  expect(res.statusCode, url).toBe(status);
  expect(res.json<{ error: { code: string; message: string } }>(), url).toMatchObject({ error: { code } });
  expect(Object.keys(API_ERRORS), url).toContain(code);
}

describe('manager-api routes (inject)', () => {
  it('GET /api/v1/health: status, version and uptime, without a token even when tokens are set', async () => {
    const res = await build({ CALLSCOPE_MANAGER_API_TOKENS: TOKENS }).inject({ method: 'GET', url: '/api/v1/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ status: string; version: string; uptimeS: number }>();
    expect(body).toMatchObject({ status: 'ok', version: MANAGER_API_VERSION });
    expect(body.uptimeS).toBeGreaterThan(0);
  });

  it('requires a valid named token everywhere else, unknown paths included', async () => {
    const app = build({ CALLSCOPE_MANAGER_API_TOKENS: TOKENS });
    const missing = await app.inject({ method: 'GET', url: '/api/v1/stats' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: API_ERRORS.UNAUTHORIZED.message } });
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="callscope"');
    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, 'Bearer', TOKEN]) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/stats', headers: { authorization: header } });
      expect(res.statusCode, header).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    }
    for (const url of ['/api/v1/calls/active', `/api/v1/calls/x/pcap?start=${START}`, '/API/v1/stats', '/nope']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
    }
    expect((await app.inject({ method: 'GET', url: '/api/v1/stats', headers: AUTH })).statusCode).toBe(200);
    // Once verified, the token also reaches unknown paths' 404.
    await expectError(app, '/nope', 404, 'NOT_FOUND', AUTH);
    expect((await app.inject({ method: 'GET', url: '/metrics?x=1' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
  });

  it('GET /api/v1/stats without a daemon: 200, daemon unreachable, what the spool looks like', async () => {
    const res = await build().inject({ method: 'GET', url: '/api/v1/stats' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ daemon: string; reason: string; sensor: unknown; spool: unknown }>();
    expect(body).toMatchObject({ daemon: 'unreachable', sensor: null, spool: { dir: spool, exists: true } });
    expect(body.reason).toContain('ENOENT');
    const gone = await build({ CALLSCOPE_MANAGER_API_SPOOL_DIR: join(work, 'nowhere') }).inject({ method: 'GET', url: '/api/v1/stats' });
    expect(gone.json()).toMatchObject({ spool: { exists: false } });
  });

  it('live-call routes without a daemon: 503 DAEMON_UNREACHABLE; bad input 400 before asking', async () => {
    const app = build();
    await expectError(app, '/api/v1/calls/active', 503, 'DAEMON_UNREACHABLE');
    await expectError(app, '/api/v1/calls/active/abc%40host', 503, 'DAEMON_UNREACHABLE');
    await expectError(app, '/api/v1/calls/active?limit=0', 400, 'BAD_REQUEST');
    await expectError(app, '/api/v1/calls/active?limit=10001', 400, 'BAD_REQUEST');
    await expectError(app, '/api/v1/calls/active?limit=abc', 400, 'BAD_REQUEST');
    await expectError(app, '/api/v1/calls/active/a%00b', 400, 'BAD_CALL_ID');
    await expectError(app, '/api/v1/calls/active/a%0Db', 400, 'BAD_CALL_ID');
  });

  it('GET calls/{callId}/sip and /streams: the spooled call read back; unknown call 404, bad start 400, corrupt file 500', async () => {
    const app = build();
    // The spooled file holds a corpus call under another Call-ID: every message is someone else's.
    const ladder = await app.inject({ method: 'GET', url: `/api/v1/calls/${encodeURIComponent(CALL_ID)}/sip?start=${START}` });
    expect(ladder.statusCode).toBe(200);
    expect(ladder.json()).toMatchObject({ callId: CALL_ID, count: 0, truncated: false, messages: [], skipped: { otherCallId: 7 } });
    const series = await app.inject({ method: 'GET', url: `/api/v1/calls/${encodeURIComponent(CALL_ID)}/streams?start=${START}` });
    expect(series.statusCode).toBe(200);
    expect(series.json()).toMatchObject({ callId: CALL_ID, bucketMs: 1000, rtpMissing: true, sipMissing: false });
    await expectError(app, `/api/v1/calls/unknown/audio?start=${START}`, 404, 'NO_AUDIO');
    await expectError(app, `/api/v1/calls/${encodeURIComponent(CALL_ID)}/audio?start=${START}&legs=left`, 400, 'BAD_REQUEST');
    await expectError(app, `/api/v1/calls/${encodeURIComponent(CALL_ID)}/audio?start=${START}&format=mp3`, 400, 'BAD_REQUEST');
    // The spooled call has SIP but no RTP file.
    await expectError(app, `/api/v1/calls/${encodeURIComponent(CALL_ID)}/audio?start=${START}`, 404, 'NO_AUDIO');
    for (const route of ['sip', 'streams']) {
      await expectError(app, `/api/v1/calls/unknown/${route}?start=${START}`, 404, 'CALL_NOT_FOUND');
      await expectError(app, `/api/v1/calls/corrupt/${route}?start=${START}`, 500, 'SPOOL_CORRUPT');
      await expectError(app, `/api/v1/calls/${encodeURIComponent(CALL_ID)}/${route}?start=2026-02-30T00:00:00Z`, 400, 'BAD_START');
      await expectError(app, `/api/v1/calls/${encodeURIComponent(CALL_ID)}/${route}`, 400, 'BAD_REQUEST');
      await expectError(app, `/api/v1/calls/a%00b/${route}?start=${START}`, 400, 'BAD_CALL_ID');
    }
  });

  it('GET calls/{callId}/pcap streams the merged capture with a safe attachment name', async () => {
    const res = await build().inject({ method: 'GET', url: `/api/v1/calls/${encodeURIComponent(CALL_ID)}/pcap?start=${START}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.tcpdump.pcap');
    expect(res.headers['content-disposition']).toBe('attachment; filename="spooled-call_192.0.2.1_20261129T170000.123456Z.pcap"');
    const expected: Buffer[] = [];
    const summary = await readCallPcap(spool, { callId: CALL_ID, startSec: START_SEC, startUsec: 123456 }, (c) => {
      expected.push(Buffer.from(c));
    });
    expect(summary.packets).toBeGreaterThan(10);
    expect(res.rawPayload.equals(Buffer.concat(expected))).toBe(true);
    // ns-resolution classic pcap magic, little-endian.
    expect(res.rawPayload.readUInt32LE(0)).toBe(0xa1b23c4d);
    const sipOnly = await server!.inject({ method: 'GET', url: `/api/v1/calls/${encodeURIComponent(CALL_ID)}/pcap?start=${START}&parts=sip` });
    expect(sipOnly.rawPayload.equals(res.rawPayload)).toBe(true);
    // The call has no RTP file stored.
    await expectError(server!, `/api/v1/calls/${encodeURIComponent(CALL_ID)}/pcap?start=${START}&parts=rtp`, 404, 'CALL_NOT_FOUND');
  });

  it('HEAD calls/{callId}/pcap: 200 with the headers and no body for a stored call, 404 otherwise; no CORS headers', async () => {
    const app = build();
    const head = await app.inject({ method: 'HEAD', url: `/api/v1/calls/${encodeURIComponent(CALL_ID)}/pcap?start=${START}`, headers: { origin: 'https://elsewhere.example' } });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toBe('application/vnd.tcpdump.pcap');
    expect(head.headers['content-disposition']).toMatch(/^attachment; filename=/);
    expect(head.rawPayload.length).toBe(0);
    expect(head.headers['access-control-allow-origin']).toBeUndefined();
    expect((await app.inject({ method: 'HEAD', url: `/api/v1/calls/unknown/pcap?start=${START}` })).statusCode).toBe(404);
  });

  it('streams a large call in chunks and closes its file when the client goes away mid-download', async () => {
    // 12 MiB of records: served in 64 KiB chunks, so the client sees bytes long before the end.
    const callId = 'large-call@192.0.2.9';
    const name = spoolCallName(callId, START_SEC, 0);
    const path = spoolFilePath(spool, spoolMinuteDir(START_SEC), spoolFileName(name, 'rtp', 0, false));
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(65535, 16);
    header.writeUInt32LE(1, 20);
    const record = Buffer.alloc(16 + 200);
    record.writeUInt32LE(200, 8);
    record.writeUInt32LE(200, 12);
    const records: Buffer[] = [header];
    for (let i = 0; i < 60_000; i++) {
      const r = Buffer.from(record);
      r.writeUInt32LE(START_SEC + Math.floor(i / 50), 0);
      r.writeUInt32LE((i % 50) * 20_000, 4);
      records.push(r);
    }
    writeFileSync(path, Buffer.concat(records));
    const app = build();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const openFds = (): number => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === path;
      } catch {
        return false;
      }
    }).length;
    const got = await new Promise<{ status: number; chunked: string | undefined; firstChunk: number; openAtFirst: number }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: `/api/v1/calls/${encodeURIComponent(callId)}/pcap?start=2026-11-29T17:00:00Z` }, (res) => {
        res.once('data', (c: Buffer) => {
          resolve({ status: res.statusCode ?? 0, chunked: res.headers['transfer-encoding'], firstChunk: c.length, openAtFirst: openFds() });
          req.destroy();
        });
      });
      req.on('error', (err) => {
        if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
      });
      req.end();
    });
    expect(got.status).toBe(200);
    expect(got.chunked).toBe('chunked');
    expect(got.firstChunk).toBeLessThan(1024 * 1024);
    // Still reading when the client has its first bytes (streamed, not read whole first)...
    expect(got.openAtFirst).toBe(1);
    // ...and the file is closed once the client has gone.
    const until = Date.now() + 5000;
    while (openFds() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(openFds()).toBe(0);
  });

  it('streams a long segment-spooled call to a slow client whole and byte for byte while its chunks are given back as the socket takes them, with the rate limiter\'s headers', async () => {
    // ~20 MB of RTP in the segment layout: many 1 MiB reads and 64 KiB output chunks, each given
    // back to the retrieval once the socket took it. A client that stops reading for a while makes
    // the server wait for 'drain' with chunks still in flight: had one been reused before its write
    // called back, the bytes would differ from a retrieval whose chunks are kept.
    const callId = 'long-download@192.0.2.12';
    const startSec = START_SEC + 60;
    await spoolSyntheticCall(spool, { callId, startSec, payloadType: 8, rtpmap: 'PCMA/8000', payloadBytes: 160, packetsBefore: 50_000, packetsAfter: 0, gapS: 0 });
    const kept = await openCallPcap(spool, { callId, startSec, startUsec: 0 });
    const expected: Buffer[] = [];
    for await (const chunk of kept.chunks()) expected.push(chunk);
    const app = build();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const start = new Date(startSec * 1000).toISOString().replace('.000Z', 'Z');
    const got = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: `/api/v1/calls/${encodeURIComponent(callId)}/pcap?start=${start}` }, (res) => {
        const parts: Buffer[] = [];
        let seen = 0;
        res.on('data', (c: Buffer) => {
          parts.push(c);
          seen += c.length;
          // Stall now and then: the socket's buffers fill and the server waits for 'drain'.
          if (seen > 2 * 1024 * 1024) {
            seen = 0;
            res.pause();
            setTimeout(() => {
              res.resume();
            }, 30);
          }
        });
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe('application/vnd.tcpdump.pcap');
    expect(got.headers['content-disposition']).toMatch(/^attachment; filename="long-download_192\.0\.2\.12_/);
    expect(got.headers['x-ratelimit-limit']).toBeDefined();
    expect(got.body.length).toBeGreaterThan(20 * 1024 * 1024);
    expect(got.body.equals(Buffer.concat(expected))).toBe(true);
  }, 60_000);

  it.each([
    [`/api/v1/calls/unknown/pcap?start=${START}`, 404, 'CALL_NOT_FOUND'],
    [`/api/v1/calls/${encodeURIComponent(CALL_ID)}/pcap?start=2026-11-29T17:00:00.123457Z`, 404, 'CALL_NOT_FOUND'],
    [`/api/v1/calls/corrupt/pcap?start=${START}`, 500, 'SPOOL_CORRUPT'],
    ['/api/v1/calls/x/pcap', 400, 'BAD_REQUEST'],
    ['/api/v1/calls/x/pcap?start=yesterday', 400, 'BAD_START'],
    ['/api/v1/calls/x/pcap?start=2026-11-29T17:00:00', 400, 'BAD_START'],
    ['/api/v1/calls/x/pcap?start=1969-12-31T23:59:59Z', 400, 'BAD_START'],
    ['/api/v1/calls/x/pcap?start=2200-01-01T00:00:00Z', 400, 'BAD_START'],
    ['/api/v1/calls/x/pcap?start=2026-02-30T00:00:00Z', 400, 'BAD_START'],
    [`/api/v1/calls/x/pcap?start=${'9'.repeat(41)}`, 400, 'BAD_REQUEST'],
    [`/api/v1/calls/x/pcap?start=${START}&parts=audio`, 400, 'BAD_PARTS'],
    [`/api/v1/calls/x/pcap?start=${START}&parts=sip,sip`, 400, 'BAD_PARTS'],
    [`/api/v1/calls/x/pcap?start=${START}&parts=`, 400, 'BAD_PARTS'],
    [`/api/v1/calls/a%00b/pcap?start=${START}`, 400, 'BAD_CALL_ID'],
    [`/api/v1/calls/${'a'.repeat(1025)}/pcap?start=${START}`, 400, 'BAD_REQUEST'],
    // Traversal: an encoded path is a Call-ID the spool hashes, so nothing outside it is read (dot
    // segments are refused with BAD_PATH: tested over a real socket, inject() normalises them).
    [`/api/v1/calls/..%2F..%2Fsecret.pcap/pcap?start=${START}`, 404, 'CALL_NOT_FOUND'],
    [`/api/v1/calls/..%2F..%2Fsecret/pcap?start=${START}&parts=sip`, 404, 'CALL_NOT_FOUND'],
    [`/api/v1/calls/%2Fetc%2Fpasswd/pcap?start=${START}`, 404, 'CALL_NOT_FOUND'],
    [`/api/v1/calls/x/pcap?start=${START}&q=${'x'.repeat(5000)}`, 414, 'URL_TOO_LONG'],
    ['/api/v1/calls/x/audio', 400, 'BAD_REQUEST'],
    ['/api/v1/calls/x/video', 404, 'NOT_FOUND'],
  ])('GET %s -> %i %s', async (url, status, code) => {
    await expectError(build(), url, status, code);
  });

  it('rate-limits with 429 RATE_LIMITED and Retry-After, per client before a token is verified', async () => {
    const app = build({ CALLSCOPE_MANAGER_API_RATE_LIMIT_MAX: '3' });
    for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).toBe(200);
    const res = await app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(res.statusCode).toBe(429);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    await expectError(app, '/nope', 429, 'RATE_LIMITED');
    // Another client address has its own bucket.
    expect((await app.inject({ method: 'GET', url: '/api/v1/health', remoteAddress: '127.0.0.2' })).statusCode).toBe(200);
  });

  it('a verified token has its own bucket, whatever address it comes from', async () => {
    const app = build({ CALLSCOPE_MANAGER_API_TOKENS: TOKENS, CALLSCOPE_MANAGER_API_RATE_LIMIT_MAX: '2' });
    // First request verifies the token (counted against the address), the next two against the token.
    expect((await app.inject({ method: 'GET', url: '/api/v1/stats', headers: AUTH })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/stats', headers: AUTH, remoteAddress: '127.0.0.3' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/stats', headers: AUTH, remoteAddress: '127.0.0.4' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/stats', headers: AUTH, remoteAddress: '127.0.0.5' })).statusCode).toBe(429);
    // The address still has one request left for others.
    expect((await app.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).toBe(200);
  });

  it('answers wrong methods and bodies with catalogue errors', async () => {
    const app = build();
    await expectError(app, '/nope', 404, 'NOT_FOUND');
    const post = await app.inject({ method: 'POST', url: '/api/v1/health', payload: { a: 1 } });
    expect(post.statusCode).toBe(405);
    expect(post.json()).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
    const bad = await app.inject({ method: 'POST', url: '/api/v1/health', headers: { 'content-type': 'application/json' }, payload: '{' });
    expect(bad.json<{ error: { code: string } }>().error.code).toBe('BAD_REQUEST');
    const big = await app.inject({ method: 'POST', url: '/api/v1/health', headers: { 'content-type': 'application/json' }, payload: `"${'x'.repeat(70_000)}"` });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body too large' } });
  });

  it('?sensor= separates the same Call-ID and start spooled by two sensors (pcap, sip, streams, audio); without it, both', async () => {
    const dir = join(work, 'spool-sensors');
    const startSec = START_SEC + 600;
    const start = new Date(startSec * 1000).toISOString().replace('.000Z', '.000000Z');
    const base = { callId: 'two-pbx@192.0.2.9', startSec, payloadType: 8, rtpmap: 'PCMA/8000', payloadBytes: 160, packetsAfter: 0, gapS: 0 };
    await spoolSyntheticCall(dir, { ...base, packetsBefore: 10, sensor: 'pbx-a' });
    await spoolSyntheticCall(dir, { ...base, packetsBefore: 25, sensor: 'pbx-b' });
    const app = build({ CALLSCOPE_MANAGER_API_SPOOL_DIR: dir });
    const url = (route: string, sensor?: string): string => `/api/v1/calls/${encodeURIComponent(base.callId)}/${route}?start=${start}${sensor === undefined ? '' : `&sensor=${sensor}`}`;
    const packets = async (sensor?: string): Promise<number> => {
      const res = await app.inject({ method: 'GET', url: url('pcap', sensor) });
      expect(res.statusCode, sensor).toBe(200);
      let n = 0;
      const b = res.rawPayload;
      for (let off = 24; off < b.length; off += 16 + b.readUInt32LE(off + 8)) n++;
      return n;
    };
    expect(await packets('pbx-a')).toBe(2 + 2 * 10);
    expect(await packets('pbx-b')).toBe(2 + 2 * 25);
    expect(await packets()).toBe(4 + 2 * 35);
    await expectError(app, url('pcap', 'pbx-c'), 404, 'CALL_NOT_FOUND');
    expect((await app.inject({ method: 'GET', url: url('sip', 'pbx-b') })).json<{ count: number }>().count).toBe(2);
    await expectError(app, url('sip', 'pbx-c'), 404, 'CALL_NOT_FOUND');
    const streams = await app.inject({ method: 'GET', url: url('streams', 'pbx-b') });
    expect(streams.json<{ streams: { packets: number }[] }>().streams.map((s) => s.packets)).toEqual([25, 25]);
    const audio = await app.inject({ method: 'GET', url: url('audio', 'pbx-a') });
    expect(audio.statusCode).toBe(200);
    // 10 packets of 20 ms per leg, the callee's 5 ms behind: 205 ms of stereo 16-bit at 8 kHz = 1,640 frames of 4 bytes + the 44-byte header
    expect(audio.rawPayload.length).toBe(44 + 1640 * 4);
    expect((await app.inject({ method: 'GET', url: url('audio', 'pbx-b') })).rawPayload.length).toBe(44 + 4040 * 4);
    await expectError(app, url('audio', ''), 400, 'BAD_REQUEST');
  });

  it('serves /openapi.json generated from the route schemas', async () => {
    const res = await build().inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, { get: { parameters?: { name: string; in: string }[]; responses: Record<string, unknown> } }> }>();
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/calls/active', '/api/v1/calls/active/{callId}', '/api/v1/calls/{callId}/audio', '/api/v1/calls/{callId}/pcap', '/api/v1/calls/{callId}/sip', '/api/v1/calls/{callId}/streams', '/api/v1/health', '/api/v1/stats',
    ]);
    const pcap = doc.paths['/api/v1/calls/{callId}/pcap']!.get;
    expect(pcap.parameters!.map((p) => `${p.in}:${p.name}`).sort()).toEqual(['path:callId', 'query:parts', 'query:sensor', 'query:start']);
    for (const route of ['sip', 'streams', 'audio']) {
      expect(doc.paths[`/api/v1/calls/{callId}/${route}`]!.get.parameters!.map((p) => `${p.in}:${p.name}`), route).toContain('query:sensor');
    }
    expect(Object.keys(pcap.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '404', '429']));
    for (const [path, item] of Object.entries(doc.paths)) expect(Object.keys(item.get.responses), path).toContain('200');
  });

  it('serves Prometheus text on /metrics: process, responses by route and status, daemon reachability', async () => {
    const app = build({ CALLSCOPE_MANAGER_API_TOKENS: TOKENS });
    await app.inject({ method: 'GET', url: '/api/v1/stats' });
    await app.inject({ method: 'GET', url: '/api/v1/health' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const lines = res.body.split('\n');
    expect(lines.find((l) => l.startsWith('process_resident_memory_bytes '))).toMatch(/^process_resident_memory_bytes \d+$/);
    expect(lines).toContain(`callscope_build_info{app="manager-api",version="${MANAGER_API_VERSION}"} 1`);
    expect(lines).toContain('callscope_http_responses_total{route="/api/v1/stats",code="401"} 1');
    expect(lines).toContain('callscope_http_responses_total{route="/api/v1/health",code="200"} 1');
    expect(lines).toContain('callscope_daemon_up 0');
  });
});

describe('manager-api over a real TLS socket', () => {
  let pki: string;
  const pem = (name: string): Buffer => readFileSync(join(pki, name));
  beforeAll(() => {
    pki = mkdtempSync(join(tmpdir(), 'hD-manager-api-pki-'));
    for (const n of ['a', 'b']) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2', '-keyout', join(pki, `${n}.key`), '-out', join(pki, `${n}.crt`)], { stdio: 'ignore' });
    }
  });
  afterAll(() => {
    rmSync(pki, { recursive: true, force: true });
  });

  function get(port: number, path: string, ca: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer; fingerprint: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, ca, servername: 'localhost', headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        const fingerprint = (res.socket as unknown as { getPeerCertificate(): { fingerprint256: string } }).getPeerCertificate().fingerprint256;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), fingerprint });
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('401 without or with a wrong token, 400 on traversal, a pcap with the token, 429 past the limit; SIGHUP reload swaps the certificate', async () => {
    const app = build({ CALLSCOPE_MANAGER_API_TOKENS: TOKENS, CALLSCOPE_MANAGER_API_RATE_LIMIT_MAX: '6' }, { cert: pem('a.crt'), key: pem('a.key') });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const ca = pem('a.crt');

    const none = await get(port, '/api/v1/stats', ca);
    expect([none.status, JSON.parse(none.body.toString()).error.code]).toEqual([401, 'UNAUTHORIZED']);
    const wrong = await get(port, '/api/v1/stats', ca, { authorization: 'Bearer wrong-token-0123456789' });
    expect([wrong.status, JSON.parse(wrong.body.toString()).error.code]).toEqual([401, 'UNAUTHORIZED']);
    for (const path of ['/api/v1/calls/../../../etc/passwd/pcap', `/api/v1/calls/%2e%2e/pcap?start=${START}`, '/api/v1/./stats', '/api/v1/calls/x/%2E./y']) {
      const traversal = await get(port, path, ca, AUTH);
      expect([traversal.status, JSON.parse(traversal.body.toString()).error.code], path).toEqual([400, 'BAD_PATH']);
    }
    const pcap = await get(port, `/api/v1/calls/${encodeURIComponent(CALL_ID)}/pcap?start=${START}`, ca, AUTH);
    expect(pcap.status).toBe(200);
    expect(pcap.headers['content-type']).toBe('application/vnd.tcpdump.pcap');
    expect(pcap.body.readUInt32LE(0)).toBe(0xa1b23c4d);

    // Swap to certificate b: new connections must present it (and a client trusting only a fails).
    reloadTls(app, { cert: pem('b.crt'), key: pem('b.key') });
    const after = await get(port, '/api/v1/health', pem('b.crt'));
    expect(after.status).toBe(200);
    expect(after.fingerprint).not.toBe(pcap.fingerprint);
    await expect(get(port, '/api/v1/health', ca)).rejects.toThrow(/self[- ]signed|certificate/i);

    let limited = 0;
    for (let i = 0; i < 8; i++) if ((await get(port, '/api/v1/stats', pem('b.crt'), AUTH)).status === 429) limited++;
    expect(limited).toBeGreaterThan(0);
  });
});

describe('manager-api config', () => {
  it('is valid with defaults: loopback 127.0.0.1:5029, no tokens, no TLS', () => {
    expect(loadManagerApiConfig([], {}).config).toEqual({
      listen: { host: '127.0.0.1', port: 5029 },
      tokens: [],
      tls: { cert: null, key: null },
      spool: { dir: 'var/spool' },
      control: 'var/run/sniffer.sock',
      rateLimit: { max: 600, windowS: 60 },
      log: { level: 'info', pretty: null },
    });
  });

  it('takes tokens as JSON from the environment and allows a routable address with them', () => {
    const { config } = loadManagerApiConfig([], { CALLSCOPE_MANAGER_API_TOKENS: TOKENS, CALLSCOPE_MANAGER_API_LISTEN_HOST: '0.0.0.0' });
    expect(config.tokens.map((t) => t.name)).toEqual(['gui']);
  });

  it.each([
    [{ CALLSCOPE_MANAGER_API_LISTEN_HOST: '0.0.0.0' }, 'listen.host: 0.0.0.0 is not a loopback address, so tokens must be set'],
    [{ CALLSCOPE_MANAGER_API_TOKENS: '[{"name":"gui","hash":"plain-token-0123456789"}]' }, 'tokens[0].hash: not a stored token hash'],
    [{ CALLSCOPE_MANAGER_API_TOKENS: JSON.stringify([{ name: 'a', hash: hashToken(TOKEN) }, { name: 'a', hash: hashToken(TOKEN) }]) }, 'token name a is used twice'],
    [{ CALLSCOPE_MANAGER_API_TOKENS: '[{"name":"has space","hash":"x"}]' }, 'tokens'],
    [{ CALLSCOPE_MANAGER_API_TOKEN: 'old-single-token-0123' }, 'TOKEN'],
    [{ CALLSCOPE_MANAGER_API_TLS_CERT: '/etc/cert.pem' }, 'tls.key: tls.cert and tls.key must be set together'],
    [{ CALLSCOPE_MANAGER_API_LISTEN_PORT: '0' }, 'listen.port: must be >= 1, got 0 (from env CALLSCOPE_MANAGER_API_LISTEN_PORT)'],
  ])('rejects %j', (env, message) => {
    expect(() => loadManagerApiConfig([], env)).toThrow(ConfigError);
    expect(() => loadManagerApiConfig([], env)).toThrow(message);
  });

  it('keeps MANAGER_API_VERSION equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(MANAGER_API_VERSION).toBe(pkg.version);
  });
});

describe('the error catalogue, code by code', () => {
  // A control-socket peer: for a live call it answers what the sensor daemon's control server
  // (apps/sniffer control-server.ts) answers for a Call-ID with no open call (the real daemon
  // gives it in e2e/src/manager-api.test.ts; a unit test cannot start the built daemon), for
  // anything else an error code the API does not know.
  let daemon: HttpServer;
  const daemonSocket = (): string => join(work, 'daemon.sock');
  beforeAll(async () => {
    daemon = createHttpServer((q, r) => {
      const live = (q.url ?? '').startsWith('/calls/active/');
      const body = live ? { error: { code: 'CALL_NOT_ACTIVE', message: 'no open call with this Call-ID (it may have ended: search the CDRs)' } } : { error: { code: 'SOMETHING_NEW', message: 'boom' } };
      r.writeHead(live ? 404 : 500, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => daemon.listen(daemonSocket(), resolve));
    // A G.729 call (415), and a call whose SIP file is a symlink loop: stat() fails with ELOOP, not
    // a spool error the routes know, so the error handler's INTERNAL (logged, no detail sent).
    await spoolSyntheticCall(spool, { callId: 'g729-call@192.0.2.20', startSec: START_SEC, payloadType: 18, rtpmap: 'G729/8000', payloadBytes: 20, packetsBefore: 50, packetsAfter: 0, gapS: 0 });
    const loop = spoolFilePath(spool, spoolMinuteDir(START_SEC), spoolFileName(spoolCallName('eloop', START_SEC, 123456), 'sip', 0, false));
    symlinkSync(loop, loop);
  });
  afterAll(async () => {
    await new Promise((r) => daemon.close(r));
  });

  /** One request per code: [code, method, url, extra env, headers, body]. */
  const requests: readonly (readonly [string, string, string, Record<string, string>?, Record<string, string>?, string?])[] = [
    ['NOT_FOUND', 'GET', '/nope'],
    ['BAD_REQUEST', 'GET', '/api/v1/calls/active?limit=0'],
    ['PAYLOAD_TOO_LARGE', 'POST', '/api/v1/health', {}, { 'content-type': 'application/json' }, `"${'x'.repeat(70_000)}"`],
    ['INTERNAL', 'GET', `/api/v1/calls/eloop/sip?start=${START}`],
    ['UNAUTHORIZED', 'GET', '/api/v1/stats', { CALLSCOPE_MANAGER_API_TOKENS: TOKENS }],
    ['METHOD_NOT_ALLOWED', 'DELETE', `/api/v1/calls/${encodeURIComponent(CALL_ID)}/pcap?start=${START}`],
    // inject() resolves dot segments (WHATWG URL, %2e too) before the server sees them: this one goes over a socket.
    ['BAD_PATH', 'GET', `/api/v1/calls/%2e%2e/pcap?start=${START}`],
    ['URL_TOO_LONG', 'GET', `/api/v1/health?q=${'x'.repeat(5000)}`],
    ['BAD_CALL_ID', 'GET', `/api/v1/calls/a%01b/sip?start=${START}`],
    ['BAD_START', 'GET', '/api/v1/calls/x/audio?start=2026-13-01T00:00:00Z'],
    ['BAD_PARTS', 'GET', `/api/v1/calls/x/pcap?start=${START}&parts=rtcp`],
    ['CALL_NOT_FOUND', 'GET', `/api/v1/calls/unknown/streams?start=${START}`],
    ['CALL_NOT_ACTIVE', 'GET', '/api/v1/calls/active/gone%40192.0.2.1', { CALLSCOPE_MANAGER_API_CONTROL: 'daemon' }],
    ['RATE_LIMITED', 'GET', '/api/v1/health', { CALLSCOPE_MANAGER_API_RATE_LIMIT_MAX: '1' }],
    ['DAEMON_UNREACHABLE', 'GET', '/api/v1/calls/active'],
    ['DAEMON_ERROR', 'GET', '/api/v1/stats', { CALLSCOPE_MANAGER_API_CONTROL: 'daemon' }],
    ['NO_AUDIO', 'GET', `/api/v1/calls/${encodeURIComponent(CALL_ID)}/audio?start=${START}`],
    ['UNSUPPORTED_CODEC', 'GET', `/api/v1/calls/${encodeURIComponent('g729-call@192.0.2.20')}/audio?start=2026-11-29T17:00:00Z&legs=mixed`],
    ['SPOOL_CORRUPT', 'GET', `/api/v1/calls/corrupt/audio?start=${START}`],
  ];

  /** A GET over a real socket, the path sent as written. */
  function rawGet(port: number, path: string): Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          resolve({ statusCode: r.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: r.headers });
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('lists every code of API_ERRORS exactly once', () => {
    expect(requests.map((r) => r[0]).sort()).toEqual(Object.keys(API_ERRORS).sort());
  });

  const cases = requests.map(([code, method, url, env, headers, payload]) => ({ code, method, url, env: env ?? {}, headers: headers ?? {}, payload }));
  it.each(cases)('$code: $method $url', async ({ code, method, url, env, headers, payload }) => {
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === 'daemon' ? daemonSocket() : v]));
    const app = build(resolved);
    // RATE_LIMITED: the first request uses up the limit of 1.
    if (code === 'RATE_LIMITED') await app.inject({ method: 'GET', url });
    let res: { statusCode: number; body: string; headers: Record<string, unknown> };
    if (code === 'BAD_PATH') {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      res = await rawGet(typeof address === 'object' && address !== null ? address.port : 0, url);
    } else {
      res = await app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) });
    }
    const entry = API_ERRORS[code as keyof typeof API_ERRORS];
    expect(res.statusCode, res.body).toBe(entry.statusCode);
    const error = (JSON.parse(res.body) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe(code);
    if (code === 'METHOD_NOT_ALLOWED') expect(res.headers.allow).toBe('GET, HEAD');
    if (code === 'UNSUPPORTED_CODEC') expect(error.message).toMatch(/G729 \(payload type 18\)/);
    if (code === 'INTERNAL') expect(error.message).toBe(API_ERRORS.INTERNAL.message);
  });

  it('other methods on known paths are 405 with Allow, unknown paths stay 404; GET and HEAD unaffected', async () => {
    const app = build();
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      const res = await app.inject({ method, url: '/api/v1/health' });
      expect([res.statusCode, res.headers.allow], method).toEqual([405, 'GET, HEAD']);
    }
    expect((await app.inject({ method: 'POST', url: '/api/v1/nope' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'HEAD', url: '/api/v1/health' })).statusCode).toBe(200);
  });
});
