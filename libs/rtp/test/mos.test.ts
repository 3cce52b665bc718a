import { describe, expect, it } from 'vitest';
import { JitterBufferIndex, RtpStreamStats } from '../src/index.js';
import { rng } from './stream-stats-scenarios.js';

const F1 = JitterBufferIndex.Fixed50;
const F2 = JitterBufferIndex.Fixed200;
const AD = JitterBufferIndex.Adaptive500;

interface GenOptions {
  seconds: number;
  /** Returns true when packet i is dropped. */
  drop?: (i: number) => boolean;
  /** Extra network delay of packet i in ms (>= 0). */
  delayMs?: (i: number) => number;
}

/** A 20 ms PCMU stream (PT 0, 160 samples per packet) fed in arrival order. */
function generate(opts: GenOptions): RtpStreamStats {
  const n = Math.round((opts.seconds * 1000) / 20);
  const arrivals: { i: number; t: number }[] = [];
  for (let i = 0; i < n; i++) {
    if (opts.drop?.(i) === true) continue;
    arrivals.push({ i, t: i * 20 + 30 + (opts.delayMs?.(i) ?? 0) });
  }
  arrivals.sort((a, b) => a.t - b.t || a.i - b.i);
  const st = new RtpStreamStats();
  const h = { sequenceNumber: 0, timestamp: 0, payloadType: 0, marker: false };
  const baseSec = 1_800_000_000;
  for (const a of arrivals) {
    h.sequenceNumber = (1000 + a.i) & 0xffff;
    h.timestamp = (5000 + a.i * 160) >>> 0;
    h.marker = a.i === 0;
    const ns = Math.round(a.t * 1e6);
    st.update(h, baseSec + Math.floor(ns / 1e9), ns % 1e9, 160);
  }
  st.finish();
  return st;
}

describe('MOS (issue 5)', () => {
  it('a loss-free G.711 stream scores at least 4.3 behind the 50 ms and adaptive buffers', () => {
    const st = generate({ seconds: 30 });
    expect(st.lost).toBe(0);
    expect(st.mos(F1)).toBeGreaterThanOrEqual(4.3);
    expect(st.mos(AD)).toBeGreaterThanOrEqual(4.3);
    // 200 ms of buffering is 220 ms mouth-to-ear: G.107 Idd takes ~5 R points.
    expect(st.mos(F2)).toBeGreaterThan(4.2);
    expect(st.mos(F2)).toBeLessThan(st.mos(F1));
  });

  it('falls monotonically with random loss', () => {
    const rates = [0, 0.01, 0.02, 0.05, 0.1, 0.2];
    const mos = rates.map((p) => {
      const r = rng(42);
      return generate({ seconds: 60, drop: () => r() < p });
    });
    for (let k = 1; k < mos.length; k++) {
      for (const b of [F1, F2, AD]) expect(mos[k]!.mos(b)).toBeLessThan(mos[k - 1]!.mos(b));
    }
    expect(mos[5]!.mos(F1)).toBeLessThan(2.7);
  });

  it('falls monotonically with jitter', () => {
    const amplitudes = [0, 30, 60, 120, 250, 600];
    const results = amplitudes.map((amp) => {
      const r = rng(7);
      return generate({ seconds: 60, delayMs: () => r() * amp });
    });
    for (let k = 1; k < results.length; k++) {
      for (const b of [F1, F2, AD]) expect(results[k]!.mos(b)).toBeLessThanOrEqual(results[k - 1]!.mos(b));
    }
    expect(results[2]!.mos(F1)).toBeLessThan(results[0]!.mos(F1));
    expect(results[4]!.mos(F2)).toBeLessThan(results[0]!.mos(F2));
    expect(results[5]!.mos(AD)).toBeLessThan(results[0]!.mos(AD));
    // Late packets are loss for the buffer, not for the network.
    expect(results[5]!.lost).toBe(0);
    expect(results[5]!.lossPercent(F1)).toBeGreaterThan(50);
    // And the delay variation shows up in the buckets above 50 ms.
    expect(results[3]!.pdvBuckets[0]).toBeLessThan(results[3]!.packets);
  });

  it('the same loss rate scores lower when bursty than when random (G.113 BurstR)', () => {
    const r = rng(3);
    const random = generate({ seconds: 120, drop: () => r() < 0.05 });
    // Bursts of 10 every 200 packets: the same 5 %.
    const bursty = generate({ seconds: 120, drop: (i) => i % 200 >= 190 });
    expect(Math.abs(random.lossPercent(F1) - bursty.lossPercent(F1))).toBeLessThan(0.6);
    expect(bursty.burstRatio(F1)).toBeGreaterThan(5);
    expect(random.burstRatio(F1)).toBeLessThan(1.3);
    expect(bursty.mos(F1)).toBeLessThan(random.mos(F1) - 0.08);
    expect(bursty.lossBursts[9]).toBe(bursty.lost / 10);
    expect(random.lossBursts[0]).toBeGreaterThan(random.lossBursts[2]!);
  });

  it('a long call with one bad 10-second interval: low interval minimum, high average', () => {
    const r = rng(11);
    // 5 minutes; 30 % loss between 100 s and 110 s only.
    const st = generate({ seconds: 300, drop: (i) => i >= 5000 && i < 5500 && r() < 0.3 });
    expect(st.intervalCount).toBeGreaterThanOrEqual(29);
    expect(st.mos(F1)).toBeGreaterThan(3.9);
    expect(st.minIntervalMos[F1]).toBeLessThan(2.6);
    let low = 0;
    for (let i = 0; i < st.intervalsKept; i++) if (st.intervalMosAt(i, F1) < 3) low++;
    expect(low).toBeGreaterThanOrEqual(1);
    expect(low).toBeLessThanOrEqual(2);
  });

  it('keeps a bounded ring of interval MOS values on a long call', () => {
    const st = new RtpStreamStats({ intervalCapacity: 5 });
    const h = { sequenceNumber: 0, timestamp: 0, payloadType: 8, marker: false };
    for (let i = 0; i < 30_000; i++) {
      h.sequenceNumber = i & 0xffff;
      h.timestamp = (i * 160) >>> 0;
      const ns = i * 20_000_000;
      st.update(h, 1000 + Math.floor(ns / 1e9), ns % 1e9, 160);
    }
    st.finish();
    expect(st.intervalCount).toBe(60);
    expect(st.intervalsKept).toBe(5);
    expect(st.intervalMos.length).toBe(15);
    expect(Number.isNaN(st.intervalMosAt(5, F1))).toBe(true);
    expect(st.intervalMosAt(4, F1)).toBeGreaterThan(4.3);
    // Sequence numbers wrapped (30000 < 65536? no wrap here) — the extended count is exact.
    expect(st.expected).toBe(30_000);
  });
});
