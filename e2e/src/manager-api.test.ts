/**
 * Issue 14 (part 1): the built manager-api bundle as an operator runs it, over HTTPS with a named
 * token: every corpus call's pcap download equals `sniffer pcap` byte for byte; stats and live calls
 * come from a real `sniffer run --replay` daemon over its control socket, and say "unreachable"
 * / 503 once it is gone; SIGHUP re-reads the certificate files; the config log shows the token
 * names, never their hashes.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { corpusCaptures, corpusPath } from '@callscope/testing';
import { freePort } from './support/gui-stack.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');
const managerApi = join(root, 'dist/apps/manager-api/main.js');
const dir = mkdtempSync(join(tmpdir(), 'hD-manager-api-e2e-'));
const spool = join(dir, 'spool');
const control = join(dir, 'sniffer.sock');
const TOKEN = 'e2e-gui-token-0123456789abcdef';
/** busy-hour-a has 200 calls; a sample per capture keeps the suite fast. */
const MAX_CALLS_PER_CAPTURE = 4;

let api: ChildProcess | undefined;
let apiLog = '';
let port = 0;
let ca: Buffer = Buffer.alloc(0);

function makeCert(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  fingerprint: string;
}

function get(path: string, token: string | null = TOKEN, trust: Buffer = ca): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = token === null ? {} : { authorization: `Bearer ${token}` };
    const req = request({ host: '127.0.0.1', port, path, ca: trust, servername: 'localhost', headers, agent: false }, (res) => {
      const fingerprint = (res.socket as unknown as { getPeerCertificate(): { fingerprint256: string } }).getPeerCertificate().fingerprint256;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), fingerprint });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the JSON shape it expects
const json = <T>(a: Answer): T => JSON.parse(a.body.toString('utf8')) as T;

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const tls = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
let first: { cert: string; key: string };

beforeAll(async () => {
  first = makeCert('a');
  copyFileSync(first.cert, tls.cert);
  copyFileSync(first.key, tls.key);
  ca = Buffer.from(execFileSync('cat', [first.cert]));
  const hash = execFileSync(process.execPath, [managerApi, 'hash-token'], { input: `${TOKEN}\n`, encoding: 'utf8' }).trim();
  port = await freePort();
  const config = join(dir, 'manager-api.json');
  writeFileSync(
    config,
    JSON.stringify({ listen: { host: '127.0.0.1', port }, tokens: [{ name: 'e2e-gui', hash }], tls, spool: { dir: spool }, control, rateLimit: { max: 100_000, windowS: 60 } }),
  );
  api = spawn(process.execPath, [managerApi, '--config', config], { env: { ...process.env, CALLSCOPE_MANAGER_API_LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] });
  api.stdout!.on('data', (c: Buffer) => (apiLog += c.toString()));
  api.stderr!.on('data', (c: Buffer) => (apiLog += c.toString()));
  await waitFor('manager-api health', async () => (await get('/api/v1/health', null)).status === 200);
}, 30_000);

afterAll(async () => {
  if (api !== undefined && api.exitCode === null) {
    const exited = new Promise((r) => api!.once('exit', r));
    api.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('manager-api (built bundle, HTTPS, named token)', () => {
  test('logs the token names and never the stored hashes', () => {
    expect(apiLog).toContain('"tokens":["e2e-gui"]');
    expect(apiLog).not.toMatch(/scrypt\$/);
  });

  test('refuses missing and wrong tokens with 401', async () => {
    expect((await get('/api/v1/stats', null)).status).toBe(401);
    expect(json<{ error: { code: string } }>(await get('/api/v1/stats', 'wrong-token-0123456789abcdef')).error.code).toBe('UNAUTHORIZED');
  });

  const truths = corpusCaptures()
    .map((c) => c.truth)
    .filter((t) => t.calls.length > 0);

  test.each(truths.map((t) => [t.file, t] as const))('pcap of %s equals `sniffer pcap` byte for byte', async (file, truth) => {
    const analyzed = spawnSync(process.execPath, [sniffer, 'analyze', corpusPath(file), '--spool', spool, '--format', 'jsonl'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const records = analyzed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; call_id: string; start: string });
    for (const t of truth.calls.slice(0, MAX_CALLS_PER_CAPTURE)) {
      const rec = records.find((r) => r.type === 'call' && r.call_id === t.call_id)!;
      const cli = await run(process.execPath, [sniffer, 'pcap', '--spool', spool, '--call-id', rec.call_id, '--start', rec.start], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
      const http = await get(`/api/v1/calls/${encodeURIComponent(rec.call_id)}/pcap?start=${encodeURIComponent(rec.start)}`);
      expect(http.status, rec.call_id).toBe(200);
      expect(http.headers['content-disposition']).toMatch(/^attachment; filename="[A-Za-z0-9._-]+\.pcap(ng)?"$/);
      expect(http.body.length, rec.call_id).toBe(cli.stdout.length);
      expect(http.body.equals(cli.stdout), rec.call_id).toBe(true);
      // SIP only is the SIP group of the same merge: never larger, still a capture.
      const sip = await get(`/api/v1/calls/${encodeURIComponent(rec.call_id)}/pcap?start=${encodeURIComponent(rec.start)}&parts=sip`);
      expect(sip.status).toBe(200);
      expect(sip.body.length).toBeLessThanOrEqual(http.body.length);
      // Encapsulated variants of one capture hold the same call (same Call-ID and start): in this
      // shared spool their packets merge. The route checks below take calls spooled once;
      // e2e/src/call-artifacts.test.ts checks every capture in a spool of its own.
      if (truths.filter((o) => o.calls.some((c) => c.call_id === t.call_id && c.invite_time === t.invite_time)).length > 1) continue;
      // The ladder: exactly the truth's SIP messages (tshark/sipp), each with its raw text.
      const ladderRes = await get(`/api/v1/calls/${encodeURIComponent(rec.call_id)}/sip?start=${encodeURIComponent(rec.start)}`);
      expect(ladderRes.status, rec.call_id).toBe(200);
      const ladder = json<{ count: number; truncated: boolean; messages: { raw: string; firstLine: string; time: string }[] }>(ladderRes);
      expect(ladder.count, `SIP messages of ${rec.call_id}`).toBe(t.sip_messages);
      expect(ladder.messages[0]!.raw.startsWith(ladder.messages[0]!.firstLine)).toBe(true);
      expect(ladder.messages[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      // The series: per stream, the 1 s buckets add up to the CDR's packets and lost.
      const seriesRes = await get(`/api/v1/calls/${encodeURIComponent(rec.call_id)}/streams?start=${encodeURIComponent(rec.start)}`);
      expect(seriesRes.status, rec.call_id).toBe(200);
      const series = json<{ streams: { ssrc: string; packets: number; lost: number; buckets: { packets: number; lost: number }[] }[] }>(seriesRes);
      const cdrStreams = (records.find((r) => r.call_id === rec.call_id) as unknown as { streams: { ssrc: string; packets: number; lost: number }[] }).streams;
      for (const st of cdrStreams) {
        const got = series.streams.find((x) => x.ssrc === st.ssrc);
        expect(got, `${rec.call_id} stream ${st.ssrc}`).toBeDefined();
        expect(got!.buckets.reduce((a, b) => a + b.packets, 0)).toBe(st.packets);
        expect(got!.buckets.reduce((a, b) => a + b.lost, 0)).toBe(st.lost);
      }
      // The audio: a WAV of exactly the announced length, stereo, 8 kHz; no RTP: 404 NO_AUDIO.
      const wav = await get(`/api/v1/calls/${encodeURIComponent(rec.call_id)}/audio?start=${encodeURIComponent(rec.start)}&legs=stereo`);
      const codecs = (cdrStreams as { codec?: string | null }[]).map((x) => x.codec ?? null);
      if (cdrStreams.length === 0) {
        expect(wav.status, rec.call_id).toBe(404);
        expect(json<{ error: { code: string } }>(wav).error.code).toBe('NO_AUDIO');
      } else if (codecs.some((c) => c !== 'PCMA' && c !== 'PCMU')) {
        // A codec without a decoder here (G.729 in busy-hour-a): 415 naming it.
        expect(wav.status, rec.call_id).toBe(415);
        expect(json<{ error: { code: string; message: string } }>(wav).error).toMatchObject({ code: 'UNSUPPORTED_CODEC', message: expect.stringMatching(/G729|payload type/) as string });
      } else {
        expect(wav.status, `${rec.call_id}: ${wav.body.toString('utf8', 0, 200)}`).toBe(200);
        expect(wav.headers['content-type']).toBe('audio/wav');
        expect(wav.body.length).toBe(Number(wav.headers['content-length']));
        expect(wav.body.toString('latin1', 0, 4)).toBe('RIFF');
        expect(wav.body.readUInt32LE(4)).toBe(wav.body.length - 8);
        expect([wav.body.readUInt16LE(22), wav.body.readUInt32LE(24)]).toEqual([2, 8000]);
      }
    }
  }, 120_000);

  test('sip and streams of a call the spool does not hold: 404; a bad start: 400', async () => {
    for (const route of ['sip', 'streams']) {
      const missing = await get(`/api/v1/calls/no-such-call/${route}?start=2026-11-29T17:00:00.000000Z`);
      expect(missing.status, route).toBe(404);
      expect(json<{ error: { code: string } }>(missing).error.code).toBe('CALL_NOT_FOUND');
      const bad = await get(`/api/v1/calls/no-such-call/${route}?start=yesterday`);
      expect(json<{ error: { code: string } }>(bad).error.code).toBe('BAD_START');
    }
  });

  test('stats and live calls come from a running `sniffer run --replay` daemon, then say it is gone', async () => {
    const before = json<{ daemon: string }>(await get('/api/v1/stats'));
    expect(before.daemon).toBe('unreachable');
    expect((await get('/api/v1/calls/active')).status).toBe(503);

    const daemon = spawn(process.execPath, [sniffer, 'run', '--replay', corpusPath('basic-caller-bye-pcma.pcap'), '--speed', '1', '--control', control, '--jsonl=-'], {
      env: { ...process.env, CALLSCOPE_SNIFFER_CONFIG: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let daemonErr = '';
    daemon.stderr.on('data', (c: Buffer) => (daemonErr += c.toString()));
    const exited = new Promise((r) => daemon.once('exit', r));
    try {
      await waitFor('a call in progress', async () => {
        const a = await get('/api/v1/calls/active');
        return a.status === 200 && json<{ calls: unknown[] }>(a).calls.length >= 1;
      });
      const stats = json<{ daemon: string; sensor: { calls_open: number; version: string; sources: { kind: string }[] }; spool: { exists: boolean } }>(await get('/api/v1/stats'));
      expect(stats.daemon).toBe('ok');
      expect(stats.sensor.calls_open).toBeGreaterThanOrEqual(1);
      expect(stats.sensor.sources[0]!.kind).toBe('replay');
      expect(stats.spool.exists).toBe(true);
      const list = json<{ calls: { call_id: string }[] }>(await get('/api/v1/calls/active?limit=5')).calls;
      const one = await get(`/api/v1/calls/active/${encodeURIComponent(list[0]!.call_id)}`);
      expect(one.status).toBe(200);
      const detail = json<{ call_id: string; record: { call_id: string } }>(one);
      expect([detail.call_id, detail.record.call_id]).toEqual([list[0]!.call_id, list[0]!.call_id]);
      const none = await get('/api/v1/calls/active/no-such-call%40nowhere');
      expect([none.status, json<{ error: { code: string } }>(none).error.code]).toEqual([404, 'CALL_NOT_ACTIVE']);
      const metrics = (await get('/metrics', null)).body.toString();
      expect(metrics).toContain('callscope_daemon_up 1');
    } finally {
      daemon.kill('SIGTERM');
      await exited;
    }
    expect(daemonErr).not.toMatch(/"level":50/);
    const after = json<{ daemon: string; sensor: unknown }>(await get('/api/v1/stats'));
    expect(after).toMatchObject({ daemon: 'unreachable', sensor: null });
    const gone = await get('/api/v1/calls/active');
    expect([gone.status, json<{ error: { code: string } }>(gone).error.code]).toEqual([503, 'DAEMON_UNREACHABLE']);
  }, 60_000);

  test('SIGHUP re-reads the certificate files', async () => {
    const before = await get('/api/v1/health', null);
    const second = makeCert('b');
    copyFileSync(second.cert, tls.cert);
    copyFileSync(second.key, tls.key);
    api!.kill('SIGHUP');
    const trustB = Buffer.from(execFileSync('cat', [second.cert]));
    await waitFor('the new certificate', async () => (await get('/api/v1/health', null, trustB)).fingerprint !== before.fingerprint, 10_000);
    expect(apiLog).toContain('TLS certificate and key reloaded');
    // Each request's log line names the token that made it.
    expect(apiLog).toMatch(/"tokenName":"e2e-gui"[^\n]*"msg":"request"/);
    ca = trustB;
  });
});
