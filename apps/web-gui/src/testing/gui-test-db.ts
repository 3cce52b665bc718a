/**
 * Test support (never imported by the server): a private database on the real MariaDB, migrated
 * to the latest schema, and CDRs written through the real CDR writer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import type { Pool } from 'mysql2/promise';
import type { CallRecord, IsoMicros } from '@callscope/cdr-model';
import { CdrWriter, migrate, openPool } from '@callscope/cdr-schema';

/** MariaDB server of the tests (no database in the path). */
const SERVER_URL = process.env.CALLSCOPE_DB_URL ?? 'mysql://root@127.0.0.1:3306/';

/** A migrated private database and its pool. */
export interface GuiTestDb {
  readonly url: string;
  readonly pool: Pool;
  drop(): Promise<void>;
}

/** Creates and migrates `<prefix>_<pid>_<random>`. */
export async function createGuiTestDb(prefix: string): Promise<GuiTestDb> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = await createConnection({ uri: SERVER_URL });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  const { pool } = openPool(url.toString(), { connectionLimit: 6 });
  await migrate(pool, { partitionDaysAhead: 1 });
  return {
    url: url.toString(),
    pool,
    drop: async () => {
      await pool.end();
      const a = await createConnection({ uri: SERVER_URL });
      await a.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await a.end();
    },
  };
}

/** A call record with no streams or children, on `sensor`, with this Call-ID and start. */
export function bareCall(sensor: string, callId: string, start: IsoMicros): CallRecord {
  return {
    type: 'call',
    sensor,
    call_id: callId,
    caller: '442071234567',
    called: '33160000000',
    caller_domain: 'pbx.example.com',
    called_domain: 'carrier.example.net',
    caller_name: null,
    caller_ip: '192.0.2.10',
    caller_port: 5060,
    callee_ip: '192.0.2.20',
    callee_port: 5060,
    transport: 'udp',
    start,
    answer: null,
    end: start,
    duration: 0,
    connect_duration: null,
    pdd_ms: null,
    last_sip_code: 486,
    last_sip_reason: 'Busy Here',
    bye_by: null,
    end_reason: 'rejected',
    sip_packets: 3,
    vlan: null,
    caller_user_agent: null,
    callee_user_agent: null,
    dtmf: [],
    sip_responses: [],
    streams: [],
    x_cid: null,
    session_id: null,
    icid: null,
    correlation: {},
    linked_legs: [],
    branches: [],
    dropped: null,
  };
}

/** Writes calls through the real CDR writer; resolves with their `cdr.id`s in order. */
export async function writeCalls(pool: Pool, calls: readonly CallRecord[]): Promise<number[]> {
  const queueDir = mkdtempSync(join(tmpdir(), 'web-gui-queue-'));
  try {
    const writer = await CdrWriter.open({ db: pool, queueDir, flushIntervalMs: 10 });
    await Promise.all(calls.map((c) => writer.write(c)));
    await writer.close();
  } finally {
    rmSync(queueDir, { recursive: true, force: true });
  }
  const ids: number[] = [];
  for (const c of calls) {
    const [rows] = await pool.query('SELECT c.id FROM cdr c JOIN sensors s ON s.id = c.sensor_id WHERE s.name = ? AND c.call_id = ?', [c.sensor, c.call_id]);
    ids.push(Number((rows as { id: number | string }[])[0]!.id));
  }
  return ids;
}
