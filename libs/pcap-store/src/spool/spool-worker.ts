/**
 * The spool writer's side of {@link ThreadedSpoolWriter}: runs in a worker thread, reads the ring
 * the packet thread fills and drives an ordinary {@link SpoolWriter} with it.
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { OPEN_HEADER_BYTES, NO_SENSOR, PACKET_FRAME_OFFSET, RingConsumer, RingRecord } from './spool-ring.js';
import type { RingBuffers } from './spool-ring.js';
import type { ResolvedSpoolWriterOptions } from './spool-options.js';
import type { SpoolWriterStats } from './spool-stats.js';
import { SpoolWriter } from './spool-writer.js';
import type { SpoolCallRef } from './spool-writer.js';
import { threadCpuSeconds } from '@callscope/runtime';
import type { LogCallbackLevel } from '@callscope/runtime';

/** `workerData` of a spool worker. */
export interface SpoolWorkerData {
  kind: 'callscope-spool-writer';
  ring: RingBuffers;
  /** The writer's resolved options without its callbacks (they stay on the packet thread). */
  options: Omit<ResolvedSpoolWriterOptions, 'logger' | 'onBytesWritten'>;
  /** Post the bytes each write put on disk (the packet thread feeds retention with them). */
  reportBytes: boolean;
  /** Most ring bytes per batch (DEFAULT_BATCH_BYTES; at least MIN_BATCH_BYTES). */
  batchBytes: number;
  /** Nice value for this thread (ThreadedSpoolWriterOptions.writerNice); 0: left as it is. */
  nice: number;
}

/** Messages of the worker to the packet thread. */
export type SpoolWorkerMessage =
  | { t: 'ended'; slots: number[] }
  | { t: 'flushed'; token: number }
  | { t: 'bytes'; minutes: string[]; bytes: number[] }
  | { t: 'log'; level: LogCallbackLevel; message: string; fields: Record<string, unknown> }
  | { t: 'stats'; stats: SpoolWriterStats; minutes: string[]; orphans: number; threadCpuS: number | null }
  | { t: 'closed' }
  | { t: 'fatal'; error: string };

/**
 * Most packets taken as one batch (see storeBatch; the most bytes are `batchBytes`, by default
 * DEFAULT_BATCH_BYTES); the writer's disk I/O completes between batches.
 */
const BATCH_RECORDS = 1 << 17;
/**
 * Most bytes of chunk blocks the worker reserves in its arena (beyond it, the writer carves slabs
 * of its own, copied into with a view per record): a cap above this is for memory the disk may
 * need to catch up, not for the steady state.
 */
const MAX_ARENA_BLOCK_BYTES = 1024 * 1024 * 1024;

/**
 * Past this share of its memory cap the worker stops taking from the ring until the disk has
 * brought it back to RELIEVE_TO. Why not at half, down to 3/8 (as a paced reader of the writer on
 * its own thread): every wait leaves the ring filling, and the first, while the first large writes
 * of a run start, lasted ~375 ms at 10,000 calls, long enough to stop the packet thread on a full
 * ring for ~150 ms; later ones, 13 per 4 million packets, 30-120 ms each. The cap's last quarter
 * still holds a whole batch (DEFAULT_BATCH_BYTES of a 256 MiB cap), so nothing is dropped for it.
 */
const RELIEVE_ABOVE = 3 / 4;
const RELIEVE_TO = 5 / 8;
/** How often the counters are posted while busy. */
const STATS_EVERY_MS = 200;
/** Longest sleep on an empty ring (a safety net: the producer wakes us on each record). */
const IDLE_WAIT_MS = 250;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Entry point of the worker thread (call it from the worker's script, once). Throws when the
 * thread was not started by ThreadedSpoolWriter.
 */
export function runSpoolWorker(): void {
  const port = parentPort;
  const data = workerData as SpoolWorkerData | undefined;
  if (port === null || data?.kind !== 'callscope-spool-writer') throw new Error('runSpoolWorker: not a spool worker thread');
  serve(port, data).catch((err: unknown) => {
    port.postMessage({ t: 'fatal', error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies SpoolWorkerMessage);
  });
}

async function serve(port: MessagePort, data: SpoolWorkerData): Promise<void> {
  const post = (m: SpoolWorkerMessage): void => { port.postMessage(m); };
  // setpriority(PRIO_PROCESS, 0) applies to the calling thread on Linux (a thread is a task with
  // its own nice value), to the whole process elsewhere: only Linux gets it. Only ever lower: a
  // process already started nicer than asked keeps its value (raising needs privileges).
  if (data.nice !== 0 && process.platform === 'linux') {
    try {
      if (getPriority(0) < data.nice) setPriority(0, data.nice);
    } catch (err) {
      post({ t: 'log', level: 'warn', message: 'spool writer thread: could not lower its priority', fields: { nice: data.nice, error: String(err) } });
    }
  }
  let byteMinutes: string[] = [];
  let byteCounts: number[] = [];
  let ended: number[] = [];
  // One ArrayBuffer holds the batch buffer (at its head) and the writer's chunk blocks (the rest,
  // up to the writer's memory cap): records are copied from one to the other with copyWithin,
  // allocating nothing per packet (see SpoolWriterInternals). Pages are touched as used.
  const batchBytes = data.batchBytes;
  const arena = Buffer.allocUnsafeSlow(batchBytes + Math.min(data.options.maxBufferedBytes, MAX_ARENA_BLOCK_BYTES));
  const writer = new SpoolWriter({
    ...data.options,
    logger: (level, message, fields) => { post({ t: 'log', level, message, fields }); },
    ...(data.reportBytes
      ? {
          onBytesWritten: (minute: string, bytes: number) => {
            byteMinutes.push(minute);
            byteCounts.push(bytes);
          },
        }
      : {}),
  }, { arena: arena.subarray(batchBytes) });
  const ring = new RingConsumer(data.ring);
  /** Open calls by slot (the producer keeps slots dense: it reuses those of finished calls). */
  const calls: (SpoolCallRef | undefined)[] = [];
  const text = new TextDecoder();
  /** Packets naming a call the ring never opened: cannot happen by construction, counted if it does. */
  let orphans = 0;
  let lastStats = 0;
  // A pending Atomics.waitAsync does not keep a thread's event loop alive: this does, until close.
  const keepAlive = setInterval(() => undefined, 60_000);

  const report = (): void => {
    if (ended.length > 0) {
      post({ t: 'ended', slots: ended });
      ended = [];
    }
    if (byteMinutes.length > 0) {
      post({ t: 'bytes', minutes: byteMinutes, bytes: byteCounts });
      byteMinutes = [];
      byteCounts = [];
    }
  };
  const postStats = (): void => {
    lastStats = Date.now();
    post({ t: 'stats', stats: writer.stats(), minutes: [...writer.openMinuteDirectories()], orphans, threadCpuS: threadCpuSeconds() });
  };

  // The batch being gathered: its packet records' offsets in `scratch` and slots, then their order by call.
  const offs = new Int32Array(BATCH_RECORDS);
  /**
   * The batch: the ring's published bytes (up to batchBytes, up to the ring's end) copied out in
   * one piece first, then parsed and stored from here. Why a copy at all: V8 copies out of a
   * SharedArrayBuffer with a relaxed-atomic memcpy that moves whole words only when source and
   * destination are equally aligned, else byte by byte, and a record's place in its chunk has any
   * alignment: the per-packet copy into the chunks was 1.6 s of this thread's 4 s at 10,000 calls
   * (4.07 M packets). This copy is word by word (both 8-aligned). Why first, in one piece: parsing
   * the records in the ring read one fresh cache line per record, written by the other core and
   * 270 bytes after the last (a stride the prefetcher did not follow): ~190 ns per packet of
   * waiting, 0.76 s of this thread's 3.5 s. One sequential copy streams the same bytes, and the
   * parse then reads lines just written here. The ring's room is given back before the scattered
   * copies into the chunks, not after.
   */
  const scratch = arena.subarray(0, batchBytes);
  const scratchWords = new Int32Array(arena.buffer, 0, batchBytes >> 2);
  const recSlots = new Int32Array(BATCH_RECORDS);
  const order = new Int32Array(BATCH_RECORDS);
  let counts = new Int32Array(1024);
  const endings: number[] = [];

  /**
   * Stores the batch's `n` packets grouped by call (a stable counting sort on the slot), each
   * call's in ring order. Why: at 10,000 open calls, consecutive packets belong to different calls,
   * and storing one meant walking that call's chain of objects (call, its state, its chunk, the
   * chunk's buffer) and touching a cold line of its buffer: several dependent cache misses per
   * packet. Grouped, the chain is walked once per call per batch and its packets are copied into
   * consecutive bytes. The batch grows when we fall behind (up to batchBytes of ring), which is
   * when it matters.
   */
  const storeBatch = (n: number): void => {
    if (n === 0) return;
    let lo = recSlots[0]!;
    let hi = lo;
    for (let i = 1; i < n; i++) {
      const slot = recSlots[i]!;
      if (slot < lo) lo = slot;
      else if (slot > hi) hi = slot;
    }
    counts.fill(0, lo, hi + 1);
    for (let i = 0; i < n; i++) counts[recSlots[i]!]!++;
    let sum = 0;
    for (let k = lo; k <= hi; k++) {
      const c = counts[k]!;
      counts[k] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) order[counts[recSlots[i]!]!++] = i;
    const sw = scratchWords;
    for (let j = 0; j < n; j++) {
      const i = order[j]!;
      const off = offs[i]!;
      const w = off >> 2;
      writer.storeRecord(
        calls[recSlots[i]!]!,
        sw[w + 3] === 0 ? 0 : 1,
        sw[w + 4]! >>> 0,
        sw[w + 5]! >>> 0,
        scratch,
        off + PACKET_FRAME_OFFSET + sw[w + 9]!,
        sw[w + 8]! >>> 0,
        sw[w + 6]! >>> 0,
        sw[w + 7]! >>> 0,
        true,
      );
    }
  };

  for (;;) {
    let n = 0;
    let records = 0;
    let flushToken = -1;
    let closing = false;
    const start = ring.readOffset;
    const len = ring.contiguous(batchBytes);
    if (len > 0) scratch.set(ring.bytes.subarray(start, start + len), 0);
    const sw = scratchWords;
    // Whole records only: the copy may end inside one (batchBytes), which the next batch takes.
    let at = 0;
    while (at + 8 <= len && n < BATCH_RECORDS) {
      const w = at >> 2;
      const total = sw[w]!;
      if (at + total > len) {
        // The next batch takes it; unless it could never fit one (the producer's records are all
        // far smaller), which would stall this thread: fail loudly instead.
        if (at === 0 && len === batchBytes) throw new Error(`spool ring: a record of ${total} bytes exceeds the batch buffer`);
        break;
      }
      if (total < 8 || (total & 7) !== 0) throw new Error(`spool ring: corrupt record length ${total} at ${(start + at) | 0}`);
      const type = sw[w + 1];
      const off = at;
      at += total;
      records++;
      if (type === RingRecord.PACKET) {
        const slot = sw[w + 2]! >>> 0;
        if (calls[slot] === undefined) {
          orphans++;
          continue;
        }
        offs[n] = off;
        recSlots[n] = slot;
        n++;
      } else if (type === RingRecord.OPEN) {
        // At once: the call's packets later in this batch are stored after it. A slot is never
        // reopened within a batch (the producer reuses it only once we reported its end).
        const slot = sw[w + 2]! >>> 0;
        const idBytes = sw[w + 5]! >>> 0;
        const sensorBytes = sw[w + 6]! >>> 0;
        const from = off + OPEN_HEADER_BYTES;
        const callId = text.decode(scratch.subarray(from, from + idBytes));
        const call: SpoolCallRef = { callId, startSec: sw[w + 3]! >>> 0, startUsec: sw[w + 4]! >>> 0 };
        if (sensorBytes !== NO_SENSOR) call.sensor = text.decode(scratch.subarray(from + idBytes, from + idBytes + sensorBytes));
        calls[slot] = call;
        if (slot >= counts.length) counts = new Int32Array(Math.max(slot + 1, 2 * counts.length));
      } else if (type === RingRecord.END) {
        // After the batch's packets (all of this call's precede its end in the ring).
        endings.push(sw[w + 2]! >>> 0);
      } else if (type === RingRecord.FLUSH) {
        flushToken = sw[w + 2]!;
        break;
      } else if (type === RingRecord.CLOSE) {
        closing = true;
        break;
      }
    }
    ring.consume(at);
    // Everything of these records is out of the ring (packets in `scratch`, control records
    // decoded): the producer may reuse their room while the batch is stored.
    ring.publish();
    storeBatch(n);
    for (const slot of endings) {
      const call = calls[slot];
      calls[slot] = undefined;
      if (call === undefined) ended.push(slot);
      else void writer.endCall(call).then(() => ended.push(slot));
    }
    endings.length = 0;
    if (flushToken >= 0) {
      await writer.flush();
      report();
      postStats();
      post({ t: 'flushed', token: flushToken });
      continue;
    }
    if (closing) {
      await writer.close();
      clearInterval(keepAlive);
      report();
      postStats();
      post({ t: 'closed' });
      return;
    }
    report();
    if (records === 0 || Date.now() - lastStats >= STATS_EVERY_MS) postStats();
    // Paced like an offline producer: the writer never drops for memory; the ring fills instead,
    // and the packet thread waits (analyze) or counts buffer_full (live).
    if (writer.bufferedBytes > writer.maxBufferedBytes * RELIEVE_ABOVE) await writer.relieve(writer.maxBufferedBytes * RELIEVE_TO);
    else if (records === 0) await ring.waitForData(IDLE_WAIT_MS);
    else await turn();
  }
}
