/**
 * What `sniffer queue status` and `sniffer queue verify` show: a queue directory read without
 * taking its lock (a running writer may hold it) and without changing anything.
 *
 * @packageDocumentation
 */
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { oldestQueued, readQueueState, readQueueTarget, segmentName, type QueueTarget } from './disk-queue.js';
import { holderAlive, readQueueHolder, type QueueHolder } from './queue-lock.js';
import { payloadRecordCount, scanSegment } from './queue-record.js';

/** A queue at a glance. */
export interface QueueStatus {
  /** Absolute directory. */
  dir: string;
  /** CDRs waiting (from the records' headers). */
  records: number;
  /** Bytes of the segment files. */
  bytes: number;
  segments: number;
  target: QueueTarget | null;
  /** ISO time the oldest waiting record was queued, or null. */
  oldest: string | null;
  /** The live process holding the queue, or null. */
  locked_by: QueueHolder | null;
}

/** Reads the state of the queue in `dir` (an absent directory is an empty queue). */
export async function queueStatus(dir: string): Promise<QueueStatus> {
  const abs = resolve(dir);
  const { segments } = await readQueueState(abs);
  const holder = await readQueueHolder(abs);
  const oldest = oldestQueued(segments);
  return {
    dir: abs,
    records: segments.reduce((a, s) => a + s.records, 0),
    bytes: segments.reduce((a, s) => a + s.size, 0),
    segments: segments.length,
    target: await readQueueTarget(abs),
    oldest: oldest === null ? null : new Date(oldest).toISOString(),
    locked_by: holder !== null && holderAlive(holder) ? holder : null,
  };
}

/** One damaged place in a queue. */
export interface QueueDamage {
  segment: string;
  offset: number;
  bytes: number;
  /** CDRs known to be in it (its header survived), 0 when unknown. */
  records: number;
  reason: 'checksum mismatch' | 'not a record' | 'payload is not a CDR batch';
}

/** What {@link verifyQueue} found. */
export interface QueueVerification {
  dir: string;
  /** Whole, readable records (batches) waiting. */
  batches: number;
  /** CDRs in them. */
  records: number;
  damage: QueueDamage[];
}

/**
 * Reads every waiting record of the queue in `dir`, checks its checksums and that its payload is
 * a batch of CDRs, and lists what is damaged (what a replay would skip).
 */
export async function verifyQueue(dir: string): Promise<QueueVerification> {
  const abs = resolve(dir);
  const { segments, readOffset } = await readQueueState(abs);
  const out: QueueVerification = { dir: abs, batches: 0, records: 0, damage: [] };
  for (const [i, seg] of segments.entries()) {
    const from = i === 0 ? readOffset : 0;
    const fh = await open(join(abs, segmentName(seg.seq)), 'r');
    let buf: Buffer;
    try {
      buf = Buffer.alloc(seg.size - from);
      await fh.read(buf, 0, buf.length, from);
    } finally {
      await fh.close();
    }
    for (const piece of scanSegment(buf)) {
      const where = { segment: segmentName(seg.seq), offset: from + piece.offset };
      if (piece.kind === 'torn') {
        out.damage.push({ ...where, bytes: piece.bytes, records: 0, reason: 'not a record' });
        continue;
      }
      const h = piece.header;
      const bytes = h.headerBytes + h.length;
      if (!piece.payloadOk) {
        out.damage.push({ ...where, bytes, records: h.records, reason: 'checksum mismatch' });
        continue;
      }
      const n = payloadRecordCount(buf.subarray(piece.offset + h.headerBytes, piece.offset + bytes));
      if (n === null || (h.version === 2 && n !== h.records)) {
        out.damage.push({ ...where, bytes, records: Math.max(h.records, 0), reason: 'payload is not a CDR batch' });
        continue;
      }
      out.batches++;
      out.records += n;
    }
  }
  return out;
}
