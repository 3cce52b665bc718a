import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CODEC_NAMES, Codec, PayloadTypeMap, codecFromEncodingName } from './codec.js';
import { JitterBufferIndex, RtpStreamStats } from './rtp-stream-stats.js';

function feed(st: RtpStreamStats, seqs: number[], opts: { pt?: number; stepNs?: number } = {}): void {
  const h = { sequenceNumber: 0, timestamp: 0, payloadType: opts.pt ?? 0, marker: false };
  let t = 0;
  for (const s of seqs) {
    h.sequenceNumber = s & 0xffff;
    h.timestamp = (s * 160) >>> 0;
    st.update(h, 100 + Math.floor(t / 1e9), t % 1e9, 160);
    t += opts.stepNs ?? 20_000_000;
  }
  st.finish();
}

describe('RtpStreamStats sequence accounting', () => {
  it('counts duplicates, reordering and RFC 3550 loss across a sequence wrap', () => {
    const st = new RtpStreamStats();
    // Extended numbers: the RTP timestamp advances with them across the 16-bit wrap.
    feed(st, [65533, 65534, 65535, 65536, 65536, 65538, 65537, 65539, 65542, 65543]);
    expect(st.packets).toBe(10);
    expect(st.duplicates).toBe(1);
    expect(st.reordered).toBe(1);
    expect(st.expected).toBe(11); // 65533 .. 65543 extended
    expect(st.lost).toBe(1); // RFC: expected - received = 11 - 10 (the duplicate offsets one of 4, 5)
    expect(st.trackLost(0)).toBe(2); // slots 4 and 5 never arrived
    expect(Array.from(st.lossBursts)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(st.wireshark.expected).toBe(11);
    expect(st.wireshark.lost).toBe(1);
    expect(st.wireshark.sequenceErrors).toBe(4); // dup 0, jump to 2, late 1, jump to 6
  });

  it('re-synchronises after two sequential packets beyond MAX_DROPOUT (RFC 3550 A.1)', () => {
    const st = new RtpStreamStats();
    feed(st, [10, 11, 12, 30000, 30001, 30002]);
    expect(st.sequenceJumps).toBe(2);
    expect(st.unplaced).toBe(1);
    expect(st.expected).toBe(5);
    expect(st.lost).toBe(0);
  });

  it('keeps telephone-event packets out of jitter (Wireshark) but in the sequence accounting', () => {
    const map = new PayloadTypeMap();
    map.setRtpmap(101, 'telephone-event', 8000);
    const st = new RtpStreamStats({ payloadTypes: map });
    feed(st, [1, 2, 3, 4, 5], { pt: 101 });
    expect(st.wireshark.maxJitterMs).toBe(0);
    expect(st.wireshark.minJitterMs).toBe(-1);
    expect(st.wireshark.maxDeltaMs).toBeCloseTo(20, 9);
    expect(st.lost).toBe(0);
    expect(st.mos(JitterBufferIndex.Fixed50)).toBeGreaterThan(4);
  });

  it('maps payload types as Wireshark does for clocks', () => {
    const map = new PayloadTypeMap();
    expect([map.clockRate[9], map.codec[9]]).toEqual([8000, Codec.G722]); // RFC 3551: G.722 clock 8000
    map.setRtpmap(111, 'opus', 48000);
    map.setRtpmap(101, 'TELEPHONE-EVENT', 8000);
    map.setRtpmap(0, 'PCMU', 16000); // a static PT keeps the RFC 3551 clock
    expect([map.statsClockRate(111), map.codec[111]]).toEqual([48000, Codec.Opus]);
    expect([map.statsClockRate(101), map.codec[101]]).toEqual([0, Codec.TelephoneEvent]);
    expect(map.statsClockRate(0)).toBe(8000);
    expect(map.statsClockRate(100)).toBe(0); // dynamic without rtpmap
    expect(codecFromEncodingName('AMR-WB')).toBe(Codec.AMRWB);
    expect(CODEC_NAMES[Codec.AMRWB]).toBe('AMR-WB');
  });

  it('throws on programmer errors only', () => {
    expect(() => new RtpStreamStats({ intervalCapacity: 0 })).toThrow(RangeError);
    expect(() => {
      new PayloadTypeMap().setRtpmap(128, 'opus', 48000);
    }).toThrow(RangeError);
  });
});

describe('RtpStreamStats properties', () => {
  const packet = fc.record({
    seq: fc.integer({ min: 0, max: 65535 }),
    ts: fc.integer({ min: 0, max: 0xffffffff }),
    pt: fc.constantFrom(0, 8, 13, 18, 101, 127),
    marker: fc.boolean(),
    dtNs: fc.integer({ min: 0, max: 2_000_000_000 }),
  });
  test.prop([fc.array(packet, { maxLength: 400 })])('never produces NaN or negative counts on random (seq, ts, time)', (pkts) => {
    const map = new PayloadTypeMap();
    map.setRtpmap(101, 'telephone-event', 8000);
    const st = new RtpStreamStats({ payloadTypes: map, intervalCapacity: 4 });
    const h = { sequenceNumber: 0, timestamp: 0, payloadType: 0, marker: false };
    let ns = 0;
    for (const p of pkts) {
      ns += p.dtNs;
      h.sequenceNumber = p.seq;
      h.timestamp = p.ts;
      h.payloadType = p.pt;
      h.marker = p.marker;
      st.update(h, 1_700_000_000 + Math.floor(ns / 1e9), ns % 1e9, 160);
    }
    st.finish();
    const w = st.wireshark;
    for (const v of [st.packets, st.duplicates, st.reordered, st.expected, st.judged, w.packets, w.sequenceErrors, w.expected]) {
      expect(Number.isInteger(v) && v >= 0).toBe(true);
    }
    for (const v of [w.maxJitterMs, w.meanJitterMs, w.maxDeltaMs, w.meanDeltaMs]) expect(v >= 0).toBe(true);
    expect(st.packets).toBe(pkts.length);
    expect(st.judged).toBe(st.expected);
    for (const b of [0, 1, 2] as const) {
      const mos = st.mos(b);
      if (pkts.length > 0) expect(mos >= 1 && mos <= 4.5).toBe(true);
      expect(st.lossPercent(b) >= 0 && st.lossPercent(b) <= 100).toBe(true);
    }
    for (const c of st.lossBursts) expect(c >= 0).toBe(true);
    for (let i = 0; i < st.intervalsKept; i++) expect(Number.isNaN(st.intervalMosAt(i, 0))).toBe(false);
  });
});
