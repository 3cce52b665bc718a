/**
 * The sender alone in its own process, fed at a paced steady rate as a live capture feeds it
 * (bench/forward.ts runs it, bundled, once per case and per revision; see that file).
 *
 * Why a process of its own: measured in the bench's process, the CPU included the bench's own
 * heap (400,000 packets held as 1.2 M objects: every major GC marked them all, and the
 * compressors' output buffers trigger major GCs by their external memory), its replay loop and
 * its per-case JIT warm-up. Here the heap holds what a sender holds: the capture sits in ONE
 * buffer (as a TPACKET_V3 ring does), and each tick's packets reach `MirrorSender.addCaptured` as
 * one capture batch (headers and back-to-back bytes), as `@callscope/live-capture` hands a batch to
 * the sender's LiveInput; `feed: 'packet'` instead hands each packet to `MirrorSender.add` through
 * one reused record with a fresh view of its bytes (LiveCapture's per-packet consumer, which the
 * sender used until 2026-12-05).
 *
 * Runs: one warm-up pass over the loaded packets (JIT, the flow contexts, batch recycling in its
 * steady state), then `passes` measured passes, each paced at `rate` packets/s (every ms the
 * packets due by then), flushed, and waited on until every batch is acknowledged. The CPU of the
 * measured passes (all threads: `process.cpuUsage`, and per thread from /proc/self/task) is sent
 * to the parent over IPC with the wire bytes, GC pauses and the rate achieved. `floor: true` runs
 * the same pacing loop with no sender (the loop's own cost, to subtract).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';
import { readCaptureFile } from '@callscope/pcap-store';
import { createLogger, parseTaskCpuSeconds } from '@callscope/runtime';
import { BATCH_COMPRESSORS } from '../src/compression.js';
import type { MirrorCompression } from '../src/config.js';
import { MirrorConnection } from '../src/connection.js';
import { MirrorSender } from '../src/mirror-sender.js';

/** What the parent asks for (argv[2], JSON). */
export interface PacedCase {
  file: string;
  /** Packets loaded from the file (a pass), the first ones; repeated when the file has fewer. */
  packets: number;
  /** Packets per second delivered. */
  rate: number;
  /** Milliseconds between two deliveries (the packets due by then go together). */
  tickMs: number;
  /** Measured passes after the warm-up pass. */
  passes: number;
  compression: MirrorCompression;
  version: number;
  /** The receiver's port on 127.0.0.1. */
  port: number;
  /** The shared secret, hex. */
  secretHex: string;
  batchPackets: number;
  /** The sender's buffer.maxMb. */
  bufferMb: number;
  /** The pacing loop alone, no sender. */
  floor: boolean;
  /** How packets reach the sender (default `batch`): see the file's comment. */
  feed?: 'batch' | 'packet';
  /** Writes a CPU profile (.cpuprofile) or an allocation profile (.heapprofile) of the measured passes there. */
  profileFile?: string;
}

/** What the child answers (IPC). */
export interface PacedResult {
  packets: number;
  /** Delivered packets / the measured passes' delivery time (< rate when the sender cannot keep up). */
  achievedPps: number;
  /** CPU seconds of the measured passes, every thread (user + system). */
  cpuS: number;
  /** Of those, in the kernel (socket writes: on loopback the kernel's delivery to the receiver runs here too). */
  sysS: number;
  /** Of those, the main thread's and the other threads' (from /proc/self/task, 10 ms ticks). */
  threads: Record<string, number>;
  /** Main-thread GC pauses during the measured passes (PerformanceObserver 'gc'), ms, and their count. */
  gcMs: number;
  gcCount: number;
  /** Bytes written to the socket during the measured passes. */
  wireBytes: number;
  batches: number;
  reused: number;
  acked: boolean;
  /** Packets the sender's buffer dropped during the measured passes (overflow: the receiver fell behind). */
  packetsDropped: number;
  heapUsedMb: number;
  rssMb: number;
}

/**
 * CPU seconds of the main thread and of the others (node names every thread "node": V8's platform
 * workers, i.e. concurrent GC marking and sweeping and background compilation, and libuv's pool).
 */
function threadCpu(): Record<string, number> {
  const out: Record<string, number> = { main: 0, helpers: 0 };
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    out[Number(tid) === process.pid ? 'main' : 'helpers']! += parseTaskCpuSeconds(stat) ?? 0;
  }
  return out;
}

interface Loaded {
  n: number;
  bytes: Uint8Array;
  offset: Uint32Array;
  length: Uint32Array;
  linkType: Uint16Array;
  tsSec: Float64Array;
  tsNsec: Uint32Array;
  origLen: Uint32Array;
}

/** The first `max` packets of `file`, in one buffer (repeated up to `max` when the file has fewer). */
async function load(file: string, max: number): Promise<Loaded> {
  let bytes = Buffer.allocUnsafe(1 << 24);
  const l: Omit<Loaded, 'bytes' | 'n'> = {
    offset: new Uint32Array(max),
    length: new Uint32Array(max),
    linkType: new Uint16Array(max),
    tsSec: new Float64Array(max),
    tsNsec: new Uint32Array(max),
    origLen: new Uint32Array(max),
  };
  let n = 0;
  let at = 0;
  const stop = new AbortController();
  try {
    await readCaptureFile(
      file,
      (rec) => {
        if (n >= max) {
          stop.abort();
          return undefined;
        }
        if (at + rec.data.length > bytes.length) {
          const grown = Buffer.allocUnsafe(Math.max(bytes.length * 2, at + rec.data.length));
          bytes.copy(grown, 0, 0, at);
          bytes = grown;
        }
        bytes.set(rec.data, at);
        l.offset[n] = at;
        l.length[n] = rec.data.length;
        l.linkType[n] = rec.linkType;
        l.tsSec[n] = rec.tsSec;
        l.tsNsec[n] = rec.tsNsec;
        l.origLen[n] = rec.origLen;
        at += rec.data.length;
        n++;
        return undefined;
      },
      { signal: stop.signal },
    );
  } catch (err) {
    if (!stop.signal.aborted) throw err;
  }
  const once = n;
  for (; n < max && once > 0; n++) {
    const k = n % once;
    l.offset[n] = l.offset[k]!;
    l.length[n] = l.length[k]!;
    l.linkType[n] = l.linkType[k]!;
    l.tsSec[n] = l.tsSec[k]!;
    l.tsNsec[n] = l.tsNsec[k]!;
    l.origLen[n] = l.origLen[k]!;
  }
  // A plain Uint8Array, as LiveCapture's ring view is (a Buffer's subarray is a slower FastBuffer).
  return { ...l, n, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, at) };
}

/**
 * A V8 profile of this process from now until `stop`: CPU (`.cpuprofile`), or with `heap` the
 * sampled allocations, those already collected included (`.heapprofile`: where garbage comes from).
 */
async function startProfile(heap: boolean): Promise<{ stop: (file: string) => Promise<void> }> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => {
      session.post(method, params, (err, result) => {
        if (err) reject(err);
        else resolve(result);
      });
    });
  if (heap) {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  } else {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 200 });
    await post('Profiler.start');
  }
  return {
    stop: async (file) => {
      const { profile } = (await post(heap ? 'HeapProfiler.stopSampling' : 'Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(c: PacedCase): Promise<PacedResult> {
  const p = await load(c.file, c.packets);
  const logger = createLogger({ app: 'mirror-sender-bench', level: 'warn', pretty: false });
  let sender: MirrorSender | null = null;
  let connection: MirrorConnection | null = null;
  if (!c.floor) {
    sender = new MirrorSender({ batch: { maxPackets: c.batchPackets, maxBytes: 1 << 20, maxMs: 50 }, bufferBytes: c.bufferMb * 2 ** 20, compressor: BATCH_COMPRESSORS[c.compression], logger });
    connection = new MirrorConnection(
      { host: '127.0.0.1', port: c.port, tls: null, secret: Buffer.from(c.secretHex, 'hex'), sensorId: '1', sensorName: 'bench', heartbeatIntervalMs: 5000, idleTimeoutMs: 30_000, reconnectMinMs: 50, reconnectMaxMs: 500, logger, maxProtocolVersion: c.version },
      sender,
    );
    connection.start();
    while (connection.state !== 'streaming') await sleep(2);
  }
  // One reused record, a fresh view per packet: what LiveCapture hands to a per-packet consumer.
  const rec = { linkType: 0, tsSec: 0, tsNsec: 0, origLen: 0, capLen: 0, data: p.bytes.subarray(0, 0) };
  let sink = 0;
  const deliver = (i: number): void => {
    rec.linkType = p.linkType[i]!;
    rec.tsSec = p.tsSec[i]!;
    rec.tsNsec = p.tsNsec[i]!;
    rec.origLen = p.origLen[i]!;
    rec.capLen = p.length[i]!;
    rec.data = p.bytes.subarray(p.offset[i], p.offset[i]! + p.length[i]!);
    if (sender !== null) sender.add(rec);
    else sink += rec.data[0] ?? 0;
  };
  // The capture batch LiveCapture hands a batch consumer: 5 u32 per packet (seconds, nanoseconds,
  // caplen, original length, offset), made once for the loaded packets; a tick's batch is a view.
  // Packets of one capture batch share one link type: a tick's run of another link type is a batch of its own.
  const headers = new Uint32Array(p.n * 5);
  for (let i = 0; i < p.n; i++) headers.set([p.tsSec[i]!, p.tsNsec[i]!, p.length[i]!, p.origLen[i]!, p.offset[i]!], i * 5);
  const batch = { linkType: 0, count: 0, headers, words: 5, data: p.bytes };
  const deliverBatch = (from: number, to: number): void => {
    while (from < to) {
      let end = from + 1;
      while (end < to && p.linkType[end] === p.linkType[from]) end++;
      batch.linkType = p.linkType[from]!;
      batch.count = end - from;
      batch.headers = headers.subarray(from * 5, end * 5);
      if (sender !== null) sender.addCaptured(batch);
      else sink += batch.headers[0]!;
      from = end;
    }
  };
  const byBatch = (c.feed ?? 'batch') === 'batch';
  /** One pass over the loaded packets at `rate`; resolves with its delivery time in ms. */
  const pass = () =>
    new Promise<number>((resolve) => {
      const t0 = performance.now();
      let i = 0;
      const tick = () => {
        const due = Math.min(p.n, Math.floor(((performance.now() - t0) * c.rate) / 1000));
        if (byBatch) {
          if (due > i) deliverBatch(i, due);
          i = Math.max(i, due);
        } else while (i < due) deliver(i++);
        if (i < p.n) setTimeout(tick, c.tickMs);
        else resolve(performance.now() - t0);
      };
      tick();
    });
  const settle = async () => {
    if (sender === null) return;
    sender.flush();
    const deadline = Date.now() + 60_000;
    while (sender.counters.batchesAcked < sender.counters.batchesBuilt && Date.now() < deadline) await sleep(1);
  };
  await pass();
  await settle();
  (globalThis as { gc?: () => void }).gc?.();
  await sleep(50);
  let gcMs = 0;
  let gcCount = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcCount++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const c0 = sender?.counters ? { ...sender.counters } : null;
  const profiler = c.profileFile === undefined ? null : await startProfile(c.profileFile.endsWith('.heapprofile'));
  const threads0 = threadCpu();
  const cpu0 = process.cpuUsage();
  let deliveryMs = 0;
  for (let k = 0; k < c.passes; k++) {
    deliveryMs += await pass();
    await settle();
  }
  const cpu = process.cpuUsage(cpu0);
  const threads1 = threadCpu();
  if (profiler !== null) await profiler.stop(c.profileFile!);
  // Entries are delivered asynchronously: let the last ones arrive.
  await sleep(20);
  obs.disconnect();
  const threads: Record<string, number> = {};
  for (const k of Object.keys(threads1)) threads[k] = threads1[k]! - (threads0[k] ?? 0);
  const c1 = sender?.counters;
  const mem = process.memoryUsage();
  if (c.floor) process.stderr.write(sink < 0 ? 'x' : '');
  const result: PacedResult = {
    packets: p.n * c.passes,
    achievedPps: (p.n * c.passes) / (deliveryMs / 1000),
    cpuS: (cpu.user + cpu.system) / 1e6,
    sysS: cpu.system / 1e6,
    threads,
    gcMs,
    gcCount,
    wireBytes: c1 && c0 ? c1.bytesWritten - c0.bytesWritten : 0,
    batches: c1 && c0 ? c1.batchesBuilt - c0.batchesBuilt : 0,
    reused: c1 && c0 ? c1.batchesReused - c0.batchesReused : 0,
    acked: c1 === undefined || c1.batchesAcked === c1.batchesBuilt,
    packetsDropped: c1 && c0 ? c1.packetsDropped - c0.packetsDropped : 0,
    heapUsedMb: mem.heapUsed / 2 ** 20,
    rssMb: mem.rss / 2 ** 20,
  };
  sender?.close();
  await connection?.close(200);
  return result;
}

const c = JSON.parse(process.argv[2]!) as PacedCase;
const result = await run(c);
process.send!(result, () => process.exit(0));
