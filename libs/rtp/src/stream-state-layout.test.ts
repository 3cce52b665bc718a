import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Codec, PayloadTypeMap, payloadTypeMapsEpoch } from './codec.js';
import { PlayoutBuffer, PlayoutBufferKind, initPlayoutGroupBuffer, offerPlayoutGroup, playoutGroupLength } from './playout-buffer.js';
import { JitterBufferIndex, RtpStreamStats } from './rtp-stream-stats.js';
import { WiresharkRtpAnalysis } from './wireshark-rtp-analysis.js';

const F1 = JitterBufferIndex.Fixed50;

/** A clean 20 ms PCMA stream of `packets` packets (PT 8), arrival exactly on time. */
function clean(st: RtpStreamStats, packets: number, from = 0): void {
  const h = { sequenceNumber: 0, timestamp: 0, payloadType: 8, marker: false };
  for (let i = from; i < from + packets; i++) {
    h.sequenceNumber = i & 0xffff;
    h.timestamp = (i * 160) >>> 0;
    const ns = i * 20_000_000;
    st.update(h, 1000 + Math.floor(ns / 1e9), ns % 1e9, 160);
  }
}

describe('payload-type lookups cached per stream', () => {
  it('a setRtpmap after the first packets is seen by the next packet (regression: stale cache)', () => {
    const map = new PayloadTypeMap();
    const st = new RtpStreamStats({ payloadTypes: map });
    const h = { sequenceNumber: 0, timestamp: 0, payloadType: 111, marker: false };
    const v0 = map.version;
    for (let i = 0; i < 10; i++) {
      h.sequenceNumber = i;
      h.timestamp = i * 960;
      st.update(h, 50, i * 20_000_000, 80);
    }
    // Unmapped dynamic PT: no clock, no jitter, codec unknown.
    expect(st.wireshark.clockRate).toBe(0);
    expect(st.codec).toBe(Codec.Unknown);
    map.setRtpmap(111, 'opus', 48000);
    expect(map.version).toBe(v0 + 1);
    for (let i = 10; i < 20; i++) {
      h.sequenceNumber = i;
      h.timestamp = i * 960;
      st.update(h, 50, i * 20_000_000, 80);
    }
    expect(st.wireshark.clockRate).toBe(48000);
    expect(st.codec).toBe(Codec.Opus);
    expect(st.frameMs).toBe(20);
  });
});

describe('payload-type lookups keyed by the maps epoch', () => {
  it('a map being built moves no epoch; a map read by a stream does, so every cached lookup is redone', () => {
    const e0 = payloadTypeMapsEpoch();
    const fresh = new PayloadTypeMap();
    fresh.setRtpmap(96, 'opus', 48000);
    expect(payloadTypeMapsEpoch()).toBe(e0);
    const st = new RtpStreamStats({ payloadTypes: fresh });
    st.update({ sequenceNumber: 1, timestamp: 0, payloadType: 96, marker: false }, 10, 0, 80);
    fresh.setRtpmap(97, 'telephone-event', 8000);
    expect(payloadTypeMapsEpoch()).toBe(e0 + 1);
  });
});

describe('interval MOS ring', () => {
  it('starts inside the state block (8 slots) and doubles up to the capacity', () => {
    const st = new RtpStreamStats({ intervalCapacity: 20 });
    expect(st.intervalMos.length).toBe(8 * 3);
    expect(st.intervalsKept).toBe(0);
    clean(st, 500 * 9 + 200); // 9 full intervals judged: the 9th slot needs the ring to grow
    expect(st.intervalCount).toBe(9);
    expect(st.intervalMos.length).toBe(16 * 3);
    const view = st.intervalMos;
    expect(st.intervalMos).toBe(view); // cached until the ring grows again
    clean(st, 500 * 30, 500 * 9 + 200);
    st.finish();
    expect(st.intervalMos.length).toBe(20 * 3); // capped, then wrapped
    expect(st.intervalsKept).toBe(20);
    const count = st.intervalCount;
    for (let i = 0; i < 20; i++) {
      const slot = (count - 20 + i) % 20;
      // The views hold what intervalMosAt reads, and the interval number of each value.
      expect(st.intervalMos[slot * 3 + F1]).toBe(st.intervalMosAt(i, F1));
      expect(st.intervalIndex[slot]).toBe(count - 20 + i);
      expect(st.intervalMosAt(i, F1)).toBeGreaterThan(4.3);
    }
  });

  it('keeps interval values as float32, as the Float32Array ring did', () => {
    const st = new RtpStreamStats();
    clean(st, 1000);
    st.finish();
    const v = st.intervalMosAt(0, F1);
    expect(v).toBe(Math.fround(v));
    expect(st.minIntervalMos[F1]).toBe(st.mos(F1)); // the double, not rounded
    expect(Math.abs(v - st.mos(F1))).toBeLessThan(1e-6);
  });
});

describe('views of the state block', () => {
  it('lossBursts, pdvBuckets and minIntervalMos are live views, stable across reads', () => {
    const st = new RtpStreamStats();
    const bursts = st.lossBursts;
    const pdv = st.pdvBuckets;
    clean(st, 100);
    clean(st, 200, 103); // 3 lost
    st.finish();
    expect(st.lossBursts).toBe(bursts);
    expect(bursts[2]).toBe(1);
    expect(pdv[0]).toBe(300);
    expect(st.pdvBuckets).toBe(pdv);
    expect(st.wireshark).toBe(st.wireshark);
  });

  it('buffers expose each jitter buffer; offering through a view is refused', () => {
    const st = new RtpStreamStats();
    clean(st, 50);
    const [f1, f2, ad] = st.buffers;
    expect([f1!.kind, f1!.depthMs, f2!.depthMs, ad!.kind, ad!.maxDepthMs]).toEqual([PlayoutBufferKind.Fixed, 50, 200, PlayoutBufferKind.Adaptive, 500]);
    expect(f1!.offered).toBe(50);
    expect(() => f1!.offer(0, 0, false)).toThrow(TypeError);
    expect(() => new PlayoutBuffer(new Float64Array(4), 0, 0)).toThrow(RangeError);
    expect(() => new WiresharkRtpAnalysis(new Float64Array(4), 0)).toThrow(RangeError);
  });
});

describe('a group of buffers sharing one timeline', () => {
  const offer = fc.record({
    transit: fc.double({ min: -1000, max: 8000, noNaN: true }),
    dt: fc.double({ min: 0, max: 3000, noNaN: true }),
    restart: fc.boolean(),
  });
  test.prop([fc.array(offer, { maxLength: 300 })])('judges exactly as three standalone buffers', (offers) => {
    const kinds = [
      [PlayoutBufferKind.Fixed, 50, 50],
      [PlayoutBufferKind.Fixed, 200, 200],
      [PlayoutBufferKind.Adaptive, 50, 500],
    ] as const;
    const group = new Float64Array(playoutGroupLength(3));
    kinds.forEach(([k, d, m], b) => {
      initPlayoutGroupBuffer(group, 0, b, k, d, m);
    });
    const alone = kinds.map(([k, d, m]) => new PlayoutBuffer(k, d, m));
    const views = kinds.map((_, b) => new PlayoutBuffer(group, 0, b));
    let arrival = 0;
    for (const o of offers) {
      arrival += o.dt;
      const mask = offerPlayoutGroup(group, 0, 3, o.transit, arrival, o.restart);
      alone.forEach((buf, b) => {
        expect(buf.offer(o.transit, arrival, o.restart)).toBe(((mask >> b) & 1) === 1);
      });
    }
    views.forEach((v, b) => {
      const a = alone[b]!;
      expect([v.depthMs, v.offered, v.late, v.lastLatenessMs, v.meanDepthMs]).toEqual([a.depthMs, a.offered, a.late, a.lastLatenessMs, a.meanDepthMs]);
    });
  });
});

describe('the embedded Wireshark analysis', () => {
  const packet = fc.record({
    seq: fc.integer({ min: 0, max: 65535 }),
    ts: fc.integer({ min: 0, max: 0xffffffff }),
    pt: fc.constantFrom(0, 8, 13, 101),
    marker: fc.boolean(),
    dtNs: fc.integer({ min: 0, max: 500_000_000 }),
  });
  test.prop([fc.array(packet, { maxLength: 200 })])('equals a standalone WiresharkRtpAnalysis fed the same packets', (pkts) => {
    const map = new PayloadTypeMap();
    map.setRtpmap(101, 'telephone-event', 8000);
    const st = new RtpStreamStats({ payloadTypes: map });
    const alone = new WiresharkRtpAnalysis();
    const h = { sequenceNumber: 0, timestamp: 0, payloadType: 0, marker: false };
    let ns = 0;
    let first: [number, number] | null = null;
    for (const p of pkts) {
      ns += p.dtNs;
      h.sequenceNumber = p.seq;
      h.timestamp = p.ts;
      h.payloadType = p.pt;
      h.marker = p.marker;
      const sec = 1_700_000_000 + Math.floor(ns / 1e9);
      const nsec = ns % 1e9;
      st.update(h, sec, nsec, 160);
      first ??= [sec, nsec];
      // The stream's time origin: its first packet, in the same arithmetic.
      const arrivalMs = (sec - first[0]) * 1000 + (nsec - first[1]) / 1e6;
      alone.update(p.seq, p.ts, p.pt, p.marker, arrivalMs, map.statsClockRate(p.pt));
    }
    const w = st.wireshark;
    const fields = (a: WiresharkRtpAnalysis): unknown[] => [a.packets, a.sequenceErrors, a.expected, a.lost, a.cycles, a.maxDeltaMs, a.meanDeltaMs, a.maxJitterMs, a.meanJitterMs, a.minJitterMs, a.maxSkewMs, a.problem, a.clockRate];
    expect(fields(w)).toEqual(fields(alone));
  });
});

describe('state blocks shared in slabs', () => {
  it('streams side by side in one slab keep their own figures (regression: a write outside its block)', () => {
    const alone = new RtpStreamStats();
    clean(alone, 700);
    alone.finish();
    // 300 streams span two slabs; each gets its own pattern, interleaved packet by packet.
    const streams = Array.from({ length: 300 }, () => new RtpStreamStats());
    const h = { sequenceNumber: 0, timestamp: 0, payloadType: 8, marker: false };
    for (let i = 0; i < 700; i++) {
      streams.forEach((st, k) => {
        if (k % 2 === 1 && i % 50 === 1 + (k % 48)) return; // odd streams lose 14 packets, none the first or last
        h.sequenceNumber = i & 0xffff;
        h.timestamp = (i * 160) >>> 0;
        const ns = i * 20_000_000;
        st.update(h, 1000 + Math.floor(ns / 1e9), ns % 1e9, 160);
      });
    }
    streams.forEach((st, k) => {
      st.finish();
      if (k % 2 === 0) {
        expect([st.packets, st.lost, st.mos(F1), st.wireshark.maxJitterMs, Array.from(st.pdvBuckets)]).toEqual([alone.packets, alone.lost, alone.mos(F1), alone.wireshark.maxJitterMs, Array.from(alone.pdvBuckets)]);
      } else {
        expect(st.packets).toBe(700 - 14);
        expect(st.lost).toBe(14);
        expect(st.lossBursts[0]).toBe(14);
      }
    });
  });
});
