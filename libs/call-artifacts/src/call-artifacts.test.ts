/**
 * readCallSip / readCallStreamSeries on spools written with pcap-store's SpoolWriter from the
 * corpus's one-call captures (test/spool-from-capture.ts): counts against the truth files, then
 * the malformed-input table (archives cut, missing, not an archive). The spool the sniffer itself
 * writes, and the CDR comparison, are in e2e/src/call-artifacts.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parseIsoMicros } from '@callscope/cdr-model';
import { scanArchive, SpoolError, SpoolErrorCode, SpoolGroup, spoolMinuteDir, TAR_BLOCK } from '@callscope/pcap-store';
import type { ChunkCompression } from '@callscope/pcap-store';
import { corpusCaptures, corpusPath, type CorpusTruth } from '@callscope/testing';
import { spoolFromCapture } from '../test/spool-from-capture.js';
import { readCallSip, readCallStreamSeries, type CallArtifactQuery } from './index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'hE-call-artifacts-'));
  dirs.push(d);
  return d;
};

const truthOf = (file: string): CorpusTruth => corpusCaptures().find((c) => c.truth.file === file)!.truth;

/** Spools the one call of `file` (a corpus name or a path) under its truth's Call-ID and INVITE time. */
async function spoolOf(file: string, truth: CorpusTruth, compression: ChunkCompression = 'none', segmentPerGroup = false): Promise<{ spool: string; query: CallArtifactQuery }> {
  const spool = tempDir();
  const call = truth.calls[0]!;
  const us = Math.round(call.invite_time * 1e6);
  const query = { callId: call.call_id, startSec: Math.floor(us / 1e6), startUsec: us % 1e6 };
  // damage tests: one archive per group, small chunks (several per call and group)
  await spoolFromCapture(file.includes('/') ? file : corpusPath(file), spool, query, compression, undefined, segmentPerGroup ? { segmentPerGroup, flushBytes: 1024 } : {});
  return { spool, query };
}

/** The archive holding the group's chunks (a spool written with `segmentPerGroup`). */
function archiveOf(spool: string, query: CallArtifactQuery, group: SpoolGroup): string {
  return join(spool, spoolMinuteDir(query.startSec), group === SpoolGroup.SIP ? 'seg.0.tar' : 'seg.1.tar');
}

/** Cuts the archive inside its last member's data (a writer killed mid-write); returns the records that member held. */
async function tearLastMember(path: string): Promise<number> {
  const last = (await scanArchive(path)).entries.at(-1)!;
  const bytes = readFileSync(path);
  let records = 0;
  for (let off = last.offset + TAR_BLOCK + 24; off < last.offset + TAR_BLOCK + last.size; off += 16 + bytes.readUInt32LE(off + 8)) records++;
  truncateSync(path, last.offset + TAR_BLOCK + last.size - 10);
  return records;
}

const oneCall = corpusCaptures()
  .map((c) => c.truth)
  .filter((t) => t.calls.length === 1);

describe('one-call corpus captures: counts as the truth', () => {
  test.each(oneCall.map((t) => [t.file, t] as const))('%s', async (file, truth) => {
    const { spool, query } = await spoolOf(file, truth, file.startsWith('basic-caller') ? 'gzip' : file.startsWith('basic-callee') ? 'zstd' : 'none');
    const call = truth.calls[0]!;
    const ladder = (await readCallSip(spool, query))!;
    expect(ladder.count).toBe(call.sip_messages);
    expect(ladder.messages[0]!.firstLine).toMatch(/^INVITE /);
    expect(ladder.messages.filter((m) => m.firstLine.startsWith('INVITE ') && m.cseq === ladder.messages[0]!.cseq)).toHaveLength(call.invite_requests);
    expect(ladder.messages.every((m) => m.transport === (call.transport.toLowerCase() === 'tcp' ? 'tcp' : 'udp'))).toBe(true);

    const series = await readCallStreamSeries(spool, query);
    expect(series.rtpMissing).toBe(truth.rtp_streams.length === 0);
    const got = series.streams.map((s) => `${s.ssrc} ${s.src.port}>${s.dst.port} ${s.buckets.reduce((a, b) => a + b.packets, 0)} ${s.buckets.reduce((a, b) => a + b.lost, 0)}`);
    const want = truth.rtp_streams.map((s) => `${s.ssrc} ${s.src_port}>${s.dst_port} ${s.packets} ${s.lost}`);
    expect(got.sort()).toEqual(want.sort());
    for (const s of series.streams) {
      const t = truth.rtp_streams.find((r) => r.ssrc === s.ssrc && r.src_port === s.src.port)!;
      // Sides from the SDP: the stream sent from the INVITE's source address is the caller's.
      expect(s.side).toBe(t.src === call.caller_ip ? 'caller' : 'callee');
      expect(s.payloadType).toBe(t.payload_type);
    }
  });
});

describe('readCallSip', () => {
  test('an unknown call gives null; the series say both files are missing', async () => {
    const { spool, query } = await spoolOf('cancel-487.pcap', truthOf('cancel-487.pcap'));
    const other = { ...query, callId: `${query.callId}x` };
    expect(await readCallSip(spool, other)).toBeNull();
    expect(await readCallStreamSeries(spool, other)).toMatchObject({ rtpMissing: true, sipMissing: true, streams: [] });
  });

  test('a message: time with µs, addresses, transport, headers in order, body, raw', async () => {
    const truth = truthOf('basic-callee-bye-pcmu.pcap');
    const { spool, query } = await spoolOf('basic-callee-bye-pcmu.pcap', truth);
    const ladder = (await readCallSip(spool, query))!;
    const invite = ladder.messages[0]!;
    expect(invite.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const t = parseIsoMicros(invite.time)!;
    expect(Math.abs(t.sec + t.usec / 1e6 - truth.calls[0]!.invite_time)).toBeLessThan(2e-6);
    expect(invite).toMatchObject({ transport: 'udp', method: 'INVITE', statusCode: null, retransmission: false });
    expect(invite.src).toEqual({ ip: truth.calls[0]!.caller_ip, port: truth.calls[0]!.caller_port });
    expect(invite.dst).toEqual({ ip: truth.calls[0]!.callee_ip, port: truth.calls[0]!.callee_port });
    expect(invite.headers.find((h) => /^(call-id|i)$/i.test(h.name))!.value).toBe(query.callId);
    // Headers in message order: the raw text holds their names in the same order.
    const positions = invite.headers.map((h) => invite.raw.indexOf(`\r\n${h.name}:`));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(invite.body).toMatch(/^v=0\r\n/);
    expect(invite.raw.endsWith(invite.body)).toBe(true);
    const ok = ladder.messages.find((m) => m.statusCode === 200)!;
    expect(ok).toMatchObject({ firstLine: 'SIP/2.0 200 OK', method: 'INVITE', src: invite.dst, dst: invite.src });
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
    const file = join(tempDir(), 'resent.pcap');
    writeFileSync(file, Buffer.concat([pcap.subarray(0, end), again, pcap.subarray(end)]));
    const { spool, query } = await spoolOf(file, truthOf('cancel-487.pcap'));
    const ladder = (await readCallSip(spool, query))!;
    expect(ladder.count).toBe(truthOf('cancel-487.pcap').calls[0]!.sip_messages + 1);
    const invites = ladder.messages.filter((m) => m.method === 'INVITE' && m.statusCode === null);
    expect(invites.map((m) => m.retransmission)).toEqual([false, true]);
    expect(ladder.messages.filter((m) => m.retransmission)).toHaveLength(1);
  });

  test('maxMessages cuts the list and says so', async () => {
    const { spool, query } = await spoolOf('cancel-487.pcap', truthOf('cancel-487.pcap'));
    const ladder = (await readCallSip(spool, query, { maxMessages: 3 }))!;
    expect(ladder).toMatchObject({ count: 3, truncated: true, messagesSeen: truthOf('cancel-487.pcap').calls[0]!.sip_messages });
    expect(ladder.messages).toHaveLength(3);
    await expect(readCallSip(spool, query, { maxMessages: -1 })).rejects.toThrow(RangeError);
  });

  test('a SIP archive torn inside its last chunk: the messages of the complete chunks, and the archive named', async () => {
    const { spool, query } = await spoolOf('cancel-487.pcap', truthOf('cancel-487.pcap'), 'none', true);
    const path = archiveOf(spool, query, SpoolGroup.SIP);
    const lost = await tearLastMember(path);
    expect(lost).toBeGreaterThan(0);
    const ladder = (await readCallSip(spool, query))!;
    expect(ladder.count).toBe(truthOf('cancel-487.pcap').calls[0]!.sip_messages - lost);
    expect(ladder.filesTruncated).toEqual([
      { path, code: 'SPOOL_TORN_SEGMENT' },
      { path, code: 'SPOOL_CHUNK_SKIPPED' }, // its index entry points past the cut
    ]);
  });

  test.each(['gzip', 'zstd'] as const)('a torn %s SIP archive: the complete chunks\' messages, and the archive named', async (compression) => {
    const { spool, query } = await spoolOf('cancel-487.pcap', truthOf('cancel-487.pcap'), compression, true);
    const path = archiveOf(spool, query, SpoolGroup.SIP);
    const last = (await scanArchive(path)).entries.at(-1)!;
    expect(last.compression).toBe(compression);
    truncateSync(path, last.offset + TAR_BLOCK + last.size - 12);
    const ladder = (await readCallSip(spool, query))!;
    expect(ladder.count).toBeGreaterThan(0);
    expect(ladder.count).toBeLessThan(truthOf('cancel-487.pcap').calls[0]!.sip_messages);
    expect(ladder.filesTruncated.map((t) => t.path)).toEqual([path, path]);
  });

  test('a SIP archive that is not an archive is a CorruptFile SpoolError (the index lists chunks it does not hold)', async () => {
    const { spool, query } = await spoolOf('cancel-487.pcap', truthOf('cancel-487.pcap'), 'none', true);
    writeFileSync(archiveOf(spool, query, SpoolGroup.SIP), 'not a capture at all, just text');
    const err = await readCallSip(spool, query).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpoolError);
    expect((err as SpoolError).code).toBe(SpoolErrorCode.CorruptFile);
  });
});

describe('readCallStreamSeries', () => {
  test('1 s buckets: jitter peaks as the truth, MOS per full bucket, totals add up', async () => {
    const truth = truthOf('rtp-jitter-20ms.pcap');
    const { spool, query } = await spoolOf('rtp-jitter-20ms.pcap', truth);
    const series = await readCallStreamSeries(spool, query);
    expect(series.bucketMs).toBe(1000);
    expect(series.streams).toHaveLength(2);
    for (const s of series.streams) {
      const t = truth.rtp_streams.find((r) => r.ssrc === s.ssrc)!;
      expect(s.codec).toBe(t.payload_type === 8 ? 'PCMA' : 'PCMU');
      // Wireshark's jitter after every packet: the highest bucket peak is the stream's max jitter.
      expect(Math.max(...s.buckets.map((b) => b.jitterMaxMs))).toBeCloseTo(t.max_jitter_ms, 2);
      expect(Math.max(...s.buckets.map((b) => b.maxDeltaMs))).toBeGreaterThanOrEqual(t.max_delta_ms - 0.01);
      expect(s.buckets.length).toBeGreaterThanOrEqual(Math.floor(t.end_time - t.start_time));
      expect(s.buckets.map((b) => b.index)).toEqual([...s.buckets.map((b) => b.index)].sort((a, b) => a - b));
      // Every bucket but the last (partial) has 50 packets of 20 ms and a MOS.
      for (const b of s.buckets.slice(0, -1)) {
        expect(b.mos, `bucket ${b.index}`).not.toBeNull();
        expect(b.mos!.f1).toBeGreaterThan(1);
        expect(b.mos!.f1).toBeLessThanOrEqual(4.5);
      }
      expect(s.packets).toBe(t.packets);
    }
    // The impaired stream (jitter 10 ms) rates lower behind the 50 ms buffer than the clean one.
    const [impaired, clean] = [...series.streams].sort((a, b) => b.buckets[0]!.jitterMaxMs - a.buckets[0]!.jitterMaxMs);
    const meanF1 = (s: typeof clean): number => s!.buckets.filter((b) => b.mos !== null).reduce((a, b) => a + b.mos!.f1, 0) / s!.buckets.filter((b) => b.mos !== null).length;
    expect(meanF1(impaired)).toBeLessThanOrEqual(meanF1(clean));
  });

  test('a lossy stream: lost spread over the buckets adds up to the truth', async () => {
    const truth = truthOf('rtp-loss-1pct.pcap');
    const { spool, query } = await spoolOf('rtp-loss-1pct.pcap', truth);
    const series = await readCallStreamSeries(spool, query);
    const lossy = series.streams.find((s) => s.lost > 0)!;
    expect(lossy.buckets.filter((b) => b.lost > 0).length).toBeGreaterThan(1);
    expect(lossy.buckets.reduce((a, b) => a + b.lost, 0)).toBe(lossy.lost);
    expect(lossy.lost).toBe(truth.rtp_streams.find((s) => s.ssrc === lossy.ssrc)!.lost);
  });

  test('a missing RTP archive: no streams, flagged; the SIP is still read', async () => {
    const truth = truthOf('basic-callee-bye-pcmu.pcap');
    const { spool, query } = await spoolOf('basic-callee-bye-pcmu.pcap', truth, 'none', true);
    unlinkSync(archiveOf(spool, query, SpoolGroup.RTP));
    expect(await readCallStreamSeries(spool, query)).toMatchObject({ rtpMissing: true, sipMissing: false, streams: [] });
    expect((await readCallSip(spool, query))!.count).toBe(truth.calls[0]!.sip_messages);
  });

  test('an RTP archive torn inside its last chunk: that chunk\'s packets fewer, the archive named', async () => {
    const truth = truthOf('basic-callee-bye-pcmu.pcap');
    const { spool, query } = await spoolOf('basic-callee-bye-pcmu.pcap', truth, 'none', true);
    const path = archiveOf(spool, query, SpoolGroup.RTP);
    const lost = await tearLastMember(path);
    const series = await readCallStreamSeries(spool, query);
    expect(series.filesTruncated.map((t) => t.path)).toEqual([path, path]);
    const total = (xs: readonly { packets: number }[]): number => xs.reduce((a, s) => a + s.packets, 0);
    expect(lost).toBeGreaterThan(0);
    expect(total(series.streams)).toBe(total(truth.rtp_streams) - lost);
  });

  test('a missing SIP archive: streams still computed, sides unknown, flagged', async () => {
    const truth = truthOf('basic-callee-bye-pcmu.pcap');
    const { spool, query } = await spoolOf('basic-callee-bye-pcmu.pcap', truth, 'none', true);
    unlinkSync(archiveOf(spool, query, SpoolGroup.SIP));
    const series = await readCallStreamSeries(spool, query);
    expect(series.sipMissing).toBe(true);
    expect(series.streams.map((s) => s.side)).toEqual([null, null]);
    expect(series.streams.map((s) => s.packets).sort()).toEqual(truth.rtp_streams.map((s) => s.packets).sort());
  });
});
