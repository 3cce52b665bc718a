/**
 * The spool writer's side of {@link ThreadedSpoolWriter}: runs in a worker thread, reads the ring
 * the packet thread fills and drives an ordinary {@link SpoolWriter} with it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { OPEN_HEADER_BYTES, NO_SENSOR, PACKET_FRAME_OFFSET, RingConsumer, RingRecord, recordBytes } from './spool-ring.js';
import type { RingBuffers } from './spool-ring.js';
import type { SpoolWriterOptions } from './spool-options.js';
import type { SpoolWriterStats } from './spool-stats.js';
import { MAX_CAPTURE_LENGTH } from '@callscope/pcap-format';
import { SpoolWriter } from './spool-writer.js';
import type { SpoolCallRef } from './spool-writer.js';
import type { LogCallbackLevel } from '@callscope/runtime';

/** `workerData` of a spool worker. */
export interface SpoolWorkerData {
  kind: 'callscope-spool-writer';
  ring: RingBuffers;
  /** The writer's options without its callbacks (they stay on the packet thread). */
  options: Omit<SpoolWriterOptions, 'logger' | 'onBytesWritten'>;
  /** Post the bytes each write put on disk (the packet thread feeds retention with them). */
  reportBytes: boolean;
}

/** Messages of the worker to the packet thread. */
export type SpoolWorkerMessage =
  | { t: 'ended'; slots: number[] }
  | { t: 'flushed'; token: number }
  | { t: 'bytes'; minutes: string[]; bytes: number[] }
  | { t: 'log'; level: LogCallbackLevel; message: string; fields: Record<string, unknown> }
  | { t: 'stats'; stats: SpoolWriterStats; minutes: string[]; orphans: number }
  | { t: 'closed' }
  | { t: 'fatal'; error: string };

/**
 * Most packets, and ring bytes, taken as one batch (see storeBatch); the writer's disk I/O
 * completes between batches. 16 MiB is a quarter of the default ring: ~70,000 packets of 214 bytes,
 * 7 per call at 10,000 open calls.
 */
const BATCH_RECORDS = 1 << 17;
const BATCH_BYTES = 16 * 1024 * 1024;
/** Largest packet record in the ring (control words, skew, pcap record header, the largest frame the writer admits), 8-aligned. */
const MAX_PACKET_RECORD_BYTES = recordBytes(PACKET_FRAME_OFFSET + 7, MAX_CAPTURE_LENGTH);
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
  let byteMinutes: string[] = [];
  let byteCounts: number[] = [];
  let ended: number[] = [];
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
  });
  const ring = new RingConsumer(data.ring);
  const words = ring.words;
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
    post({ t: 'stats', stats: writer.stats(), minutes: [...writer.openMinuteDirectories()], orphans });
  };

  // The batch being gathered: its packet records' offsets in `scratch` and slots, then their order by call.
  const offs = new Int32Array(BATCH_RECORDS);
  /**
   * The batch's packet records, copied out of the ring in runs of consecutive records before they
   * are stored. Why: V8 copies out of a SharedArrayBuffer with a relaxed-atomic memcpy that moves
   * whole words only when source and destination are equally aligned, else byte by byte, and a
   * record's place in its chunk has any alignment: the per-packet copy into the chunks was 1.6 s of
   * this thread's 4 s at 10,000 calls (4.07 M packets). A run copies word by word (ring records and
   * runs here are 8-aligned), and the scattered copies then read an ordinary buffer. The ring's
   * room is also given back before the scattered copies, not after.
   */
  const scratch = new Uint8Array(BATCH_BYTES + MAX_PACKET_RECORD_BYTES);
  const scratchWords = new Int32Array(scratch.buffer);
  /** Bytes of `scratch` used by the batch; the ring offset and the scratch offset where the current run started. */
  let used = 0;
  let runRing = 0;
  let runScratch = 0;
  /** Ring offset just past the current run's last record (-1: no run). */
  let runEnd = -1;
  const endRun = (): void => {
    if (runEnd < 0) return;
    scratch.set(ring.bytes.subarray(runRing, runEnd), runScratch);
    used = runScratch + (runEnd - runRing);
    runEnd = -1;
  };
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
   * consecutive bytes. The batch grows when we fall behind (up to BATCH_BYTES of ring), which is
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
    let bytes = 0;
    let flushToken = -1;
    let closing = false;
    while (n < BATCH_RECORDS && bytes < BATCH_BYTES) {
      const off = ring.next();
      if (off < 0) break;
      const w = off >> 2;
      const type = words[w + 1];
      records++;
      ring.advance(off);
      if (type === RingRecord.PACKET) {
        const slot = words[w + 2]! >>> 0;
        if (calls[slot] === undefined) {
          orphans++;
          continue;
        }
        // Consecutive packet records make one run (a wrap or a control record starts another).
        if (off !== runEnd) {
          endRun();
          runRing = off;
          runScratch = used;
        }
        runEnd = off + words[w]!;
        offs[n] = runScratch + (off - runRing);
        recSlots[n] = slot;
        n++;
        bytes += words[w]!;
      } else if (type === RingRecord.OPEN) {
        // At once: the call's packets later in this batch are stored after it. A slot is never
        // reopened within a batch (the producer reuses it only once we reported its end).
        const slot = words[w + 2]! >>> 0;
        const idBytes = words[w + 5]! >>> 0;
        const sensorBytes = words[w + 6]! >>> 0;
        const at = off + OPEN_HEADER_BYTES;
        // The views are copied by the decoder: a string never aliases the ring.
        const callId = text.decode(ring.bytes.slice(at, at + idBytes));
        const call: SpoolCallRef = { callId, startSec: words[w + 3]! >>> 0, startUsec: words[w + 4]! >>> 0 };
        if (sensorBytes !== NO_SENSOR) call.sensor = text.decode(ring.bytes.slice(at + idBytes, at + idBytes + sensorBytes));
        calls[slot] = call;
        if (slot >= counts.length) counts = new Int32Array(Math.max(slot + 1, 2 * counts.length));
      } else if (type === RingRecord.END) {
        // After the batch's packets (all of this call's precede its end in the ring).
        endings.push(words[w + 2]! >>> 0);
      } else if (type === RingRecord.FLUSH) {
        flushToken = words[w + 2]!;
        break;
      } else if (type === RingRecord.CLOSE) {
        closing = true;
        break;
      }
    }
    endRun();
    // Everything of these records is out of the ring (packets in `scratch`, control records
    // decoded): the producer may reuse their room while the batch is stored.
    ring.publish();
    storeBatch(n);
    used = 0;
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
    if (writer.bufferedBytes > writer.maxBufferedBytes / 2) await writer.relieve();
    else if (records === 0) await ring.waitForData(IDLE_WAIT_MS);
    else await turn();
  }
}
