// The per-call artifact proxy against a stand-in manager-api: a real Fastify server on loopback
// that answers as manager-api does (bearer token, the same routes, a big streamed pcap, JSON
// errors from its catalogue), so streaming, aborts, timeouts and error mapping are measured on
// real sockets. The real manager-api is exercised by the lead's e2e (apps may not import apps).
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fastify } from 'fastify';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoFromMicros } from '@callscope/cdr-model';
import { SensorHeartbeatWriter } from '@callscope/cdr-schema';
import { ensureFirstAdmin } from '../auth/first-admin.js';
import { loadWebGuiConfig } from '../config.js';
import { buildServer } from '../server.js';
import { bareCall, createGuiTestDb, writeCalls } from '../testing/gui-test-db.js';
import type { GuiTestDb } from '../testing/gui-test-db.js';

const PUBLIC_DIR = mkdtempSync(join(tmpdir(), 'web-gui-public-')) + '/';
writeFileSync(join(PUBLIC_DIR, 'index.html'), '<!doctype html><title>callscope</title>');
const PASSWORD = 'artifact-test-password';
const TOKEN = 'stand-in-manager-token-0123';
/** Size of the stand-in's pcap: far more than any socket buffer, so buffering it would show. */
const BIG_BYTES = 256 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0xa5);

/** What the stand-in saw of one request. */
interface Seen {
  readonly path: string;
  readonly callId: string;
  readonly query: Record<string, string>;
  readonly authorization: string | undefined;
}

/** The stand-in manager-api and what it observed. */
interface StandIn {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly seen: Seen[];
  /** Bytes of the big pcap handed to the socket so far, and whether its response closed before the end. */
  big: { written: number; closedEarly: boolean | null };
}

// Call-IDs with characters that must be percent-encoded on the way to the sensor.
const CALL_IDS = {
  big: 'big pcap/1%2F..@example.com',
  sip: 'sip-ladder?x=1#frag@example.com',
  audio415: 'g729@example.com',
  audio404: 'no-rtp@example.com',
  stall: 'stall@example.com',
  midStall: 'mid-stall@example.com',
  gone: 'spool-gone@example.com',
  broken: 'broken@example.com',
} as const;

async function startStandIn(): Promise<StandIn> {
  const app = fastify();
  const state: StandIn = { app, url: '', seen: [], big: { written: 0, closedEarly: null } };
  const fail = (reply: import('fastify').FastifyReply, status: number, code: string, message: string): import('fastify').FastifyReply =>
    reply.code(status).send({ error: { code, message } });
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.authorization !== `Bearer ${TOKEN}`) return fail(reply, 401, 'UNAUTHORIZED', 'missing or invalid bearer token');
  });
  app.get<{ Params: { callId: string; kind: string }; Querystring: Record<string, string> }>('/api/v1/calls/:callId/:kind', async (request, reply) => {
    const { callId, kind } = request.params;
    state.seen.push({ path: kind, callId, query: request.query, authorization: request.headers.authorization });
    if (callId === CALL_IDS.big && kind === 'pcap') {
      let sent = 0;
      const body = new Readable({
        read() {
          if (sent >= BIG_BYTES) {
            this.push(null);
            return;
          }
          sent += CHUNK.length;
          state.big.written = sent;
          this.push(CHUNK);
        },
      });
      reply.raw.on('close', () => {
        state.big.closedEarly = !reply.raw.writableFinished;
      });
      return reply
        .type('application/vnd.tcpdump.pcap')
        .header('content-length', BIG_BYTES)
        .header('content-disposition', 'attachment; filename="big.pcap"')
        .header('x-sensor-internal', 'not for the browser')
        .send(body);
    }
    if (callId === CALL_IDS.sip && kind === 'sip') return { callId, messages: [{ firstLine: 'INVITE sip:bob@example.com SIP/2.0' }] };
    if (callId === CALL_IDS.audio415) return fail(reply, 415, 'UNSUPPORTED_CODEC', 'the call uses G.729 (payload type 18), which callscope cannot decode');
    if (callId === CALL_IDS.audio404) return fail(reply, 404, 'NO_AUDIO', 'the spool holds no audio of this call (no RTP)');
    if (callId === CALL_IDS.gone) return fail(reply, 404, 'CALL_NOT_FOUND', 'no packets of this call in the spool');
    if (callId === CALL_IDS.broken) return fail(reply, 500, 'SPOOL_CORRUPT', 'a spool file of this call is not a readable capture');
    if (callId === CALL_IDS.stall) return new Promise(() => undefined); // never answers
    if (callId === CALL_IDS.midStall) {
      reply.raw.writeHead(200, { 'content-type': 'application/vnd.tcpdump.pcap', 'content-length': String(10 * CHUNK.length) });
      reply.raw.write(CHUNK);
      return reply.hijack(); // then silence
    }
    return fail(reply, 404, 'CALL_NOT_FOUND', 'no packets of this call in the spool');
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return Object.assign(state, { url: address });
}

let db: GuiTestDb;
let standIn: StandIn;
let gui: FastifyInstance;
let guiUrl: string;
let cookie: string;
const ids: Record<string, number> = {};
const starts: Record<string, string> = {};

beforeAll(async () => {
  db = await createGuiTestDb('cs_c_artifacts');
  standIn = await startStandIn();
  await ensureFirstAdmin(db.pool, PASSWORD);
  const base = Date.now() * 1000 - 3_600_000_000;
  const calls = [
    ...Object.entries(CALL_IDS).map(([name, callId], i) => ({ name, call: bareCall('edge-a', callId, isoFromMicros(base + i * 1_000_123)) })),
    { name: 'otherSensor', call: bareCall('edge-x', 'on-an-unconfigured-sensor@example.com', isoFromMicros(base + 50_000_000)) },
    { name: 'down', call: bareCall('edge-down', 'sensor-down@example.com', isoFromMicros(base + 51_000_000)) },
    { name: 'badToken', call: bareCall('edge-token', CALL_IDS.sip, isoFromMicros(base + 52_000_000)) },
    // Recorded by a mirror-sender on a PBX whose packets edge-a receives (same Call-ID as `sip`).
    { name: 'mirrored', call: bareCall('pbx-m', CALL_IDS.sip, isoFromMicros(base + 53_000_000)) },
    { name: 'mirroredGone', call: bareCall('pbx-gone', CALL_IDS.sip, isoFromMicros(base + 54_000_000)) },
  ];
  const written = await writeCalls(db.pool, calls.map((c) => c.call));
  // edge-a's daemon heartbeat lists pbx-m as a connected mirror sender; pbx-gone's holder is not configured.
  const beats = new SensorHeartbeatWriter(db.pool);
  const mirrorSender = (name: string): Record<string, unknown> => ({ kind: 'mirror', role: 'sender', name: `mirror:${name}`, sensor_name: name, state: 'connected' });
  await beats.beat({ name: 'edge-a', version: 'test', state: 'running', started: new Date().toISOString(), stats: { sources: [mirrorSender('pbx-m')] } });
  await beats.beat({ name: 'central-unconfigured', version: 'test', state: 'running', started: new Date().toISOString(), stats: { sources: [mirrorSender('pbx-gone')] } });
  await beats.close();
  calls.forEach((c, i) => {
    ids[c.name] = written[i]!;
    starts[c.name] = c.call.start;
  });
  const sensors = [
    { name: 'edge-a', managerUrl: standIn.url, token: TOKEN },
    // A closed port: nothing listens on port 9 (discard) of loopback here.
    { name: 'edge-down', managerUrl: 'http://127.0.0.1:9', token: TOKEN },
    { name: 'edge-token', managerUrl: standIn.url, token: 'a-token-the-sensor-does-not-know' },
  ];
  const config = loadWebGuiConfig([], { CALLSCOPE_WEB_GUI_SENSORS: JSON.stringify(sensors), CALLSCOPE_WEB_GUI_ARTIFACTS_TIMEOUT_S: '1' }).config;
  gui = buildServer(config, { version: 'test', publicDir: PUBLIC_DIR, db: db.pool });
  guiUrl = await gui.listen({ host: '127.0.0.1', port: 0 });
  const login = await gui.inject({ method: 'POST', url: '/api/v1/login', headers: { 'content-type': 'application/json' }, payload: { username: 'admin', password: PASSWORD } });
  cookie = String(login.headers['set-cookie']).split(';', 1)[0]!;
});
afterAll(async () => {
  await gui.close();
  await standIn.app.close();
  await db.drop();
});

const artifactUrl = (name: string, kind: string, extra = ''): string => `/api/v1/calls/${ids[name]!}/${kind}?start=${encodeURIComponent(starts[name]!)}${extra}`;
const get = (url: string): Promise<LightMyRequestResponse> => gui.inject({ method: 'GET', url, headers: { cookie } });
const errorOf = (res: LightMyRequestResponse): { code: string; message: string } => res.json<{ error: { code: string; message: string } }>().error;

/** A GET over a real socket to the GUI, resolving at the response headers. */
function open(path: string): Promise<{ res: IncomingMessage; destroy: () => void }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, guiUrl), { headers: { cookie } }, (res) => {
      resolve({ res, destroy: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

const until = async (what: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return what();
};

describe('per-call artifacts proxied from the sensor', () => {
  it('streams a big pcap through without holding it, with its headers, and aborts the sensor when the browser goes away', async () => {
    const { res, destroy } = await open(artifactUrl('big', 'pcap'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.tcpdump.pcap');
    expect(res.headers['content-length']).toBe(String(BIG_BYTES));
    expect(res.headers['content-disposition']).toBe('attachment; filename="big.pcap"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-sensor-internal']).toBeUndefined();
    // Read a little, then stop reading: a proxy that buffered would pull all 256 MiB from the
    // sensor anyway; a streaming one lets back-pressure stop the sensor after a few socket buffers.
    // The pause is longer than the sensor timeout (1 s here): waiting on the browser is not the
    // sensor's silence, so the download is not cut.
    let received = 0;
    await new Promise<void>((resolve) => {
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= 4 * 1024 * 1024) {
          res.pause();
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 2500));
    const writtenWhilePaused = standIn.big.written;
    expect(writtenWhilePaused).toBeLessThan(48 * 1024 * 1024);
    expect(standIn.big.closedEarly).toBeNull();
    // The Call-ID reached the sensor whole (percent-encoded on the way), with the stored start and the token.
    expect(standIn.seen.find((s) => s.path === 'pcap')).toEqual({ path: 'pcap', callId: CALL_IDS.big, query: { start: starts.big, sensor: 'edge-a' }, authorization: `Bearer ${TOKEN}` });
    destroy();
    expect(await until(() => standIn.big.closedEarly !== null, 3000)).toBe(true);
    expect(standIn.big.closedEarly).toBe(true);
    expect(standIn.big.written).toBeLessThan(64 * 1024 * 1024);
  });

  it('passes the SIP ladder JSON through unchanged, and answers HEAD with the headers only', async () => {
    const res = await get(artifactUrl('sip', 'sip'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ callId: CALL_IDS.sip, messages: [{ firstLine: 'INVITE sip:bob@example.com SIP/2.0' }] });
    const head = await gui.inject({ method: 'HEAD', url: artifactUrl('sip', 'sip'), headers: { cookie } });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toMatch(/^application\/json/);
    expect(head.body).toBe('');
  });

  it('passes the legs of an audio request and the sensor 404/415 codes on', async () => {
    const unsupported = await get(artifactUrl('audio415', 'audio', '&legs=caller'));
    expect(unsupported.statusCode).toBe(415);
    expect(errorOf(unsupported)).toEqual({ code: 'UNSUPPORTED_CODEC', message: 'the call uses G.729 (payload type 18), which callscope cannot decode' });
    expect(standIn.seen.filter((s) => s.callId === CALL_IDS.audio415).map((s) => s.query)).toEqual([{ start: starts.audio415, sensor: 'edge-a', legs: 'caller' }]);
    const noAudio = await get(artifactUrl('audio404', 'audio'));
    expect([noAudio.statusCode, errorOf(noAudio).code]).toEqual([404, 'NO_AUDIO']);
    expect(standIn.seen.filter((s) => s.callId === CALL_IDS.audio404).map((s) => s.query.legs)).toEqual(['stereo']);
    const gone = await get(artifactUrl('gone', 'streams'));
    expect([gone.statusCode, errorOf(gone).code]).toEqual([404, 'SPOOL_CALL_NOT_FOUND']);
    const badLegs = await get(artifactUrl('audio404', 'audio', '&legs=left'));
    expect([badLegs.statusCode, errorOf(badLegs).code]).toEqual([400, 'BAD_REQUEST']);
  });

  it('maps sensor failures: unknown sensor, unreachable, silent, token refused, server error', async () => {
    const unknown = await get(artifactUrl('otherSensor', 'pcap'));
    expect([unknown.statusCode, errorOf(unknown).code]).toEqual([404, 'SENSOR_UNKNOWN']);
    const down = await get(artifactUrl('down', 'pcap'));
    expect([down.statusCode, errorOf(down).code]).toEqual([502, 'SENSOR_UNREACHABLE']);
    const t0 = performance.now();
    const silent = await get(artifactUrl('stall', 'sip'));
    expect([silent.statusCode, errorOf(silent).code]).toEqual([504, 'SENSOR_TIMEOUT']);
    expect(performance.now() - t0).toBeGreaterThan(900);
    expect(performance.now() - t0).toBeLessThan(5000);
    const refused = await get(artifactUrl('badToken', 'sip'));
    expect([refused.statusCode, errorOf(refused).code]).toEqual([502, 'SENSOR_ERROR']);
    expect(errorOf(refused).message).toContain('refused the GUI token');
    expect(refused.body).not.toContain('a-token-the-sensor');
    const broken = await get(artifactUrl('broken', 'pcap'));
    expect([broken.statusCode, errorOf(broken).code]).toEqual([502, 'SENSOR_ERROR']);
    expect(errorOf(broken).message).toContain('500 SPOOL_CORRUPT');
  });

  it('cuts the download when the sensor goes silent in the middle of the body', async () => {
    const { res } = await open(artifactUrl('midStall', 'pcap'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(10 * CHUNK.length));
    let received = 0;
    const ended = await new Promise<string>((resolve) => {
      res.on('data', (c: Buffer) => (received += c.length));
      res.on('end', () => {
        resolve('end');
      });
      res.on('error', () => {
        resolve('error');
      });
      res.on('close', () => {
        resolve(res.complete ? 'end' : 'aborted');
      });
    });
    expect(ended).not.toBe('end');
    expect(received).toBeLessThan(10 * CHUNK.length);
  });

  it('lets the browser name only a CDR: no sensor, Call-ID or path, and the start must match', async () => {
    // Extra parameters are dropped by the query schema: the call's own sensor and Call-ID are asked
    // (`sensor=edge-a` is the CDR's, never the browser's).
    for (const url of [`${artifactUrl('sip', 'sip')}&sensor=edge-down`, `${artifactUrl('sip', 'sip')}&callId=${encodeURIComponent(CALL_IDS.big)}&path=/etc/passwd`]) {
      const before = standIn.seen.length;
      const res = await get(url);
      expect(res.json(), url).toEqual({ callId: CALL_IDS.sip, messages: [{ firstLine: 'INVITE sip:bob@example.com SIP/2.0' }] });
      expect(standIn.seen.slice(before), url).toEqual([{ path: 'sip', callId: CALL_IDS.sip, query: { start: starts.sip, sensor: 'edge-a' }, authorization: `Bearer ${TOKEN}` }]);
    }
    for (const url of [
      `/api/v1/calls/${encodeURIComponent('../../etc')}/pcap?start=${encodeURIComponent(starts.sip!)}`,
      `/api/v1/calls/0/pcap?start=${encodeURIComponent(starts.sip!)}`,
      `/api/v1/calls/${ids.sip!}/pcap?start=yesterday`,
      `/api/v1/calls/${ids.sip!}/pcap`,
    ]) {
      const res = await get(url);
      expect([res.statusCode, errorOf(res).code], url).toEqual([400, 'BAD_REQUEST']);
    }
    // Another call's start, or a start one microsecond off: no such call.
    for (const start of [starts.big!, starts.sip!.replace(/(\d)Z$/, (_m, d: string) => `${(Number(d) + 1) % 10}Z`)]) {
      const res = await get(`/api/v1/calls/${ids.sip!}/sip?start=${encodeURIComponent(start)}`);
      expect([res.statusCode, errorOf(res).code], start).toEqual([404, 'NOT_FOUND']);
    }
  });

  it('asks the sniffer that receives a mirrored sensor, naming the sensor, and lists it as mirrored', async () => {
    const before = standIn.seen.length;
    const res = await get(artifactUrl('mirrored', 'sip'));
    expect(res.statusCode).toBe(200);
    expect(standIn.seen.slice(before)).toEqual([{ path: 'sip', callId: CALL_IDS.sip, query: { start: starts.mirrored, sensor: 'pbx-m' }, authorization: `Bearer ${TOKEN}` }]);
    const detail = await get(`/api/v1/calls/${ids.mirrored!}?start=${encodeURIComponent(starts.mirrored!)}`);
    expect(detail.json<{ artifacts: boolean }>().artifacts).toBe(true);
    // Its holder has no manager-api in the GUI config: as unknown as any unconfigured sensor.
    const gone = await get(artifactUrl('mirroredGone', 'sip'));
    expect([gone.statusCode, errorOf(gone).code]).toEqual([404, 'SENSOR_UNKNOWN']);
    expect((await get(`/api/v1/calls/${ids.mirroredGone!}?start=${encodeURIComponent(starts.mirroredGone!)}`)).json<{ artifacts: boolean }>().artifacts).toBe(false);
    const sensors = (await get('/api/v1/sensors')).json<{ name: string; mirroredBy: string | null; managerUrl: string | null; state: string | null }[]>();
    const byName = new Map(sensors.map((x) => [x.name, x]));
    expect(byName.get('pbx-m')).toMatchObject({ mirroredBy: 'edge-a', managerUrl: standIn.url, state: 'running' });
    expect(byName.get('pbx-gone')).toMatchObject({ mirroredBy: 'central-unconfigured', managerUrl: null, state: 'running' });
    expect(byName.get('edge-a')).toMatchObject({ mirroredBy: null });
  });

  it('needs a session like every API route', async () => {
    const res = await gui.inject({ method: 'GET', url: artifactUrl('sip', 'sip') });
    expect([res.statusCode, errorOf(res).code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});
