import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { appendRawPacket, createRawBatch, rawPacketData, type RawBatch } from '@callscope/mirror-protocol';
import { createLogger } from '@callscope/runtime';
import {
  SPILL_RECORD_HEADER_BYTES,
  SpillRecordStatus,
  SpillStore,
  decodeSpillRecord,
  discardLeftoverSpill,
  encodeSpillRecord,
  spillRecordLength,
  type DecodedSpillRecord,
} from './spill-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mirror-spill-'));
  dirs.push(d);
  return d;
}
const logger = createLogger({ app: 'spill-test', level: 'fatal', pretty: false, destination: new PassThrough() });

/** A batch of `n` packets of varied sizes and fields (seeded by `seed`). */
function batch(n: number, seed: number): RawBatch {
  const raw = createRawBatch(4, 64);
  for (let i = 0; i < n; i++) {
    const len = 20 + ((seed * 31 + i * 17) % 300);
    const data = new Uint8Array(len).map((_, k) => (seed + i * 7 + k) & 0xff);
    appendRawPacket(raw, i % 3 === 0 ? 113 : 1, 1_764_000_000 + seed, (seed * 1000 + i) % 1e9, len + (i % 2) * 10, data);
  }
  return raw;
}
function expectSameBatch(a: RawBatch, b: RawBatch): void {
  expect(a.count).toBe(b.count);
  for (let i = 0; i < a.count; i++) {
    expect([a.linkType[i], a.tsSec[i], a.tsNsec[i], a.origLen[i]]).toEqual([b.linkType[i], b.tsSec[i], b.tsNsec[i], b.origLen[i]]);
    expect(Buffer.from(rawPacketData(a, i)).equals(Buffer.from(rawPacketData(b, i)))).toBe(true);
  }
}
const decoded = (): DecodedSpillRecord => ({ sequence: 0, raw: null, packets: 0, length: 0 });
const settle = (store: SpillStore) => store.close().then(() => undefined);

describe('spill record', () => {
  it('round trip: every field and byte, the sequence and packet count', () => {
    for (const [n, seq] of [[0, 1], [1, 2], [37, 2 ** 40], [500, 77]] as const) {
      const raw = batch(n, seq % 1000);
      const rec = encodeSpillRecord(seq, raw);
      expect(rec.length).toBe(spillRecordLength(raw));
      const out = decoded();
      expect(decodeSpillRecord(rec, 0, out)).toBe(SpillRecordStatus.Ok);
      expect(out).toMatchObject({ sequence: seq, packets: n, length: rec.length });
      expectSameBatch(out.raw!, raw);
    }
  });

  it('malformed inputs: each torn length is Truncated, each flipped byte BadCrc (header length aside), a lying count Malformed', () => {
    const rec = encodeSpillRecord(9, batch(5, 3));
    const out = decoded();
    for (let cut = 0; cut < rec.length; cut++) expect(decodeSpillRecord(rec.subarray(0, cut), 0, out)).toBe(SpillRecordStatus.Truncated);
    for (let i = 4; i < rec.length; i++) {
      const bad = Buffer.from(rec);
      bad[i]! ^= 0x40;
      expect(decodeSpillRecord(bad, 0, out), `byte ${i}`).toBe(SpillRecordStatus.BadCrc);
    }
    // A length above what the buffer holds reads as a torn tail.
    const longer = Buffer.from(rec);
    longer.writeUInt32LE(rec.length, 0);
    expect(decodeSpillRecord(longer, 0, out)).toBe(SpillRecordStatus.Truncated);
    // The CRC matches but the packet count does not fit the length.
    const lying = Buffer.from(rec);
    lying.writeUInt32LE(6, SPILL_RECORD_HEADER_BYTES + 8);
    lying.writeUInt32LE(crc32(lying.subarray(SPILL_RECORD_HEADER_BYTES)), 4);
    expect(decodeSpillRecord(lying, 0, out)).toBe(SpillRecordStatus.Malformed);
  });
});

describe('SpillStore', () => {
  it('round trip through the disk: batches come back in order, identical; files go once every record is released', async () => {
    const dir = tempDir();
    const { store, leftover } = SpillStore.open({ dir, maxBytes: 1 << 20, segmentBytes: 8 * 1024, logger });
    expect(leftover).toEqual({ files: 0, bytes: 0, batches: 0, packets: 0, tornFiles: 0 });
    let written = 0;
    store.listener = { written: () => written++, writeFailed: () => undefined };
    const batches = Array.from({ length: 20 }, (_, i) => batch(10 + i, i));
    const records = batches.map((b, i) => store.append(i + 1, b));
    // Read while the write is pending: served from memory.
    expectSameBatch(await store.read(records[19]!), batches[19]!);
    while (store.queuedBytes > 0) await new Promise((r) => setTimeout(r, 5));
    expect(written).toBeGreaterThan(0);
    expect(store.stats).toMatchObject({ batchesWritten: 20, errors: 0 });
    expect(store.stats.bytesWritten).toBe(records.reduce((s, r) => s + r.length, 0));
    const files = readdirSync(dir).filter((f) => f.endsWith('.spill'));
    expect(files.length).toBeGreaterThan(1);
    for (const [i, r] of records.entries()) expectSameBatch(await store.read(r), batches[i]!);
    expect(store.usedBytes).toBe(store.stats.bytesWritten);
    for (const r of records.slice(0, 10)) store.release(r);
    await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(dir).filter((f) => f.endsWith('.spill')).length).toBeLessThan(files.length);
    for (const r of records.slice(10)) store.release(r);
    await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(dir)).toEqual([]);
    expect(store.usedBytes).toBe(0);
    await settle(store);
  });

  it('a record corrupted on disk is refused (CRC), counted by the caller, and the store stops taking more', async () => {
    const dir = tempDir();
    const { store } = SpillStore.open({ dir, maxBytes: 1 << 20, logger });
    const r = store.append(1, batch(30, 1));
    while (store.queuedBytes > 0) await new Promise((res) => setTimeout(res, 5));
    const file = join(dir, readdirSync(dir)[0]!);
    const bytes = readFileSync(file);
    bytes[r.length - 3]! ^= 0xff;
    writeFileSync(file, bytes);
    await expect(store.read(r)).rejects.toThrow(/CRC mismatch/);
    store.fail(new Error('CRC mismatch'));
    expect(store.healthy).toBe(false);
    expect(store.canTake(10)).toBe(false);
    expect(store.stats.errors).toBe(1);
    await settle(store);
  });

  it('the disk bound (spillMaxMb) and the write queue bound decide what it takes', () => {
    const dir = tempDir();
    const one = spillRecordLength(batch(10, 1));
    const { store } = SpillStore.open({ dir, maxBytes: one * 3, queueBytes: one * 2, logger });
    expect(store.canTake(one * 3 + 1)).toBe(false);
    store.append(1, batch(10, 1));
    store.append(2, batch(10, 1));
    // The queue holds two records until they are written.
    expect(store.canTake(one)).toBe(false);
    return (async () => {
      while (store.queuedBytes > 0) await new Promise((res) => setTimeout(res, 5));
      expect(store.canTake(one)).toBe(true);
      store.append(3, batch(10, 1));
      expect(store.usedBytes).toBe(one * 3);
      // Full: a fourth does not fit the disk bound.
      expect(store.canTake(one)).toBe(false);
      await settle(store);
      expect(readdirSync(dir)).toEqual([]);
    })();
  });

  it('leftover files at start: counted up to a torn tail, deleted', async () => {
    const dir = tempDir();
    const { store } = SpillStore.open({ dir, maxBytes: 1 << 20, segmentBytes: 4096, logger });
    let packets = 0;
    for (let i = 1; i <= 12; i++) {
      const b = batch(5 + i, i);
      packets += b.count;
      store.append(i, b);
    }
    while (store.queuedBytes > 0) await new Promise((res) => setTimeout(res, 5));
    // A crash: files stay. Tear the last file's last record.
    const files = readdirSync(dir).sort();
    const last = join(dir, files[files.length - 1]!);
    const lastBytes = readFileSync(last);
    const rec = decoded();
    let offset = 0;
    let lastRecord = { offset: 0, packets: 0 };
    while (offset < lastBytes.length && decodeSpillRecord(lastBytes, offset, rec, false) === SpillRecordStatus.Ok) {
      lastRecord = { offset, packets: rec.packets };
      offset += rec.length;
    }
    truncateSync(last, lastRecord.offset + 11);
    writeFileSync(join(dir, 'unrelated.txt'), 'kept');
    const { store: again, leftover } = SpillStore.open({ dir, maxBytes: 1 << 20, logger });
    expect(leftover).toMatchObject({ files: files.length, batches: 11, packets: packets - lastRecord.packets, tornFiles: 1 });
    expect(readdirSync(dir)).toEqual(['unrelated.txt']);
    expect(discardLeftoverSpill(dir)).toMatchObject({ files: 0, batches: 0 });
    await settle(again);
  });

  it('refuses a directory it cannot write, naming it', () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect(() => SpillStore.open({ dir: file, maxBytes: 1 << 20, logger })).toThrow(/buffer\.spillDir .*a-file is not a writable directory/);
    if (process.getuid?.() !== 0) {
      chmodSync(dir, 0o500);
      expect(() => SpillStore.open({ dir, maxBytes: 1 << 20, logger })).toThrow(/not a writable directory/);
      chmodSync(dir, 0o700);
    }
    expect(existsSync(file)).toBe(true);
  });
});
