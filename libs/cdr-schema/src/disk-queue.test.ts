import { afterAll, describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskQueue } from './disk-queue.js';

const created: string[] = [];
const dirOf = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cdr-dq-'));
  created.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});
const payload = (n: number) => Buffer.from(JSON.stringify({ n, pad: 'x'.repeat(n % 50) }));

async function drain(q: DiskQueue): Promise<number[]> {
  const out: number[] = [];
  for (let p = await q.peek(); p !== null; p = await q.peek()) {
    out.push((JSON.parse(p.toString()) as { n: number }).n);
    await q.ack();
  }
  return out;
}

describe('DiskQueue', () => {
  it('returns records in append order across segments and reclaims replayed segments', async () => {
    const dir = dirOf();
    const q = await DiskQueue.open({ dir, segmentBytes: 300 });
    for (let i = 0; i < 20; i++) expect(await q.append(payload(i))).toBe(true);
    expect(q.stats().segments).toBeGreaterThan(2);
    expect(q.hasBacklog()).toBe(true);
    expect(await q.peek()).toEqual(await q.peek()); // peek without ack is stable
    expect(await drain(q)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(q.hasBacklog()).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg'))).toEqual([]);
    // Appends after a full drain start a new segment and are read again.
    await q.append(payload(99));
    expect(await drain(q)).toEqual([99]);
    await q.close();
  });

  it('a reopened queue resumes after the last acknowledged record', async () => {
    const dir = dirOf();
    const q = await DiskQueue.open({ dir });
    for (let i = 0; i < 5; i++) await q.append(payload(i));
    await q.peek();
    await q.ack();
    await q.peek();
    await q.ack();
    await q.close();
    const again = await DiskQueue.open({ dir });
    expect(await drain(again)).toEqual([2, 3, 4]);
    await again.close();
  });

  it('skips a torn tail (short record) and a checksum mismatch, counting each', async () => {
    const dir = dirOf();
    const q = await DiskQueue.open({ dir });
    for (let i = 0; i < 3; i++) await q.append(payload(i));
    await q.close();
    const seg = join(dir, readdirSync(dir).find((f) => f.endsWith('.seg'))!);
    appendFileSync(seg, Buffer.from([0x43, 0x53, 0x44, 0x51, 0, 0, 1])); // header cut mid-way
    const torn = await DiskQueue.open({ dir });
    expect(await drain(torn)).toEqual([0, 1, 2]);
    expect(torn.stats()).toMatchObject({ torn: 1, torn_bytes: 7 });
    await torn.close();

    const dir2 = dirOf();
    const q2 = await DiskQueue.open({ dir: dir2 });
    for (let i = 0; i < 3; i++) await q2.append(payload(i));
    await q2.close();
    const seg2 = join(dir2, readdirSync(dir2).find((f) => f.endsWith('.seg'))!);
    const bytes = readFileSync(seg2);
    const second = 12 + payload(0).length;
    bytes[second + 12 + 3]! ^= 0xff; // flip a payload byte of record 1
    writeFileSync(seg2, bytes);
    const bad = await DiskQueue.open({ dir: dir2 });
    expect(await drain(bad)).toEqual([0]);
    expect(bad.stats().torn).toBe(1);
    await bad.close();
  });

  it('refuses appends beyond maxBytes without writing anything', async () => {
    const dir = dirOf();
    const q = await DiskQueue.open({ dir, maxBytes: 100 });
    expect(await q.append(Buffer.alloc(80))).toBe(true);
    expect(await q.append(Buffer.alloc(10))).toBe(false);
    expect(q.stats().bytes).toBe(92);
    const seg = readdirSync(dir).find((f) => f.endsWith('.seg'))!;
    expect(statSync(join(dir, seg)).size).toBe(92);
    await q.close();
  });
});

describe('DiskQueue on arbitrary segment bytes', () => {
  test.prop([fc.uint8Array({ maxLength: 400 })], { numRuns: 40 })('never throws and yields only checksummed records', async (junk) => {
    const dir = dirOf();
    const q = await DiskQueue.open({ dir });
    await q.append(payload(7));
    await q.close();
    const seg = join(dir, readdirSync(dir).find((f) => f.endsWith('.seg'))!);
    appendFileSync(seg, junk);
    const again = await DiskQueue.open({ dir });
    const got = await drain(again);
    expect(got[0]).toBe(7);
    expect(again.hasBacklog()).toBe(false);
    await again.close();
  });
});
