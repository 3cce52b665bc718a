/**
 * The sensor daemon on real captures, in process: replayed files give the records `analyze` gives,
 * a stop in the middle of a call closes it with `sensor_shutdown` and keeps its packets, and the
 * control socket answers stats and the calls in progress (also through `sniffer stats`).
 */
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { PacketPipeline } from '@callscope/call-engine';
import { parseIsoMicros, type CallRecord, type RegisterRecord } from '@callscope/cdr-model';
import { readCallPcap } from '@callscope/pcap-store';
import { createLogger } from '@callscope/runtime';
import { pipelineOptionsFrom, openSpool } from '../src/cli/analyze.cli.js';
import { runStats } from '../src/cli/stats.cli.js';
import { ExitCode } from '../src/cli/exit-code.js';
import { loadSnifferConfig } from '../src/config.js';
import { ControlServer, requestControl } from '../src/daemon/control-server.js';
import { SensorDaemon } from '../src/daemon/sensor-daemon.js';
import { ReplaySource } from '../src/sources/replay-source.js';
import { analyzeFile } from './analyze-corpus.js';

const corpus = (name: string) => new URL(`../../../fixtures/corpus/${name}`, import.meta.url).pathname;
const dirs: string[] = [];
const tempDir = (tag: string) => {
  const d = mkdtempSync(join(tmpdir(), `callscope-daemon-${tag}-`));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  const { rmSync } = await import('node:fs');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const config = loadSnifferConfig([], {}).config;
const silent = createLogger({ app: 'test', level: 'silent' });

/** A daemon replaying `files` with the given speed, its records collected. */
function replayDaemon(files: string[], speed: number, opts: { control?: string; spool?: string } = {}) {
  const records: (CallRecord | RegisterRecord)[] = [];
  const spool = opts.spool === undefined ? null : openSpool(config, opts.spool, false, silent);
  const pipeline = new PacketPipeline(pipelineOptionsFrom(config, 'sensor1'), { onCall: (r) => records.push(r), onRegister: (r) => records.push(r) }, spool);
  const daemon = new SensorDaemon({
    config,
    sensor: 'sensor1',
    sensorId: 7,
    version: 'test',
    logger: silent,
    pipeline,
    sources: (sinkFor) => [new ReplaySource({ files, speed, loop: false, shiftToNow: false }, sinkFor('replay', files.join(',')))],
    db: null,
    spool,
    control: opts.control ?? null,
    heartbeat: null,
  });
  return { daemon, records, pipeline };
}

const byCallId = (a: { call_id: string }, b: { call_id: string }) => a.call_id.localeCompare(b.call_id);

describe('sensor daemon with a replay source', () => {
  it('gives exactly the records analyze gives when the replay runs flat out', async () => {
    const files = ['basic-caller-bye-pcma.pcap', 'dtmf-rfc2833.pcap', 'reject-486-busy.pcap', 'register-auth.pcapng', 'sip-tcp.pcap'].map(corpus);
    const { daemon, records } = replayDaemon(files, 0);
    await daemon.start();
    await daemon.sourcesEnded();
    const stats = daemon.stats();
    await daemon.stop('test');
    const expected: (CallRecord | RegisterRecord)[] = [];
    let packets = 0;
    let notDecoded = 0;
    for (const f of files) {
      const r = await analyzeFile(f);
      expected.push(...r.calls, ...r.registers);
      packets += r.pipeline.counters.packets;
      for (const [k, v] of Object.entries(r.pipeline.stats().fates)) if (k.startsWith('not_decoded.')) notDecoded += v;
    }
    // Decode failures are counted per source too (here: the one replay source has them all).
    expect(stats.sources[0]!['not_decoded']).toBe(notDecoded);
    expect(notDecoded).toBeGreaterThan(0);
    expect(stats.sources).toMatchObject([{ kind: 'replay', received: packets, kernel_drops: 0, if_drops: 0, queue_drops: 0, rounds: 1, file_errors: 0 }]);
    expect(stats.packets).toBe(packets);
    expect(records.length).toBe(expected.length);
    expect([...records].sort(byCallId)).toEqual([...expected].sort(byCallId));
    expect(records.some((r) => r.type === 'call' && r.end_reason === 'sensor_shutdown')).toBe(false);
  }, 60_000);

  it('a stop in the middle of a call closes it with sensor_shutdown, keeps its packets, and the control socket shows it live', async () => {
    const control = join(tempDir('ctl'), 'sniffer.sock');
    const spoolDir = tempDir('spool');
    // 12.9 s of one call at 4x: about 3.2 s, stopped after about 1.5 s (answered at 0.1 s).
    const { daemon, records } = replayDaemon([corpus('basic-caller-bye-pcma.pcap')], 4, { control, spool: spoolDir });
    await daemon.start();
    await new Promise((r) => setTimeout(r, 1500));
    const stats = (await requestControl(control, '/stats')).body as Record<string, unknown> & { sources: { received: number }[] };
    expect(stats).toMatchObject({ sensor_id: 7, sensor: 'sensor1', version: 'test', calls_open: 1, state: 'running' });
    expect(stats.sources[0]!.received).toBeGreaterThan(50);
    expect(Object.keys(stats.counters as object)).toContain('capture.kernel_drops');
    const list = await requestControl(control, '/calls/active');
    expect(list.status).toBe(200);
    const calls = list.body as { call_id: string; streams: unknown[] }[];
    expect(calls).toHaveLength(1);
    const callId = calls[0]!.call_id;
    const one = await requestControl(control, `/calls/active/${encodeURIComponent(callId)}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ call_id: callId });
    expect((await requestControl(control, '/calls/active/no-such-call')).status).toBe(404);
    expect((await requestControl(control, '/calls/active?limit=0')).status).toBe(400);
    expect((await requestControl(control, '/nothing')).status).toBe(404);

    // `sniffer stats` reads the same socket.
    const out = new PassThrough();
    const err = new PassThrough();
    let printed = '';
    out.on('data', (c: Buffer) => (printed += c.toString()));
    expect(await runStats(['--control', control], { stdout: out, stderr: err, env: {} })).toBe(ExitCode.Ok);
    expect(JSON.parse(printed)).toMatchObject({ sensor: 'sensor1', calls_open: 1 });
    expect(await runStats(['--control', control, '--call', 'nope'], { stdout: out, stderr: err, env: {} })).toBe(ExitCode.NoSuchCall);

    const received = daemon.stats().sources[0]!.received;
    await daemon.stop('SIGTERM');
    expect(existsSync(control)).toBe(false);
    expect(records).toHaveLength(1);
    const rec = records[0] as CallRecord;
    expect(rec.end_reason).toBe('sensor_shutdown');
    expect(rec.answer).not.toBeNull();
    // The call's packets delivered before the stop are in its spooled pcap: its SIP and RTP as the
    // record counts them (plus any RTCP), none of the file's packets that were not delivered.
    const when = parseIsoMicros(rec.start)!;
    const summary = await readCallPcap(spoolDir, { callId: rec.call_id, startSec: when.sec, startUsec: when.usec }, () => undefined);
    const counted = rec.sip_packets + rec.streams.reduce((a, st) => a + st.packets, 0);
    expect(counted).toBeGreaterThan(200);
    expect(summary.packets).toBeGreaterThanOrEqual(counted);
    expect(summary.packets).toBeLessThanOrEqual(received);
  }, 30_000);
});

describe('control socket', () => {
  it('refuses a second daemon on a socket in use, and replaces a stale socket file', async () => {
    const path = join(tempDir('ctl2'), 'run', 'sniffer.sock');
    const handlers = { stats: () => ({ ok: 1 }), activeCalls: () => [], activeCall: () => null };
    const a = new ControlServer(path, handlers);
    await a.start();
    await expect(new ControlServer(path, handlers).start()).rejects.toThrow(/in use: another sniffer daemon/);
    await a.stop();
    writeFileSync(path, ''); // a stale file where the socket was (a killed daemon leaves one)
    const b = new ControlServer(path, handlers);
    await b.start();
    expect((await requestControl(path, '/stats')).body).toEqual({ ok: 1 });
    await b.stop();
  });

  it('says what to check when no daemon answers', async () => {
    const path = join(tempDir('ctl3'), 'none.sock');
    await expect(requestControl(path, '/stats')).rejects.toThrow(/no sniffer daemon answers on .*is "sniffer run" running/);
    const err = new PassThrough();
    let said = '';
    err.on('data', (c: Buffer) => (said += c.toString()));
    expect(await runStats(['--control', path], { stdout: new PassThrough(), stderr: err, env: {} })).toBe(ExitCode.NoDaemon);
    expect(said).toMatch(/no sniffer daemon answers/);
  });
});

describe('replay pacing', () => {
  it('keeps the recorded pace at a speed factor, and moves times to now when asked', async () => {
    const seen: { ts: number; wall: number }[] = [];
    const src = new ReplaySource({ files: [corpus('reject-486-busy.pcap')], speed: 2, loop: false, shiftToNow: true }, (rec) => {
      seen.push({ ts: rec.tsSec * 1000 + rec.tsNsec / 1e6, wall: Date.now() });
    });
    const t0 = Date.now();
    await src.start();
    await src.ended;
    expect(src.stats()).toMatchObject({ kind: 'replay', received: seen.length, rounds: 1 });
    const first = seen[0]!;
    const last = seen[seen.length - 1]!;
    expect(Math.abs(first.ts - t0)).toBeLessThan(1000);
    // Never early: each packet leaves no sooner than its recorded offset / speed (a 2 ms timer slack).
    for (const p of seen) expect(p.wall - first.wall).toBeGreaterThanOrEqual((p.ts - first.ts) / 2 - 3);
    expect(last.ts).toBeGreaterThan(first.ts);
  });

  it('flat out with times moved to now, puts the newest packet of all files at now (no call in the future), keeping the files\' spacing', async () => {
    const files = [corpus('rtp-loss-1pct.pcap'), corpus('dtmf-rfc2833.pcap')];
    const recorded: number[] = [];
    const plain = new ReplaySource({ files, speed: 0, loop: false, shiftToNow: false }, (rec) => {
      recorded.push(rec.tsSec * 1e6 + rec.tsNsec / 1e3);
    });
    await plain.start();
    await plain.ended;
    const shifted: number[] = [];
    const t0 = Date.now();
    const src = new ReplaySource({ files, speed: 0, loop: false, shiftToNow: true }, (rec) => {
      shifted.push(rec.tsSec * 1e6 + rec.tsNsec / 1e3);
    });
    await src.start();
    await src.ended;
    expect(shifted).toHaveLength(recorded.length);
    const newest = Math.max(...shifted);
    expect(Math.abs(newest / 1000 - t0)).toBeLessThan(1000);
    // One shift for every packet: the spacing within and between the files is the recording's.
    const shift = shifted[0]! - recorded[0]!;
    for (let i = 0; i < shifted.length; i++) expect(Math.abs(shifted[i]! - recorded[i]! - shift)).toBeLessThan(1);
    expect(Math.max(...recorded) - Math.min(...recorded)).toBeGreaterThan(60e6);
  });

  it('counts a file it cannot read and goes on with the next', async () => {
    const bad = join(tempDir('bad'), 'not-a-capture.pcap');
    writeFileSync(bad, 'this is not a capture file');
    const errors: string[] = [];
    let n = 0;
    const src = new ReplaySource({ files: [bad, corpus('reject-486-busy.pcap')], speed: 0, loop: false, shiftToNow: false, onFileError: (f) => errors.push(f) }, () => n++);
    await src.start();
    await src.ended;
    expect(errors).toEqual([bad]);
    expect(src.stats()).toMatchObject({ file_errors: 1, received: n });
    expect(n).toBeGreaterThan(0);
  });
});
