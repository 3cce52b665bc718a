// Issue 19 finding 1: the simulated jitter buffers take a new timeline where real endpoints do
// (payload-type change, marker bit, timestamp jump, stall), and each interval is rated with the
// codec it carried. The scenarios before the marker guard scored mos_f1 (or all three) < 4 before.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Codec, JitterBufferIndex, PLAYOUT_STALL_MS, PlayoutBuffer, PlayoutBufferKind, RTP_CODEC_LOG_CAPACITY, RtpStreamStats } from '../src/index.js';
import { rng } from './stream-stats-scenarios.js';

const F1 = JitterBufferIndex.Fixed50;
const F2 = JitterBufferIndex.Fixed200;
const AD = JitterBufferIndex.Adaptive500;
const ALL = [F1, F2, AD] as const;

/** A run of 20 ms packets of one payload type, after what happened since the previous run. */
interface Segment {
  packets: number;
  pt: number;
  /** RTP timestamp added before the run's first packet, beyond the 160 of one frame. */
  tsStep?: number;
  /** Sender time (ms) with no packet before the run: a pause, silence or stall. */
  gapMs?: number;
  /** Sequence numbers skipped before the run (packets lost in the network). */
  seqSkip?: number;
  /** Marker bit on the run's first packet (the stream's first packet always has it). */
  marker?: boolean;
}

/** Feed the runs as one SSRC, arrival = sender time + 30 ms + up to `jitterMs`, in arrival order. */
function feed(segments: readonly Segment[], jitterMs: number, seed: number): RtpStreamStats {
  const r = rng(seed);
  const packets: { seq: number; ts: number; pt: number; marker: boolean; at: number }[] = [];
  let seq = 4000;
  let ts = 9000;
  let t = 0;
  segments.forEach((s, k) => {
    if (k > 0) {
      seq += s.seqSkip ?? 0;
      ts += s.tsStep ?? 0;
      t += s.gapMs ?? 0;
    }
    for (let i = 0; i < s.packets; i++) {
      packets.push({ seq: seq & 0xffff, ts: ts >>> 0, pt: s.pt, marker: i === 0 && (k === 0 || s.marker === true), at: t + 30 + r() * jitterMs });
      seq++;
      ts += 160;
      t += 20;
    }
  });
  packets.sort((a, b) => a.at - b.at);
  const st = new RtpStreamStats();
  const h = { sequenceNumber: 0, timestamp: 0, payloadType: 0, marker: false };
  for (const p of packets) {
    h.sequenceNumber = p.seq;
    h.timestamp = p.ts;
    h.payloadType = p.pt;
    h.marker = p.marker;
    const ns = Math.round(p.at * 1e6);
    st.update(h, 1_800_000_000 + Math.floor(ns / 1e9), ns % 1e9, 160);
  }
  st.finish();
  return st;
}

function intervals(st: RtpStreamStats, b: JitterBufferIndex): number[] {
  return Array.from({ length: st.intervalsKept }, (_, i) => st.intervalMosAt(i, b));
}

function expectClean(st: RtpStreamStats): void {
  for (const b of ALL) {
    expect(st.mos(b), `mos of buffer ${b}`).toBeGreaterThanOrEqual(4);
    expect(st.minIntervalMos[b], `interval minimum of buffer ${b}`).toBeGreaterThanOrEqual(4);
    expect(st.trackLost(b + 1), `late packets of buffer ${b}`).toBeLessThanOrEqual(2);
  }
}

describe('jitter buffers resynchronise (issue 19 finding 1)', () => {
  it('a standalone buffer restarts after an arrival gap over PLAYOUT_STALL_MS, not at or below it', () => {
    const judge = (gapMs: number): boolean => {
      const buf = new PlayoutBuffer(PlayoutBufferKind.Fixed, 50);
      buf.offer(0, 0, true);
      return buf.offer(900, gapMs, false);
    };
    expect(judge(PLAYOUT_STALL_MS)).toBe(false);
    expect(judge(PLAYOUT_STALL_MS + 1)).toBe(true);
  });

  it('PCMA -> PCMU at 10 s, same SSRC, arrival jitter <= 8 ms, timestamp +8000 across a 1.12 s re-INVITE pause: all three >= 4 (mos_f1 was 1)', () => {
    const st = feed([{ packets: 500, pt: 8 }, { packets: 1000, pt: 0, tsStep: 8000, gapMs: 1120 }], 8, 1);
    expect(st.lost).toBe(0);
    expectClean(st);
    // Without the pause the step only lowers the transit (this one scored >= 4 before too).
    const noPause = feed([{ packets: 500, pt: 8 }, { packets: 1000, pt: 0, tsStep: 8000 }], 8, 1);
    expectClean(noPause);
    expect(noPause.codecs().map((c) => c.pt)).toEqual([8, 0]);
    expect(noPause.codec).toBe(Codec.PCMU);
  });

  it('a payload-type change onto a new timestamp base 1 s back (no pause) is a new timeline', () => {
    const st = feed([{ packets: 500, pt: 8 }, { packets: 1000, pt: 0, tsStep: -8000 - 160 }], 8, 2);
    expectClean(st);
  });

  it('a timestamp stepping back 375 ms without a payload-type change or a pause is a new timeline', () => {
    const st = feed([{ packets: 500, pt: 8 }, { packets: 1000, pt: 8, tsStep: -3000 - 160 }], 8, 3);
    expectClean(st);
  });

  it('a sender pausing 3 s whose timestamps carry on where they stopped: later packets are not late', () => {
    const st = feed([{ packets: 1500, pt: 8 }, { packets: 1500, pt: 8, gapMs: 3000 }], 8, 4);
    expect(st.lost).toBe(0);
    expectClean(st);
  });

  it('10 minutes with an 8 s stall: normal MOS after it, its interval lower, its packets lost', () => {
    // The stall starts at 65 s: 250 sequence numbers never arrive, and the sender's clock moved
    // 5 s of the 8 (the transit rises 3 s: below the 5 s discontinuity).
    const st = feed([{ packets: 3250, pt: 8 }, { packets: 26_350, pt: 8, gapMs: 8000, seqSkip: 250, tsStep: 40_000 }], 8, 5);
    expect(st.lost).toBe(250);
    expect(st.wireshark.lost).toBe(250);
    const normal = st.intervalMosAt(0, F1);
    expect(normal).toBeGreaterThan(4.3);
    const stallInterval = 6; // 60-70 s: the lost slots follow the last packet before the gap
    for (const b of ALL) {
      const mos = intervals(st, b);
      expect(st.intervalIndex[stallInterval]).toBe(stallInterval);
      expect(mos[stallInterval]!).toBeLessThan(mos[0]! - 0.5);
      for (let i = stallInterval + 1; i < mos.length; i++) expect(mos[i], `interval ${i} of buffer ${b}`).toBe(mos[0]);
      expect(st.minIntervalMos[b]).toBe(mos[stallInterval]);
      expect(st.mos(b)).toBeGreaterThan(4);
    }
  });

  // Guards (these two held before the fix as well): the marker rule, and no resync where none is due.
  it('a marker-bit talkspurt after silence suppression (timestamp jump = the silence) is not late', () => {
    const segs: Segment[] = [{ packets: 300, pt: 0 }];
    for (let k = 0; k < 10; k++) segs.push({ packets: 200, pt: 0, gapMs: 700 + 130 * k, tsStep: (700 + 130 * k) * 8, marker: true });
    const st = feed(segs, 8, 6);
    expectClean(st);
    for (const b of ALL) expect(st.trackLost(b + 1)).toBe(0);
  });

  it('a burst after a sub-second network freeze (no timestamp jump) is still judged late', () => {
    // Packets 500..524 held 500 ms by the network, then delivered: real lateness, not a new timeline.
    const r = rng(7);
    const st = new RtpStreamStats();
    const h = { sequenceNumber: 0, timestamp: 0, payloadType: 8, marker: false };
    const at = (i: number): number => i * 20 + 30 + r() * 2 + (i >= 500 && i < 525 ? 520 - (i - 500) * 20 : 0);
    const order = Array.from({ length: 1500 }, (_, i) => ({ i, t: at(i) })).sort((a, b) => a.t - b.t);
    for (const { i, t } of order) {
      h.sequenceNumber = i;
      h.timestamp = i * 160;
      h.marker = i === 0;
      const ns = Math.round(t * 1e6);
      st.update(h, 1000 + Math.floor(ns / 1e9), ns % 1e9, 160);
    }
    st.finish();
    expect(st.trackLost(F1 + 1)).toBeGreaterThan(15);
    expect(st.trackLost(F2 + 1)).toBeGreaterThan(10);
  });

  test.prop(
    [
      fc.array(
        fc.record({
          packets: fc.integer({ min: 30, max: 600 }),
          pt: fc.constantFrom(0, 8, 9),
          // Any 32-bit step, or one of up to 5 s either way (below the 5 s discontinuity).
          tsStep: fc.oneof(fc.integer({ min: -0x7fffffff, max: 0x7fffffff }), fc.integer({ min: -40_000, max: 40_000 })),
          // No pause, a silence/stall the receiver sees as one, or a short pause the timestamps match.
          gap: fc.oneof(fc.constant(0), fc.integer({ min: 1500, max: 20_000 }), fc.integer({ min: 1, max: 1000 })),
          marker: fc.boolean(),
        }),
        { minLength: 1, maxLength: 8 },
      ),
      fc.integer({ min: 0, max: 2 ** 31 }),
    ],
    { numRuns: 100 },
  )('random clean streams with payload-type switches and timestamp steps score >= 4 in all three buffers', (runs, seed) => {
    const segments: Segment[] = [{ packets: 300, pt: 8 }];
    for (const s of runs) {
      // A short pause carries its own timestamp step (the timeline does not move for the buffer).
      const tsStep = s.gap > 0 && s.gap <= 1000 ? s.gap * 8 : s.tsStep;
      segments.push({ packets: s.packets, pt: s.pt, tsStep, gapMs: s.gap, marker: s.marker });
    }
    const st = feed(segments, 8, seed);
    expect(st.lost).toBe(0);
    for (const b of ALL) expect(st.mos(b)).toBeGreaterThanOrEqual(4);
    for (const b of ALL) expect(st.minIntervalMos[b]).toBeGreaterThanOrEqual(4);
  });
});

describe('codecs a stream carried (issue 19 finding 1)', () => {
  it('records each payload type with the arrival of its first packet; intervals are rated with their own codec', () => {
    // 30 s of G.711 (PT 8), then 30 s of G.729 (PT 18), then PCMA again.
    const st = feed([{ packets: 1500, pt: 8 }, { packets: 1500, pt: 18, tsStep: 4000 }, { packets: 500, pt: 8, tsStep: 160 }], 2, 8);
    const codecs = st.codecs();
    expect(codecs.map((c) => [c.pt, c.codec])).toEqual([
      [8, Codec.PCMA],
      [18, Codec.G729],
      [8, Codec.PCMA],
    ]);
    expect(codecs[0]!.firstMs).toBe(0);
    expect(codecs[1]!.firstMs).toBeGreaterThan(30_000 - 20);
    expect(codecs[1]!.firstMs).toBeLessThan(30_000 + 30);
    expect(codecs[2]!.firstMs).toBeGreaterThan(60_000 - 20);
    expect(st.codecsOverflow).toBe(0);
    // G.711 + PLC: 4.41; G.729A: Ie 11 -> R 82.2 -> 4.10.
    for (let i = 0; i < st.intervalsKept; i++) {
      const interval = st.intervalIndex[i]!;
      const codec = st.intervalCodecAt(i)!.codec;
      expect(codec, `interval ${interval}`).toBe(interval >= 3 && interval < 6 ? Codec.G729 : Codec.PCMA);
      expect(st.intervalMosAt(i, F1)).toBeCloseTo(codec === Codec.G729 ? 4.1 : 4.41, 2);
    }
    expect(st.intervalCodecAt(st.intervalsKept)).toBeUndefined();
    // The whole stream is rated with the codec it carried longest (G.711, 35 s of 70).
    expect(st.mos(F1)).toBeCloseTo(4.41, 2);
    expect(st.codec).toBe(Codec.PCMA);
    // A snapshot copy carries the list.
    const copy = new RtpStreamStats();
    copy.copyStateFrom(st);
    expect(copy.codecs()).toEqual(codecs);
    expect(copy.intervalCodecAt(3)).toEqual(st.intervalCodecAt(3));
  });

  it('a packet of the old codec arriving after the first of the new one is no codec change (regression: reordering across a switch)', () => {
    const st = new RtpStreamStats();
    const h = { sequenceNumber: 0, timestamp: 0, payloadType: 8, marker: false };
    // Packets 0..999 every 20 ms, PT 8 before 500 and PT 0 from 500; 500 is sent 21 ms early
    // and arrives 1 ms before 499.
    const order = Array.from({ length: 1000 }, (_, i) => ({ i, ms: i === 500 ? 499 * 20 - 1 : i * 20 }));
    order.sort((a, b) => a.ms - b.ms);
    for (const { i, ms } of order) {
      h.sequenceNumber = i;
      h.timestamp = i * 160;
      h.payloadType = i < 500 ? 8 : 0;
      st.update(h, 10 + Math.floor(ms / 1000), (ms % 1000) * 1_000_000, 160);
    }
    st.finish();
    expect(st.codecs().map((c) => c.pt)).toEqual([8, 0]);
    expect(st.reordered).toBe(1);
    for (const b of ALL) expect(st.trackLost(b + 1)).toBe(0);
  });

  it('telephone-event and CN are not codecs of the stream; the list is capped and counts the rest', () => {
    const st = new RtpStreamStats();
    st.payloadTypes.setRtpmap(101, 'telephone-event', 8000);
    const h = { sequenceNumber: 0, timestamp: 0, payloadType: 0, marker: false };
    const pts = [0, 101, 101, 0, 13, 0];
    for (let i = 0; i < 200; i++) {
      h.sequenceNumber = i;
      h.timestamp = i * 160;
      h.payloadType = i < pts.length ? pts[i]! : i % 2 === 0 ? 0 : 8;
      st.update(h, 10, i * 20_000_000, 160);
    }
    const codecs = st.codecs();
    expect(codecs.length).toBe(RTP_CODEC_LOG_CAPACITY);
    expect(codecs.slice(0, 3).map((c) => c.pt)).toEqual([0, 8, 0]);
    expect(codecs[1]!.firstMs).toBe(7 * 20);
    expect(st.codecsOverflow).toBe(200 - 7 - RTP_CODEC_LOG_CAPACITY + 1);
  });
});
