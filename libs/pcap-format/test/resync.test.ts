/**
 * Resynchronisation after a damaged record header or block (callscope issue 12, finding 3): one
 * flipped bit in a length field used to stop the file (half of a 252,632-packet capture unread).
 * The parser now scans forward for the next plausible record/block, confirmed by the ones that
 * follow it, counts what it skipped (`counters.resyncs`, `counters.skippedBytes`) and goes on.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CaptureError, CaptureErrorCode, CaptureParseStatus } from '../src/index.js';
import { bytes, concat, epb, idb, pcapHeader, pcapRecord, shb } from './build-capture.js';
import { parseBytes } from './collect.js';

const CORPUS = new URL('../../../fixtures/corpus/', import.meta.url);
const PCMA = readFileSync(fileURLToPath(new URL('basic-caller-bye-pcma.pcap', CORPUS)));
const REGISTER_NG = readFileSync(fileURLToPath(new URL('register-auth.pcapng', CORPUS)));
const FINAL = new Set<number>([CaptureParseStatus.End, CaptureParseStatus.Truncated, CaptureParseStatus.Error]);

/** Record header offsets of a classic pcap, walked from the layout (not by the parser). */
function pcapStarts(file: Uint8Array, le = true): number[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const starts: number[] = [];
  for (let at = 24; at + 16 <= file.length; at += 16 + view.getUint32(at + 8, le)) starts.push(at);
  return starts;
}

/** Block offsets of a one-byte-order pcapng, with their types. */
function pcapngBlocks(file: Uint8Array): Array<{ at: number; type: number; length: number }> {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const le = view.getUint32(8, true) === 0x1a2b3c4d;
  const out: Array<{ at: number; type: number; length: number }> = [];
  for (let at = 0; at + 8 <= file.length; ) {
    const length = view.getUint32(at + 4, le);
    out.push({ at, type: view.getUint32(at, le), length });
    at += length;
  }
  return out;
}

function flipBit(file: Uint8Array, byteOffset: number, bit: number): Uint8Array {
  const copy = Uint8Array.from(file);
  copy[byteOffset]! ^= 1 << bit;
  return copy;
}

/** A hand-built classic pcap of `n` records, 1 s apart, of sizes 20..(20+n). */
function handPcap(n: number, le: boolean, ns: boolean): Uint8Array {
  return concat(pcapHeader({ le, ns }), ...Array.from({ length: n }, (_, i) => pcapRecord(le, 1_700_000_000 + i, ns ? 999_999_999 - i : 999_999 - i, bytes(20 + i, i))));
}

const CHUNKINGS: Array<number | number[]> = [1 << 30, 7, 1000, [3, 500, 16, 4096]];

describe('classic pcap: a flipped bit in a record header caplen', () => {
  const starts = pcapStarts(PCMA);
  const total = starts.length;

  it.each([
    ['in the middle', Math.floor(total / 2)],
    ['in the first record', 0],
    ['in the second-to-last record', total - 2],
    ['in the last record', total - 1],
  ])('%s: every other packet delivered, one resync, skipped bytes counted', (_name, k) => {
    // bit 20 of incl_len (little-endian: byte 2 of the field, bit 4)
    const damaged = flipBit(PCMA, starts[k]! + 8 + 2, 4);
    for (const chunking of CHUNKINGS) {
      const out = parseBytes(damaged, chunking);
      expect(out.status, String(chunking)).toBe(CaptureParseStatus.End);
      expect(out.records).toHaveLength(total - 1);
      expect(out.records.map((r) => r.fileOffset)).toEqual(starts.filter((_, i) => i !== k));
      expect(out.summary.counters.resyncs).toBe(1);
      const recordLength = (starts[k + 1] ?? PCMA.length) - starts[k]!;
      expect(out.summary.counters.skippedBytes).toBe(recordLength);
      expect(out.summary.firstDamage).toMatchObject({ code: CaptureErrorCode.CAPLEN_TOO_LARGE, offset: starts[k] });
    }
  });

  it('a low bit of caplen (record misread by 8 bytes): the records after the damage are recovered', () => {
    const k = Math.floor(total / 3);
    const damaged = flipBit(PCMA, starts[k]! + 8, 3);
    const out = parseBytes(damaged, 1000);
    const offsets = new Set(out.records.map((r) => r.fileOffset));
    const recovered = starts.filter((s) => offsets.has(s)).length;
    expect(recovered).toBeGreaterThanOrEqual(total - 2);
    expect(out.summary.counters.resyncs).toBeGreaterThanOrEqual(1);
  });

  it('garbage inserted between two records is skipped exactly', () => {
    const k = 10;
    const junk = Uint8Array.from({ length: 37 }, (_, i) => (i * 97 + 200) & 0xff);
    const damaged = concat(PCMA.subarray(0, starts[k]), junk, PCMA.subarray(starts[k]));
    const out = parseBytes(damaged, 333);
    expect(out.records).toHaveLength(total);
    expect(out.summary.counters).toMatchObject({ resyncs: 1, skippedBytes: 37 });
  });

  it.each([
    ['little-endian µs', true, false],
    ['big-endian µs', false, false],
    ['little-endian ns', true, true],
    ['big-endian ns', false, true],
  ])('%s hand-built file: one damaged caplen costs one record', (_name, le, ns) => {
    const file = handPcap(30, le, ns);
    const starts30 = pcapStarts(file, le);
    const k = 12;
    const damaged = flipBit(file, starts30[k]! + 8 + (le ? 2 : 1), 4); // bit 20 in either byte order
    for (const chunking of CHUNKINGS) {
      const out = parseBytes(damaged, chunking);
      expect(out.records.map((r) => r.fileOffset)).toEqual(starts30.filter((_, i) => i !== k));
      expect(out.summary.counters).toMatchObject({ resyncs: 1, skippedBytes: starts30[k + 1]! - starts30[k]! });
      expect(out.status).toBe(CaptureParseStatus.End);
    }
  });

  it('a header with two anomalies at once (µs field >= 1 s and origlen < caplen) is damage, not a record', () => {
    const le = true;
    const recs = [pcapRecord(le, 100, 5, bytes(30)), pcapRecord(le, 101, 3_000_000_000, bytes(30), 2), pcapRecord(le, 102, 5, bytes(30)), pcapRecord(le, 103, 5, bytes(30))];
    const out = parseBytes(concat(pcapHeader(), ...recs));
    expect(out.records.map((r) => r.tsSec)).toEqual([100, 102, 103]);
    expect(out.summary.counters).toMatchObject({ resyncs: 1, skippedBytes: recs[1]!.length, fractionOverflow: 0, origLenBelowCapLen: 0 });
    expect(out.summary.firstDamage?.code).toBe(CaptureErrorCode.IMPLAUSIBLE_RECORD_HEADER);
  });

  it('a single anomaly is still tolerated and counted (no resync): clock jumps of years are kept', () => {
    const le = true;
    const file = concat(pcapHeader(), pcapRecord(le, 100, 5, bytes(30)), pcapRecord(le, 1_700_000_000, 5, bytes(30)), pcapRecord(le, 1_700_000_001, 1_000_000, bytes(30)));
    const out = parseBytes(file);
    expect(out.records.map((r) => r.tsSec)).toEqual([100, 1_700_000_000, 1_700_000_002]);
    expect(out.summary.counters).toMatchObject({ resyncs: 0, skippedBytes: 0, fractionOverflow: 1 });
  });

  it('damage with nothing plausible after it: the rest is skipped and counted, End', () => {
    const file = concat(pcapHeader(), pcapRecord(true, 5, 0, bytes(10)), Uint8Array.from({ length: 300 }, () => 0xee));
    const out = parseBytes(file, 64);
    expect(out.status).toBe(CaptureParseStatus.End);
    expect(out.records).toHaveLength(1);
    expect(out.summary.counters).toMatchObject({ resyncs: 1, skippedBytes: 300 });
  });

  it('a truncated last record after a resync is still reported as truncation', () => {
    const k = Math.floor(total / 2);
    const damaged = flipBit(PCMA, starts[k]! + 8 + 2, 4).subarray(0, PCMA.length - 5);
    const out = parseBytes(damaged, 4096);
    expect(out.status).toBe(CaptureParseStatus.Truncated);
    expect(out.truncation).toMatchObject({ code: CaptureErrorCode.TRUNCATED_RECORD_DATA, offset: starts[total - 1] });
    expect(out.records).toHaveLength(total - 2);
  });
});

describe('pcapng: a flipped bit in an EPB total length', () => {
  const blocks = pcapngBlocks(REGISTER_NG);
  const epbs = blocks.filter((b) => b.type === 6);
  const clean = parseBytes(REGISTER_NG);

  it.each([
    ['bit 20 (block too large)', 2, 4],
    ['bit 4 (trailing length mismatch)', 0, 4],
    ['bit 2 (unaligned)', 0, 2],
  ])('%s: one packet lost, one resync, the block skipped', (_name, byte, bit) => {
    const victim = epbs[Math.floor(epbs.length / 2)]!;
    const damaged = flipBit(REGISTER_NG, victim.at + 4 + byte, bit); // little-endian length field
    for (const chunking of CHUNKINGS) {
      const out = parseBytes(damaged, chunking);
      expect(out.status).toBe(CaptureParseStatus.End);
      expect(out.records.map((r) => r.fileOffset)).toEqual(clean.records.map((r) => r.fileOffset).filter((o) => o !== victim.at));
      expect(out.summary.counters).toMatchObject({ resyncs: 1, skippedBytes: victim.length });
    }
  });

  it('damaged last EPB: the packets before it, one resync', () => {
    const last = epbs[epbs.length - 1]!;
    const out = parseBytes(flipBit(REGISTER_NG, last.at + 4, 4), 100);
    expect(out.records).toHaveLength(clean.records.length - 1);
    expect(out.summary.counters.resyncs).toBe(1);
  });

  it('hand-built: garbage between blocks, big-endian', () => {
    const le = false;
    const file = concat(shb(le), idb(le, 1, 0), epb(le, 0, 1n, bytes(10)), Uint8Array.from({ length: 21 }, (_, i) => i * 13), epb(le, 0, 2n, bytes(11)), epb(le, 0, 3n, bytes(12)));
    const out = parseBytes(file, 5);
    expect(out.records.map((r) => r.capLen)).toEqual([10, 11, 12]);
    expect(out.summary.counters).toMatchObject({ resyncs: 1, skippedBytes: 21 });
  });
});

describe('properties', () => {
  const starts = pcapStarts(PCMA);
  const startSet = new Set(starts);
  const flips = fc.array(fc.tuple(fc.nat({ max: starts.length - 1 }), fc.nat({ max: 15 }), fc.nat({ max: 7 })), { minLength: 1, maxLength: 4 });
  test.prop([flips, fc.integer({ min: 13, max: 70_000 })], { numRuns: 50 })(
    'random bits flipped in record headers: no throw, no record outside the file, most records recovered',
    (edits, chunkSize) => {
      const damaged = Uint8Array.from(PCMA);
      for (const [k, byte, bit] of edits) damaged[starts[k]! + byte]! ^= 1 << bit;
      // A damaged header costs its record and the next two; a caplen made larger (but still
      // plausible) also hides the records its claimed extent covers: no reader can see those.
      const view = new DataView(damaged.buffer);
      const lost = new Set<number>();
      for (const [k] of edits) {
        const at = starts[k]!;
        const extentEnd = at + 16 + Math.min(view.getUint32(at + 8, true), 262_144) + 16;
        for (let i = k; i < starts.length && (i <= k + 2 || starts[i]! < extentEnd); i++) lost.add(i);
      }
      const out = parseBytes(damaged, chunkSize);
      expect(FINAL.has(out.status)).toBe(true);
      expect(out.status).not.toBe(CaptureParseStatus.Error);
      let recovered = 0;
      for (const r of out.records) {
        expect(r.fileOffset + 16 + r.capLen).toBeLessThanOrEqual(damaged.length);
        expect(r.data.length).toBe(r.capLen);
        if (startSet.has(r.fileOffset)) recovered++;
      }
      expect(recovered).toBeGreaterThanOrEqual(starts.length - lost.size);
      // Junk (records read at a wrong offset inside a misread extent) stays rare.
      expect(out.records.length - recovered).toBeLessThanOrEqual(lost.size * 4);
      expect(out.summary.packets).toBe(out.records.length);
      // Chunking stays invisible with resyncs.
      expect(parseBytes(damaged).records.map((r) => r.fileOffset)).toEqual(out.records.map((r) => r.fileOffset));
    },
    30_000,
  );

  test.prop([fc.constantFrom(pcapHeader(), pcapHeader({ le: false, ns: true }), concat(shb(true), idb(true, 1, 0))), fc.uint8Array({ minLength: 0, maxLength: 20_000 }), fc.integer({ min: 1, max: 5000 })], { numRuns: 100 })(
    'random bytes after a valid file header: terminates, CaptureError or End/Truncated, chunking invisible',
    (header, tail, chunkSize) => {
      const input = concat(header, tail);
      const out = parseBytes(input, chunkSize);
      expect(FINAL.has(out.status)).toBe(true);
      if (out.status === CaptureParseStatus.Error) expect(out.error).toBeInstanceOf(CaptureError);
      const whole = parseBytes(input);
      expect(whole.records.map((r) => r.fileOffset)).toEqual(out.records.map((r) => r.fileOffset));
      expect(whole.summary.counters).toEqual(out.summary.counters);
    },
  );

  it('scan cost is linear: 8 MiB of garbage (random, and a repeated plausible-looking header) in well under a second each', () => {
    const random = new Uint8Array(8 << 20);
    let x = 12345;
    for (let i = 0; i < random.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      random[i] = x >>> 24;
    }
    // Every 16 bytes a header that passes alone (caplen 200000) but whose follower never does.
    const lure = new Uint8Array(8 << 20);
    const view = new DataView(lure.buffer);
    for (let at = 0; at + 16 <= lure.length; at += 16) {
      view.setUint32(at, 5, true);
      view.setUint32(at + 8, 200_000, true);
      view.setUint32(at + 12, 200_000, true);
    }
    for (const tail of [random, lure]) {
      const input = concat(pcapHeader(), pcapRecord(true, 5, 0, bytes(10)), tail);
      const t0 = performance.now();
      const out = parseBytes(input, 65_536);
      const ms = performance.now() - t0;
      expect(FINAL.has(out.status)).toBe(true);
      expect(ms).toBeLessThan(1500);
    }
  });
});
