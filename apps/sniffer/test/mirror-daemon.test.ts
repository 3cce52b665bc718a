/**
 * `sniffer run --mirror-listen` end to end in process (issue 16): two senders built from
 * @callscope/mirror-protocol replay corpus captures as compressed batches into the daemon; its CDRs
 * (JSON lines) equal `analyze` on the same files, each carrying its sender's sensor name, and
 * `sniffer stats` lists one mirror entry per sender with what it received.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { Compression, type Packet } from '@callscope/mirror-protocol';
import { readCaptureFile } from '@callscope/pcap-store';
import { pipelineOptionsFrom } from '../src/cli/analyze.cli.js';
import { ExitCode } from '../src/cli/exit-code.js';
import { runDaemon } from '../src/cli/run.cli.js';
import { loadSnifferConfig } from '../src/config.js';
import { requestControl } from '../src/daemon/control-server.js';
import { analyzeFile } from './analyze-corpus.js';
import { TestMirrorClient } from './mirror-test-client.js';

const corpus = (name: string) => new URL(`../../../fixtures/corpus/${name}`, import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (typeof a !== 'object' || a === null) throw new Error('no port');
  return a.port;
}

async function connectWhenUp(port: number): Promise<TestMirrorClient> {
  for (let i = 0; i < 100; i++) {
    try {
      return await TestMirrorClient.connect(port);
    } catch {
      await new Promise((r) => setTimeout(r, 50)); // the daemon is still starting: try again
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

/** Every packet of the files, copied, as a sender would capture them. */
async function capturedPackets(files: string[]): Promise<Packet[]> {
  const out: Packet[] = [];
  for (const f of files) {
    await readCaptureFile(f, (rec) => {
      out.push({ linkType: rec.linkType, tsSec: rec.tsSec, tsNsec: rec.tsNsec, origLen: rec.origLen, data: Uint8Array.from(rec.data) });
    });
  }
  return out;
}

/** Sends the packets as batches of `per`, cycling through zstd, lz4, deflate and brotli, and waits for the last ack. */
const CYCLE = [Compression.COMPRESSION_ZSTD, Compression.COMPRESSION_LZ4, Compression.COMPRESSION_DEFLATE, Compression.COMPRESSION_BROTLI];

async function stream(c: TestMirrorClient, packets: Packet[], per: number): Promise<number> {
  let seq = 0;
  for (let i = 0; i < packets.length; i += per) {
    seq++;
    c.sendBatch(seq, packets.slice(i, i + per), CYCLE[seq % CYCLE.length]);
  }
  await c.until(() => c.acked === seq, 20_000, `ack ${seq}`);
  return seq;
}

const byCallId = (a: { call_id: string }, b: { call_id: string }) => a.call_id.localeCompare(b.call_id);

describe('sniffer run --mirror-listen', () => {
  it('gives each mirrored sender the CDRs analyze gives on its files, tagged with its sensor, and lists the senders in stats', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-mirror-daemon-'));
    dirs.push(dir);
    const secret = 'mirror-test-secret';
    writeFileSync(join(dir, 'secret'), `${secret}\n`);
    const control = join(dir, 'sniffer.sock');
    const jsonl = join(dir, 'records.jsonl');
    const port = await freePort();
    const signals = new EventEmitter();
    const stderr = new PassThrough();
    let logText = '';
    stderr.on('data', (c: Buffer) => (logText += c.toString()));
    const done = runDaemon(
      ['--mirror-listen', `127.0.0.1:${port}`, '--mirror-secret-file', join(dir, 'secret'), '--jsonl', jsonl, '--control', control, '--sensor', 'central', '--no-spool'],
      { stdout: new PassThrough(), stderr, env: {}, signals },
    );

    const east = { files: ['basic-caller-bye-pcma.pcap', 'dtmf-rfc2833.pcap', 'reject-486-busy.pcap'].map(corpus), id: 'pbx-east', name: 'PBX East' };
    const west = { files: ['register-auth.pcapng', 'sip-tcp.pcap'].map(corpus), id: 'pbx-west', name: 'PBX West' };
    const secretBytes = new TextEncoder().encode(secret);

    // A wrong secret first: refused, counted; the real senders are not disturbed.
    const intruder = await connectWhenUp(port);
    expect(await intruder.handshake(new TextEncoder().encode('guess'), { sensorId: 'pbx-east' })).toMatchObject({ ok: false });
    intruder.destroy();

    const sent: Record<string, number> = {};
    await Promise.all(
      [east, west].map(async (s) => {
        const c = await connectWhenUp(port);
        expect(await c.handshake(secretBytes, { sensorId: s.id, sensorName: s.name, nextSequence: 1 })).toMatchObject({ ok: true, ackedSequence: 0 });
        const packets = await capturedPackets(s.files);
        sent[s.id] = packets.length;
        const batches = await stream(c, packets, 37);
        expect(batches).toBeGreaterThan(2);
      }),
    );

    const stats = (await requestControl(control, '/stats')).body as {
      sensor: string;
      sources: Record<string, unknown>[];
      packets: number;
      counters: Record<string, number>;
      sensor_pipelines: Record<string, { packets: number }>;
    };
    expect(stats.sensor).toBe('central');
    const senders = stats.sources.filter((s) => s['kind'] === 'mirror' && s['role'] === 'sender');
    expect(senders.map((s) => [s['name'], s['sensor_name'], s['state'], s['received'], s['duplicates_dropped'], s['lost']]).sort()).toEqual([
      ['pbx-east', 'PBX East', 'connected', sent['pbx-east'], 0, 0],
      ['pbx-west', 'PBX West', 'connected', sent['pbx-west'], 0, 0],
    ]);
    expect(stats.sources.find((s) => s['role'] === 'listener')).toMatchObject({ kind: 'mirror', auth_bad_mac: 1, connections_open: 2 });
    expect(stats.counters['mirror.auth_bad_mac']).toBe(1);
    expect(Object.keys(stats.sensor_pipelines).sort()).toEqual(['PBX East', 'PBX West']);
    expect(stats.packets).toBe(sent['pbx-east']! + sent['pbx-west']!);

    signals.emit('SIGTERM');
    expect(await done).toBe(ExitCode.Ok);
    expect(logText).toMatch(/handshake refused: the MAC does not match/);

    const records = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { call_id: string; sensor: string; end_reason?: string });
    const config = loadSnifferConfig([], {}).config;
    for (const s of [east, west]) {
      const expected: unknown[] = [];
      for (const f of s.files) {
        const r = await analyzeFile(f, pipelineOptionsFrom(config, s.name));
        expected.push(...r.calls, ...r.registers);
      }
      const got = records.filter((r) => r.sensor === s.name);
      expect(got.length).toBeGreaterThan(0);
      expect(got.some((r) => r.end_reason === 'sensor_shutdown')).toBe(false);
      expect([...got].sort(byCallId)).toEqual((JSON.parse(JSON.stringify(expected)) as { call_id: string }[]).sort(byCallId));
    }
    expect(records.every((r) => r.sensor === east.name || r.sensor === west.name)).toBe(true);
  }, 60_000);

  it('a sender cut off mid-stream resumes from what it saw acked: every packet counted once, the CDRs unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-mirror-resume-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'secret'), 'resume-secret-of-some-length');
    const control = join(dir, 'sniffer.sock');
    const jsonl = join(dir, 'records.jsonl');
    const port = await freePort();
    const signals = new EventEmitter();
    const done = runDaemon(
      ['--mirror-listen', `127.0.0.1:${port}`, '--mirror-secret-file', join(dir, 'secret'), '--jsonl', jsonl, '--control', control, '--no-spool'],
      { stdout: new PassThrough(), stderr: new PassThrough(), env: {}, signals },
    );
    const secret = new TextEncoder().encode('resume-secret-of-some-length');
    const files = ['basic-caller-bye-pcma.pcap', 'dtmf-rfc2833.pcap'].map(corpus);
    const packets = await capturedPackets(files);
    const per = 25;
    const batches: Packet[][] = [];
    for (let i = 0; i < packets.length; i += per) batches.push(packets.slice(i, i + per));
    const half = Math.floor(batches.length / 2);

    const first = await connectWhenUp(port);
    await first.handshake(secret, { sensorId: 'pbx', nextSequence: 1 });
    for (let s = 1; s <= half; s++) first.sendBatch(s, batches[s - 1]!);
    await first.until(() => first.acked === half, 10_000, `ack ${half}`);
    first.destroy(); // the link is cut; the sender never saw the last 3 acks
    await first.closedPromise;

    const resumeAt = half - 2;
    const second = await connectWhenUp(port);
    expect(await second.handshake(secret, { sensorId: 'pbx', nextSequence: resumeAt })).toMatchObject({ ok: true, ackedSequence: half });
    // A real sender releases what AuthResult acknowledges; this one resends anyway, as one that
    // had already written them to the socket would: the receiver drops them.
    for (let s = resumeAt; s <= batches.length; s++) second.sendBatch(s, batches[s - 1]!);
    await second.until(() => second.acked === batches.length, 10_000, `ack ${batches.length}`);

    const stats = (await requestControl(control, '/stats')).body as { sources: Record<string, unknown>[] };
    expect(stats.sources.find((s) => s['role'] === 'sender')).toMatchObject({ name: 'pbx', received: packets.length, batches: batches.length, duplicates_dropped: 3, lost: 0, connections: 2 });
    signals.emit('SIGTERM');
    expect(await done).toBe(ExitCode.Ok);

    const records = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { call_id: string });
    const config = loadSnifferConfig([], {}).config;
    const expected: unknown[] = [];
    for (const f of files) {
      const r = await analyzeFile(f, pipelineOptionsFrom(config, 'pbx'));
      expected.push(...r.calls, ...r.registers);
    }
    expect([...records].sort(byCallId)).toEqual((JSON.parse(JSON.stringify(expected)) as { call_id: string }[]).sort(byCallId));
  }, 60_000);

  it.each([
    [['--mirror-listen', '127.0.0.1:1'], /--mirror-listen needs --mirror-secret-file/],
    [['--mirror-listen', 'nowhere', '--mirror-secret-file', 'x'], /--mirror-listen must be HOST:PORT/],
    [['--mirror-listen', '127.0.0.1:1', '--mirror-secret-file', 'SHORT', '--control', 'CONTROL'], /the secret must be at least 16 bytes/],
    [['--mirror-listen', '127.0.0.1:1', '--mirror-secret-file', 'MISSING', '--control', 'CONTROL'], /mirror secret file .*no such file/i],
    [['--mirror-listen', '127.0.0.1:1', '--mirror-secret-file', 'SHORT', '--mirror-tls-cert', 'c.pem'], /--mirror-tls-cert and --mirror-tls-key go together/],
  ])('refuses %j as a usage error', async (argv, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-mirror-usage-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'short'), 'short\n');
    const args = argv.map((a) => (a === 'SHORT' ? join(dir, 'short') : a === 'MISSING' ? join(dir, 'missing') : a === 'CONTROL' ? join(dir, 'ctl.sock') : a));
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (c: Buffer) => (text += c.toString()));
    expect(await runDaemon([...args, '--no-spool'], { stdout: new PassThrough(), stderr, env: {}, signals: new EventEmitter() })).toBe(ExitCode.Usage);
    expect(text).toMatch(message);
  });
});
