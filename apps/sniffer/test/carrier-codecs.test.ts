/**
 * Issue 19, finding 1, on a real capture (fixtures/carrier/codec-change-reinvite: SIPp between
 * network namespaces, a re-INVITE switching PCMA to PCMU on the same SSRC with a timestamp step):
 * each stream's record lists both codecs with the time each started, as tshark sees the payload
 * types change, and all three jitter-buffer MOS stay >= 4 across the change.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { isoFromEpoch } from '@callscope/testing';
import { analyzeFile } from './analyze-corpus.js';

const carrier = (name: string) => new URL(`../../../fixtures/carrier/${name}`, import.meta.url).pathname;

interface CodecTruth {
  rtp_streams: { ssrc: string; payload_type_changes: { payload_type: number; first_time: number }[] }[];
}

describe('codec change on the same SSRC (real capture)', () => {
  test('every stream lists PCMA then PCMU with tshark\'s change times; MOS >= 4 in all three buffers', async () => {
    const truth = JSON.parse(readFileSync(carrier('codec-change-reinvite.truth.json'), 'utf8')) as CodecTruth;
    const { calls } = await analyzeFile(carrier('codec-change-reinvite.pcap'));
    expect(calls).toHaveLength(1);
    const streams = calls[0]!.streams;
    expect(streams.map((s) => s.ssrc).sort()).toEqual(truth.rtp_streams.map((s) => s.ssrc).sort());
    for (const t of truth.rtp_streams) {
      const s = streams.find((x) => x.ssrc === t.ssrc)!;
      // `from` keeps whole milliseconds after the stream's first packet.
      const ms = (iso: string) => Math.floor(Date.parse(iso));
      expect(s.codecs.map((c) => [c.payload_type, c.codec, ms(c.from)])).toEqual(
        t.payload_type_changes.map((c) => [c.payload_type, c.payload_type === 8 ? 'PCMA' : 'PCMU', ms(isoFromEpoch(c.first_time))]),
      );
      for (const mos of [s.mos_f1, s.mos_f2, s.mos_adapt, s.mos_min]) expect(mos).toBeGreaterThanOrEqual(4);
    }
  });
});
