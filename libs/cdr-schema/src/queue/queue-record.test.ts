import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { RECORD_HEADER_BYTES, encodeRecordHeader, readRecordHeader, scanSegment } from './queue-record.js';

const record = (payload: Buffer, n = 1, at = 1_796_400_000_000) => Buffer.concat([encodeRecordHeader(payload, n, at), payload]);
const batch = (i: number, pad: number) => Buffer.from(JSON.stringify({ v: 1, records: [{ i, pad: 'p'.repeat(pad) }] }));
const payloads = (buf: Buffer) =>
  scanSegment(buf)
    .filter((p) => p.kind === 'record' && p.payloadOk)
    .map((p) => (p.kind === 'record' ? buf.subarray(p.offset + p.header.headerBytes, p.offset + p.header.headerBytes + p.header.length).toString() : ''));

describe('queue record format 2', () => {
  it('round-trips a header: length, count, queue time; refuses a payload that would not fit', () => {
    const p = batch(1, 10);
    const rec = record(p, 7, 1234.5);
    expect(readRecordHeader(rec, 0, rec.length)).toEqual({ version: 2, headerBytes: RECORD_HEADER_BYTES, length: p.length, records: 7, crc: rec.readUInt32BE(12), queuedAt: 1234.5 });
    expect(readRecordHeader(rec, 0, rec.length - 1)).toBeNull();
    expect(readRecordHeader(rec.subarray(0, RECORD_HEADER_BYTES - 1), 0, 1000)).toBeNull();
  });

  it('malformed headers are refused, each for its own reason', () => {
    const rec = record(batch(2, 3));
    const cases: [string, (b: Buffer) => void][] = [
      ['magic', (b) => b.writeUInt32BE(0x43535133, 0)],
      ['length changed (header CRC)', (b) => b.writeUInt32BE(b.readUInt32BE(4) + 1, 4)],
      ['count changed (header CRC)', (b) => b.writeUInt32BE(9, 8)],
      ['time changed (header CRC)', (b) => b.writeDoubleBE(1, 16)],
      ['header CRC itself', (b) => b.writeUInt32BE(b.readUInt32BE(24) ^ 1, 24)],
    ];
    for (const [what, mutate] of cases) {
      const b = Buffer.from(rec);
      mutate(b);
      expect(readRecordHeader(b, 0, b.length), what).toBeNull();
    }
  });

  test.prop([fc.array(fc.nat({ max: 300 }), { minLength: 1, maxLength: 8 }), fc.nat(), fc.integer({ min: 1, max: 255 })], { numRuns: 300 })(
    'one damaged byte anywhere loses exactly the record it falls in; every other record is found',
    (pads, where, xor) => {
      const recs = pads.map((pad, i) => record(batch(i, pad)));
      const seg = Buffer.concat(recs);
      const at = where % seg.length;
      seg[at]! ^= xor;
      let start = 0;
      let hit = -1;
      recs.forEach((r, i) => {
        if (at >= start && at < start + r.length) hit = i;
        start += r.length;
      });
      const expected = pads.map((pad, i) => batch(i, pad).toString()).filter((_, i) => i !== hit);
      expect(payloads(seg)).toEqual(expected);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 2000 })], { numRuns: 200 })('random bytes are no record, and scanning them ends', (junk) => {
    const pieces = scanSegment(Buffer.from(junk));
    expect(pieces.every((p) => p.kind === 'torn')).toBe(true);
    expect(pieces.reduce((a, p) => a + (p.kind === 'torn' ? p.bytes : 0), 0)).toBe(junk.length);
  });
});
