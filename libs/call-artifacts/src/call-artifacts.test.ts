/**
 * Behaviour and malformed-input table of readCallSip / readCallStreamSeries, on spools written by
 * the built sniffer (`analyze --spool`) from corpus captures, then damaged on purpose.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parseIsoMicros } from '@callscope/cdr-model';
import { locateCallFiles, SpoolError, SpoolErrorCode, SpoolGroup } from '@callscope/pcap-store';
import { corpusCaptures, corpusPath } from '@callscope/testing';
import { readCallSip, readCallStreamSeries, type CallArtifactQuery } from './index.js';

const root = new URL('../../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Cdr { type: string; call_id: string; start: string; sip_packets: number; streams: { packets: number; lost: number }[] }

/** Analyses `capture` into a fresh spool; its first call's query and CDR. */
function spoolOf(capture: string): { spool: string; query: CallArtifactQuery; cdr: Cdr } {
  const spool = mkdtempSync(join(tmpdir(), 'hE-call-artifacts-'));
  dirs.push(spool);
  const run = spawnSync(process.execPath, [sniffer, 'analyze', capture, '--spool', spool, '--format', 'jsonl'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`sniffer analyze ${capture}: ${run.stderr}`);
  const cdr = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Cdr).find((r) => r.type === 'call')!;
  const start = parseIsoMicros(cdr.start)!;
  return { spool, query: { callId: cdr.call_id, startSec: start.sec, startUsec: start.usec }, cdr };
}

async function fileOf(spool: string, query: CallArtifactQuery, group: SpoolGroup): Promise<string> {
  const loc = await locateCallFiles(spool, query.callId, query.startSec, query.startUsec, [group]);
  expect(loc.files).toHaveLength(1);
  return loc.files[0]!.path;
}

const truthOf = (file: string) => corpusCaptures().find((c) => c.truth.file === file)!.truth;

describe('readCallSip', () => {
  test('an unknown call gives null; the series say both files are missing', async () => {
    const { spool, query } = spoolOf(corpusPath('cancel-487.pcap'));
    const other = { ...query, callId: `${query.callId}x` };
    expect(await readCallSip(spool, other)).toBeNull();
    const series = await readCallStreamSeries(spool, other);
    expect(series).toMatchObject({ rtpMissing: true, sipMissing: true, streams: [] });
  });

  test('a message shape: time with µs, addresses, transport, headers in order, body, raw', async () => {
    const { spool, query } = spoolOf(corpusPath('basic-callee-bye-pcmu.pcap'));
    const ladder = (await readCallSip(spool, query))!;
    const invite = ladder.messages[0]!;
    expect(invite.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const t = parseIsoMicros(invite.time)!;
    expect(Math.abs(t.sec + t.usec / 1e6 - truthOf('basic-callee-bye-pcmu.pcap').calls[0]!.invite_time)).toBeLessThan(2e-6);
    expect(invite).toMatchObject({ transport: 'udp', method: 'INVITE', statusCode: null, retransmission: false });
    expect(invite.src.ip).toBe(truthOf('basic-callee-bye-pcmu.pcap').calls[0]!.caller_ip);
    expect(invite.dst.ip).toBe(truthOf('basic-callee-bye-pcmu.pcap').calls[0]!.callee_ip);
    expect(invite.headers.map((h) => h.name.toLowerCase())).toContain('call-id');
    expect(invite.headers.find((h) => /^(call-id|i)$/i.test(h.name))!.value).toBe(query.callId);
    expect(invite.body).toMatch(/^v=0\r\n/);
    expect(invite.raw.endsWith(invite.body)).toBe(true);
    const ok = ladder.messages.find((m) => m.statusCode === 200)!;
    expect(ok.firstLine).toBe('SIP/2.0 200 OK');
    expect(ok.method).toBe('INVITE');
  });

  test('a resent INVITE (same first line, CSeq, branch, direction) is flagged as a retransmission', async () => {
    // cancel-487 with its INVITE record written again 500 ms later (classic µs pcap: 24-byte
    // file header, 16-byte record headers).
    const pcap = readFileSync(corpusPath('cancel-487.pcap'));
    expect(pcap.readUInt32LE(0)).toBe(0xa1b2c3d4);
    let at = 24;
    while (!pcap.subarray(at + 16, at + 16 + pcap.readUInt32LE(at + 8)).includes('INVITE sip:')) at += 16 + pcap.readUInt32LE(at + 8);
    const first = pcap.subarray(at, at + 16 + pcap.readUInt32LE(at + 8));
    const again = Buffer.from(first);
    const usec = first.readUInt32LE(4) + 500_000;
    again.writeUInt32LE(first.readUInt32LE(0) + Math.floor(usec / 1_000_000), 0);
    again.writeUInt32LE(usec % 1_000_000, 4);
    const end = at + first.length;
    const dir = mkdtempSync(join(tmpdir(), 'hE-call-artifacts-'));
    dirs.push(dir);
    const file = join(dir, 'resent.pcap');
    writeFileSync(file, Buffer.concat([pcap.subarray(0, end), again, pcap.subarray(end)]));
    const { spool, query } = spoolOf(file);
    const ladder = (await readCallSip(spool, query))!;
    expect(ladder.count).toBe(truthOf('cancel-487.pcap').calls[0]!.sip_messages + 1);
    const invites = ladder.messages.filter((m) => m.method === 'INVITE' && m.statusCode === null);
    expect(invites.map((m) => m.retransmission)).toEqual([false, true]);
    expect(ladder.messages.filter((m) => m.retransmission)).toHaveLength(1);
  });

  test('maxMessages cuts the list and says so', async () => {
    const { spool, query } = spoolOf(corpusPath('cancel-487.pcap'));
    const ladder = (await readCallSip(spool, query, { maxMessages: 3 }))!;
    expect(ladder).toMatchObject({ count: 3, truncated: true, messagesSeen: truthOf('cancel-487.pcap').calls[0]!.sip_messages });
    expect(ladder.messages).toHaveLength(3);
    await expect(readCallSip(spool, query, { maxMessages: -1 })).rejects.toThrow(RangeError);
  });

  test('a SIP file cut mid-record: the complete messages, and the file named as truncated', async () => {
    const { spool, query } = spoolOf(corpusPath('cancel-487.pcap'));
    const path = await fileOf(spool, query, SpoolGroup.SIP);
    truncateSync(path, readFileSync(path).length - 10);
    const ladder = (await readCallSip(spool, query))!;
    expect(ladder.count).toBe(truthOf('cancel-487.pcap').calls[0]!.sip_messages - 1);
    expect(ladder.filesTruncated.map((t) => t.path)).toEqual([path]);
  });

  test('a spool file that is not a capture is a CorruptFile SpoolError', async () => {
    const { spool, query } = spoolOf(corpusPath('cancel-487.pcap'));
    writeFileSync(await fileOf(spool, query, SpoolGroup.SIP), 'not a capture at all, just text');
    const err = await readCallSip(spool, query).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpoolError);
    expect((err as SpoolError).code).toBe(SpoolErrorCode.CorruptFile);
  });
});

describe('readCallStreamSeries', () => {
  test('1 s buckets: jitter peaks as the truth, MOS per full bucket, totals as the CDR', async () => {
    const { spool, query, cdr } = spoolOf(corpusPath('rtp-jitter-20ms.pcap'));
    const series = await readCallStreamSeries(spool, query);
    expect(series.bucketMs).toBe(1000);
    expect(series.streams).toHaveLength(2);
    for (const s of series.streams) {
      const truth = truthOf('rtp-jitter-20ms.pcap').rtp_streams.find((t) => t.ssrc === s.ssrc)!;
      // Wireshark's jitter after every packet: the highest bucket peak is the stream's max jitter.
      expect(Math.max(...s.buckets.map((b) => b.jitterMaxMs))).toBeCloseTo(truth.max_jitter_ms, 2);
      expect(Math.max(...s.buckets.map((b) => b.maxDeltaMs))).toBeGreaterThanOrEqual(truth.max_delta_ms - 0.01);
      expect(s.buckets.length).toBeGreaterThanOrEqual(Math.floor(truth.end_time - truth.start_time));
      expect(s.buckets.map((b) => b.index)).toEqual([...s.buckets.map((b) => b.index)].sort((a, b) => a - b));
      // Every bucket but the last (partial) has 50 packets of 20 ms and a MOS.
      for (const b of s.buckets.slice(0, -1)) {
        expect(b.mos, `bucket ${b.index}`).not.toBeNull();
        expect(b.mos!.f1).toBeGreaterThan(1);
        expect(b.mos!.f1).toBeLessThanOrEqual(4.5);
      }
      expect(s.packets).toBe(s.buckets.reduce((a, b) => a + b.packets, 0));
    }
    expect(series.streams.map((s) => s.packets).sort()).toEqual(cdr.streams.map((s) => s.packets).sort());
  });

  test('a lossy stream: lost spread over the buckets adds up to the CDR', async () => {
    const { spool, query, cdr } = spoolOf(corpusPath('rtp-loss-1pct.pcap'));
    const series = await readCallStreamSeries(spool, query);
    const lossy = series.streams.find((s) => s.lost > 0)!;
    expect(lossy.buckets.filter((b) => b.lost > 0).length).toBeGreaterThan(0);
    expect(lossy.buckets.reduce((a, b) => a + b.lost, 0)).toBe(lossy.lost);
    expect(cdr.streams.map((s) => s.lost).sort()).toEqual(series.streams.map((s) => s.lost).sort());
  });

  test('a missing RTP file: no streams, flagged; the SIP is still read', async () => {
    const { spool, query } = spoolOf(corpusPath('basic-callee-bye-pcmu.pcap'));
    unlinkSync(await fileOf(spool, query, SpoolGroup.RTP));
    const series = await readCallStreamSeries(spool, query);
    expect(series).toMatchObject({ rtpMissing: true, sipMissing: false, streams: [] });
    expect((await readCallSip(spool, query))!.count).toBe(truthOf('basic-callee-bye-pcmu.pcap').calls[0]!.sip_messages);
  });

  test('an RTP file cut mid-record: one packet fewer, the file named as truncated', async () => {
    const { spool, query, cdr } = spoolOf(corpusPath('basic-callee-bye-pcmu.pcap'));
    const path = await fileOf(spool, query, SpoolGroup.RTP);
    truncateSync(path, readFileSync(path).length - 7);
    const series = await readCallStreamSeries(spool, query);
    expect(series.filesTruncated.map((t) => t.path)).toEqual([path]);
    const total = (xs: { packets: number }[]): number => xs.reduce((a, s) => a + s.packets, 0);
    expect(total(series.streams)).toBe(total(cdr.streams) - 1);
  });

  test('a missing SIP file: streams still computed, sides unknown, flagged', async () => {
    const { spool, query, cdr } = spoolOf(corpusPath('basic-callee-bye-pcmu.pcap'));
    unlinkSync(await fileOf(spool, query, SpoolGroup.SIP));
    const series = await readCallStreamSeries(spool, query);
    expect(series.sipMissing).toBe(true);
    expect(series.streams.map((s) => s.side)).toEqual([null, null]);
    expect(series.streams.map((s) => s.packets).sort()).toEqual(cdr.streams.map((s) => s.packets).sort());
  });
});
