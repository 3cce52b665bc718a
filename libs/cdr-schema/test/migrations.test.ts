import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CdrWriter,
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  MIGRATION_ERROR,
  PARTITIONED_TABLES,
  getCall,
  migrate,
  migrationChecksum,
  migrationStatus,
  readPartitions,
  adviseServerSettings,
  runMigrateCli,
  SensorHeartbeatWriter,
} from '../src/index.js';
import type { ServerSettings } from '../src/index.js';
// Details of the row mapping, tested here but not part of the package's surface.
import { callIdHash, isoToSql, reverseText as reverse } from '../src/cdr-row.js';
import { countRows, createTestDb, makeBareCall, makeRegister, removeTempDirs, tempDir } from './helpers.js';
import type { TestDb } from './helpers.js';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db.drop();
});

describe('migrations on a real MariaDB', () => {
  it('reports an empty database as version 0 with every step pending', async () => {
    const status = await migrationStatus(db.pool);
    expect(status).toMatchObject({ current: 0, latest: LATEST_SCHEMA_VERSION, too_new: false });
    expect(status.pending).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('migrates from empty, creating every table and daily partitions ahead', async () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    const result = await migrate(db.pool, { now: () => now, partitionDaysAhead: 3 });
    expect(result.applied).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(result.current).toBe(LATEST_SCHEMA_VERSION);
    const [tables] = await db.pool.query('SHOW TABLES');
    const names = (tables as Record<string, string>[]).map((r) => Object.values(r)[0]).sort();
    expect(names).toEqual(['cdr', 'cdr_correlation', 'cdr_dtmf', 'cdr_rtp', 'cdr_sip_response', 'gui_sessions', 'instance', 'register', 'register_failed', 'schema_migrations', 'sensors', 'users']);
    const parts = await readPartitions(db.pool);
    for (const { table } of PARTITIONED_TABLES) {
      expect(parts.get(table)?.map((p) => p.name)).toEqual(['p_old', 'p20261129', 'p20261130', 'p20261201', 'p20261202', 'pmax']);
    }
    const [engines] = await db.pool.query(
      "SELECT DISTINCT ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'schema_migrations'",
    );
    expect(engines).toEqual([{ ENGINE: 'InnoDB', TABLE_COLLATION: 'utf8mb4_unicode_ci' }]);
  });

  it('is idempotent: a re-run applies nothing and changes no partition', async () => {
    const before = await readPartitions(db.pool);
    const result = await migrate(db.pool, { now: () => Date.parse('2026-11-29T12:00:00Z'), partitionDaysAhead: 3 });
    expect(result).toEqual({ applied: [], current: LATEST_SCHEMA_VERSION, partition_alters: 0 });
    expect(await readPartitions(db.pool)).toEqual(before);
    const [rows] = await db.pool.query('SELECT version, checksum FROM schema_migrations');
    expect(rows).toHaveLength(LATEST_SCHEMA_VERSION);
    expect((rows as { checksum: string }[])[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('versions 2, 3, 6 and 10 leave exactly the indexes the GUI searches and the natural keys use', async () => {
    const [rows] = await db.pool.query(
      `SELECT TABLE_NAME t, INDEX_NAME i, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) c FROM information_schema.STATISTICS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('cdr', 'register', 'register_failed') GROUP BY t, i ORDER BY t, i`,
    );
    expect(rows).toEqual([
      { t: 'cdr', i: 'idx_called', c: 'called,start' },
      { t: 'cdr', i: 'idx_called_rev', c: 'called_reverse,start' },
      { t: 'cdr', i: 'idx_callee_ip', c: 'callee_ip,start' },
      { t: 'cdr', i: 'idx_caller', c: 'caller,start' },
      { t: 'cdr', i: 'idx_caller_ip', c: 'caller_ip,start' },
      { t: 'cdr', i: 'idx_caller_rev', c: 'caller_reverse,start' },
      { t: 'cdr', i: 'idx_duration', c: 'duration,start' },
      { t: 'cdr', i: 'idx_icid', c: 'icid,start' },
      { t: 'cdr', i: 'idx_session_uuid', c: 'session_uuid,start' },
      { t: 'cdr', i: 'idx_start_quality', c: 'start,mos_worst,incomplete' },
      { t: 'cdr', i: 'idx_x_cid', c: 'x_cid,start' },
      { t: 'cdr', i: 'PRIMARY', c: 'id,start' },
      { t: 'cdr', i: 'uk_call_hash', c: 'call_id_hash,sensor_id,start' },
      ...['register', 'register_failed'].flatMap((t) => [
        { t, i: 'idx_first', c: 'first' },
        { t, i: 'idx_user', c: 'user,first' },
        { t, i: 'PRIMARY', c: 'id,first' },
        { t, i: 'uk_register_hash', c: 'call_id_hash,sensor_id,first' },
      ]),
    ]);
  });

  it('a version 2 step interrupted half-way re-runs cleanly', async () => {
    // As if the process died after the first ALTER: the index change is done, the row is missing.
    await db.pool.query('DELETE FROM schema_migrations WHERE version = 2');
    await db.pool.query('ALTER TABLE `register` ADD INDEX idx_sensor (sensor_id, `first`)');
    expect((await migrate(db.pool)).applied).toEqual([2]);
    const [rows] = await db.pool.query(
      "SELECT COUNT(*) n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME IN ('idx_sensor', 'idx_mos', 'idx_start')",
    );
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('a version 3 step interrupted half-way re-runs cleanly', async () => {
    // As if the process died after the `cdr` ALTER: `cdr` is done, the registers and the row are not.
    await db.pool.query('DELETE FROM schema_migrations WHERE version = 3');
    expect((await migrate(db.pool)).applied).toEqual([3]);
    const [rows] = await db.pool.query(
      "SELECT COUNT(*) n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME IN ('idx_start_mos', 'uk_call', 'uk_register')",
    );
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('a version 6 step interrupted half-way re-runs cleanly', async () => {
    // As if the process died while building the indexes: one is there, the others and the row are not.
    await db.pool.query('DELETE FROM schema_migrations WHERE version = 6');
    await db.pool.query('ALTER TABLE cdr DROP INDEX idx_callee_ip, DROP INDEX idx_duration');
    expect((await migrate(db.pool)).applied).toEqual([6]);
    const [rows] = await db.pool.query(
      "SELECT COUNT(DISTINCT INDEX_NAME) n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME IN ('idx_caller_ip', 'idx_callee_ip', 'idx_duration')",
    );
    expect(rows).toEqual([{ n: 3 }]);
  });

  it('refuses to run on a checksum mismatch', async () => {
    await db.pool.query("UPDATE schema_migrations SET checksum = REPEAT('0', 64) WHERE version = 1");
    await expect(migrate(db.pool)).rejects.toMatchObject({ code: MIGRATION_ERROR.checksumMismatch });
    const status = await migrationStatus(db.pool);
    expect(status.applied[0]!.checksum_ok).toBe(false);
    await db.pool.query('DELETE FROM schema_migrations WHERE version = 1');
    // A step interrupted before its row was recorded re-runs cleanly (statements are IF NOT EXISTS).
    expect((await migrate(db.pool)).applied).toEqual([1]);
  });

  it('refuses to run when the database is newer than the code', async () => {
    await db.pool.query("INSERT INTO schema_migrations VALUES (?, 'from the future', REPEAT('f', 64), UTC_TIMESTAMP(6))", [
      LATEST_SCHEMA_VERSION + 1,
    ]);
    await expect(migrate(db.pool)).rejects.toMatchObject({ code: MIGRATION_ERROR.schemaTooNew });
    expect((await migrationStatus(db.pool)).too_new).toBe(true);
    const out: string[] = [];
    const err: string[] = [];
    expect(await runMigrateCli(['--db', db.url, 'migrate'], { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(1);
    expect(err.join('\n')).toContain('CDR_SCHEMA_TOO_NEW');
    await db.pool.query('DELETE FROM schema_migrations WHERE version = ?', [LATEST_SCHEMA_VERSION + 1]);
  });

  it('CLI: status, migrate, retention and usage errors', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), dbUrl: db.url };
    expect(await runMigrateCli(['status'], io)).toBe(0);
    const status = JSON.parse(out.pop()!) as Record<string, unknown> & { server_settings: ServerSettings };
    expect(status).toMatchObject({ current: LATEST_SCHEMA_VERSION, latest: LATEST_SCHEMA_VERSION, pending: [], too_new: false });
    // The server's own values, and advice exactly for those below the minimums (whatever this
    // server is set to), each also printed as a warning.
    const [vars] = await db.pool.query('SELECT @@innodb_buffer_pool_size AS bp, @@innodb_log_file_size AS lf');
    const { bp, lf } = (vars as { bp: number | string; lf: number | string }[])[0]!;
    expect(status.server_settings).toEqual({ innodb_buffer_pool_size: Number(bp), innodb_log_file_size: Number(lf) });
    const advised = adviseServerSettings(status.server_settings).map((a) => a.setting);
    expect(status['server_advice']).toEqual(advised);
    expect(err.filter((l) => l.startsWith('warning: ')).map((l) => l.split(' ')[1])).toEqual(advised);
    expect(await runMigrateCli(['migrate'], io)).toBe(0);
    expect(JSON.parse(out.pop()!)).toMatchObject({ applied: [], current: LATEST_SCHEMA_VERSION });
    expect(await runMigrateCli(['retention', '--keep-days', '30'], io)).toBe(0);
    expect(JSON.parse(out.pop()!)).toHaveProperty('cutoff');
    expect(await runMigrateCli(['retention'], io)).toBe(2);
    expect(await runMigrateCli(['retention', '--keep-days', '-1'], io)).toBe(2);
    expect(await runMigrateCli(['frobnicate'], io)).toBe(2);
    expect(await runMigrateCli(['status'], { out: io.out, err: io.err })).toBe(2);
  });
});

describe('upgrade to version 3 of a version 2 database holding data', () => {
  let old: TestDb;
  const base = Date.parse('2026-11-28T10:00:00Z');
  const call = makeBareCall(1, base);
  const reg = makeRegister(1, base, 'ok');
  beforeAll(async () => {
    old = await createTestDb();
    // Version 2 exactly as an older callscope left it (its own steps and checksums).
    await old.pool.query(
      'CREATE TABLE schema_migrations (version INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, checksum CHAR(64) NOT NULL, applied_at DATETIME(6) NOT NULL)',
    );
    for (const m of MIGRATIONS.slice(0, 2)) {
      for (const sql of m.statements) await old.pool.query(sql);
      await old.pool.query('INSERT INTO schema_migrations VALUES (?, ?, ?, UTC_TIMESTAMP(6))', [m.version, m.name, migrationChecksum(m)]);
    }
    await old.pool.query("INSERT INTO sensors (id, name, first_seen, last_seen) VALUES (1, 'sensor-a', ?, ?)", [isoToSql(call.start), isoToSql(call.end)]);
    // The rows the version 2 writer stored for these records (every NOT NULL column of the call).
    await old.pool.query(
      `INSERT INTO cdr (start, \`end\`, duration, sensor_id, call_id, caller, caller_reverse, called, called_reverse,
         caller_domain, called_domain, caller_ip, caller_port, callee_ip, callee_port, transport, end_reason, sip_packets)
       VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, INET6_ATON(?), ?, INET6_ATON(?), ?, ?, ?, ?)`,
      [isoToSql(call.start), isoToSql(call.end), call.duration, call.call_id, call.caller, reverse(call.caller), call.called,
        reverse(call.called), call.caller_domain, call.called_domain, call.caller_ip, call.caller_port, call.callee_ip,
        call.callee_port, call.transport, call.end_reason, call.sip_packets],
    );
    await old.pool.query(
      `INSERT INTO \`register\` (\`first\`, \`last\`, sensor_id, call_id, \`user\`, domain, contact, expires, result, last_sip_code,
         client_ip, client_port, registrar_ip, registrar_port, user_agent, challenged, transactions)
       VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, INET6_ATON(?), ?, INET6_ATON(?), ?, ?, ?, ?)`,
      [isoToSql(reg.first), isoToSql(reg.last), reg.call_id, reg.user, reg.domain, reg.contact, reg.expires, reg.result,
        reg.last_sip_code, reg.client_ip, reg.client_port, reg.registrar_ip, reg.registrar_port, reg.user_agent, 1, reg.transactions],
    );
  });
  afterAll(async () => {
    await old.drop();
    removeTempDirs();
  });

  it('keeps every row, gives each the hash of its Call-ID, and a replay of the same records after it adds nothing', async () => {
    expect((await migrationStatus(old.pool)).current).toBe(2);
    expect((await migrate(old.pool)).applied).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    // The server's hash of a stored Call-ID is the writer's hash of it: replays still hit the key.
    const [rows] = await old.pool.query('SELECT call_id_hash h, replays, incomplete, dropped_rtp_malformed d FROM cdr');
    expect(rows).toEqual([{ h: callIdHash(call.call_id), replays: 0, incomplete: 0, d: null }]);
    const [regs] = await old.pool.query('SELECT call_id_hash h FROM `register`');
    expect(regs).toEqual([{ h: callIdHash(reg.call_id) }]);
    const { id: _id, ...got } = (await getCall(old.pool, 1))!;
    expect(got).toEqual(call);
    const writer = await CdrWriter.open({ db: old.pool, queueDir: tempDir('upgrade'), flushIntervalMs: 10 });
    const fresh = makeBareCall(2, base);
    await Promise.all([call, reg, fresh].map((r) => writer.write(r)));
    await writer.close();
    expect(writer.stats()).toMatchObject({ written: 1, already_present: 2, dropped: 0 });
    expect(await countRows(old.pool, 'cdr')).toBe(2);
    expect(await countRows(old.pool, 'register')).toBe(1);
    const [replays] = await old.pool.query('SELECT call_id, replays FROM cdr ORDER BY id');
    expect(replays).toEqual([{ call_id: call.call_id, replays: 1 }, { call_id: fresh.call_id, replays: 0 }]);
  }, 20_000);

  it('version 4 stores sensor_shutdown next to the old end reasons, and the sensor heartbeat', async () => {
    // The old row's reason keeps its value after the ENUM grew at its end.
    const [before] = await old.pool.query('SELECT end_reason FROM cdr ORDER BY id LIMIT 1');
    expect(before).toEqual([{ end_reason: call.end_reason }]);
    const writer = await CdrWriter.open({ db: old.pool, queueDir: tempDir('v4'), flushIntervalMs: 10 });
    const stopped = { ...makeBareCall(3, base), end_reason: 'sensor_shutdown' as const };
    await writer.write(stopped);
    await writer.close();
    expect(writer.stats()).toMatchObject({ written: 1, dropped: 0 });
    const [rows] = await old.pool.query('SELECT end_reason FROM cdr WHERE call_id = ?', [stopped.call_id]);
    expect(rows).toEqual([{ end_reason: 'sensor_shutdown' }]);
    const hb = new SensorHeartbeatWriter(old.pool);
    const id = await hb.beat({ name: stopped.sensor, version: '9.9.9', state: 'running', started: '2026-12-04T10:00:00.5Z', stats: { calls_open: 3 } });
    expect(await hb.beat({ name: stopped.sensor, version: '9.9.9', state: 'stopped', started: '2026-12-04T10:00:00.5Z', stats: { calls_open: 0 } })).toBe(id);
    expect(await hb.read(stopped.sensor)).toMatchObject({ id, version: '9.9.9', state: 'stopped', stats: { calls_open: 0 } });
    const [started] = await old.pool.query("SELECT DATE_FORMAT(started, '%Y-%m-%d %H:%i:%s.%f') s FROM sensors WHERE id = ?", [id]);
    expect(started).toEqual([{ s: '2026-12-04 10:00:00.500000' }]);
    expect(await hb.read('no-such-sensor')).toBeNull();
  }, 20_000);
});
