/**
 * Issue 17: the spool at line rate. In one run, on the synth captures of 1,000 and 10,000
 * concurrent calls, `analyze`, `analyze --spool` and `analyze --db --spool` of this checkout, and
 * the same three of a baseline revision (the per-call spool before the segment archives) when
 * `CALLSCOPE_BENCH_BASELINE=<rev>` names one. Every run is a child process as the user runs it
 * (`node main.js analyze FILE --format jsonl > /dev/null ...`, the database a fresh MariaDB
 * database per run, migrated before the clock starts); figures are packets per wall second and per
 * CPU second of the child (median of the rounds; each round runs every mode once, and "x analyze"
 * is the median of each round's ratio to its own `analyze`), the spool's bytes on disk per packet and the
 * files it created (and per hour of capture time), the seconds a `sync` after the run took to write
 * them to disk (every run starts after a `sync`, so no run pays for another's write-back; its own
 * is shown, not counted in its wall time), and under each mode the median seconds of its
 * phases from the run's `--stats` `timing` (setup, packets, the calls still open at the end, spool
 * and database closing) and of its CPU seconds from `cpu` (the packet thread, the spool's writer
 * thread, the rest of the process) beside the database server's (read from /proc when the server
 * runs on this machine), against what the machine's cores could give in the run's wall time: on
 * two cores the spool and the database compete with the packet thread. Then retrieval of a
 * one-hour call (G.711, both legs, 360,007 packets) from a spool whose start minute holds 300
 * other calls, next to reading a plain pcap of the same packets (the floor), both timed in a fresh
 * process (this bench re-run with CALLSCOPE_BENCH_RETRIEVE set), as the manager API or `sniffer
 * pcap` read a spool another process wrote; the same timing in the writing process is shown
 * beside it. Retrieval is timed with the chunks given back to it as they are consumed (`recycle`,
 * as `sniffer pcap`, the manager API's download and the GUI's ladder and audio read) and kept by
 * the consumer (`openCallPcap`'s default).
 *
 *   CALLSCOPE_BENCH_BASELINE=<rev> CALLSCOPE_BENCH_CAPTURES=/tmp/callscope-bench npm run bench -- apps/sniffer
 *
 * `CALLSCOPE_BENCH_CASES=synth-10k-concurrent` (comma-separated) runs only those captures;
 * `synth-10k-sustained` (10,000 calls at once for 21 s, 16.3 M packets) runs only when named there;
 * `CALLSCOPE_BENCH_ONE_THREAD=0` leaves out the rows with the writer on the packet thread.
 * `CALLSCOPE_DB_URL` (default mysql://root@127.0.0.1:3306/callscope) names the server; the run's
 * databases are `cs_helperB_bench_<n>` (or `CALLSCOPE_BENCH_DB_PREFIX`), dropped afterwards.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_MINIMUMS } from '@callscope/cdr-schema';
import { openCallPcap, readCaptureFile, SpoolWriter } from '@callscope/pcap-store';
import { isLoopbackHost, parseTaskCpuSeconds } from '@callscope/runtime';
import type { AnalyzeTiming } from '../src/cli/analyze.cli.js';
import type { CpuSeconds } from '../src/cpu-seconds.js';
import { CONCURRENCY_CASES, SUSTAINED_CASES, fmt, root, synth } from './lib/synth-captures.js';

const baseline = process.env['CALLSCOPE_BENCH_BASELINE'] ?? '';
const rounds = Number(process.env['CALLSCOPE_BENCH_ROUNDS'] ?? '3');
const onlyCases = process.env['CALLSCOPE_BENCH_CASES']?.split(',') ?? null;
const oneThreadRows = process.env['CALLSCOPE_BENCH_ONE_THREAD'] !== '0';
const serverUrl = process.env['CALLSCOPE_DB_URL'] ?? 'mysql://root@127.0.0.1:3306/callscope';
const dbPrefix = process.env['CALLSCOPE_BENCH_DB_PREFIX'] ?? 'cs_helperB_bench_';

interface Run {
  packets: number;
  cpu: number;
  wall: number;
  spoolBytes: number;
  /**
   * Seconds a `sync` took right after the run, before its spool was deleted: the disk writing what
   * the run left in the page cache (not in `wall`; a sensor's disk must keep this pace). Null
   * without a spool.
   */
  writeBackS: number | null;
  spoolFiles: number;
  /** The run's `--stats` `timing` (seconds per phase); null from a revision that has none. */
  timing: AnalyzeTiming | null;
  /** The run's `--stats` `cpu` (seconds per thread); null from a revision that has none. */
  threads: CpuSeconds | null;
  /** CPU seconds the database server used during the run; null without a database or a server on this machine. */
  dbServerCpu: number | null;
}

/**
 * CPU seconds the database server has used so far: its process's /proc stat, when the server
 * answers on this machine (a loopback address) and runs as `mariadbd` or `mysqld`; else null.
 */
function dbServerCpuSeconds(): number | null {
  if (!isLoopbackHost(new URL(serverUrl).hostname)) return null;
  for (const name of ['mariadbd', 'mysqld']) {
    const found = spawnSync('pidof', ['-s', name], { encoding: 'utf8' });
    // No pidof (its stdout is then missing too): the server's CPU is not shown.
    if (found.error !== undefined) return null;
    const pid = found.stdout.trim();
    if (!/^\d+$/.test(pid)) continue;
    try {
      return parseTaskCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'latin1'));
    } catch {
      return null;
    }
  }
  return null;
}


/**
 * Times 5 retrievals of the call and 5 plain reads of `plain` (when given): ms each. With
 * `recycle` the chunks are given back as they are counted (as `sniffer pcap`, the manager API's
 * download and the GUI's ladder and audio read), else the consumer keeps them (the default of
 * `openCallPcap`, for consumers that cannot say when they are done). The two ways run in separate processes: taking
 * turns in one, the second way ran 2-3x slower than alone (the first one's memory left behind).
 */
async function timeRetrieval(dir: string, query: { callId: string; startSec: number; startUsec: number }, packets: number, plain: string | null, recycle: boolean) {
  const times: { open: number; full: number; bytes: number }[] = [];
  // The timed passes keep nothing (a server streams the pcap out): holding 83 MB of output chunks
  // made every pass 3-4x slower from garbage collection alone. Two untimed passes first: a server
  // answers with warm code (the first pass of a fresh process compiles the reader: 260-340 ms).
  for (let i = -2; i < 5; i++) {
    const a = process.hrtime.bigint();
    const stream = await openCallPcap(dir, query, { recycle });
    const b = process.hrtime.bigint();
    let bytes = 0;
    for await (const chunk of stream.chunks()) {
      bytes += chunk.length;
      stream.recycle(chunk);
    }
    const e = process.hrtime.bigint();
    if (stream.summary.packets !== packets) throw new Error(`retrieved ${stream.summary.packets} packets, wrote ${packets}`);
    if (i >= 0) times.push({ open: Number(b - a) / 1e6, full: Number(e - a) / 1e6, bytes });
  }
  if (plain !== null && !existsSync(plain)) {
    const chunks: Buffer[] = [];
    for await (const chunk of (await openCallPcap(dir, query)).chunks()) chunks.push(chunk);
    writeFileSync(plain, Buffer.concat(chunks));
  }
  const floor: number[] = [];
  for (let i = -2; plain !== null && i < 5; i++) {
    const a = process.hrtime.bigint();
    await readCaptureFile(plain, () => undefined);
    if (i < 0) continue;
    floor.push(Number(process.hrtime.bigint() - a) / 1e6);
  }
  return { times, floor };
}

const retrieveOnly = process.env['CALLSCOPE_BENCH_RETRIEVE'];
if (retrieveOnly !== undefined) {
  const { dir, query, packets, plain, recycle } = JSON.parse(retrieveOnly) as { dir: string; query: { callId: string; startSec: number; startUsec: number }; packets: number; plain: string | null; recycle: boolean };
  process.stdout.write(JSON.stringify(await timeRetrieval(dir, query, packets, plain, recycle)));
  process.exit(0);
}

function bundleOf(args: string[]): string {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`build failed: ${args.join(' ')}`);
  return r.stdout.trim().split('\n').pop()!;
}

function dbUrl(name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

function sql(statement: string): string {
  const u = new URL(serverUrl);
  const r = spawnSync('mysql', ['-h', u.hostname, '-P', u.port || '3306', '-u', decodeURIComponent(u.username), ...(u.password ? [`-p${decodeURIComponent(u.password)}`] : []), '-N', '-e', statement], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mysql: ${r.stderr}`);
  return r.stdout;
}

function filesUnder(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += statSync(join(e.parentPath, e.name)).size;
  }
  return { bytes, files };
}

let dbCount = 0;

/** One `analyze` run of `bundle`: CPU and wall seconds from bash's `time`, packets from the summary. */
function runAnalyze(bundle: string, file: string, spool: boolean, db: boolean, env: Record<string, string> = {}): Run {
  const work = mkdtempSync(join(tmpdir(), 'callscope-spool-bench-'));
  const statsFile = join(work, 'stats.json');
  const extra: string[] = ['--no-progress', '--queue-dir', join(work, 'queue'), '--stats', statsFile];
  let dbName: string | null = null;
  try {
    if (spool) extra.push('--spool', join(work, 'spool'));
    if (db) {
      dbName = `${dbPrefix}${process.pid}_${dbCount++}`;
      const m = spawnSync(process.execPath, [bundle, 'migrate', '--db', dbUrl(dbName)], { encoding: 'utf8' });
      if (m.status !== 0) throw new Error(`migrate failed: ${m.stderr.slice(-500)}`);
      extra.push('--db', dbUrl(dbName));
    } else {
      extra.push('--no-db');
    }
    const script = `TIMEFORMAT='%U %S %R'; time node "$1" analyze "$2" --format jsonl "\${@:3}" > /dev/null`;
    // Every run starts with nothing waiting for the disk: the write-back of what earlier runs (or
    // the capture's generation) left dirty otherwise lands on whichever run comes next (a
    // 1,000-call run took its packets phase from ~3 s by hand to 5.6 s in the bench, the packet
    // thread idle, waiting; and an `analyze` after a spool run paid for that run's disk). The
    // run's own write-back is timed after it instead (writeBackS).
    spawnSync('sync');
    const dbBefore = db ? dbServerCpuSeconds() : null;
    const r = spawnSync('bash', ['-c', script, 'bench', bundle, file, ...extra], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`analyze failed (${bundle} ${extra.join(' ')}): ${r.stderr.slice(-800)}`);
    const packets = /analyzed (\d+) packets/.exec(r.stderr);
    const times = /^([\d.]+) ([\d.]+) ([\d.]+)$/m.exec(r.stderr);
    if (packets === null || times === null) throw new Error(`no summary or times from ${bundle}: ${r.stderr.slice(-500)}`);
    let writeBackS: number | null = null;
    if (spool) {
      const from = process.hrtime.bigint();
      spawnSync('sync');
      writeBackS = Number(process.hrtime.bigint() - from) / 1e9;
    }
    const onDisk = spool ? filesUnder(join(work, 'spool')) : { bytes: 0, files: 0 };
    const dbAfter = db ? dbServerCpuSeconds() : null;
    const doc = JSON.parse(readFileSync(statsFile, 'utf8')) as { timing?: AnalyzeTiming; cpu?: CpuSeconds };
    return {
      packets: Number(packets[1]),
      cpu: Number(times[1]) + Number(times[2]),
      wall: Number(times[3]),
      spoolBytes: onDisk.bytes,
      writeBackS,
      spoolFiles: onDisk.files,
      timing: doc.timing ?? null,
      threads: doc.cpu ?? null,
      dbServerCpu: dbBefore === null || dbAfter === null ? null : dbAfter - dbBefore,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (dbName !== null) sql(`DROP DATABASE IF EXISTS \`${dbName}\``);
  }
}

/**
 * Where the runs' time went (median seconds per phase of `analyze --stats` `timing`): the packets
 * or the end (the calls still open at the last packet closed at once, their records inserted, the
 * spool's last writes), which a ratio of totals cannot tell apart.
 */
function phaseLine(runs: readonly Run[]): string | null {
  const timings = runs.map((r) => r.timing).filter((t): t is AnalyzeTiming => t !== null);
  if (timings.length === 0) return null;
  const phases: [string, (t: AnalyzeTiming) => number | null][] = [
    ['setup', (t) => t.setup_s],
    ['packets', (t) => t.packets_s],
    ['open calls at the end', (t) => t.finish_s],
    ['spool close', (t) => t.spool_close_s],
    ['database close', (t) => t.db_close_s],
  ];
  const parts: string[] = [];
  // A phase the mode does not have (no spool, no database) is null in every run: left out.
  for (const [label, pick] of phases) {
    const xs = timings.map(pick).filter((x): x is number => x !== null);
    if (xs.length > 0) parts.push(`${label} ${median(xs).toFixed(2)}`);
  }
  return `phases, median seconds: ${parts.join(', ')}`;
}

/**
 * Where the cores went (median CPU seconds of the runs): the packet thread, which sets the pace,
 * and what competes with it for the cores: the spool's writer thread, the process's other threads
 * (the garbage collector's and compiler's helpers, file-system writes on libuv's threads) and the
 * database server; against the cores times the wall time, what the machine could give.
 */
function cpuLine(runs: readonly Run[]): string | null {
  const withThreads = runs.filter((r) => r.threads !== null && r.threads.packet_thread_s !== null);
  if (withThreads.length === 0) return null;
  const med = (pick: (r: Run) => number | null): number | null => {
    const xs = withThreads.map(pick).filter((x): x is number => x !== null);
    return xs.length === 0 ? null : median(xs);
  };
  const packet = med((r) => r.threads!.packet_thread_s);
  const spool = med((r) => r.threads!.spool_thread_s);
  const rest = med((r) => r.threads!.process_s - r.threads!.packet_thread_s! - (r.threads!.spool_thread_s ?? 0));
  const db = med((r) => r.dbServerCpu);
  const capacity = med((r) => availableParallelism() * r.wall);
  const parts = [`packet thread ${packet!.toFixed(2)}`];
  if (spool !== null) parts.push(`spool thread ${spool.toFixed(2)}`);
  parts.push(`other threads ${rest!.toFixed(2)}`);
  if (db !== null) parts.push(`database server ${db.toFixed(2)}`);
  return `CPU seconds, median: ${parts.join(', ')} (${availableParallelism()} cores x wall: ${capacity!.toFixed(2)})`;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Capture time the file spans, seconds (for files created per hour of capture). */
async function captureSpan(file: string): Promise<number> {
  let first = -1;
  let last = 0;
  await readCaptureFile(file, (r) => {
    const t = r.tsSec + r.tsNsec / 1e9;
    if (first < 0) first = t;
    last = t;
  });
  return last - first;
}

/**
 * The spool's writer runs on a worker thread by default (spool.writerThread); the "1 thread" rows
 * run the same bundle with it on the packet thread, as before (this checkout only: a baseline
 * revision may not know the setting).
 */
const ONE_THREAD = { CALLSCOPE_SNIFFER_SPOOL_WRITER_THREAD: 'false' };
const MODES: readonly { name: string; spool: boolean; db: boolean; env?: Record<string, string> }[] = [
  { name: 'analyze', spool: false, db: false },
  { name: 'analyze --spool', spool: true, db: false },
  { name: 'analyze --db --spool', spool: true, db: true },
  { name: '--spool (1 thread)', spool: true, db: false, env: ONE_THREAD },
  { name: '--db --spool (1 thread)', spool: true, db: true, env: ONE_THREAD },
].filter((m) => oneThreadRows || m.env === undefined);

console.log(`spool at line rate (issue 17): this checkout${baseline === '' ? '' : ` vs ${baseline}`}, ${rounds} rounds per figure (median), child processes`);
// The `--db` rows depend on the server as much as on the sniffer: on the sustained capture the
// same runs took 1.5-1.7x `analyze` with the sizes the sniffer advises and 1.7-2.1x with
// MariaDB's defaults (128 MiB pool, 96 MiB redo log), so the sizes are printed with the figures.
{
  const [pool, log] = sql('SELECT @@innodb_buffer_pool_size, @@innodb_log_file_size').trim().split(/\s+/).map(Number);
  console.log(`database server ${new URL(serverUrl).host}: innodb_buffer_pool_size ${(pool! / 2 ** 20).toFixed(0)} MiB, innodb_log_file_size ${(log! / 2 ** 20).toFixed(0)} MiB (the sniffer advises at least ${SERVER_MINIMUMS.innodb_buffer_pool_size / 2 ** 20} and ${SERVER_MINIMUMS.innodb_log_file_size / 2 ** 20})`);
}
bundleOf([join(root, 'scripts/build-app.mjs'), 'apps/sniffer']);
const current = join(root, 'dist/apps/sniffer/main.js');
const bundles: { label: string; path: string }[] = [{ label: 'this checkout', path: current }];
if (baseline !== '') bundles.push({ label: baseline, path: bundleOf([join(root, 'scripts/build-revision.mjs'), baseline]) });
else console.log('(set CALLSCOPE_BENCH_BASELINE=<rev> to measure the per-call spool of that revision beside it)');

const cases = onlyCases === null ? CONCURRENCY_CASES : [...CONCURRENCY_CASES, ...SUSTAINED_CASES].filter((c) => onlyCases.includes(c.name));
for (const c of cases) {
  const file = synth(c.name, c.args);
  const span = await captureSpan(file);
  runAnalyze(current, file, false, false); // page cache warm
  console.log(`\n${c.name} (${(statSync(file).size / 1e6).toFixed(0)} MB, ${span.toFixed(1)} s of capture)`);
  const analyzeAlone = new Map<string, number[]>();
  // Round by round, every mode once per round: this VM's speed drifts by tens of percent over
  // minutes (the same bundle's `analyze` took 5.6 s, then 7.5 s a quarter of an hour later), so
  // the modes of one ratio run side by side rather than one after the other.
  const runsOf = new Map<string, Run[]>();
  for (let i = 0; i < rounds; i++) {
    for (const b of bundles) {
      for (const m of MODES) {
        if (m.env !== undefined && b.path !== current) continue;
        const key = `${b.label}\0${m.name}`;
        runsOf.set(key, [...(runsOf.get(key) ?? []), runAnalyze(b.path, file, m.spool, m.db, m.env)]);
      }
    }
  }
  for (const b of bundles) {
    for (const m of MODES) {
      if (m.env !== undefined && b.path !== current) continue;
      const runs = runsOf.get(`${b.label}\0${m.name}`)!;
      const wallPps = median(runs.map((r) => r.packets / r.wall));
      const cpuPps = median(runs.map((r) => r.packets / r.cpu));
      if (m.name === 'analyze') analyzeAlone.set(b.label, runs.map((r) => r.wall));
      // The median of each round's ratio to that round's `analyze` (see above: drift).
      const alone = analyzeAlone.get(b.label)!;
      const slower = median(runs.map((r, i) => r.wall / alone[i]!));
      const r0 = runs[0]!;
      const spoolPart = m.spool
        ? `; spool ${(r0.spoolBytes / r0.packets).toFixed(1)} B/packet on disk, ${fmt(r0.spoolFiles)} files (${fmt((r0.spoolFiles * 3600) / span)} per hour of capture)` +
          `, written back to disk by a sync after the run in a median ${median(runs.map((r) => r.writeBackS ?? 0)).toFixed(1)} s`
        : '';
      console.log(
        `  ${b.label.padEnd(14)} ${m.name.padEnd(24)} ${fmt(wallPps).padStart(9)} packets/s wall, ${fmt(cpuPps).padStart(9)} packets/CPU-s = ${slower.toFixed(2)}x analyze${spoolPart}`,
      );
      for (const line of [phaseLine(runs), cpuLine(runs)]) if (line !== null) console.log(`  ${''.padEnd(14)} ${''.padEnd(24)} ${line}`);
    }
  }
}

// Retrieval of a one-hour call: G.711 both ways (50 + 50 packets/s) for 3,600 s, 7 SIP messages,
// written through the SpoolWriter with 300 calls of 30 s starting in the same minute (their chunks
// are in the same archive and index).
{
  const dir = mkdtempSync(join(tmpdir(), 'callscope-spool-bench-retrieve-'));
  const writer = new SpoolWriter({ spoolDir: dir });
  const t0 = 1_800_000_000 - (1_800_000_000 % 60);
  const frame = new Uint8Array(214).fill(0x55);
  const long = { callId: 'one-hour@bench', startSec: t0, startUsec: 0 };
  const others = Array.from({ length: 300 }, (_, i) => ({ callId: `short-${i}@bench`, startSec: t0 + (i % 60), startUsec: i }));
  let packets = 0;
  for (let s = 0; s < 3600; s++) {
    for (let k = 0; k < 50; k++) {
      const ns = k * 20_000_000;
      writer.write(long, 'rtp', t0 + s, ns, frame, frame.length, 1);
      writer.write(long, 'rtp', t0 + s, ns + 5_000, frame, frame.length, 1);
      packets += 2;
      if (s < 30) for (const o of others) writer.write(o, 'rtp', t0 + s, ns + 7_000, frame, frame.length, 1);
    }
    if (s === 0) for (let i = 0; i < 7; i++) writer.write(long, 'sip', t0, i * 1000, frame, frame.length, 1);
    if (writer.bufferedBytes > writer.maxBufferedBytes / 2) await writer.relieve(); // paced, as analyze is: nothing dropped
  }
  packets += 7;
  for (const o of others) await writer.endCall(o);
  await writer.endCall(long);
  await writer.close();
  if (Object.values(writer.stats().packetsDropped).some((n) => n > 0)) throw new Error(`spool dropped packets: ${JSON.stringify(writer.stats().packetsDropped)}`);
  const query = { callId: long.callId, startSec: t0, startUsec: 0 };
  const plain = join(dir, 'plain.pcap');
  const inProcess = await timeRetrieval(dir, query, packets, plain, true);
  const inProcessKept = await timeRetrieval(dir, query, packets, null, false);
  const fresh = (recycle: boolean): Awaited<ReturnType<typeof timeRetrieval>> => {
    const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, CALLSCOPE_BENCH_RETRIEVE: JSON.stringify({ dir, query, packets, plain: recycle ? plain : null, recycle }) },
    });
    if (child.status !== 0) throw new Error(`retrieval child failed: ${child.stderr}`);
    return JSON.parse(child.stdout) as Awaited<ReturnType<typeof timeRetrieval>>;
  };
  const { times, floor } = fresh(true);
  const kept = fresh(false).times;
  const index = filesUnder(dir);
  console.log(
    `\nretrieval of a one-hour call (${fmt(packets)} packets, ${(times[0]!.bytes / 1e6).toFixed(0)} MB of pcap; the start minute's archive + index ${(index.bytes / 1e6).toFixed(0)} MB with 300 other calls):`,
  );
  console.log(`  found and opened (index read, first chunk of each run): median ${median(times.map((t) => t.open)).toFixed(1)} ms`);
  console.log(`  whole merged pcap produced, chunks given back: median ${median(times.map((t) => t.full)).toFixed(0)} ms (in the writing process, after its writer closed: ${median(inProcess.times.map((t) => t.full)).toFixed(0)} ms)`);
  console.log(`  whole merged pcap produced, chunks kept by the consumer: median ${median(kept.map((t) => t.full)).toFixed(0)} ms (in the writing process: ${median(inProcessKept.times.map((t) => t.full)).toFixed(0)} ms)`);
  console.log(`  baseline: reading the same packets from one plain pcap file (readCaptureFile): median ${median(floor).toFixed(0)} ms (in the writing process: ${median(inProcess.floor).toFixed(0)} ms)`);
  rmSync(dir, { recursive: true, force: true });
}
