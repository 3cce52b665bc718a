import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPool } from 'mysql2/promise';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import {
  CDR_WRITE_ERROR,
  CdrWriter,
  applyRetention,
  getCall,
  migrate,
  readPartitions,
  searchCalls,
  searchRegistrations,
} from '../src/index.js';
// Details of the writer, tested here but not part of the package's surface.
import { supportsInsertReturning } from '../src/cdr-writer.js';
import { CDR_COLUMNS, RTP_COLUMNS } from '../src/cdr-row.js';
import { countRows, createTestDb, isoAt, makeBareCall, makeCall, makeRegister, removeTempDirs, tempDir } from './helpers.js';
import type { TestDb } from './helpers.js';
import type { CallRecord } from '@callscope/cdr-model';

let db: TestDb;
const NOW = Date.now();
/** A URL nobody listens on: port 1 on loopback refuses at once. */
const DEAD_URL = 'mysql://root@127.0.0.1:1/none';

beforeAll(async () => {
  db = await createTestDb();
  await migrate(db.pool);
});
afterAll(async () => {
  await db.drop();
  removeTempDirs();
});

async function idOf(callId: string): Promise<number> {
  const [rows] = await db.pool.query('SELECT id FROM cdr WHERE call_id = ?', [callId]);
  const list = rows as { id: number | string }[];
  expect(list).toHaveLength(1);
  return Number(list[0]!.id);
}

describe('supportsInsertReturning', () => {
  it.each([
    ['10.11.19-MariaDB-0+deb12u1', true],
    ['10.5.0-MariaDB', true],
    ['11.4.2-MariaDB-log', true],
    ['10.4.34-MariaDB', false],
    ['5.5.5-10.11.6-MariaDB', false], // the old replication prefix some proxies still send
    ['8.0.36', false],
    ['8.4.0-mysql', false],
    ['', false],
  ])('%j -> %s', (version, expected) => {
    expect(supportsInsertReturning(version)).toBe(expected);
  });
});

describe('CdrWriter on a real MariaDB', () => {
  it('batches in flight on a new day split its partition once, without a false warning', async () => {
    // Regression: three batches of the same new day raced to split its partition; the losers
    // logged "partition split failed; rows stay in the catch-all partition" though the day had
    // its partition (seen on every `npm start` of a fresh database).
    const warnings: string[] = [];
    const writer = await CdrWriter.open({
      db: db.pool,
      queueDir: tempDir('days'),
      batchSize: 4,
      concurrency: 3,
      flushIntervalMs: 10_000,
      logger: (_level, msg) => {
        if (msg.includes('partition')) warnings.push(msg);
      },
    });
    const day = Date.UTC(2026, 10, 20, 12); // a past day no other test writes, so no partition yet
    await Promise.all(Array.from({ length: 24 }, (_, i) => writer.write(makeCall(7000 + i, day + i * 1000))));
    await writer.close();
    expect(warnings).toEqual([]);
    const parts = (await readPartitions(db.pool)).get('cdr')!;
    expect(parts.filter((p) => p.name === 'p20261120')).toHaveLength(1);
  });

  it('connect() prepares the full batch INSERTs on each flight connection in the background, without parameter definitions', async () => {
    // The writer's own pool on the test database, its connections' prepare() recorded.
    const pool = createPool({ uri: db.url, connectionLimit: 4, dateStrings: true });
    const prepared: { thread: number; sql: string; definitions: number }[] = [];
    const seen = new WeakSet<object>();
    const getConnection = pool.getConnection.bind(pool);
    pool.getConnection = async () => {
      const conn = await getConnection();
      if (!seen.has(conn)) {
        seen.add(conn);
        const prepare = conn.prepare.bind(conn);
        conn.prepare = async (options: Parameters<typeof prepare>[0]) => {
          const info = await prepare(options);
          const sql = typeof options === 'string' ? options : options.sql;
          prepared.push({ thread: conn.threadId, sql, definitions: (info as unknown as { statement: { parameters: unknown[] } }).statement.parameters.length });
          return info;
        };
      }
      return conn;
    };
    const writer = await CdrWriter.open({ db: pool, queueDir: tempDir('warm'), batchSize: 20, concurrency: 3, flushIntervalMs: 20 });
    try {
      expect(await writer.connect()).toBeNull();
      for (let waited = 0; prepared.length < 6 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      const placeholders = (sql: string): number => sql.split('?').length - 1;
      expect(new Set(prepared.map((p) => p.thread)).size).toBe(3);
      for (const thread of new Set(prepared.map((p) => p.thread))) {
        const mine = prepared.filter((p) => p.thread === thread);
        expect(mine.map((p) => [p.sql.slice(0, 18), placeholders(p.sql)])).toEqual([
          ['INSERT INTO `cdr` ', 20 * CDR_COLUMNS.length],
          ['INSERT INTO `cdr_r', 40 * RTP_COLUMNS.length],
        ]);
        expect(mine.every((p) => p.definitions === 0)).toBe(true);
      }
      // The batches then run on those statements.
      const calls = Array.from({ length: 40 }, (_, i) => makeCall(7400 + i, NOW - 7_200_000 + i * 1000));
      await Promise.all(calls.map((c) => writer.write(c)));
    } finally {
      // Every timer close() starts has fired or been cleared once it resolves: a pending one would
      // keep a command's process alive after its work (a 1 s wait on the warm-up once did).
      const started: NodeJS.Timeout[] = [];
      const realSetTimeout = globalThis.setTimeout;
      const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation((fn: () => void, ms?: number) => {
        const t = realSetTimeout(fn, ms);
        started.push(t);
        return t;
      });
      try {
        await writer.close();
      } finally {
        spy.mockRestore();
      }
      // Node marks a timeout that fired or was cleared as destroyed.
      expect(started.filter((t) => !(t as unknown as { _destroyed: boolean })._destroyed)).toHaveLength(0);
      await pool.end();
    }
    expect(writer.stats()).toMatchObject({ written: 40, batches: 2, dropped: 0, db_errors: 0 });
  });

  it('round-trips every field of a call, with and without optional parts', async () => {
    const writer = await CdrWriter.open({ db: db.pool, queueDir: tempDir('rt'), flushIntervalMs: 20 });
    const full = makeCall(1, NOW - 3_600_000);
    const bare = makeBareCall(2, NOW - 3_500_000);
    await Promise.all([writer.write(full), writer.write(bare)]);
    await writer.close();
    for (const call of [full, bare]) {
      const id = await idOf(call.call_id);
      const { id: _id, ...got } = (await getCall(db.pool, id))!;
      expect(got).toEqual(call);
      expect(await getCall(db.pool, id, call.start)).toMatchObject({ call_id: call.call_id });
    }
    const [rows] = await db.pool.query(
      'SELECT caller_reverse, a_packets, b_packets, a_mos_adapt, b_mos_adapt, mos_worst, LENGTH(caller_ip) AS v4, LENGTH(callee_ip) AS v6 FROM cdr WHERE call_id = ?',
      [full.call_id],
    );
    expect((rows as unknown[])[0]).toEqual({
      caller_reverse: Array.from(full.caller).reverse().join(''),
      a_packets: 1500,
      b_packets: 1490,
      a_mos_adapt: 4.41,
      b_mos_adapt: 3.2,
      mos_worst: 3.2,
      v4: 4,
      v6: 16,
    });
    expect(writer.stats()).toMatchObject({ written: 2, queued_to_disk: 0, dropped: 0, db_errors: 0, pending: 0 });
  });

  it('issue 12 finding 7: Call-IDs longer than 255 sharing their first 255 and their start stay two rows; written counts new rows', async () => {
    // Regression: uk_call held VARCHAR(255) Call-IDs cut by the writer, so two 300-char Call-IDs
    // with the same first 255 characters and the same start merged into one row while the stats
    // still said 3 written.
    const base = NOW - 4_000_000;
    const prefix = 'x'.repeat(255);
    const longA = makeCall(40_001, base, { call_id: `${prefix}${'a'.repeat(45)}` });
    const longB = makeCall(40_002, base, { call_id: `${prefix}${'b'.repeat(45)}` });
    const normal = makeCall(40_003, base);
    const batch = [longA, longB, normal];
    const count = async () => {
      const [rows] = await db.pool.query('SELECT COUNT(*) n FROM cdr WHERE call_id LIKE ? OR call_id = ?', [`${prefix}%`, normal.call_id]);
      return Number((rows as { n: number | string }[])[0]!.n);
    };
    const first = await CdrWriter.open({ db: db.pool, queueDir: tempDir('long1'), flushIntervalMs: 20 });
    await Promise.all(batch.map((c) => first.write(c)));
    await first.close();
    expect(await count()).toBe(3);
    expect(first.stats()).toMatchObject({ written: 3, already_present: 0, dropped: 0 });
    // The whole Call-ID is stored, and each call keeps its own streams.
    for (const call of [longA, longB]) {
      const { id: _id, ...got } = (await getCall(db.pool, await idOf(call.call_id), call.start))!;
      expect(got).toEqual(call);
    }
    // Replayed: nothing new, each record counted as already present.
    const again = await CdrWriter.open({ db: db.pool, queueDir: tempDir('long2'), flushIntervalMs: 20 });
    await Promise.all(batch.map((c) => again.write(c)));
    await again.close();
    expect(await count()).toBe(3);
    expect(again.stats()).toMatchObject({ written: 0, already_present: 3, dropped: 0 });
  });

  it('a Call-ID beyond CALL_ID_MAX_CHARS is stored cut and counted, keyed whole: no merge, found by its whole text', async () => {
    const base = NOW - 4_100_000;
    const prefix = 'y'.repeat(1024);
    const a = makeCall(41_001, base, { call_id: `${prefix}-a` });
    const b = makeCall(41_002, base, { call_id: `${prefix}-b` });
    for (const insertReturning of [true, false]) {
      const writer = await CdrWriter.open({ db: db.pool, queueDir: tempDir('huge'), flushIntervalMs: 20, insertReturning });
      await Promise.all([a, b].map((c) => writer.write(c)));
      await writer.close();
      const expected = insertReturning ? { written: 2, already_present: 0 } : { written: 0, already_present: 2 };
      expect(writer.stats()).toMatchObject({ ...expected, long_call_ids: 2, truncated_fields: 2, dropped: 0 });
    }
    const [rows] = await db.pool.query('SELECT call_id FROM cdr WHERE call_id = ?', [prefix]);
    expect(rows).toEqual([{ call_id: prefix }, { call_id: prefix }]);
    const range = { from: isoAt(base, -1), to: isoAt(base, 5) };
    for (const call of [a, b]) {
      const found = await searchCalls(db.pool, { ...range, call_id: call.call_id });
      expect(found).toHaveLength(1);
      const got = (await getCall(db.pool, found[0]!.id, call.start))!;
      expect(got.streams).toEqual(call.streams);
      expect(got.caller).toBe(call.caller);
    }
  });

  it('dropped: round-trips per key, null stays null, a record queued before the field existed reads back null; incomplete filter', async () => {
    const base = NOW - 4_200_000;
    const complete = makeCall(42_001, base, { dropped: null });
    const partial = makeCall(42_002, base + 1000, { dropped: { rtp_streams_over_cap: 2, rtp_packets_over_cap: 4_000_000_000, rtp_malformed: 0, rtcp_malformed: 7, sip_oversize: 1 } });
    const zeros = makeCall(42_003, base + 2000, { dropped: { rtp_streams_over_cap: 0, rtp_packets_over_cap: 0, rtp_malformed: 0, rtcp_malformed: 0, sip_oversize: 0 } });
    // As the on-disk queue of an older sniffer holds it: no `dropped` key at all.
    const legacy = makeCall(42_004, base + 3000);
    delete (legacy as Partial<CallRecord>).dropped;
    const dir = tempDir('legacy');
    const dead = await CdrWriter.open({ db: DEAD_URL, queueDir: dir, retryDelayMs: 60_000, flushIntervalMs: 10 });
    await dead.write(legacy);
    expect(dead.stats().queued_to_disk).toBe(1);
    await dead.close(); // one writer per queue: the next one opens it after this one is gone
    const writer = await CdrWriter.open({ db: db.pool, queueDir: dir, flushIntervalMs: 20 });
    await Promise.all([complete, partial, zeros].map((c) => writer.write(c)));
    await writer.close();
    expect(writer.stats()).toMatchObject({ written: 4, replayed: 1, dropped: 0 });
    for (const call of [complete, partial, zeros]) {
      const { id: _id, ...got } = (await getCall(db.pool, await idOf(call.call_id), call.start))!;
      expect(got).toEqual(call);
    }
    expect((await getCall(db.pool, await idOf(legacy.call_id)))!.dropped).toBeNull();
    const range = { from: isoAt(base, -1), to: isoAt(base, 10) };
    const ids = async (incomplete: boolean) => (await searchCalls(db.pool, { ...range, incomplete })).map((r) => [r.call_id, r.incomplete]);
    expect(await ids(true)).toEqual([[partial.call_id, true]]);
    expect(await ids(false)).toEqual([[legacy.call_id, false], [zeros.call_id, false], [complete.call_id, false]]);
  });

  it('round-trips registrations into register and register_failed', async () => {
    const writer = await CdrWriter.open({ db: db.url, queueDir: tempDir('reg'), flushIntervalMs: 20 });
    const regs = [makeRegister(1, NOW, 'ok'), makeRegister(2, NOW, 'auth_failed'), makeRegister(3, NOW, 'timeout')];
    await Promise.all(regs.map((r) => writer.write(r)));
    await writer.close();
    const range = { from: isoAt(NOW, -10), to: isoAt(NOW, 10) };
    expect(await searchRegistrations(db.pool, range)).toEqual([regs[0]]);
    const failed = await searchRegistrations(db.pool, { ...range, failed: true });
    expect(failed.sort((a, b) => a.user.localeCompare(b.user))).toEqual([regs[1], regs[2]]);
  });

  it('is idempotent: a replayed batch (same records, new writer) duplicates neither cdr nor child rows', async () => {
    const base = NOW - 7_200_000;
    const calls = Array.from({ length: 40 }, (_, i) => makeCall(1000 + i, base + i * 1000));
    const before = { cdr: await countRows(db.pool, 'cdr'), rtp: await countRows(db.pool, 'cdr_rtp') };
    for (let round = 0; round < 2; round++) {
      const writer = await CdrWriter.open({ db: db.pool, queueDir: tempDir('idem'), batchSize: 16 });
      // Round two also mixes new and already-stored records in one batch.
      const extra = round === 1 ? [makeCall(2000, base)] : [];
      await Promise.all([...calls, ...extra].map((c) => writer.write(c)));
      await writer.close();
    }
    expect(await countRows(db.pool, 'cdr')).toBe(before.cdr + 41);
    expect(await countRows(db.pool, 'cdr_rtp')).toBe(before.rtp + 82);
    const [dups] = await db.pool.query('SELECT cdr_id, idx, COUNT(*) n FROM cdr_sip_response GROUP BY cdr_id, idx HAVING n > 1');
    expect(dups).toEqual([]);
    const [sensors] = await db.pool.query('SELECT name FROM sensors');
    expect(sensors).toEqual([{ name: 'sensor-a' }]);
  });

  it.each([
    ['INSERT ... RETURNING', true],
    ['SELECT read-back (MySQL)', false],
  ])('ids via %s: a replay with new and stored calls links every child to its own call, once', async (_label, insertReturning) => {
    const base = NOW - 5_400_000 - (insertReturning ? 0 : 60_000);
    const offset = insertReturning ? 20_000 : 21_000;
    // Varied child counts and a batch size that is no power of two: several statement shapes.
    const calls = Array.from({ length: 45 }, (_, i) => {
      const c = makeCall(offset + i, base + i * 1000);
      c.streams = c.streams.concat(c.streams).slice(0, i % 4);
      c.dtmf = c.dtmf.slice(0, i % 3);
      return c;
    });
    for (const [batch, present] of [[calls.slice(0, 20), 0], [calls, 20]] as const) {
      const writer = await CdrWriter.open({ db: db.pool, queueDir: tempDir('ids'), batchSize: 13, insertReturning });
      await Promise.all(batch.map((c) => writer.write(c)));
      await writer.close();
      // What the database confirmed: the 20 calls of the first round are already present in the second.
      expect(writer.stats()).toMatchObject({ written: batch.length - present, already_present: present, dropped: 0, db_errors: 0 });
    }
    const [counts] = await db.pool.query(
      `SELECT COUNT(DISTINCT c.id) calls, COUNT(r.idx) streams FROM cdr c LEFT JOIN cdr_rtp r ON r.cdr_id = c.id AND r.start = c.start
       WHERE c.call_id LIKE ?`,
      [`call-${String(offset).slice(0, 3)}__@%`],
    );
    expect(counts).toEqual([{ calls: 45, streams: calls.reduce((n, c) => n + c.streams.length, 0) }]);
    for (const call of [calls[3]!, calls[22]!, calls[44]!]) {
      const { id: _id, ...got } = (await getCall(db.pool, await idOf(call.call_id), call.start))!;
      expect(got).toEqual(call);
    }
  });

  it('keeps sensors.first_seen/last_seen the span of everything written, across batches and writers', async () => {
    const base = NOW - 8_000_000;
    const sensor = 'sensor-span';
    const span = async () => {
      const [rows] = await db.pool.query(
        "SELECT DATE_FORMAT(first_seen, '%Y-%m-%d %H:%i:%s.%f') f, DATE_FORMAT(last_seen, '%Y-%m-%d %H:%i:%s.%f') l FROM sensors WHERE name = ?",
        [sensor],
      );
      return (rows as { f: string; l: string }[]).map((r) => [r.f, r.l]);
    };
    const sql = (iso: string) => iso.replace('T', ' ').replace('Z', '');
    const a = makeCall(30_001, base, { sensor });
    const later = makeCall(30_002, base + 600_000, { sensor });
    const earlier = makeCall(30_003, base - 600_000, { sensor });
    const writer = await CdrWriter.open({ db: db.pool, queueDir: tempDir('span'), batchSize: 1 });
    await writer.write(a);
    expect(await span()).toEqual([[sql(a.start), sql(a.end)]]);
    await writer.write(later); // the cached sensor is widened inside the batch's transaction
    expect(await span()).toEqual([[sql(a.start), sql(later.end)]]);
    await writer.write(a); // inside the known span: nothing to widen
    await writer.close();
    const next = await CdrWriter.open({ db: db.pool, queueDir: tempDir('span2'), batchSize: 1 });
    await next.write(earlier);
    await next.close();
    expect(await span()).toEqual([[sql(earlier.start), sql(later.end)]]);
  });

  it('search: date range plus caller prefix/suffix, Call-ID, MOS below, sensor', async () => {
    const base = NOW - 1_800_000;
    const writer = await CdrWriter.open({ db: db.pool, queueDir: tempDir('search') });
    const good = makeCall(5001, base, { caller: '49301234567', sensor: 'sensor-b' });
    const bad = makeCall(5002, base + 1000, { caller: '49309999567' });
    bad.streams[0]!.mos_adapt = 2.1;
    await Promise.all([writer.write(good), writer.write(bad)]);
    await writer.close();
    const range = { from: isoAt(base, -1), to: isoAt(base, 5) };
    const ids = async (f: object) => (await searchCalls(db.pool, { ...range, ...f })).map((r) => r.call_id).sort();
    expect(await ids({ caller_prefix: '4930' })).toEqual([good.call_id, bad.call_id]);
    expect(await ids({ caller_suffix: '4567' })).toEqual([good.call_id]);
    expect(await ids({ caller_prefix: '4930_' })).toEqual([]); // LIKE wildcards are escaped
    expect(await ids({ call_id: bad.call_id })).toEqual([bad.call_id]);
    expect(await ids({ mos_below: 3 })).toEqual([bad.call_id]);
    expect(await ids({ sensor: 'sensor-b' })).toEqual([good.call_id]);
    // Newest first, and the limit applies after the filters (the keys are found first, then read).
    expect((await searchCalls(db.pool, { ...range, limit: 1 })).map((r) => r.call_id)).toEqual([bad.call_id]);
    expect((await searchCalls(db.pool, { ...range, caller_prefix: '4930', limit: 1 })).map((r) => r.call_id)).toEqual([bad.call_id]);
    expect((await searchCalls(db.pool, { ...range, mos_below: 3.3, limit: 2 })).map((r) => r.call_id)).toEqual([bad.call_id, good.call_id]);
    const [row] = await searchCalls(db.pool, { ...range, call_id: good.call_id });
    expect(row).toMatchObject({ caller_ip: '192.0.2.10', callee_ip: '2001:db8::5', sensor: 'sensor-b', mos_worst: 3.2 });
  });

  it('retention drops whole daily partitions of past days and keeps recent ones', async () => {
    const day = 86_400_000;
    const writer = await CdrWriter.open({ db: db.pool, queueDir: tempDir('ret') });
    const old = [10, 20, 30].map((d) => makeCall(7000 + d, NOW - d * day));
    const recent = makeCall(7100, NOW - 2 * day);
    await Promise.all([...old, recent, makeRegister(70, NOW - 20 * day, 'failed')].map((c) => writer.write(c)));
    await writer.close();
    const parts = (await readPartitions(db.pool)).get('cdr')!.map((p) => p.name);
    const name = (ms: number) => `p${new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')}`;
    for (const c of [...old, recent]) expect(parts).toContain(name(Date.parse(c.start)));
    const result = await applyRetention(db.pool, 5);
    for (const c of old) {
      expect(result.dropped).toContain(`cdr.${name(Date.parse(c.start))}`);
      expect(result.dropped).toContain(`cdr_rtp.${name(Date.parse(c.start))}`);
      const [rows] = await db.pool.query('SELECT COUNT(*) n FROM cdr WHERE call_id = ?', [c.call_id]);
      expect(rows).toEqual([{ n: 0 }]);
    }
    expect(result.dropped).toContain(`register_failed.${name(NOW - 20 * day)}`);
    const [kept] = await db.pool.query('SELECT COUNT(*) n FROM cdr_rtp r JOIN cdr c ON c.id = r.cdr_id WHERE c.call_id = ?', [recent.call_id]);
    expect(kept).toEqual([{ n: 2 }]);
    const after = (await readPartitions(db.pool)).get('cdr')!.map((p) => p.name);
    expect(after).toContain(name(NOW));
    expect(after).toContain('pmax');
    // About 40 partition ALTERs: 3-5 s on a loaded shared machine, too close to vitest's 5 s default.
  }, 20_000);

  it('rejects a malformed record with a TypeError and a closed writer with CDR_WRITER_CLOSED', async () => {
    const writer = await CdrWriter.open({ db: db.pool, queueDir: tempDir('bad') });
    await expect(writer.write(makeCall(1, NOW, { start: '2026-11-29 17:00:00' }))).rejects.toThrow(TypeError);
    await expect(writer.write(makeCall(1, NOW, { caller_ip: '999.1.1.1' }))).rejects.toThrow(/caller_ip/);
    await writer.close();
    await expect(writer.write(makeCall(1, NOW))).rejects.toMatchObject({ code: CDR_WRITE_ERROR.closed });
  });

  it('drops (and reports) only the record the database rejects, the rest of its batch is stored', async () => {
    const writer = await CdrWriter.open({ db: db.pool, queueDir: tempDir('rej'), batchSize: 3 });
    const base = NOW - 600_000;
    const ok1 = makeCall(8001, base);
    const poison = makeCall(8002, base, { caller_port: 70_000 }); // out of SMALLINT UNSIGNED range
    const ok2 = makeCall(8003, base);
    const results = await Promise.allSettled([ok1, poison, ok2].map((c) => writer.write(c)));
    await writer.close();
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: CDR_WRITE_ERROR.rejected });
    expect(writer.stats()).toMatchObject({ written: 2, dropped: 1 });
    expect((await searchCalls(db.pool, { from: isoAt(base, -1), to: isoAt(base, 60), caller_prefix: '4420008' })).length).toBe(2);
  });

  it('queues to disk while the database is unreachable; a new writer on the same queue replays everything acknowledged', async () => {
    const dir = tempDir('down');
    const base = NOW - 900_000;
    const calls: CallRecord[] = Array.from({ length: 120 }, (_, i) => makeCall(9000 + i, base + i));
    const dead = await CdrWriter.open({ db: DEAD_URL, queueDir: dir, batchSize: 25, retryDelayMs: 60_000 });
    await Promise.all(calls.map((c) => dead.write(c)));
    expect(dead.stats()).toMatchObject({ queued_to_disk: 120, written: 0, dropped: 0, disk_backlog: true });
    expect(dead.stats().db_errors).toBeGreaterThanOrEqual(1);
    // The writer ends while the database is still down (a killed writer: e2e cdr-delivery tests).
    await dead.close();
    expect(dead.stats()).toMatchObject({ queue_records: 120, queue_own_records: 120, records: 120, this_run_new: 0 });
    const revived = await CdrWriter.open({ db: db.pool, queueDir: dir });
    await revived.close();
    expect(revived.stats()).toMatchObject({ replayed: 120, written: 120, earlier_replayed: 120, earlier_new: 120, records: 0, disk_backlog: false });
    const [rows] = await db.pool.query('SELECT COUNT(*) n, COUNT(DISTINCT call_id) d FROM cdr WHERE call_id LIKE ?', ['call-9___@%']);
    expect(rows).toEqual([{ n: 120, d: 120 }]);
  });

  it('a torn tail record left by a crash is detected by its checksum and skipped; earlier records survive', async () => {
    const dir = tempDir('torn');
    const base = NOW - 1_000_000;
    const dead = await CdrWriter.open({ db: DEAD_URL, queueDir: dir, batchSize: 10, retryDelayMs: 60_000 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => dead.write(makeCall(11_000 + i, base + i))));
    await dead.close();
    const seg = readdirSync(dir).find((f) => f.endsWith('.seg'))!;
    const size = statSync(join(dir, seg)).size;
    truncateSync(join(dir, seg), size - 100); // the third batch loses its tail mid-write
    const revived = await CdrWriter.open({ db: db.pool, queueDir: dir });
    await revived.close();
    expect(revived.stats()).toMatchObject({ replayed: 20, torn_records: 1, disk_backlog: false });
    const [rows] = await db.pool.query('SELECT COUNT(*) n FROM cdr WHERE call_id LIKE ?', ['call-110__@%']);
    expect(rows).toEqual([{ n: 20 }]);
  });

  it('back-pressure: write() waits once maxPending records are in memory', async () => {
    const dir = tempDir('bp');
    const writer = await CdrWriter.open({ db: DEAD_URL, queueDir: dir, batchSize: 5, maxPending: 5, flushIntervalMs: 300, retryDelayMs: 60_000 });
    const base = NOW - 400_000;
    let settled = 0;
    let maxPending = 0;
    const writes = Array.from({ length: 12 }, (_, i) => {
      const p = writer.write(makeCall(12_000 + i, base + i)).then(() => settled++);
      maxPending = Math.max(maxPending, writer.stats().pending);
      return p;
    });
    // Five went to a batch, five fill the memory queue, two wait for room.
    expect(writer.stats().pending).toBe(5);
    expect(maxPending).toBe(5);
    // Two full batches reach the disk (fsync'd: on a loaded machine that took more than a fixed
    // 50 ms wait allowed); the two waiters then get room and wait for the 300 ms timer, which
    // starts only then, so settled stops at 10 for a while.
    for (const deadline = Date.now() + 5000; settled < 10 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 2));
    expect(settled).toBe(10);
    expect(writer.stats().pending).toBe(2);
    await Promise.all(writes);
    expect(settled).toBe(12);
    expect(writer.stats()).toMatchObject({ queued_to_disk: 12, pending: 0 });
    await writer.close();
    expect(writer.stats()).toMatchObject({ queued_to_disk: 12, pending: 0, disk_backlog: true });
  });

  it('overflow of the bounded on-disk queue rejects and counts, never grows past the bound', async () => {
    const dir = tempDir('full');
    const writer = await CdrWriter.open({ db: DEAD_URL, queueDir: dir, batchSize: 1, maxDiskBytes: 8_000, retryDelayMs: 60_000 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => writer.write(makeCall(13_000 + i, NOW))));
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ code: CDR_WRITE_ERROR.queueOverflow });
    const stats = writer.stats();
    expect(stats.dropped).toBe(rejected.length);
    expect(stats.queued_to_disk + stats.dropped).toBe(10);
    expect(stats.disk_bytes).toBeLessThanOrEqual(8_000);
    await writer.close();
  });
});
