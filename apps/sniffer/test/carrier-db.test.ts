/**
 * Issue 19 through the database: the carrier captures (fixtures/carrier) analysed into a real
 * MariaDB keep every new field of their records (leg identifiers, linked legs, fork branches,
 * codec lists) and fill the indexed columns the GUI searches by.
 */
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCaptureFile } from '@callscope/pcap-store';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '@callscope/call-engine';
import { getCall, openPool, endPool } from '@callscope/cdr-schema';
import type { CallRecord } from '@callscope/cdr-model';
import { CdrSink } from '../src/output/cdr-sink.js';

const serverUrl = process.env['CALLSCOPE_DB_URL'] ?? 'mysql://root@127.0.0.1:3306/callscope';
const dbName = `callscope_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const url = Object.assign(new URL(serverUrl), { pathname: `/${dbName}` }).toString();
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const carrier = (name: string) => new URL(`../../../fixtures/carrier/${name}.pcap`, import.meta.url).pathname;
const CAPTURES = ['b2bua-x-cid', 'b2bua-icid', 'fork-one-answers', 'fork-none-answers', 'codec-change-reinvite'];
const records: CallRecord[] = [];
let conn: Connection;

beforeAll(async () => {
  const { sink, unreachable } = await CdrSink.open({ url, queueDir: mkdtempSync(join(tmpdir(), 'callscope-q-')), batchSize: 50, batchMs: 20, queueMaxMb: 16, holdS: 10, sensor: 'carrier', owner: 'test', logger: silent });
  expect(unreachable).toBeNull();
  for (const name of CAPTURES) {
    const calls = { ...DEFAULT_PIPELINE_OPTIONS.calls, sensor: name, correlationHeaders: ['X-Correlation-ID'] };
    const pipeline = new PacketPipeline({ ...DEFAULT_PIPELINE_OPTIONS, calls, registers: { ...DEFAULT_PIPELINE_OPTIONS.registers, sensor: name } }, {
      onCall: (r) => {
        records.push(r);
        sink.push(r);
      },
      onRegister: (r) => {
        sink.push(r);
      },
    });
    await readCaptureFile(carrier(name), (rec) => {
      pipeline.onPacket(rec);
    });
    pipeline.finish();
  }
  const { delivery } = await sink.close();
  expect(delivery).toMatchObject({ lost: 0, queued: 0 });
  expect(delivery.in_database).toBe(delivery.records);
  conn = await createConnection({ uri: url });
}, 120_000);

afterAll(async () => {
  await conn.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
  await conn.end();
});

describe('carrier records in MariaDB', () => {
  test('each record reads back whole: identifiers, linked legs, branches, stream codec lists', async () => {
    const { pool } = openPool(url);
    try {
      const [ids] = await conn.query<RowDataPacket[]>('SELECT id, call_id FROM cdr');
      expect(ids).toHaveLength(records.length);
      for (const r of records) {
        const id = ids.find((x) => x['call_id'] === r.call_id)!['id'] as number;
        const { id: _id, ...back } = (await getCall(pool, id, r.start))!;
        expect(back).toEqual(r);
      }
    } finally {
      await endPool(pool);
    }
  });

  test('the leg columns hold what links the legs, and the same value finds both legs through its index', async () => {
    const legA = records.find((r) => r.x_cid === null && r.linked_legs.some((l) => l.by === 'x_cid'))!;
    const legB = records.find((r) => r.x_cid === legA.call_id)!;
    const [byXcid] = await conn.query<RowDataPacket[]>('SELECT call_id FROM cdr FORCE INDEX (idx_x_cid) WHERE x_cid = ?', [legA.call_id]);
    expect(byXcid.map((r) => r['call_id'] as string)).toEqual([legB.call_id]);
    const [bySession] = await conn.query<RowDataPacket[]>('SELECT call_id FROM cdr FORCE INDEX (idx_session_uuid) WHERE session_uuid = ? ORDER BY start', [legA.session_id!.local_uuid]);
    expect(bySession.map((r) => r['call_id'] as string)).toEqual([legA.call_id, legB.call_id]);
    const icidLeg = records.find((r) => r.icid !== null)!;
    const [byIcid] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) n FROM cdr FORCE INDEX (idx_icid) WHERE icid = ?', [icidLeg.icid]);
    expect(byIcid).toEqual([{ n: 2 }]);
    const value = icidLeg.correlation['X-Correlation-ID']!;
    const [byHeader] = await conn.query<RowDataPacket[]>('SELECT name, COUNT(*) n FROM cdr_correlation FORCE INDEX (idx_value) WHERE value = ? GROUP BY name', [value]);
    expect(byHeader).toEqual([{ name: 'X-Correlation-ID', n: 2 }]);
  });

  test('the call list\'s codec lists name the switch of the re-INVITE capture', async () => {
    const [rows] = await conn.query<RowDataPacket[]>("SELECT a_codec, a_codecs, b_codecs FROM cdr c JOIN sensors s ON s.id = c.sensor_id WHERE s.name = 'codec-change-reinvite'");
    expect(rows).toEqual([{ a_codec: 'PCMA', a_codecs: 'PCMA,PCMU', b_codecs: 'PCMA,PCMU' }]);
  });
});
