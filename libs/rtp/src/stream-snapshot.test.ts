import { describe, expect, it } from 'vitest';
import { DtmfDetector } from './dtmf.js';
import { JitterBufferIndex, RtpStreamStats } from './rtp-stream-stats.js';

const BUFFERS = [JitterBufferIndex.Fixed50, JitterBufferIndex.Fixed200, JitterBufferIndex.Adaptive500] as const;

/**
 * A 20 ms PCMA stream with the impairments that exercise every judged-slot path: a loss every
 * 37th packet, a swap every 53rd, jitter from a fixed pseudo-random walk, a duplicate every 101st,
 * and (over 120 s) intervals past the 8 that live in the state block, so the interval ring moves out.
 */
function feed(st: RtpStreamStats, from: number, to: number): void {
  const h = { sequenceNumber: 0, timestamp: 0, payloadType: 8, marker: false };
  for (let i = from; i < to; i++) {
    if (i % 37 === 5) continue;
    const seq = i % 53 === 7 ? i + 1 : i % 53 === 8 ? i - 1 : i;
    h.sequenceNumber = seq & 0xffff;
    h.timestamp = (seq * 160) >>> 0;
    const ns = i * 20_000_000 + ((i * 7919) % 13) * 1_700_000;
    st.update(h, 1000 + Math.floor(ns / 1e9), ns % 1e9, 160);
    if (i % 101 === 3) st.update(h, 1000 + Math.floor(ns / 1e9), ns % 1e9, 160);
  }
}

/** Every figure a CDR reads from a finished stream. */
function figures(st: RtpStreamStats): unknown {
  const ws = st.wireshark;
  return {
    packets: st.packets,
    expected: st.expected,
    lost: st.lost,
    duplicates: st.duplicates,
    reordered: st.reordered,
    ws: [ws.packets, ws.lost, ws.sequenceErrors, ws.maxJitterMs, ws.meanJitterMs, ws.maxDeltaMs],
    bursts: Array.from(st.lossBursts),
    pdv: Array.from(st.pdvBuckets),
    mos: BUFFERS.map((b) => st.mos(b)),
    minMos: Array.from(st.minIntervalMos),
    intervals: Array.from({ length: st.intervalsKept }, (_, i) => BUFFERS.map((b) => st.intervalMosAt(i, b))),
    judged: st.judged,
  };
}

describe('RtpStreamStats.copyStateFrom: snapshots for a live view', () => {
  it('finishing copies taken mid-stream leaves the stream ending exactly as one never copied', () => {
    const plain = new RtpStreamStats();
    const watched = new RtpStreamStats();
    feed(plain, 0, 6000);
    for (let at = 0; at < 6000; at += 250) {
      feed(watched, at, at + 250);
      const copy = new RtpStreamStats();
      copy.copyStateFrom(watched);
      copy.finish();
      // The copy saw the same packets: its figures are the stream's so far.
      expect(copy.packets).toBe(watched.packets);
      expect(copy.judged).toBeGreaterThanOrEqual(watched.judged);
    }
    plain.finish();
    watched.finish();
    expect(figures(watched)).toEqual(figures(plain));
    expect(plain.intervalsKept).toBeGreaterThan(8); // the ring left the state block: copied as its own array
  });

  it('a copy of a finished stream has its figures', () => {
    const st = new RtpStreamStats();
    feed(st, 0, 1200);
    st.finish();
    const copy = new RtpStreamStats();
    copy.copyStateFrom(st);
    copy.finish(); // already finished: nothing more judged
    expect(figures(copy)).toEqual(figures(st));
  });

  it('the live figures read without views agree with the views', () => {
    const st = new RtpStreamStats();
    feed(st, 0, 900);
    expect(st.jitterMs).toBe(st.wireshark.jitterMs);
    expect(st.maxJitterMs).toBe(st.wireshark.maxJitterMs);
    expect(st.wiresharkLost).toBe(st.wireshark.lost);
    expect(st.wiresharkLost).toBeGreaterThan(0);
    st.finish();
    expect(st.lowestIntervalMos(JitterBufferIndex.Fixed50)).toBe(st.minIntervalMos[0]);
  });
});

describe('DtmfDetector.clone', () => {
  it('finishing a clone closes its copy of the event in progress, not the original', () => {
    const d = new DtmfDetector();
    const ev = (event: number, end: boolean, duration: number) => new Uint8Array([event, end ? 0x80 | 10 : 10, duration >> 8, duration & 0xff]);
    d.update(1000, 5, 0, ev(1, false, 160), 0, 4);
    d.update(1000, 5, 20_000_000, ev(1, true, 800), 0, 4);
    d.update(5000, 6, 0, ev(2, false, 160), 0, 4);
    const c = d.clone();
    c.finish();
    expect(c.digits()).toBe('12');
    expect(d.digits()).toBe('1');
    d.update(5000, 6, 20_000_000, ev(2, false, 480), 0, 4);
    d.update(5000, 6, 40_000_000, ev(2, true, 960), 0, 4);
    expect(d.digits()).toBe('12');
    expect(d.durationMs[d.slot(1)]).toBe(120);
    expect(c.durationMs[c.slot(1)]).toBe(20);
  });
});
