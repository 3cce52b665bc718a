/**
 * Issue 6: the corpus captures analysed into the real MariaDB give rows that match their truth
 * files. Each capture is written under its own sensor name (the encapsulated copies repeat the
 * Call-IDs and times of their plain twins, and the natural key would rightly merge them).
 */
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCaptureFile } from '@callscope/pcap-store';
import { CdrSink } from '../src/output/cdr-sink.js';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '@callscope/call-engine';
import { corpusCaptures, isoFromEpoch } from '@callscope/testing';

const serverUrl = process.env['CALLSCOPE_DB_URL'] ?? 'mysql://root@127.0.0.1:3306/callscope';
const dbName = `callscope_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const url = Object.assign(new URL(serverUrl), { pathname: `/${dbName}` }).toString();
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const captures = corpusCaptures();
let conn: Connection;

beforeAll(async () => {
  const { sink, unreachable } = await CdrSink.open({ url, queueDir: mkdtempSync(join(tmpdir(), 'callscope-q-')), batchSize: 500, batchMs: 50, queueMaxMb: 64, holdS: 10, sensor: 'corpus', owner: 'test', logger: silent });
  expect(unreachable).toBeNull();
  for (const c of captures) {
    const options = { ...DEFAULT_PIPELINE_OPTIONS, calls: { ...DEFAULT_PIPELINE_OPTIONS.calls, sensor: c.name }, registers: { ...DEFAULT_PIPELINE_OPTIONS.registers, sensor: c.name } };
    const pipeline = new PacketPipeline(options, {
      onCall: (r) => {
        sink.push(r);
      },
      onRegister: (r) => {
        sink.push(r);
      },
    });
    await readCaptureFile(c.path, (rec) => {
      pipeline.onPacket(rec);
    });
    pipeline.finish();
  }
  const { stats, delivery } = await sink.close();
  expect(sink.failed).toBe(0);
  expect(stats.dropped).toBe(0);
  expect(delivery).toMatchObject({ lost: 0, queued: 0 });
  expect(delivery.in_database).toBe(delivery.records);
  conn = await createConnection({ uri: url });
}, 120_000);

afterAll(async () => {
  await conn.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
  await conn.end();
});

const iso = (col: string) => `DATE_FORMAT(${col}, '%Y-%m-%dT%H:%i:%s.%fZ')`;

describe.each(captures)('$name in MariaDB', ({ name, truth }) => {
  test('one cdr row per call with the truth outcome, times and streams; registrations', async () => {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT c.id, c.call_id, c.caller, c.called, ${iso('c.start')} AS start, ${iso('c.answer')} AS answer, ${iso('c.end')} AS end,
              c.last_sip_code, c.bye_by, INET6_NTOA(c.caller_ip) AS caller_ip, INET6_NTOA(c.callee_ip) AS callee_ip,
              (SELECT COUNT(*) FROM cdr_rtp r WHERE r.cdr_id = c.id AND r.start = c.start) AS streams,
              (SELECT COALESCE(SUM(r.packets), 0) FROM cdr_rtp r WHERE r.cdr_id = c.id AND r.start = c.start) AS packets
         FROM cdr c JOIN sensors s ON s.id = c.sensor_id WHERE s.name = ? ORDER BY c.start`,
      [name],
    );
    expect(rows.map((r) => r['call_id'] as string).sort()).toEqual(truth.calls.map((t) => t.call_id).sort());
    for (const t of truth.calls) {
      const r = rows.find((x) => x['call_id'] === t.call_id)!;
      const streams = truth.rtp_streams.filter((s) => s.call_id === t.call_id);
      expect({
        caller: r['caller'], called: r['called'], start: r['start'], answer: r['answer'], end: r['end'],
        last_sip_code: r['last_sip_code'], bye_by: r['bye_by'], caller_ip: r['caller_ip'], callee_ip: r['callee_ip'],
        streams: Number(r['streams']), packets: Number(r['packets']),
      }).toEqual({
        caller: t.from_user, called: t.to_user, start: isoFromEpoch(t.invite_time),
        answer: t.answer_time === null ? null : isoFromEpoch(t.answer_time), end: isoFromEpoch(t.end_time),
        last_sip_code: t.final_sip_code, bye_by: t.bye_by, caller_ip: t.caller_ip, callee_ip: t.callee_ip,
        streams: streams.length, packets: streams.reduce((a, s) => a + s.packets, 0),
      });
    }
    const [regs] = await conn.query<RowDataPacket[]>(
      `SELECT call_id, last_sip_code FROM register g JOIN sensors s ON s.id = g.sensor_id WHERE s.name = ?
        UNION ALL SELECT call_id, last_sip_code FROM register_failed g JOIN sensors s ON s.id = g.sensor_id WHERE s.name = ?`,
      [name, name],
    );
    expect(regs.map((r) => `${r['call_id'] as string} ${r['last_sip_code'] as number}`).sort()).toEqual(
      truth.registers.map((t) => `${t.call_id} ${t.final_sip_code ?? 'null'}`).sort(),
    );
  });
});
