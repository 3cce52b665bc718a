// Schema version 5 (GUI users and sessions), the call-key lookup and the sensor list, on the real
// MariaDB in a database of this file's own (cs_c_ prefix).
import { createHash, randomBytes } from 'node:crypto';
import { createPool } from 'mysql2/promise';
import type { Pool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CdrWriter,
  SensorHeartbeatWriter,
  countUsers,
  createFirstUser,
  createGuiSession,
  createUser,
  deleteExpiredGuiSessions,
  deleteGuiSession,
  findGuiSession,
  findUserByName,
  getCallKey,
  listMirroredSensors,
  listSensors,
  migrate,
  recordUserLogin,
  touchGuiSession,
} from '../src/index.js';
import { SERVER_URL, makeCall, removeTempDirs, tempDir } from './helpers.js';

const NAME = `cs_c_users_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
let pool: Pool;
const hashOf = (token: string): Buffer => createHash('sha256').update(token).digest();

beforeAll(async () => {
  const admin = createPool({ uri: SERVER_URL, connectionLimit: 1 });
  await admin.query(`CREATE DATABASE \`${NAME}\` CHARACTER SET utf8mb4`);
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${NAME}`;
  pool = createPool({ uri: url.toString(), connectionLimit: 4, dateStrings: true });
  await migrate(pool, { partitionDaysAhead: 1 });
});
afterAll(async () => {
  await pool.end();
  const admin = createPool({ uri: SERVER_URL, connectionLimit: 1 });
  await admin.query(`DROP DATABASE IF EXISTS \`${NAME}\``);
  await admin.end();
  removeTempDirs();
});

describe('users (schema version 5)', () => {
  it('creates the first account only on an empty table, once even when two race', async () => {
    expect(await countUsers(pool)).toBe(0);
    const first = { name: 'admin', role: 'admin', passwordHash: 'scrypt$16384$8$1$salt$hash' } as const;
    // Four GUIs starting at once, 100 times over: the losers of MariaDB's lock race get
    // ER_AUTOINC_READ_FAILED about every other round (measured), which must not reach the caller.
    for (let round = 0; round < 100; round++) {
      await pool.query('DELETE FROM users');
      const outcomes = await Promise.all([0, 1, 2, 3].map((k) => createFirstUser(pool, { ...first, passwordHash: `h${k}` })));
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await countUsers(pool)).toBe(1);
    }
    expect(await createFirstUser(pool, { ...first, name: 'second' })).toBe(false);
    const row = await findUserByName(pool, 'admin');
    expect(row).toMatchObject({ name: 'admin', role: 'admin', lastLogin: null });
    expect(row!.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });

  it('compares names byte-exact, refuses a taken name, stamps logins', async () => {
    const id = await createUser(pool, { name: 'viewer1', role: 'viewer', passwordHash: 'h' });
    await expect(createUser(pool, { name: 'viewer1', role: 'viewer', passwordHash: 'h' })).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
    expect(await findUserByName(pool, 'Viewer1')).toBeNull();
    expect(await findUserByName(pool, 'x'.repeat(65))).toBeNull();
    await expect(createUser(pool, { name: '', role: 'viewer', passwordHash: 'h' })).rejects.toThrow(RangeError);
    await recordUserLogin(pool, id);
    expect((await findUserByName(pool, 'viewer1'))!.lastLogin).not.toBeNull();
  });
});

describe('gui_sessions', () => {
  it('stores only the token hash, reads the account back, touches, deletes', async () => {
    const user = (await findUserByName(pool, 'viewer1'))!;
    const token = randomBytes(32).toString('base64url');
    await createGuiSession(pool, hashOf(token), user.id);
    const [raw] = await pool.query('SELECT * FROM gui_sessions');
    expect(JSON.stringify(raw)).not.toContain(token);
    const found = await findGuiSession(pool, hashOf(token));
    expect(found).toMatchObject({ userId: user.id, userName: 'viewer1', role: 'viewer' });
    expect(found!.ageS).toBeGreaterThanOrEqual(0);
    expect(found!.ageS).toBeLessThan(5);
    await pool.query('UPDATE gui_sessions SET last_seen = last_seen - INTERVAL 100 SECOND');
    expect((await findGuiSession(pool, hashOf(token)))!.idleS).toBeGreaterThan(99);
    await touchGuiSession(pool, hashOf(token));
    expect((await findGuiSession(pool, hashOf(token)))!.idleS).toBeLessThan(5);
    expect(await deleteGuiSession(pool, hashOf(token))).toBe(true);
    expect(await deleteGuiSession(pool, hashOf(token))).toBe(false);
    expect(await findGuiSession(pool, hashOf(token))).toBeNull();
    await expect(findGuiSession(pool, Buffer.alloc(16))).rejects.toThrow(RangeError);
  });

  it('deletes sessions past the idle or the absolute limit, and with their user', async () => {
    const user = (await findUserByName(pool, 'viewer1'))!;
    const [fresh, idle, old] = ['fresh', 'idle', 'old'].map(hashOf) as [Buffer, Buffer, Buffer];
    for (const h of [fresh, idle, old]) await createGuiSession(pool, h, user.id);
    await pool.execute('UPDATE gui_sessions SET last_seen = last_seen - INTERVAL 2 HOUR WHERE token_hash = ?', [idle]);
    await pool.execute('UPDATE gui_sessions SET created = created - INTERVAL 2 DAY WHERE token_hash = ?', [old]);
    expect(await deleteExpiredGuiSessions(pool, { idleS: 3600, absoluteS: 86_400 })).toBe(2);
    expect(await findGuiSession(pool, fresh)).not.toBeNull();
    await pool.execute('DELETE FROM users WHERE id = ?', [user.id]);
    expect(await findGuiSession(pool, fresh)).toBeNull();
  });
});

describe('getCallKey and listSensors', () => {
  it('finds a call by (id, start) only, with its Call-ID and sensor name; lists sensors with heartbeats', async () => {
    const now = Date.now();
    const call = makeCall(1, now - 60_000, { sensor: 'edge-a', call_id: 'odd/../Call-ID\u00e9@x' });
    const writer = await CdrWriter.open({ db: pool, queueDir: tempDir('key'), flushIntervalMs: 10 });
    await writer.write(call);
    await writer.close();
    const [rows] = await pool.query('SELECT id FROM cdr');
    const id = (rows as { id: number }[])[0]!.id;
    const key = await getCallKey(pool, id, call.start);
    expect(key).toMatchObject({ id, callId: call.call_id, start: call.start, sensorName: 'edge-a' });
    const other = `${call.start.slice(0, 20)}${String((Number(call.start.slice(20, 26)) + 1) % 1_000_000).padStart(6, '0')}Z`;
    expect(await getCallKey(pool, id, other)).toBeNull();
    expect(await getCallKey(pool, id + 1, call.start)).toBeNull();
    await expect(getCallKey(pool, id, '2026-12-01')).rejects.toThrow(RangeError);
    await expect(getCallKey(pool, 0, call.start)).rejects.toThrow(RangeError);

    const beats = new SensorHeartbeatWriter(pool);
    await beats.beat({ name: 'edge-b', version: '0.1.0', state: 'running', started: new Date().toISOString(), stats: {} });
    await beats.close();
    const sensors = await listSensors(pool);
    expect(sensors.map((s) => [s.name, s.state, s.version])).toEqual([
      ['edge-a', null, null],
      ['edge-b', 'running', '0.1.0'],
    ]);
    expect(sensors[0]!.id).toBe(key!.sensorId);
    expect(sensors[0]!.heartbeat).toBeNull();
    expect(sensors[1]!.heartbeat).toMatch(/Z$/);
  });

  it('lists mirrored sensors by the sniffer that holds their packets, read from its heartbeat', async () => {
    const sender = (name: string, state: string): Record<string, unknown> => ({ kind: 'mirror', role: 'sender', name: `mirror:${name}`, sensor_id: '7', sensor_name: name, state });
    const listener = { kind: 'mirror', role: 'listener', name: 'mirror', connections_open: 1 };
    const beats = new SensorHeartbeatWriter(pool);
    const started = new Date().toISOString();
    // pbx-1 moved from old-central (disconnected there) to central (connected): central holds it.
    await beats.beat({ name: 'old-central', version: '0.1.0', state: 'running', started, stats: { sources: [listener, sender('pbx-1', 'disconnected'), sender('pbx-2', 'disconnected')] } });
    await beats.beat({ name: 'central', version: '0.1.0', state: 'running', started, stats: { sources: [listener, sender('pbx-1', 'connected'), { kind: 'pcap', name: 'eth0' }, { kind: 'mirror', role: 'sender', sensor_name: '' }, 'junk'] } });
    await beats.beat({ name: 'plain', version: '0.1.0', state: 'running', started, stats: { sources: [{ kind: 'pcap', name: 'eth0' }] } });
    await beats.close();
    // A document of another shape (an older or foreign writer) is skipped, not fatal.
    await pool.query(`INSERT INTO sensors (name, first_seen, last_seen, stats) VALUES ('odd', NOW(), NOW(), '{"kind":"mirror","sources":5}')`);
    const mirrored = await listMirroredSensors(pool);
    expect(mirrored.map((m) => [m.sensor, m.heldBy, m.state, m.holderState])).toEqual([
      ['pbx-1', 'central', 'connected', 'running'],
      ['pbx-2', 'old-central', 'disconnected', 'running'],
    ]);
    expect(mirrored[0]!.heartbeat).toMatch(/Z$/);
  });
});
