/**
 * The spool writer's side of {@link ThreadedSpoolWriter}: runs in a worker thread, reads the ring
 * the packet thread fills and drives an ordinary {@link SpoolWriter} with it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { OPEN_HEADER_BYTES, NO_SENSOR, PACKET_HEADER_BYTES, RingConsumer, RingRecord } from './spool-ring.js';
import type { RingBuffers } from './spool-ring.js';
import type { SpoolWriterOptions } from './spool-options.js';
import type { SpoolWriterStats } from './spool-stats.js';
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
  | { t: 'closed'; stats: SpoolWriterStats; minutes: string[]; orphans: number }
  | { t: 'fatal'; error: string };

/** Records handled between two turns of the event loop (the writer's disk I/O completes there). */
const SLICE = 4096;
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
  const calls = new Map<number, SpoolCallRef>();
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

  for (;;) {
    let n = 0;
    let flushToken = -1;
    let closing = false;
    while (n < SLICE) {
      const off = ring.next();
      if (off < 0) break;
      const w = off >> 2;
      const type = words[w + 1];
      n++;
      if (type === RingRecord.PACKET) {
        const call = calls.get(words[w + 2]! >>> 0);
        if (call === undefined) orphans++;
        else {
          writer.storeRecord(
            call,
            words[w + 3] === 0 ? 0 : 1,
            words[w + 4]! >>> 0,
            words[w + 5]! >>> 0,
            ring.bytes,
            off + PACKET_HEADER_BYTES + words[w + 9]!,
            words[w + 8]! >>> 0,
            words[w + 6]! >>> 0,
            words[w + 7]! >>> 0,
          );
        }
      } else if (type === RingRecord.OPEN) {
        const slot = words[w + 2]! >>> 0;
        const idBytes = words[w + 5]! >>> 0;
        const sensorBytes = words[w + 6]! >>> 0;
        const at = off + OPEN_HEADER_BYTES;
        // The views are copied by the decoder: a string never aliases the ring.
        const callId = text.decode(ring.bytes.slice(at, at + idBytes));
        const call: SpoolCallRef = { callId, startSec: words[w + 3]! >>> 0, startUsec: words[w + 4]! >>> 0 };
        if (sensorBytes !== NO_SENSOR) call.sensor = text.decode(ring.bytes.slice(at + idBytes, at + idBytes + sensorBytes));
        calls.set(slot, call);
      } else if (type === RingRecord.END) {
        const slot = words[w + 2]! >>> 0;
        const call = calls.get(slot);
        calls.delete(slot);
        if (call === undefined) ended.push(slot);
        else void writer.endCall(call).then(() => ended.push(slot));
      } else if (type === RingRecord.FLUSH) {
        flushToken = words[w + 2]!;
        ring.advance(off);
        break;
      } else if (type === RingRecord.CLOSE) {
        closing = true;
        ring.advance(off);
        break;
      }
      ring.advance(off);
      // Room back to the producer as we go, and stop early when the writer's memory is half full.
      if ((n & 255) === 0) {
        ring.publish();
        if (writer.bufferedBytes > writer.maxBufferedBytes / 2) break;
      }
    }
    ring.publish();
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
      post({ t: 'closed', stats: writer.stats(), minutes: [...writer.openMinuteDirectories()], orphans });
      return;
    }
    report();
    if (n === 0 || Date.now() - lastStats >= STATS_EVERY_MS) postStats();
    // Paced like an offline producer: the writer never drops for memory; the ring fills instead,
    // and the packet thread waits (analyze) or counts buffer_full (live).
    if (writer.bufferedBytes > writer.maxBufferedBytes / 2) await writer.relieve();
    else if (n === 0) await ring.waitForData(IDLE_WAIT_MS);
    else await turn();
  }
}
