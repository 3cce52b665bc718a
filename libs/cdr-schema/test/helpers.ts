// Shared helpers of the database tests: a uniquely named database per test file on the real
// MariaDB, and record factories that fill every field.
import { createPool } from 'mysql2/promise';
import type { Pool } from 'mysql2/promise';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CallRecord, type RegisterRecord, type StreamRecord, formatIsoMicros } from '@callscope/cdr-model';

/** Server URL without a database; tests take it from the environment like CI would. */
export const SERVER_URL = process.env.CALLSCOPE_DB_URL ?? 'mysql://root@127.0.0.1:3306/';

export interface TestDb {
  name: string;
  url: string;
  pool: Pool;
  drop: () => Promise<void>;
}

/** Creates `callscope_t_<pid>_<rand>` and a pool on it. */
export async function createTestDb(): Promise<TestDb> {
  const name = `callscope_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = createPool({ uri: SERVER_URL, connectionLimit: 1 });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.end();
  const base = new URL(SERVER_URL);
  base.pathname = `/${name}`;
  const url = base.toString();
  const pool = createPool({ uri: url, connectionLimit: 4, dateStrings: true });
  return {
    name,
    url,
    pool,
    drop: async () => {
      await pool.end();
      const a = createPool({ uri: SERVER_URL, connectionLimit: 1 });
      await a.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await a.end();
    },
  };
}

/** One scratch root per test file; {@link removeTempDirs} deletes it in `afterAll`. */
let scratch: string | null = null;

export function removeTempDirs(): void {
  if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
  scratch = null;
}

export function tempDir(prefix: string): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'cdr-test-'));
  return mkdtempSync(join(scratch, `${prefix}-`));
}

/** ISO time `offsetS` seconds (plus `micros`) after `baseMs`. */
export function isoAt(baseMs: number, offsetS: number, micros = 0): string {
  return formatIsoMicros(Math.floor(baseMs / 1000) + offsetS, micros);
}

export function makeStream(side: 'caller' | 'callee', i: number, baseMs: number, packets: number): StreamRecord {
  return {
    ssrc: `0x${(0x1a2b0000 + i).toString(16).padStart(8, '0')}`,
    side,
    src_ip: side === 'caller' ? '10.0.0.1' : '2001:db8::2',
    src_port: 4000 + (i % 1000) * 2,
    dst_ip: side === 'caller' ? '10.0.0.2' : '2001:db8::1',
    dst_port: 6000,
    payload_type: 8,
    codec: 'PCMA',
    // A codec change (issue 19) on every other stream, so the list round-trips with 1 and 2 entries.
    codecs:
      i % 2 === 0
        ? [{ payload_type: 8, codec: 'PCMA', from: isoAt(baseMs, 1, 123_000) }]
        : [
            { payload_type: 8, codec: 'PCMA', from: isoAt(baseMs, 1, 123_000) },
            { payload_type: 0, codec: 'PCMU', from: isoAt(baseMs, 11, 140_000) },
          ],
    packets,
    lost: 3,
    lost_pct: 0.2,
    seq_errors: 2,
    duplicated: 1,
    reordered: 0,
    first: isoAt(baseMs, 1, 123_456),
    last: isoAt(baseMs, 30, 654_321),
    jitter_max_ms: 1.234567,
    jitter_mean_ms: 0.456,
    delta_max_ms: 61.0625,
    loss_bursts: [3, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    mos_f1: 4.31,
    mos_f2: 4.4,
    mos_adapt: side === 'caller' ? 4.41 : 3.2,
    mos_min: 3.95,
    rtcp: side === 'caller' ? { packets: 6, lost: 2, fraction_lost_max_pct: 1.5625, jitter_max_ms: 2.5, rtt_max_ms: 12.75 } : null,
  };
}

/** A call with every field non-null (and varied by `i`). */
export function makeCall(i: number, baseMs: number, overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    type: 'call',
    sensor: 'sensor-a',
    call_id: `call-${i}@pbx.example.com`,
    caller: `4420${String(i).padStart(6, '0')}`,
    called: `3360${String(i % 1000).padStart(6, '0')}`,
    caller_domain: 'pbx.example.com',
    called_domain: 'carrier.example.net',
    caller_name: `Ünïcode 名前 ${i}`,
    caller_ip: '192.0.2.10',
    caller_port: 5060,
    callee_ip: '2001:db8::5',
    callee_port: 5061,
    transport: 'tls',
    start: isoAt(baseMs, 0, 123_456),
    answer: isoAt(baseMs, 2, 500_001),
    end: isoAt(baseMs, 32, 999_999),
    duration: 32.876543,
    connect_duration: 30.499998,
    pdd_ms: 812.5,
    last_sip_code: 200,
    last_sip_reason: 'OK',
    bye_by: 'callee',
    end_reason: 'bye_confirmed',
    sip_packets: 9,
    vlan: 100,
    caller_user_agent: 'Linphone/5.2',
    callee_user_agent: 'Asterisk PBX 20.5',
    dtmf: [
      { digit: '5', ts: isoAt(baseMs, 5, 1), method: 'rfc2833', duration_ms: 120 },
      { digit: '#', ts: isoAt(baseMs, 6, 2), method: 'info', duration_ms: null },
    ],
    sip_responses: [
      { code: 180, reason: 'Ringing', time: isoAt(baseMs, 0, 900_000), cseq_method: 'INVITE', from_side: 'callee' },
      { code: 200, reason: 'OK', time: isoAt(baseMs, 2, 500_001), cseq_method: 'INVITE', from_side: 'callee' },
      { code: 200, reason: 'OK', time: isoAt(baseMs, 32, 999_999), cseq_method: 'BYE', from_side: 'caller' },
    ],
    streams: [makeStream('caller', i * 2, baseMs, 1500), makeStream('callee', i * 2 + 1, baseMs, 1490)],
    x_cid: `leg-a-${i}@sbc.example.com`,
    session_id: { local_uuid: (0xab00 + i).toString(16).padStart(32, '0'), remote_uuid: i % 2 === 0 ? null : 'c4d2e8f01a3b4c5d9e8f7a6b5c4d3e2f' },
    icid: `icid-${i}`,
    correlation: { 'X-Correlation-ID': `corr-${i}`, 'X-Carrier-Ref': `Wert ünï ${i}` },
    linked_legs: [{ call_id: `leg-a-${i}@sbc.example.com`, start: isoAt(baseMs, 0, 100_000), by: 'x_cid', header: null }],
    branches: [
      { to_tag: `t1-${i}`, ip: '198.51.100.20', port: 5060, invite: isoAt(baseMs, 0, 123_456), provisional: [{ code: 180, time: isoAt(baseMs, 0, 900_000) }], final_code: 200, final: isoAt(baseMs, 2, 500_001), cancel: null, chosen: true },
      { to_tag: null, ip: '2001:db8::21', port: 5062, invite: isoAt(baseMs, 0, 123_500), provisional: [], final_code: 487, final: isoAt(baseMs, 2, 600_000), cancel: isoAt(baseMs, 2, 550_000), chosen: false },
    ],
    dropped: { rtp_streams_over_cap: 1, rtp_packets_over_cap: 250 + i, rtp_malformed: 3, rtcp_malformed: 0, sip_oversize: 0 },
    ...overrides,
  };
}

/** A call with every nullable field null and no children. */
export function makeBareCall(i: number, baseMs: number): CallRecord {
  return makeCall(i, baseMs, {
    caller_name: null,
    answer: null,
    connect_duration: null,
    pdd_ms: null,
    last_sip_code: null,
    last_sip_reason: null,
    bye_by: null,
    end_reason: 'capture_end',
    vlan: null,
    caller_user_agent: null,
    callee_user_agent: null,
    transport: 'udp',
    dtmf: [],
    sip_responses: [],
    x_cid: null,
    session_id: null,
    icid: null,
    correlation: {},
    linked_legs: [],
    branches: [],
    streams: [],
    dropped: null,
  });
}

export function makeRegister(i: number, baseMs: number, result: RegisterRecord['result']): RegisterRecord {
  return {
    type: 'register',
    sensor: 'sensor-a',
    call_id: `reg-${i}@ua`,
    user: `user${i}`,
    domain: 'example.com',
    contact: result === 'ok' ? `sip:user${i}@198.51.100.7:5060` : null,
    expires: result === 'ok' ? 3600 : null,
    result,
    last_sip_code: result === 'ok' ? 200 : result === 'timeout' ? null : 403,
    first: isoAt(baseMs, 0, 1),
    last: isoAt(baseMs, 1, 2),
    client_ip: '198.51.100.7',
    client_port: 5060,
    registrar_ip: '203.0.113.1',
    registrar_port: 5060,
    user_agent: result === 'ok' ? 'Yealink' : null,
    challenged: result !== 'timeout',
    transactions: 2,
  };
}

export async function countRows(pool: Pool, table: string): Promise<number> {
  const [rows] = await pool.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
  return Number((rows as { n: number | string }[])[0]!.n);
}
