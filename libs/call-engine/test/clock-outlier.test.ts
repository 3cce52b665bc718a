/**
 * Callscope issue 12, finding 1, as the tester found it: one record of a real capture dated an
 * hour ahead ended the call at that record (rtp_timeout, 0.9 s of an 8.9 s call), its remaining
 * RTP and BYE orphans. Packet time must take a lone bad timestamp as an outlier.
 */
import type { PacketRecord } from '@callscope/pcap-format';
import { readCorpusRecords } from '@callscope/testing';
import { describe, expect, test } from 'vitest';
import type { CallRecord } from '@callscope/cdr-model';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '../src/index.js';

function analyze(records: readonly PacketRecord[]): { calls: CallRecord[]; engine: PacketPipeline } {
  const calls: CallRecord[] = [];
  const engine = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall: (r) => calls.push(r), onRegister: () => undefined });
  for (const r of records) engine.onPacket(r);
  engine.finish();
  return { calls, engine };
}

const summary = (c: CallRecord) => ({ end_reason: c.end_reason, duration: c.duration, end: c.end, sip_packets: c.sip_packets, bye_by: c.bye_by });

describe('a capture with one record dated far off gives the records of the clean capture', () => {
  const clean = readCorpusRecords('basic-caller-bye-pcma.pcap');
  const expected = analyze(clean).calls;

  test('the clean capture is one call ended by its BYE (the baseline)', () => {
    expect(expected.map((c) => c.end_reason)).toEqual(['bye_confirmed']);
  });

  test.each([
    ['+1 h', 3600],
    ['+10 days', 10 * 86400],
    ['-1 h', -3600],
  ])('the middle record %s', (_, shiftS) => {
    const records = readCorpusRecords('basic-caller-bye-pcma.pcap');
    const mid = records[records.length >> 1]!;
    mid.tsSec += shiftS;
    const { calls, engine } = analyze(records);
    expect(calls.map(summary)).toEqual(expected.map(summary));
    const stats = engine.stats();
    expect(stats.calls['clock_outliers']).toBe(1);
    expect(stats.calls['clock_steps']).toBe(0);
  });
});
