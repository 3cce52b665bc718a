// CDR insert throughput and GUI query latency on a real MariaDB.
//
//   npm run bench -- cdr-schema          (bundled by scripts/bench.mjs)
//   env CDR_BENCH_INSERT=20000 CDR_BENCH_LOAD=1000000 CALLSCOPE_DB_URL=mysql://root@127.0.0.1:3306/
//   or, on the bundled file: node dist/bench/libs/cdr-schema/cdr-bench.mjs --insert N --load N --db URL
//
// Creates and drops its own database `callscope_bench_<pid>`. Insert rate is measured twice: CDRs
// with 2 stream rows each, then CDRs that also carry 3 SIP responses and 1 DTMF digit. --load is the number of CDRs (spread over the last 24 h) the query
// latencies are measured on; the target is 1 000 000 — the default is smaller to stay polite on a
// shared machine.
import { createPool } from 'mysql2/promise';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CallRecord, StreamRecord } from '../src/index.js';
import { CdrWriter, formatIsoMicros, migrate, searchCalls } from '../src/index.js';

const { values } = parseArgs({
  options: {
    insert: { type: 'string', default: process.env.CDR_BENCH_INSERT ?? '20000' },
    load: { type: 'string', default: process.env.CDR_BENCH_LOAD ?? '200000' },
    db: { type: 'string', default: process.env.CALLSCOPE_DB_URL ?? 'mysql://root@127.0.0.1:3306/' },
    keep: { type: 'boolean', default: false },
  },
});
const INSERT = Number(values.insert);
const LOAD = Number(values.load);

let seed = 12345;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');
const iso = (ms: number): string => formatIsoMicros(Math.floor(ms / 1000), Math.floor((ms % 1000) * 1000));

function stream(side: 'caller' | 'callee', startMs: number, mos: number): StreamRecord {
  return {
    ssrc: `0x${Math.floor(rand() * 0xffffffff).toString(16).padStart(8, '0')}`,
    side,
    src_ip: side === 'caller' ? '10.1.2.3' : '10.9.8.7',
    src_port: 10_000 + Math.floor(rand() * 20_000) * 2,
    dst_ip: side === 'caller' ? '10.9.8.7' : '10.1.2.3',
    dst_port: 10_000 + Math.floor(rand() * 20_000) * 2,
    payload_type: 8,
    codec: 'PCMA',
    packets: 3000 + Math.floor(rand() * 1000),
    lost: Math.floor(rand() * 10),
    lost_pct: rand(),
    seq_errors: 0,
    duplicated: 0,
    reordered: 0,
    first: iso(startMs + 1000),
    last: iso(startMs + 61_000),
    jitter_max_ms: rand() * 20,
    jitter_mean_ms: rand() * 5,
    delta_max_ms: 20 + rand() * 40,
    loss_bursts: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    mos_f1: mos,
    mos_f2: mos,
    mos_adapt: mos,
    mos_min: mos - 0.1,
    rtcp: null,
  };
}

function call(i: number, startMs: number, full: boolean): CallRecord {
  // Realistic mix: most calls are good, about 3% are bad, so a MOS filter is selective.
  const mos = rand() < 0.03 ? 2 + rand() * 1.4 : 4 + rand() * 0.4;
  return {
    type: 'call',
    sensor: 'bench',
    call_id: `${digits(16)}-${i}@bench`,
    caller: `49${digits(9)}`,
    called: `33${digits(9)}`,
    caller_domain: 'pbx.bench',
    called_domain: 'carrier.bench',
    caller_name: null,
    caller_ip: '10.1.2.3',
    caller_port: 5060,
    callee_ip: '10.9.8.7',
    callee_port: 5060,
    transport: 'udp',
    start: iso(startMs),
    answer: iso(startMs + 900),
    end: iso(startMs + 62_000),
    duration: 62,
    connect_duration: 61.1,
    pdd_ms: 900,
    last_sip_code: 200,
    last_sip_reason: 'OK',
    bye_by: 'caller',
    end_reason: 'bye_confirmed',
    sip_packets: 7,
    vlan: null,
    caller_user_agent: 'bench-ua',
    callee_user_agent: null,
    dtmf: full ? [{ digit: '1', ts: iso(startMs + 5000), method: 'rfc2833', duration_ms: 100 }] : [],
    sip_responses: !full ? [] : [
      { code: 180, reason: 'Ringing', time: iso(startMs + 500), cseq_method: 'INVITE', from_side: 'callee' },
      { code: 200, reason: 'OK', time: iso(startMs + 900), cseq_method: 'INVITE', from_side: 'callee' },
      { code: 200, reason: 'OK', time: iso(startMs + 62_000), cseq_method: 'BYE', from_side: 'callee' },
    ],
    streams: [stream('caller', startMs, mos), stream('callee', startMs, mos + 0.2)],
  };
}

async function insert(writer: CdrWriter, count: number, from: number, spreadMs: number, full: boolean): Promise<number> {
  const t0 = performance.now();
  const CHUNK = 5000;
  for (let i = 0; i < count; i += CHUNK) {
    const n = Math.min(CHUNK, count - i);
    const now = Date.now();
    await Promise.all(Array.from({ length: n }, (_, k) => writer.write(call(from + i + k, now - Math.floor(rand() * spreadMs), full))));
  }
  return count / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const name = `callscope_bench_${process.pid}`;
  const admin = createPool({ uri: values.db, connectionLimit: 1 });
  await admin.query(`CREATE DATABASE \`${name}\``);
  const url = new URL(values.db);
  url.pathname = `/${name}`;
  const pool = createPool({ uri: url.toString(), connectionLimit: 2, dateStrings: true });
  const queueDir = mkdtempSync(join(tmpdir(), 'cdr-bench-'));
  try {
    await migrate(pool);
    const writer = await CdrWriter.open({ db: pool, queueDir, batchSize: 500 });
    const day = 86_400_000;
    const rate = await insert(writer, INSERT, 0, day, false);
    console.log(`insert: ${INSERT} CDRs with 2 stream rows each at ${rate.toFixed(0)} CDR/s`);
    const fullRate = await insert(writer, INSERT, INSERT, day, true);
    console.log(`insert: ${INSERT} CDRs with 2 streams, 3 SIP responses, 1 DTMF each at ${fullRate.toFixed(0)} CDR/s`);
    if (LOAD > 2 * INSERT) {
      const loadRate = await insert(writer, LOAD - 2 * INSERT, 2 * INSERT, day, false);
      console.log(`load: ${LOAD - 2 * INSERT} more CDRs at ${loadRate.toFixed(0)} CDR/s (total ${LOAD})`);
    }
    await writer.close();
    console.log('writer stats', JSON.stringify(writer.stats()));
    await pool.query('ANALYZE TABLE cdr');
    const now = Date.now();
    const [sample] = await pool.query('SELECT call_id, caller FROM cdr ORDER BY id DESC LIMIT 1');
    const { call_id: callId, caller } = (sample as { call_id: string; caller: string }[])[0]!;
    const lastDay = { from: iso(now - day - 60_000), to: iso(now + 60_000) };
    const queries: [string, () => Promise<unknown[]>][] = [
      ['last hour (newest 100)', () => searchCalls(pool, { from: iso(now - 3_600_000), to: iso(now + 60_000) })],
      [`caller prefix ${caller.slice(0, 6)}, 1 day`, () => searchCalls(pool, { ...lastDay, caller_prefix: caller.slice(0, 6) })],
      [`caller suffix ${caller.slice(-5)}, 1 day`, () => searchCalls(pool, { ...lastDay, caller_suffix: caller.slice(-5) })],
      ['MOS below 3.5 in a day (100)', () => searchCalls(pool, { ...lastDay, mos_below: 3.5 })],
      ['one Call-ID, 1 day', () => searchCalls(pool, { ...lastDay, call_id: callId })],
    ];
    for (const [label, run] of queries) {
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        rows = (await run()).length;
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      console.log(`query ${label}: median ${times[7]!.toFixed(2)} ms, max ${times[14]!.toFixed(2)} ms, ${rows} rows, on ${LOAD} CDRs`);
    }
  } finally {
    await pool.end();
    if (values.keep) console.log(`kept database ${name}`);
    else await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.end();
    rmSync(queueDir, { recursive: true, force: true });
  }
}

await main();
