// CDR insert throughput and GUI query latency on a real MariaDB.
//
//   npm run bench -- cdr-schema          (bundled by scripts/bench.mjs)
//   env CDR_BENCH_INSERT=20000 CDR_BENCH_LOAD=1000000 CALLSCOPE_DB_URL=mysql://root@127.0.0.1:3306/
//   or, on the bundled file: node dist/bench/libs/cdr-schema/cdr-bench.mjs --insert N --load N --db URL
//
// Creates and drops its own database `callscope_bench_<pid>`. After an unreported warm-up of 5 000
// CDRs, the insert rate is measured for CDRs with 2 stream rows each, next to its baseline: the same
// writer on mysql2's own statement encoder (`leanExecute: false`), the two alternating in halves so
// the machine's load hits both alike; then for CDRs that also carry 3 SIP responses and 1 DTMF
// digit. Each line also gives the CPU that mariadbd (when local) and this process spent per CDR,
// the steadier figure on a shared machine. --load is the number of CDRs the query latencies are
// measured on (the figure is at 1 000 000; the default is smaller to stay polite on a
// shared machine), each query with the EXPLAIN of its key-finding step. The CDRs' starts march
// through the last 24 h in write order, as a sensor writes calls when they end.
// --batch and --concurrency set the writer's batch size and batches in flight (defaults 500, 3).
import { createPool } from 'mysql2/promise';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CdrSearchFilter } from '../src/index.js';
import { CdrWriter, adviceText, adviseServerSettings, buildCallSearch, formatBytes, migrate, readServerSettings, searchCalls } from '../src/index.js';
import { type CallRecord, type StreamRecord, formatIsoMicros } from '@callscope/cdr-model';

const { values } = parseArgs({
  options: {
    insert: { type: 'string', default: process.env.CDR_BENCH_INSERT ?? '20000' },
    load: { type: 'string', default: process.env.CDR_BENCH_LOAD ?? '200000' },
    db: { type: 'string', default: process.env.CALLSCOPE_DB_URL ?? 'mysql://root@127.0.0.1:3306/' },
    keep: { type: 'boolean', default: false },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '3' },
  },
});
const INSERT = Number(values.insert);
const LOAD = Number(values.load);
/** Unreported warm-up CDRs (JIT, the day partitions, each connection's prepared statements). */
const WARMUP = 5000;
/** CDRs written before the load phase: warm-up, plain (writer and baseline), full. */
const MEASURED = WARMUP + 3 * INSERT;

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
    codecs: [{ payload_type: 8, codec: 'PCMA', from: iso(startMs + 1000) }],
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
    x_cid: null,
    session_id: null,
    icid: null,
    correlation: {},
    linked_legs: [],
    branches: [],
    // About 1% of calls lost packets inside the sniffer, so the `incomplete` filter is selective.
    dropped: rand() < 0.01 ? { rtp_streams_over_cap: 0, rtp_packets_over_cap: 0, rtp_malformed: 1 + Math.floor(rand() * 9), rtcp_malformed: 0, sip_oversize: 0 } : null,
  };
}

/**
 * CPU seconds (user + system) used so far by the process `pid`, or null when it cannot be read
 * (remote server, other user). On a shared machine the wall-clock rate swings with everybody
 * else's load; CPU time per CDR is the steadier figure of the work each side does.
 */
function processCpuS(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

let serverPid: number | null = null;

interface InsertResult {
  count: number;
  rate: number;
  /** mariadbd CPU per CDR, µs (null if unreadable). */
  serverUs: number | null;
  /** This process's CPU per CDR, µs (the writer; record generation is not counted). */
  nodeUs: number;
}

const cpuText = (r: InsertResult): string =>
  `${r.rate.toFixed(0)} CDR/s; CPU per CDR: mariadbd ${r.serverUs === null ? '?' : r.serverUs.toFixed(0)} µs, node ${r.nodeUs.toFixed(0)} µs`;

const DAY_MS = 86_400_000;
/** CDRs written so far, by every writer of the run: the position on the bench's day. */
let sequence = 0;
const dayEnd = Date.now();

/**
 * The start of the next CDR. A sensor writes a CDR when its call ends, so starts arrive roughly in
 * time order: the run's CDRs march through the last 24 hours in write order (the total is at least
 * --load), each within a minute of its place. Numbers and Call-IDs stay random, as in real traffic.
 */
function nextStartMs(): number {
  const total = Math.max(LOAD, MEASURED);
  return dayEnd - DAY_MS + Math.floor((sequence++ * DAY_MS) / total + (rand() - 0.5) * 60_000);
}

/**
 * Writes `count` CDRs and measures the writer alone: records are generated in chunks of 20 000
 * outside the timed (and CPU-counted) part, so the figures are the writer's and the server's, not
 * the generator's. Each chunk waits for its last acknowledgement, so the rate includes draining
 * the pipeline 1 + count / 20 000 times (a slight underestimate of the sustained rate).
 */
async function insert(writer: CdrWriter, count: number, from: number, full: boolean): Promise<InsertResult> {
  const CHUNK = 20_000;
  let seconds = 0;
  let serverS: number | null = 0;
  let nodeUs = 0;
  for (let i = 0; i < count; i += CHUNK) {
    const n = Math.min(CHUNK, count - i);
    const records = Array.from({ length: n }, (_, k) => call(from + i + k, nextStartMs(), full));
    // The generator's garbage is not the writer's: collect it before the clock starts
    // (scripts/bench.mjs runs node with --expose-gc; without it this is skipped).
    (globalThis as { gc?: () => void }).gc?.();
    const server0 = processCpuS(serverPid);
    const node0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(records.map((r) => writer.write(r)));
    seconds += (performance.now() - t0) / 1000;
    const node = process.cpuUsage(node0);
    nodeUs += node.user + node.system;
    const server1 = processCpuS(serverPid);
    serverS = serverS === null || server0 === null || server1 === null ? null : serverS + server1 - server0;
  }
  return { count, rate: count / seconds, serverUs: serverS === null ? null : (serverS / count) * 1e6, nodeUs: nodeUs / count };
}

/** Two measurements of `a.count` and `b.count` CDRs as one. */
function merge(a: InsertResult, b: InsertResult): InsertResult {
  const n = a.count + b.count;
  const seconds = a.count / a.rate + b.count / b.rate;
  const server = a.serverUs === null || b.serverUs === null ? null : (a.serverUs * a.count + b.serverUs * b.count) / n;
  return { count: n, rate: n / seconds, serverUs: server, nodeUs: (a.nodeUs * a.count + b.nodeUs * b.count) / n };
}

async function main(): Promise<void> {
  const name = `callscope_bench_${process.pid}`;
  const admin = createPool({ uri: values.db, connectionLimit: 1 });
  await admin.query(`CREATE DATABASE \`${name}\``);
  const url = new URL(values.db);
  url.pathname = `/${name}`;
  const pool = createPool({ uri: url.toString(), connectionLimit: Number(values.concurrency) + 1, dateStrings: true });
  const queueDir = mkdtempSync(join(tmpdir(), 'cdr-bench-'));
  try {
    await migrate(pool);
    // The figures depend on the server's sizing (src/server-check.ts): print it with them.
    const settings = await readServerSettings(pool);
    const size = (v: number | null): string => (v === null ? '?' : formatBytes(v));
    console.log(`server: innodb_buffer_pool_size ${size(settings.innodb_buffer_pool_size)}, innodb_log_file_size ${size(settings.innodb_log_file_size)}`);
    for (const a of adviseServerSettings(settings)) console.log(`  warning: ${adviceText(a)}`);
    const [pidRows] = await pool.query('SELECT @@pid_file AS f');
    try {
      serverPid = Number(readFileSync((pidRows as { f: string }[])[0]!.f, 'utf8').trim());
    } catch {
      serverPid = null; // not local or not readable: report rates only
    }
    const writerOptions = { db: pool, batchSize: Number(values.batch), concurrency: Number(values.concurrency) };
    const writer = await CdrWriter.open({ ...writerOptions, queueDir });
    // The baseline: the same writer on mysql2's own statement encoder.
    const baseline = await CdrWriter.open({ ...writerOptions, queueDir: join(queueDir, 'baseline'), leanExecute: false });
    await insert(writer, WARMUP / 2, 10_000_000, true);
    await insert(baseline, WARMUP / 2, 10_100_000, true);
    // Writer and baseline alternate in halves, so a change in the machine's load hits both alike.
    const half = Math.floor(INSERT / 2);
    const plainA = await insert(writer, half, 0, false);
    const baseA = await insert(baseline, half, 20_000_000, false);
    const plainB = await insert(writer, INSERT - half, half, false);
    const baseB = await insert(baseline, INSERT - half, 20_000_000 + half, false);
    const plain = merge(plainA, plainB);
    const base = merge(baseA, baseB);
    console.log(`insert: ${INSERT} CDRs with 2 stream rows each at ${cpuText(plain)}`);
    console.log(`  baseline, mysql2's own encoder: ${INSERT} CDRs at ${cpuText(base)} -> the writer is ${(plain.rate / base.rate).toFixed(2)}x`);
    const full = await insert(writer, INSERT, INSERT, true);
    console.log(`insert: ${INSERT} CDRs with 2 streams, 3 SIP responses, 1 DTMF each at ${cpuText(full)}`);
    if (LOAD > MEASURED) {
      const load = await insert(writer, LOAD - MEASURED, 2 * INSERT, false);
      console.log(`load: ${LOAD - MEASURED} more CDRs at ${cpuText(load)} (total ${LOAD})`);
    }
    await baseline.close();
    await writer.close();
    console.log('writer stats', JSON.stringify(writer.stats()));
    console.log('baseline stats', JSON.stringify(baseline.stats()));
    await pool.query('ANALYZE TABLE cdr');
    const now = Date.now();
    const [sample] = await pool.query('SELECT call_id, caller FROM cdr ORDER BY id DESC LIMIT 1');
    const { call_id: callId, caller } = (sample as { call_id: string; caller: string }[])[0]!;
    const lastDay = { from: iso(now - DAY_MS - 60_000), to: iso(now + 60_000) };
    const queries: [string, CdrSearchFilter][] = [
      ['last hour (newest 100)', { from: iso(now - 3_600_000), to: iso(now + 60_000) }],
      [`caller prefix ${caller.slice(0, 6)}, 1 day`, { ...lastDay, caller_prefix: caller.slice(0, 6) }],
      [`caller suffix ${caller.slice(-5)}, 1 day`, { ...lastDay, caller_suffix: caller.slice(-5) }],
      ['MOS below 3.5 in a day (100)', { ...lastDay, mos_below: 3.5 }],
      ['incomplete calls in a day (100)', { ...lastDay, incomplete: true }],
      ['one Call-ID, 1 day', { ...lastDay, call_id: callId }],
    ];
    for (const [label, filter] of queries) {
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        rows = (await searchCalls(pool, filter)).length;
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      console.log(`query ${label}: median ${times[7]!.toFixed(2)} ms, max ${times[14]!.toFixed(2)} ms, ${rows} rows, on ${LOAD} CDRs`);
      const { sql, args } = buildCallSearch(filter);
      const [plan] = await pool.query(`EXPLAIN ${sql}`, args);
      const c = (plan as Record<string, unknown>[]).find((r) => r.table === 'c');
      console.log(`  EXPLAIN cdr: type ${String(c?.type)}, key ${String(c?.key)}, rows ${String(c?.rows)}, ${String(c?.Extra)}`);
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
