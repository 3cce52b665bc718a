/**
 * The end of the input in slices (PacketPipeline.finishSome): `analyze` writes out the calls still
 * open a slice at a time, yielding between slices so the CDR writer can insert what is built. The
 * records must be the ones `finish()` writes, in the same order, with the registrations once at
 * the end; and a record that fails to build must not cost the other calls theirs.
 */
import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';
import { readCorpusRecords } from '@callscope/testing';
import { describe, expect, test } from 'vitest';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '../src/index.js';

const records = readCorpusRecords('busy-hour-a.pcap');
// Cut the capture short so that many calls are still open at its end.
const cut = records.slice(0, Math.floor(records.length * 0.6));

function engine(onCall: (c: CallRecord) => void, onRegister: (r: RegisterRecord) => void): PacketPipeline {
  const e = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall, onRegister });
  for (const r of cut) e.onPacket(r);
  return e;
}

/** What the input's end writes out: records in order, tagged by kind. */
function ending(finish: (e: PacketPipeline) => void): { out: string[]; open: number } {
  let ended = false;
  const out: string[] = [];
  const e = engine(
    (c) => {
      if (ended) out.push(`call ${JSON.stringify(c)}`);
    },
    (r) => {
      if (ended) out.push(`register ${JSON.stringify(r)}`);
    },
  );
  const open = e.calls.openCalls;
  ended = true;
  finish(e);
  expect(e.calls.openCalls).toBe(0);
  expect(e.counters.internalErrors).toBe(0);
  return { out, open };
}

describe('finishSome: the end of the input a slice at a time (busy-hour-a cut at 60 %)', () => {
  const whole = ending((e) => { e.finish(); });

  test('the cut leaves calls open, and finish() writes one record for each', () => {
    expect(whole.open).toBeGreaterThan(20);
    expect(whole.out.filter((l) => l.startsWith('call ')).length).toBe(whole.open);
  });

  test.each([1, 7, 500])('slices of %i calls write the same records in the same order; false until the last slice', (slice) => {
    let slices = 0;
    const sliced = ending((e) => {
      for (;;) {
        slices++;
        const before = e.calls.openCalls;
        const done = e.finishSome(slice);
        expect(before - e.calls.openCalls).toBe(Math.min(slice, before));
        expect(done).toBe(e.calls.openCalls === 0);
        if (done) break;
      }
    });
    expect(sliced.out).toEqual(whole.out);
    expect(slices).toBe(Math.max(1, Math.ceil(whole.open / slice)));
  });

  test('a record that throws while being written costs only its own call: the others are written, the error counted', () => {
    for (const finish of [(e: PacketPipeline) => { e.finish(); }, (e: PacketPipeline) => { while (!e.finishSome(3)); }]) {
      let ended = false;
      let victim: string | null = null;
      const written: string[] = [];
      const e = engine(
        (c) => {
          if (!ended) return;
          // The second call of the end throws (a bug in a consumer, say).
          if (victim === null && written.length === 1) {
            victim = c.call_id;
            throw new Error('consumer failed');
          }
          written.push(c.call_id);
        },
        () => undefined,
      );
      const open = e.calls.openCalls;
      ended = true;
      finish(e);
      expect(victim).not.toBeNull();
      expect(written).not.toContain(victim);
      expect(written.length).toBe(open - 1);
      expect(e.calls.openCalls).toBe(0);
      expect(e.counters.internalErrors).toBe(1);
      expect(e.firstInternalError?.message).toBe('consumer failed');
    }
  });
});
