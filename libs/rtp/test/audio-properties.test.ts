import { describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { AudioLeg, AudioLegsLayout, CallAudioRenderer, PayloadTypeMap } from '../src/index.js';

const ORIGIN = 1_800_000_000_000_000;

function map(): PayloadTypeMap {
  const m = new PayloadTypeMap();
  m.setRtpmap(101, 'telephone-event', 8000);
  return m;
}

function renderer(endMs: number | null, chunks: Uint8Array[]): CallAudioRenderer {
  return new CallAudioRenderer({
    originUs: ORIGIN,
    endUs: endMs === null ? null : ORIGIN + endMs * 1000,
    layout: AudioLegsLayout.Mixed,
    callerPayloadTypes: map(),
    reorderWindowMs: 100,
    chunkFrames: 333,
    onChunk: (c) => chunks.push(c),
  });
}

const packet = fc.record({
  leg: fc.constantFrom(AudioLeg.Caller, AudioLeg.Callee),
  ssrc: fc.constantFrom(1, 2, 0xffffffff),
  seqStep: fc.integer({ min: -3, max: 5 }),
  tsStep: fc.oneof(fc.constant(160), fc.integer({ min: -200_000, max: 200_000 }), fc.integer({ min: 0, max: 0xffffffff })),
  payloadType: fc.constantFrom(0, 8, 13, 18, 101, 96, 127),
  payload: fc.uint8Array({ minLength: 0, maxLength: 9000 }),
  arrivalStepUs: fc.integer({ min: -50_000, max: 2_000_000 }),
});

describe('CallAudioRenderer on arbitrary packet sequences', () => {
  test.prop([fc.array(packet, { maxLength: 60 }), fc.option(fc.integer({ min: 0, max: 20_000 }))], { numRuns: 150 })(
    'never throws; the output is exactly the timeline length; every packet lands in at most one counter',
    (ps, endMs) => {
      const chunks: Uint8Array[] = [];
      const r = renderer(endMs, chunks);
      let seq = 0;
      let ts = 0;
      let at = ORIGIN;
      for (const p of ps) {
        seq = (seq + p.seqStep) & 0xffff;
        ts = (ts + p.tsStep) >>> 0;
        at += p.arrivalStepUs;
        const h = { ssrc: p.ssrc, sequenceNumber: seq, timestamp: ts, payloadType: p.payloadType, marker: false, payloadOffset: 0, payloadLength: p.payload.length };
        r.push(p.leg, h, p.payload, at);
      }
      r.finish();
      const bytes = chunks.reduce((a, c) => a + c.length, 0);
      if (endMs !== null) expect(bytes).toBe(Math.round(endMs * 8) * 2);
      expect(bytes).toBe(r.framesEmitted * 2);
      for (const leg of [AudioLeg.Caller, AudioLeg.Callee]) {
        const c = r.leg(leg);
        const outcomes = c.placed + c.duplicates + c.late + c.telephoneEvents + c.comfortNoise + c.unsupported + c.oversize;
        expect(outcomes).toBeLessThanOrEqual(c.packets);
      }
      expect(r.leg(AudioLeg.Caller).packets + r.leg(AudioLeg.Callee).packets).toBe(ps.length);
    },
  );

  test.prop([fc.array(fc.integer({ min: 0, max: 79_999 }), { minLength: 1, maxLength: 80 })], { numRuns: 100 })(
    'network delays below the window (100 ms) change nothing: the output equals the undelayed one',
    (delaysUs) => {
      const n = delaysUs.length + 1;
      const render = (delay: (k: number) => number): Buffer => {
        const chunks: Uint8Array[] = [];
        const r = renderer(null, chunks);
        const arrivals = Array.from({ length: n }, (_, k) => ({ k, at: ORIGIN + k * 20_000 + delay(k) })).sort((a, b) => a.at - b.at || a.k - b.k);
        for (const { k, at } of arrivals) {
          const payload = new Uint8Array(160).map((_, i) => (k * 13 + i) & 0xff);
          r.push(AudioLeg.Caller, { ssrc: 7, sequenceNumber: k, timestamp: 160 * k, payloadType: 8, marker: false, payloadOffset: 0, payloadLength: 160 }, payload, at);
        }
        r.finish();
        expect(r.leg(AudioLeg.Caller).late).toBe(0);
        return Buffer.concat(chunks);
      };
      // Packet 0 is never delayed: it fixes the mapping in both runs.
      expect(render((k) => (k === 0 ? 0 : delaysUs[k - 1]!)).equals(render(() => 0))).toBe(true);
    },
  );
});
