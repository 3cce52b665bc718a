// Issue 18: where every record of a writer ends up (database, queue, or lost with a reason) when
// the queue's disk is full, when the queue belongs to another database, when the database has
// been replaced. Real MariaDB (the shared server), real small tmpfs mounts for a full disk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CDR_WRITE_ERROR, CdrQueueTargetError, CdrWriteError, CdrWriter, DiskQueue, databaseKey, migrate, readQueueTarget } from '../src/index.js';
import type { CdrWriterStats } from '../src/index.js';
import { countRows, createTestDb, makeCall, removeTempDirs, tempDir } from './helpers.js';
import type { TestDb } from './helpers.js';
import type { CallRecord } from '@callscope/cdr-model';

const DEAD_URL = 'mysql://root@127.0.0.1:1/none';
const NOW = Date.now();
const mounts: string[] = [];
let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
  await migrate(db.url);
}, 60_000);
afterAll(async () => {
  // Lazily if a failed test left a writer's files open: the mount still goes, and the failure stays the test's.
  for (const m of mounts) execFileSync('umount', ['-l', m]);
  await db.drop();
  removeTempDirs();
});

/** A tmpfs of `kb` KiB mounted on a fresh directory; the test fails loudly where mounting is not allowed. */
function smallDisk(kb: number): string {
  const dir = tempDir('tmpfs');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir]);
  } catch (err) {
    throw new Error(`this test needs to mount a small tmpfs (run as root): ${String(err)}`);
  }
  mounts.push(dir);
  return dir;
}

/** Fills the filesystem of `dir` with a file until ENOSPC; returns the file. */
function fill(dir: string): string {
  const file = join(dir, 'filler');
  try {
    writeFileSync(file, Buffer.alloc(64 * 1024 * 1024));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  return file;
}

/** Every record of a closed writer is in exactly one place. */
function accounted(st: CdrWriterStats): void {
  expect(st.this_run_new + st.this_run_present + st.queue_own_records + st.dropped).toBe(st.records);
}

const calls = (from: number, n: number, base: number): CallRecord[] => Array.from({ length: n }, (_, i) => makeCall(from + i, base + i));

async function backlog(dir: string, key: string, uuid: string | null, records: CallRecord[]): Promise<void> {
  const q = await DiskQueue.open({ dir });
  await q.writeTarget({ database: key, database_uuid: uuid, sensor: 'earlier' });
  for (let i = 0; i < records.length; i += 10) {
    const batch = records.slice(i, i + 10);
    await q.append(Buffer.from(JSON.stringify({ v: 1, records: batch })), batch.length);
  }
  await q.close();
}

describe('CDR delivery (issue 18)', () => {
  it('finding 6: a queue holding records of another database is refused at open, and replayed there only with force', async () => {
    const dir = tempDir('target');
    const earlier = calls(70_000, 30, NOW - 5_000_000);
    await backlog(dir, 'db.example:3306/elsewhere', null, earlier);
    const err = await CdrWriter.open({ db: db.url, queueDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CdrQueueTargetError);
    expect((err as Error).message).toContain('belongs to the database db.example:3306/elsewhere and 30 records wait in it');
    expect(await countRows(db.pool, 'cdr')).toBe(0);
    const forced = await CdrWriter.open({ db: db.url, queueDir: dir, force: true });
    await forced.close({ drainTimeoutMs: 10_000 });
    expect(forced.stats()).toMatchObject({ earlier_replayed: 30, earlier_new: 30, queue_records: 0, records: 0 });
    expect((await readQueueTarget(dir))?.database).toBe(databaseKey(db.url));
  });

  it('finding 6: the same URL holding a recreated database (another identity) gets no replay; the records wait; force delivers them', async () => {
    const other = await createTestDb();
    try {
      await migrate(other.url);
      const [[row]] = (await other.pool.query('SELECT uuid FROM instance')) as unknown as [[{ uuid: string }]];
      const dir = tempDir('identity');
      const earlier = calls(71_000, 20, NOW - 5_100_000);
      // The queue was filled for this URL while it held the database `row.uuid`...
      await backlog(dir, databaseKey(other.url), row.uuid, earlier);
      // ...which was then dropped and created again (a new identity).
      await other.pool.query('DELETE FROM instance');
      await other.pool.query("INSERT INTO instance VALUES (1, UUID(), UTC_TIMESTAMP(6))");
      const writer = await CdrWriter.open({ db: other.url, queueDir: dir, retryDelayMs: 50, flushIntervalMs: 10 });
      expect(await writer.connect()).toMatch(/identity/);
      await Promise.all(calls(71_100, 5, NOW - 5_100_000).map((c) => writer.write(c)));
      await writer.close({ drainTimeoutMs: 500 });
      expect(writer.stats()).toMatchObject({ earlier_replayed: 0, queue_records: 25, queue_own_records: 5, records: 5, dropped: 0 });
      expect(writer.stats().target_refused).toContain(row.uuid);
      accounted(writer.stats());
      expect(await countRows(other.pool, 'cdr')).toBe(0);
      const forced = await CdrWriter.open({ db: other.url, queueDir: dir, force: true });
      await forced.close({ drainTimeoutMs: 10_000 });
      expect(forced.stats()).toMatchObject({ earlier_replayed: 25, earlier_new: 25, queue_records: 0 });
      expect(await countRows(other.pool, 'cdr')).toBe(25);
    } finally {
      await other.drop();
    }
  });

  it('finding 3: the queue disk stays full while the database is up: the backlog is replayed and new records go straight to the database', async () => {
    const disk = smallDisk(512);
    const dir = join(disk, 'q');
    mkdirSync(dir);
    const earlier = calls(72_000, 40, NOW - 5_200_000);
    await backlog(dir, databaseKey(db.url), null, earlier);
    fill(disk);
    const writer = await CdrWriter.open({ db: db.url, queueDir: dir, batchSize: 25, flushIntervalMs: 10 });
    const mine = calls(72_100, 200, NOW - 5_200_000);
    await Promise.all(mine.map((c) => writer.write(c)));
    await writer.close({ drainTimeoutMs: 10_000 });
    const st = writer.stats();
    expect(st).toMatchObject({ records: 200, this_run_new: 200, earlier_new: 40, dropped: 0, queue_records: 0 });
    accounted(st);
    const [rows] = await db.pool.query("SELECT COUNT(*) n, COUNT(DISTINCT call_id) d FROM cdr WHERE call_id LIKE 'call-72___@%'");
    expect(rows).toEqual([{ n: 240, d: 240 }]);
  });

  it('findings 1 and 3: database down and queue disk full: records wait in memory; space returns: they are queued, none torn, none lost', async () => {
    // Room for all 100 records once the filler is gone (about 2 KiB each with two streams).
    const disk = smallDisk(1024);
    const dir = join(disk, 'q');
    mkdirSync(dir);
    const filler = fill(disk);
    const writer = await CdrWriter.open({ db: DEAD_URL, queueDir: dir, batchSize: 20, flushIntervalMs: 10, retryDelayMs: 50, retryMaxDelayMs: 100, holdTimeoutMs: 20_000 });
    let settled = 0;
    const acks = calls(73_000, 100, NOW - 5_300_000).map((c) => writer.write(c).then(() => settled++));
    await new Promise((r) => setTimeout(r, 500));
    expect(settled).toBe(0);
    expect(writer.stats().disk_error).toMatch(/ENOSPC/);
    unlinkSync(filler);
    await Promise.all(acks);
    await writer.close();
    const st = writer.stats();
    expect(st).toMatchObject({ records: 100, queue_own_records: 100, dropped: 0, torn_records: 0 });
    accounted(st);
    const replay = await CdrWriter.open({ db: db.pool, queueDir: dir });
    await replay.close({ drainTimeoutMs: 10_000 });
    expect(replay.stats()).toMatchObject({ earlier_replayed: 100, earlier_new: 100, torn_records: 0, queue_records: 0 });
  });

  it('database down and queue disk full for longer than holdTimeoutMs: the records are lost, counted by reason, their write() rejected', async () => {
    const disk = smallDisk(128);
    const dir = join(disk, 'q');
    mkdirSync(dir);
    fill(disk);
    const writer = await CdrWriter.open({ db: DEAD_URL, queueDir: dir, batchSize: 20, flushIntervalMs: 10, retryDelayMs: 50, retryMaxDelayMs: 100, holdTimeoutMs: 300 });
    const results = await Promise.allSettled(calls(74_000, 50, NOW - 5_400_000).map((c) => writer.write(c)));
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof CdrWriteError && r.reason.code === CDR_WRITE_ERROR.notStored)).toBe(true);
    await writer.close();
    const st = writer.stats();
    expect(st).toMatchObject({ records: 50, dropped: 50, lost_reasons: { not_stored: 50, queue_full: 0, rejected: 0, damaged_in_queue: 0 } });
    accounted(st);
  });

  it('the queue at its size bound while the database is down: the rest is lost as queue_full, counted', async () => {
    const dir = tempDir('bound');
    const writer = await CdrWriter.open({ db: DEAD_URL, queueDir: dir, batchSize: 10, flushIntervalMs: 10, retryDelayMs: 60_000, maxDiskBytes: 20_000 });
    const results = await Promise.allSettled(calls(75_000, 100, NOW - 5_500_000).map((c) => writer.write(c)));
    await writer.close();
    const st = writer.stats();
    const lost = results.filter((r) => r.status === 'rejected').length;
    expect(lost).toBeGreaterThan(0);
    expect(st).toMatchObject({ records: 100, dropped: lost, lost_reasons: { queue_full: lost } });
    expect(st.queue_own_records).toBe(100 - lost);
    accounted(st);
  });
});
