/**
 * Hostile or damaged spools: random bytes of a minute's archive and index overwritten, or the
 * archive cut, in each chunk compression. Retrieval must never hang nor fail with anything but a
 * SpoolError (a clear, coded refusal: nothing of the call left, or an index that names chunks the
 * archive lacks); otherwise it produces a well-formed capture (the merged output parses to its
 * end). When only the index was damaged, or the archive cut, or the members are compressed (a
 * CRC-32 over each: gzip's own, zstd's in the skippable frame after the data frame), every record
 * it gives is one the writer was given, in time order. Plain members carry no checksum: overwritten
 * bytes inside them come back as they now are, which only the capture's well-formedness bounds.
 */
import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { ChunkCompression, SpoolError, SpoolWriter } from '../src/index.js';
import { loadFrames, retrieve, shift, tempSpool, walk, writeInterleaved } from './spool-fixtures.js';
import type { Frame, TestCall } from './spool-fixtures.js';
import { CaptureParseStatus } from '@callscope/pcap-format';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let base: Frame[] = [];
const spools = new Map<ChunkCompression, { dir: string; calls: TestCall[] }>();
beforeAll(async () => {
  base = await loadFrames('basic-caller-bye-pcma.pcap');
  for (const compression of Object.values(ChunkCompression)) {
    const dir = tempSpool(`mut-${compression}`);
    dirs.push(dir);
    const calls: TestCall[] = [0, 1].map((k) => {
      const frames = shift(base, k * 300, k * 11 + 1);
      return { ref: { callId: `mut-${k}@192.0.2.10`, startSec: frames[0]!.tsSec, startUsec: 0 }, frames };
    });
    const writer = new SpoolWriter({ spoolDir: dir, compression, flushBytes: 4096 });
    writeInterleaved(writer, calls);
    await writer.close();
    spools.set(compression, { dir, calls });
  }
}, 60_000);

const key = (r: { tsSec: number; tsNsec: number; data: Uint8Array }): string => `${r.tsSec}.${r.tsNsec}:${Buffer.from(r.data).toString('base64')}`;

const damage = fc.oneof(
  fc.record({ kind: fc.constant('bytes' as const), file: fc.constantFrom('tar', 'idx'), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }), times: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('cut' as const), file: fc.constantFrom('tar', 'idx'), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
);

describe.each(Object.values(ChunkCompression))('a damaged spool (compression %s)', (compression) => {
  test.prop([damage, fc.nat()], { numRuns: 40 })('retrieval refuses with a SpoolError or gives a well-formed capture of records that were written', async (d, salt) => {
    const { dir: clean, calls } = spools.get(compression)!;
    const dir = tempSpool(`mut-${compression}-case`);
    try {
      cpSync(clean, dir, { recursive: true });
      const file = walk(dir).find((f) => f.rel.endsWith(`.${d.file}`))!;
      const path = join(dir, file.rel);
      if (d.kind === 'cut') truncateSync(path, Math.floor(d.at * file.size));
      else {
        const bytes = readFileSync(path);
        for (let k = 0; k < d.times; k++) {
          const at = Math.floor(((d.at + k * 0.137 + (salt % 97) / 97) % 1) * bytes.length);
          bytes.set(d.bytes.subarray(0, Math.max(0, Math.min(d.bytes.length, bytes.length - at))), at);
        }
        writeFileSync(path, bytes);
      }
      const written = new Set(calls.flatMap((c) => c.frames.map(key)));
      for (const c of calls) {
        let got: Awaited<ReturnType<typeof retrieve>>;
        try {
          got = await retrieve(dir, { callId: c.ref.callId, startSec: c.ref.startSec, startUsec: c.ref.startUsec });
        } catch (err) {
          expect(err).toBeInstanceOf(SpoolError);
          continue;
        }
        expect(got.status).toBe(CaptureParseStatus.End);
        if (compression === ChunkCompression.NONE && d.kind === 'bytes' && d.file === 'tar') continue;
        for (let i = 1; i < got.records.length; i++) {
          const a = got.records[i - 1]!;
          const b = got.records[i]!;
          expect(a.tsSec < b.tsSec || (a.tsSec === b.tsSec && a.tsNsec <= b.tsNsec)).toBe(true);
        }
        for (const r of got.records) expect(written.has(key(r))).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
