// The outage guarantee end to end: a real MariaDB is SIGKILLed in the middle of a stream of CDRs
// and restarted; every acknowledged CDR must be in the database exactly once afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, createPool } from 'mysql2/promise';
import { CdrWriter, LATEST_SCHEMA_VERSION, migrate, readQueueTarget } from '../src/index.js';
import { makeCall, removeTempDirs, tempDir } from './helpers.js';
import { PrivateMariaDb } from '@callscope/testing';

let server: PrivateMariaDb;
beforeAll(async () => {
  server = await PrivateMariaDb.create();
  const conn = await createConnection({ uri: server.url() });
  await conn.query('CREATE DATABASE cdr_outage');
  await conn.end();
}, 60_000);
afterAll(async () => {
  await server.destroy();
  removeTempDirs();
});

/** A writer whose statements time out after 400 ms and that retries within 300 ms (the SIGSTOP tests). */
function hangTolerantWriter(url: string, tag: string, batchSize: number): Promise<CdrWriter> {
  return CdrWriter.open({ db: url, queueDir: tempDir(tag), batchSize, flushIntervalMs: 10, retryDelayMs: 100, retryMaxDelayMs: 300, queryTimeoutMs: 400 });
}

/** Rows of `cdr` whose call_id is LIKE `pattern`, and how many distinct call_ids they hold. */
async function storedCalls(url: string, pattern: string): Promise<{ n: number; d: number }> {
  const pool = createPool({ uri: url, connectionLimit: 1 });
  try {
    const [rows] = await pool.query('SELECT COUNT(*) n, COUNT(DISTINCT call_id) d FROM cdr WHERE call_id LIKE ?', [pattern]);
    return (rows as { n: number; d: number }[])[0]!;
  } finally {
    await pool.end();
  }
}

describe('database outage (private mariadbd, SIGKILL + restart)', () => {
  it('stores exactly N CDRs with no duplicates when the server dies and returns mid-stream', async () => {
    const url = server.url('cdr_outage');
    await migrate(url);
    const logs: string[] = [];
    const writer = await CdrWriter.open({
      db: url,
      queueDir: tempDir('outage'),
      batchSize: 50,
      flushIntervalMs: 10,
      retryDelayMs: 100,
      retryMaxDelayMs: 500,
      logger: (level, msg) => logs.push(`${level} ${msg}`),
    });
    const N = 3000;
    const base = Date.now() - 3_600_000;
    const chunk = 250;
    for (let i = 0; i < N; i += chunk) {
      const acks = Array.from({ length: chunk }, (_, k) => writer.write(makeCall(i + k, base + (i + k) * 100)));
      if (i === 1000) {
        await new Promise((r) => setTimeout(r, 5)); // let batches be in flight
        await server.kill();
      }
      if (i === 2000) await server.start();
      await Promise.all(acks);
    }
    await writer.close({ drainTimeoutMs: 30_000 });
    const stats = writer.stats();
    expect(stats.queued_to_disk).toBeGreaterThan(0);
    expect(stats.replayed).toBe(stats.queued_to_disk);
    expect(stats).toMatchObject({ dropped: 0, disk_backlog: false });
    // A batch committed just before the kill whose acknowledgement was lost is replayed and found present.
    expect(stats.written + stats.already_present).toBe(N);
    expect(stats.db_errors).toBeGreaterThan(0);
    expect(logs.some((l) => l.startsWith('warn cdr writer: database unavailable'))).toBe(true);

    const pool = createPool({ uri: url, connectionLimit: 1 });
    try {
      const [cdr] = await pool.query('SELECT COUNT(*) n, COUNT(DISTINCT call_id) d FROM cdr');
      expect(cdr).toEqual([{ n: N, d: N }]);
      const [rtp] = await pool.query('SELECT COUNT(*) n FROM cdr_rtp');
      expect(rtp).toEqual([{ n: 2 * N }]);
      const [orphans] = await pool.query('SELECT COUNT(*) n FROM cdr_rtp r LEFT JOIN cdr c ON c.id = r.cdr_id WHERE c.id IS NULL');
      expect(orphans).toEqual([{ n: 0 }]);
    } finally {
      await pool.end();
    }
  }, 60_000);

  it('a hung server (SIGSTOP) times batches out to disk instead of stalling the writer', async () => {
    const url = server.url('cdr_outage');
    const writer = await hangTolerantWriter(url, 'hang', 20);
    const base = Date.now() - 7_200_000;
    await Promise.all(Array.from({ length: 40 }, (_, i) => writer.write(makeCall(50_000 + i, base + i))));
    // The healthy server takes all 40. On a loaded machine a batch may still outlast the 400 ms
    // statement timeout and reach the server through the disk queue: wait until all are stored
    // and the queue is empty, so the hang below starts from the same state either way.
    const deadline = Date.now() + 15_000;
    for (let st = writer.stats(); st.written + st.already_present < 40 || st.disk_backlog; st = writer.stats()) {
      if (Date.now() > deadline) throw new Error(`the healthy server did not take the first 40 CDRs: ${JSON.stringify(st)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    server.freeze();
    try {
      const t0 = Date.now();
      await Promise.all(Array.from({ length: 60 }, (_, i) => writer.write(makeCall(50_100 + i, base + 100 + i))));
      // Acknowledged through the disk queue within a few timeouts, not never.
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(writer.stats().queued_to_disk).toBeGreaterThanOrEqual(20);
    } finally {
      server.thaw();
    }
    await writer.close({ drainTimeoutMs: 20_000 });
    expect(writer.stats()).toMatchObject({ dropped: 0, disk_backlog: false });
    expect(writer.stats().written + writer.stats().already_present).toBe(100);
    expect(await storedCalls(url, 'call-50___@%')).toEqual({ n: 100, d: 100 });
  }, 40_000);

  it('a server that hangs (SIGSTOP) while connect() warms up: batches time out to the queue, nothing stalls, everything lands after', async () => {
    const url = server.url('cdr_outage');
    const writer = await hangTolerantWriter(url, 'warmhang', 10);
    // The warm-up (partition check, server check, PREPAREs) has started when connect() returns.
    expect(await writer.connect()).toBeNull();
    server.freeze();
    const base = Date.UTC(2026, 9, 3, 12); // a day no other test here writes: its partition is made in the warm-up's wake
    try {
      const t0 = Date.now();
      await Promise.all(Array.from({ length: 30 }, (_, i) => writer.write(makeCall(60_000 + i, base + i))));
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(writer.stats().queued_to_disk).toBeGreaterThanOrEqual(10);
    } finally {
      server.thaw();
    }
    const t1 = Date.now();
    await writer.close({ drainTimeoutMs: 20_000 });
    expect(Date.now() - t1).toBeLessThan(20_000);
    expect(writer.stats()).toMatchObject({ dropped: 0, disk_backlog: false });
    expect(writer.stats().written + writer.stats().already_present).toBe(30);
    expect(await storedCalls(url, 'call-600__@%')).toEqual({ n: 30, d: 30 });
  }, 40_000);

  it('starts while the database is down: records wait in the queue; when it appears it is created, migrated, and takes them all (issue 18, finding 5)', async () => {
    await server.stop();
    const url = server.url('cdr_born_late');
    const queueDir = tempDir('late');
    const writer = await CdrWriter.open({ db: url, queueDir, batchSize: 50, flushIntervalMs: 10, retryDelayMs: 100, retryMaxDelayMs: 300, prepareDatabase: true, sensor: 'late' });
    expect(await writer.connect()).toMatch(/ECONNREFUSED/);
    const base = Date.now() - 3_600_000;
    await Promise.all(Array.from({ length: 300 }, (_, i) => writer.write(makeCall(60_000 + i, base + i))));
    expect(writer.stats()).toMatchObject({ records: 300, queued_to_disk: 300, queue_own_records: 300, this_run_new: 0 });
    await server.start();
    await writer.close({ drainTimeoutMs: 30_000 });
    expect(writer.stats()).toMatchObject({ records: 300, this_run_new: 300, this_run_present: 0, queue_records: 0, dropped: 0 });
    expect(await server.query('SELECT COUNT(*) n, COUNT(DISTINCT call_id) d FROM cdr', 'cdr_born_late')).toEqual([{ n: 300, d: 300 }]);
    expect(await server.query('SELECT MAX(version) v FROM schema_migrations', 'cdr_born_late')).toEqual([{ v: LATEST_SCHEMA_VERSION }]);
    const uuid = (await server.query('SELECT uuid FROM instance', 'cdr_born_late'))[0]?.['uuid'];
    expect(await readQueueTarget(queueDir)).toEqual({ database: `127.0.0.1:${server.port}/cdr_born_late`, database_uuid: uuid, sensor: 'late' });
  }, 60_000);
});
