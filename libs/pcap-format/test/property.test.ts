import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { CaptureError, CaptureParseStatus } from '../src/index.js';
import { bytes, concat, epb, idb, pcapHeader, shb, spb, tsresol } from './build-capture.js';
import { parseBytes } from './collect.js';

/** Two corpus captures (fixtures/corpus at the repository root): classic pcap and pcapng. */
const CORPUS = new URL('../../../fixtures/corpus/', import.meta.url);
const REAL = [
  readFileSync(fileURLToPath(new URL('cancel-487.pcap', CORPUS))),
  readFileSync(fileURLToPath(new URL('register-auth.pcapng', CORPUS))),
];
const HANDMADE_NG = concat(
  shb(false),
  idb(false, 1, 64, [tsresol(0x80 | 16, false)]),
  epb(false, 0, 99_999n, bytes(70)),
  spb(false, 30, bytes(30)),
  shb(true),
  idb(true, 113, 0),
  epb(true, 0, 5n, bytes(9)),
);
const FINAL = new Set<number>([CaptureParseStatus.End, CaptureParseStatus.Truncated, CaptureParseStatus.Error]);

/**
 * Each `next()` step either consumes a unit (>= 12 bytes; 16 for pcap records) or ends the chunk,
 * so the number of steps is bounded by the input: a hang would blow this bound.
 */
function stepBound(length: number, chunkSize: number): number {
  return Math.ceil(length / 12) + 2 * Math.ceil(length / chunkSize) + 4;
}

describe('never throws, never hangs', () => {
  test.prop([fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 4096 })], { numRuns: 300 })(
    'arbitrary bytes end in End/Truncated/Error with a CaptureError, never an exception',
    (input, chunkSize) => {
      const out = parseBytes(input, chunkSize);
      expect(FINAL.has(out.status)).toBe(true);
      if (out.status === CaptureParseStatus.Error) expect(out.error).toBeInstanceOf(CaptureError);
      expect(out.steps).toBeLessThanOrEqual(stepBound(input.length, chunkSize));
    },
  );

  const headers = [pcapHeader(), pcapHeader({ le: false, ns: true }), concat(shb(true), idb(true, 1, 0)), concat(shb(false), idb(false, 1, 0))];
  test.prop([fc.constantFrom(...headers), fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 512 })], { numRuns: 300 })(
    'a valid file header followed by random bytes reaches the record parsers and stays safe',
    (header, tail, chunkSize) => {
      const input = concat(header, tail);
      const out = parseBytes(input, chunkSize);
      expect(FINAL.has(out.status)).toBe(true);
      if (out.status === CaptureParseStatus.Error) expect(out.error).toBeInstanceOf(CaptureError);
      expect(out.steps).toBeLessThanOrEqual(stepBound(input.length, chunkSize));
      for (const r of out.records) {
        expect(r.data.length).toBe(r.capLen);
        expect(Number.isInteger(r.tsNsec) && r.tsNsec >= 0 && r.tsNsec <= 999_999_999).toBe(true);
      }
    },
  );
});

describe('chunking is invisible', () => {
  test.prop([fc.constantFrom(...REAL, HANDMADE_NG), fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 30 })], { numRuns: 60 })(
    'any split of a valid file yields the same records as one piece',
    (file, sizes) => {
      const whole = parseBytes(file);
      const split = parseBytes(file, sizes);
      expect(split.records).toEqual(whole.records);
      expect(split.summary).toEqual(whole.summary);
    },
  );
});
