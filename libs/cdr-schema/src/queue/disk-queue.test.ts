import { afterAll, describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { execFileSync, spawn } from 'node:child_process';
import { buildSync } from 'esbuild';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { DiskQueue } from './disk-queue.js';
import { QueueLockedError } from './queue-lock.js';
import { queueStatus, verifyQueue } from './queue-inspect.js';
import { RECORD_HEADER_BYTES } from './queue-record.js';

const created: string[] = [];
const mounts: string[] = [];
const dirOf = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cdr-dq-'));
  created.push(dir);
  return dir;
};
afterAll(() => {
  for (const m of mounts) execFileSync('umount', ['-l', m]);
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});
const payload = (n: number) => Buffer.from(JSON.stringify({ v: 1, records: [n], pad: 'x'.repeat(n % 50) }));
const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();

async function drain(q: DiskQueue): Promise<number[]> {
  const out: number[] = [];
  for (let p = await q.peek(); p !== null; p = await q.peek()) {
    out.push(...(JSON.parse(p.payload.toString()) as { records: number[] }).records);
    await q.ack();
  }
  return out;
}

describe('DiskQueue', () => {
  it('returns records in append order across segments, counts them, and reclaims replayed segments', async () => {
    const dir = dirOf();
    const q = await DiskQueue.open({ dir, segmentBytes: 300 });
    for (let i = 0; i < 20; i++) expect(await q.append(payload(i), 1)).toBe(true);
    expect(q.stats()).toMatchObject({ records: 20, own_records: 20 });
    expect(q.stats().segments).toBeGreaterThan(2);
    expect(q.hasBacklog()).toBe(true);
    expect(await q.peek()).toEqual(await q.peek()); // peek without ack is stable
    expect(await drain(q)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(q.hasBacklog()).toBe(false);
    expect(q.stats()).toMatchObject({ records: 0, own_records: 0 });
    expect(segments(dir)).toEqual([]);
    // Appends after a full drain start a new segment and are read again.
    await q.append(payload(99), 1);
    expect(await drain(q)).toEqual([99]);
    await q.close();
  });

  it('a reopened queue resumes after the last acknowledged record; its records are not "own"', async () => {
    const dir = dirOf();
    const q = await DiskQueue.open({ dir });
    for (let i = 0; i < 5; i++) await q.append(payload(i), 1);
    await q.peek();
    await q.ack();
    await q.peek();
    await q.ack();
    await q.close();
    const again = await DiskQueue.open({ dir });
    expect(again.stats()).toMatchObject({ records: 3, own_records: 0 });
    expect(again.stats().oldest_ms).toBeGreaterThan(Date.now() - 60_000);
    expect((await again.peek())?.own).toBe(false);
    expect(await drain(again)).toEqual([2, 3, 4]);
    await again.close();
  });

  it('one writer per directory: a second open is refused naming the holder, and free again after close', async () => {
    const dir = dirOf();
    const q = await DiskQueue.open({ dir, owner: 'sniffer analyze' });
    const err = await DiskQueue.open({ dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueLockedError);
    expect((err as Error).message).toContain(`pid ${process.pid} (sniffer analyze`);
    expect((await queueStatus(dir)).locked_by?.pid).toBe(process.pid);
    await q.close();
    const next = await DiskQueue.open({ dir });
    await next.close();
  });

  it('a lock held by a SIGKILLed process is free: the kernel drops it with the process', async () => {
    const dir = dirOf();
    // The real module, bundled for a plain node child (Node 20 runs no TypeScript).
    const bundle = join(dirOf(), 'queue.mjs');
    buildSync({ entryPoints: [new URL('./disk-queue.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'silent' });
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(bundle)}); await m.DiskQueue.open({ dir: ${JSON.stringify(dir)}, owner: 'child' }); console.log('held'); setInterval(() => {}, 1000);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('held')) resolve();
      });
      child.once('exit', (code) => {
        reject(new Error(`child exited ${String(code)}`));
      });
    });
    expect(await DiskQueue.open({ dir }).catch((e: unknown) => (e as Error).message)).toContain('(child, since');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const q = await DiskQueue.open({ dir });
    await q.close();
  });

  it('skips a torn tail and a damaged record exactly, resumes at the next valid one, and counts what it skipped', async () => {
    const dir = dirOf();
    const q = await DiskQueue.open({ dir });
    for (let i = 0; i < 3; i++) await q.append(payload(i), 1);
    await q.close();
    const seg = join(dir, segments(dir)[0]!);
    appendFileSync(seg, Buffer.from([0x43, 0x53, 0x51, 0x32, 0, 0, 1])); // header cut mid-way
    const torn = await DiskQueue.open({ dir });
    expect(await drain(torn)).toEqual([0, 1, 2]);
    expect(torn.stats()).toMatchObject({ torn: 1, torn_bytes: 7, torn_records: 0 });
    await torn.close();

    // A payload byte of record 1 of 5 flipped: only record 1 is lost (its header says 1 CDR).
    const dir2 = dirOf();
    const q2 = await DiskQueue.open({ dir: dir2 });
    for (let i = 0; i < 5; i++) await q2.append(payload(i), 1);
    await q2.close();
    const seg2 = join(dir2, segments(dir2)[0]!);
    const bytes = readFileSync(seg2);
    const second = RECORD_HEADER_BYTES + payload(0).length;
    bytes[second + RECORD_HEADER_BYTES + 3]! ^= 0xff;
    writeFileSync(seg2, bytes);
    expect((await verifyQueue(dir2)).damage).toEqual([{ segment: segments(dir2)[0], offset: second, bytes: RECORD_HEADER_BYTES + payload(1).length, records: 1, reason: 'checksum mismatch' }]);
    const bad = await DiskQueue.open({ dir: dir2 });
    expect(await drain(bad)).toEqual([0, 2, 3, 4]);
    expect(bad.stats()).toMatchObject({ torn: 1, torn_records: 1 });
    await bad.close();

    // Header of record 1 zeroed: the bytes up to record 2 are skipped, records 2.. are replayed.
    const dir3 = dirOf();
    const q3 = await DiskQueue.open({ dir: dir3 });
    for (let i = 0; i < 5; i++) await q3.append(payload(i), 1);
    await q3.close();
    const seg3 = join(dir3, segments(dir3)[0]!);
    const b3 = readFileSync(seg3);
    b3.fill(0, second, second + 10);
    writeFileSync(seg3, b3);
    expect((await queueStatus(dir3)).records).toBe(4);
    const z = await DiskQueue.open({ dir: dir3 });
    expect(await drain(z)).toEqual([0, 2, 3, 4]);
    expect(z.stats()).toMatchObject({ torn: 1, torn_bytes: RECORD_HEADER_BYTES + payload(1).length });
    await z.close();
  });

  it('reads a queue left by an older sniffer (version 1 records and cursor.json)', async () => {
    const dir = dirOf();
    const v1 = (n: number) => {
      const p = payload(n);
      const h = Buffer.alloc(12);
      h.writeUInt32BE(0x43534451, 0);
      h.writeUInt32BE(p.length, 4);
      h.writeUInt32BE(crc32(p), 8);
      return Buffer.concat([h, p]);
    };
    writeFileSync(join(dir, 'q-000000000001.seg'), Buffer.concat([v1(0), v1(1), v1(2)]));
    writeFileSync(join(dir, 'cursor.json'), JSON.stringify({ seq: 1, offset: v1(0).length }));
    expect((await queueStatus(dir)).records).toBe(2);
    const q = await DiskQueue.open({ dir });
    expect(await drain(q)).toEqual([1, 2]);
    await q.close();
  });

  it('refuses appends beyond maxBytes without writing anything', async () => {
    const dir = dirOf();
    const q = await DiskQueue.open({ dir, maxBytes: 120 });
    expect(await q.append(Buffer.alloc(80), 1)).toBe(true);
    expect(await q.append(Buffer.alloc(10), 1)).toBe(false);
    expect(q.stats().bytes).toBe(108);
    expect(statSync(join(dir, segments(dir)[0]!)).size).toBe(108);
    await q.close();
  });

  it('a full disk: the failed append leaves no byte behind, the next one starts a new segment, the cursor still moves', async () => {
    const dir = dirOf();
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
    } catch (err) {
      throw new Error(`this test needs to mount a small tmpfs (run as root): ${String(err)}`);
    }
    mounts.push(dir);
    const qdir = join(dir, 'q');
    mkdirSync(qdir);
    const q = await DiskQueue.open({ dir: qdir });
    writeFileSync(join(dir, 'filler'), Buffer.alloc(64 * 1024));
    const big = (n: number) => Buffer.from(JSON.stringify({ v: 1, records: [n], pad: 'y'.repeat(20_000) }));
    let acked = 0;
    let failure: NodeJS.ErrnoException | null = null;
    for (let i = 0; i < 100 && failure === null; i++) {
      try {
        await q.append(big(i), 1);
        acked++;
      } catch (err) {
        failure = err as NodeJS.ErrnoException;
      }
    }
    expect(failure?.code).toBe('ENOSPC');
    const before = segments(qdir);
    const sizes = before.map((f) => statSync(join(qdir, f)).size);
    // Every byte on disk is a whole acknowledged record.
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(Array.from({ length: acked }, (_, i) => RECORD_HEADER_BYTES + big(i).length).reduce((a, b) => a + b, 0));
    // The cursor is rewritten in place, so replay goes on while the disk is full.
    await q.peek();
    await q.ack();
    await q.peek();
    await q.ack();
    expect(existsSync(join(qdir, 'cursor.json.tmp'))).toBe(false);
    // Space comes back: the next append goes to a new segment, never behind the failed one.
    unlinkSync(join(dir, 'filler'));
    expect(await q.append(big(1000), 1)).toBe(true);
    expect(segments(qdir)).toHaveLength(before.length + 1);
    await q.close();
    const again = await DiskQueue.open({ dir: qdir });
    expect(again.stats().records).toBe(acked - 1);
    await again.close();
    const verified = await verifyQueue(qdir);
    expect(verified).toMatchObject({ records: acked - 1, damage: [] });
  });
});

describe('DiskQueue on arbitrary segment bytes', () => {
  test.prop([fc.uint8Array({ maxLength: 400 }), fc.nat({ max: 5 })], { numRuns: 60 })('never throws, yields only checksummed records, and every record after the junk', async (junk, after) => {
    const dir = dirOf();
    const q = await DiskQueue.open({ dir });
    await q.append(payload(7), 1);
    await q.close();
    const seg = join(dir, segments(dir)[0]!);
    appendFileSync(seg, junk);
    // Records appended behind the junk by hand, as another segment's bytes would be.
    const tail = await DiskQueue.open({ dir: dirOf() });
    for (let i = 0; i < after; i++) await tail.append(payload(100 + i), 1);
    await tail.close();
    const tailDir = created.at(-1)!;
    if (after > 0) appendFileSync(seg, readFileSync(join(tailDir, segments(tailDir)[0]!)));
    const again = await DiskQueue.open({ dir });
    const got = await drain(again);
    expect(got[0]).toBe(7);
    expect(got.slice(-after || got.length)).toEqual(after === 0 ? got.slice(got.length) : Array.from({ length: after }, (_, i) => 100 + i));
    expect(again.hasBacklog()).toBe(false);
    await again.close();
  });
});
