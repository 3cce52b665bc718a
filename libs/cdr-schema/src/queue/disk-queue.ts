/**
 * Append-only on-disk queue of CDR batches for when the database cannot take them.
 *
 * Layout of a queue directory:
 * - `q-<12-digit seq>.seg`: segment files of records (format in queue-record.ts), appended only;
 * - `cursor`: 24 bytes (`"CSQC"`, segment seq, offset, CRC-32) saying how far replay got,
 *   overwritten in place (an existing block needs no free space, so a full disk cannot stop it;
 *   issue 18 finding 3: the old `cursor.json` rewrite failed with ENOSPC and crashed the run);
 * - `target.json`: the database (and sensor) the records belong to (see cdr-writer.ts);
 * - `lock`: who holds the queue (queue-lock.ts). One writer per directory, enforced.
 *
 * Guarantees:
 * - {@link DiskQueue.append} resolves `true` only after the record is written and `fdatasync`'d:
 *   an acknowledged record survives a crash of the process or the host.
 * - A failed append (ENOSPC, EIO, short write, failed fdatasync) leaves nothing behind: the partial
 *   record is truncated away, the segment is closed and the next append starts a new one, so no
 *   record ever follows a torn one written by the same process (finding 1: appending after a torn
 *   record made replay skip 6,635 good CDRs behind it).
 * - Replay skips bytes that are not a valid record and resumes at the next valid one; records and
 *   bytes skipped are counted (a damaged record whose header survived is skipped exactly, and its
 *   CDR count is known).
 * - Replay is at-least-once: the cursor is not fsync'd, so after a crash a few batches may be
 *   replayed again, which the idempotent writer absorbs.
 *
 * @packageDocumentation
 */
import { crc32 } from 'node:zlib';
import { mkdir, open, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LogCallback } from '@callscope/runtime';
import { RECORD_HEADER_BYTES, encodeRecordHeader, findNextRecord, payloadRecordCount, readRecordHeader, scanSegment } from './queue-record.js';
import { lockQueue, openInPlace, type QueueLock } from './queue-lock.js';

const SEGMENT_RE = /^q-(\d{12})\.seg$/;
/** File name of segment `seq`. */
export const segmentName = (seq: number): string => `q-${String(seq).padStart(12, '0')}.seg`;
const CURSOR_FILE = 'cursor';
const CURSOR_MAGIC = 0x43535143; // "CSQC"
const CURSOR_BYTES = 24;
const TARGET_FILE = 'target.json';

/** Options of {@link DiskQueue.open}. */
export interface DiskQueueOptions {
  /** Directory of the queue (created if missing). */
  dir: string;
  /** Upper bound of all segment files together, bytes (default 1 GiB). */
  maxBytes?: number;
  /** A segment is closed and a new one started past this size, bytes (default 16 MiB). */
  segmentBytes?: number;
  /** Where torn records and failures are reported. */
  log?: LogCallback;
  /** Who takes the queue's lock, e.g. "sniffer analyze" (default "cdr writer"). */
  owner?: string;
}

/** What a queue belongs to: written by the CDR writer, checked before a replay. */
export interface QueueTarget {
  /** `host:port/database` of the database URL. */
  database: string;
  /** The database's own identity (`instance.uuid`, schema version 7) once a writer reached it. */
  database_uuid: string | null;
  /** Sensor name of the writer that bound the queue. */
  sensor: string | null;
}

/** One record handed out by {@link DiskQueue.peek}. */
export interface QueueEntry {
  payload: Buffer;
  /** CDRs in the payload (-1: a version 1 record, count it from the payload). */
  records: number;
  /** Appended by this process (not left by an earlier one). */
  own: boolean;
}

interface Segment {
  seq: number;
  size: number;
  /** Unread records' CDRs in this segment (from their headers). */
  records: number;
  /** Oldest unread record's queue time, ms (NaN when unknown). */
  oldest: number;
}

/** Counters of a {@link DiskQueue}. */
export interface DiskQueueStats {
  /** Bytes in segment files (including records already replayed but not yet reclaimed). */
  bytes: number;
  /** Segment files present. */
  segments: number;
  /** CDRs waiting to be replayed (from the records' headers; a version 1 record counts once it is read). */
  records: number;
  /** Of `records`, those this process appended. */
  own_records: number;
  /** Damaged regions skipped (a torn record, or bytes that are no record). */
  torn: number;
  /** Bytes skipped with them. */
  torn_bytes: number;
  /** CDRs known to be in damaged records (their header survived). */
  torn_records: number;
  /** Of `torn_records`, in segments this process appended (counted lost by the writer). */
  torn_own_records: number;
  /** When the oldest waiting record was queued, ms since 1970; null when none or unknown. */
  oldest_ms: number | null;
}

/** See the module documentation. Open with {@link DiskQueue.open}. */
export class DiskQueue {
  /** Absolute directory. */
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly log: LogCallback | undefined;
  private readonly segments: Segment[];
  private readonly lock: QueueLock;
  private writeFh: FileHandle | null = null;
  private writeSeq: number;
  /** First segment seq this process created; later ones are its own too. */
  private firstOwnSeq = Number.POSITIVE_INFINITY;
  private readFh: FileHandle | null = null;
  private readFhSeq = -1;
  private readOffset: number;
  private peeked: { next: number; records: number; own: boolean } | null = null;
  private cursorFh: FileHandle | null = null;
  private cursorFailed = false;
  private ownRecords = 0;
  private torn = 0;
  private tornBytes = 0;
  private tornRecords = 0;
  private tornOwnRecords = 0;

  private constructor(dir: string, options: DiskQueueOptions, segments: Segment[], readOffset: number, lock: QueueLock) {
    this.dir = dir;
    this.maxBytes = options.maxBytes ?? 1024 ** 3;
    this.segmentBytes = options.segmentBytes ?? 16 * 1024 ** 2;
    this.log = options.log;
    this.segments = segments;
    this.readOffset = readOffset;
    this.lock = lock;
    // A new process never appends to an old segment, whose tail may be torn.
    this.writeSeq = (segments.at(-1)?.seq ?? 0) + 1;
  }

  /**
   * Opens (or creates) the queue in `options.dir`, takes its lock, and counts what earlier
   * processes left behind.
   *
   * @throws QueueLockedError when another live process holds the queue.
   */
  static async open(options: DiskQueueOptions): Promise<DiskQueue> {
    const dir = resolve(options.dir);
    await mkdir(dir, { recursive: true });
    const lock = await lockQueue(dir, options.owner ?? 'cdr writer');
    try {
      const { segments, readOffset } = await readQueueState(dir);
      const q = new DiskQueue(dir, options, segments, readOffset, lock);
      await q.openCursor();
      return q;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Whether records are waiting to be replayed. */
  hasBacklog(): boolean {
    let unread = -this.readOffset;
    for (const s of this.segments) unread += s.size;
    return unread > 0;
  }

  /** Counters and sizes. */
  stats(): DiskQueueStats {
    let records = 0;
    for (const s of this.segments) records += s.records;
    return {
      bytes: this.totalBytes(),
      segments: this.segments.length,
      records,
      own_records: this.ownRecords,
      torn: this.torn,
      torn_bytes: this.tornBytes,
      torn_records: this.tornRecords,
      torn_own_records: this.tornOwnRecords,
      oldest_ms: oldestQueued(this.segments),
    };
  }

  private totalBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  /** The queue's target, if one was recorded. */
  async readTarget(): Promise<QueueTarget | null> {
    return readQueueTarget(this.dir);
  }

  /** Records the queue's target (atomically: a temporary file renamed over the old one). */
  async writeTarget(target: QueueTarget): Promise<void> {
    const tmp = join(this.dir, `${TARGET_FILE}.tmp`);
    try {
      await writeFile(tmp, `${JSON.stringify(target)}\n`);
      await rename(tmp, join(this.dir, TARGET_FILE));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Appends one record of `records` CDRs and fsyncs it. Resolves `true` once durable, `false`
   * (nothing written) if it would push the queue beyond `maxBytes`. Rejects on an I/O error,
   * after taking the partial record back out; the next append then starts a new segment.
   */
  async append(payload: Buffer, records: number): Promise<boolean> {
    const need = RECORD_HEADER_BYTES + payload.length;
    if (this.totalBytes() + need > this.maxBytes) return false;
    let active = this.segments.at(-1);
    if (this.writeFh === null || active?.seq !== this.writeSeq || active.size >= this.segmentBytes) {
      await this.sealWriteSegment();
      if (active?.seq === this.writeSeq) this.writeSeq++;
      const fh = await open(join(this.dir, segmentName(this.writeSeq)), 'wx');
      this.writeFh = fh;
      active = { seq: this.writeSeq, size: 0, records: 0, oldest: Number.NaN };
      this.segments.push(active);
      if (this.firstOwnSeq === Number.POSITIVE_INFINITY) this.firstOwnSeq = this.writeSeq;
      try {
        await this.syncDir();
      } catch (err) {
        await this.abandonWrite(active, 0);
        throw err;
      }
    }
    const fh = this.writeFh;
    const before = active.size;
    const now = Date.now();
    try {
      const record = Buffer.concat([encodeRecordHeader(payload, records, now), payload]);
      // A short write (the disk filled up mid-record) is continued, so the error the disk
      // reports for the rest (ENOSPC, EIO) is the one raised.
      let done = 0;
      while (done < need) {
        const { bytesWritten } = await fh.write(record, done, need - done, before + done);
        if (bytesWritten === 0) throw Object.assign(new Error(`the CDR queue's disk took 0 of ${need - done} bytes`), { code: 'EIO' });
        done += bytesWritten;
      }
      await fh.datasync();
    } catch (err) {
      await this.abandonWrite(active, before);
      throw err;
    }
    active.size = before + need;
    active.records += records;
    if (Number.isNaN(active.oldest)) active.oldest = now;
    this.ownRecords += records;
    return true;
  }

  /**
   * After a failed append: cut the segment back to its last good record and close it, so the
   * next append starts a new segment. Should the cut fail too, the tail stays and replay skips
   * it as torn; its records were never acknowledged, so nothing acknowledged is lost either way.
   */
  private async abandonWrite(active: Segment, goodSize: number): Promise<void> {
    const fh = this.writeFh;
    this.writeFh = null;
    this.writeSeq = active.seq + 1;
    let size = goodSize;
    try {
      await fh?.truncate(goodSize);
    } catch (err) {
      size = (await stat(join(this.dir, segmentName(active.seq))).catch(() => ({ size: goodSize }))).size;
      this.log?.('warn', 'cdr queue: could not cut a failed append back; replay will skip it as torn', { segment: segmentName(active.seq), error: String(err) });
    }
    await fh?.close().catch(() => undefined);
    active.size = size;
    if (size === 0 && this.segments.at(-1) === active) {
      this.segments.pop();
      await unlink(join(this.dir, segmentName(active.seq))).catch(() => undefined);
    }
  }

  private async sealWriteSegment(): Promise<void> {
    const fh = this.writeFh;
    this.writeFh = null;
    await fh?.close();
  }

  /** A new segment's directory entry must be durable too, or an fsync'd file could vanish. */
  private async syncDir(): Promise<void> {
    const fh = await open(this.dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /**
   * The oldest record not yet acknowledged, or `null` when the backlog is empty. Damaged bytes
   * are skipped up to the next valid record and counted. Calling it again without
   * {@link DiskQueue.ack} returns the same record.
   */
  async peek(): Promise<QueueEntry | null> {
    for (;;) {
      const seg = this.segments[0];
      if (seg === undefined) return null;
      if (this.readOffset >= seg.size) {
        if (seg.seq === this.writeSeq && this.writeFh !== null) {
          if (this.segments.length > 1) return null;
          // Fully replayed active segment: reclaim it; the next append starts a new one.
          await this.sealWriteSegment();
          this.writeSeq++;
        }
        await this.dropFirstSegment();
        continue;
      }
      const own = seg.seq >= this.firstOwnSeq;
      const fh = await this.readHandle(seg.seq);
      const remaining = seg.size - this.readOffset;
      const head = Buffer.alloc(Math.min(RECORD_HEADER_BYTES, remaining));
      await fh.read(head, 0, head.length, this.readOffset);
      const header = readRecordHeader(head, 0, remaining, false);
      if (header === null) {
        const v1 = await this.resync(seg, fh, own);
        if (v1 === null) continue;
        return v1;
      }
      const payload = Buffer.alloc(header.length);
      await fh.read(payload, 0, header.length, this.readOffset + header.headerBytes);
      if (crc32(payload) !== header.crc) {
        this.skipDamaged(seg, header.headerBytes + header.length, header.records, own, 'checksum mismatch');
        continue;
      }
      this.peeked = { next: this.readOffset + header.headerBytes + header.length, records: header.records, own };
      return { payload, records: header.records, own };
    }
  }

  /**
   * Bytes at the read position are not a version 2 header: a version 1 record (an older
   * sniffer's queue, handed out as it is), or damage, skipped up to the next record.
   */
  private async resync(seg: Segment, fh: FileHandle, own: boolean): Promise<QueueEntry | null> {
    const rest = Buffer.alloc(seg.size - this.readOffset);
    await fh.read(rest, 0, rest.length, this.readOffset);
    const v1 = readRecordHeader(rest, 0, rest.length, true);
    if (v1 !== null) {
      const payload = Buffer.from(rest.subarray(v1.headerBytes, v1.headerBytes + v1.length));
      const records = payloadRecordCount(payload) ?? 0;
      this.peeked = { next: this.readOffset + v1.headerBytes + v1.length, records, own };
      return { payload, records, own };
    }
    this.skipDamaged(seg, findNextRecord(rest, 1), 0, own, 'not a record (torn or overwritten)');
    return null;
  }

  private skipDamaged(seg: Segment, bytes: number, records: number, own: boolean, reason: string): void {
    this.torn++;
    this.tornBytes += bytes;
    this.tornRecords += records;
    if (own) this.tornOwnRecords += records;
    seg.records -= records;
    if (own) this.ownRecords -= records;
    this.log?.('warn', 'cdr queue: damaged bytes skipped; replay resumes at the next valid record', {
      segment: segmentName(seg.seq),
      offset: this.readOffset,
      bytes,
      records_lost: records,
      reason,
    });
    this.readOffset += bytes;
  }

  private async readHandle(seq: number): Promise<FileHandle> {
    if (this.readFh !== null && this.readFhSeq === seq) return this.readFh;
    await this.readFh?.close();
    this.readFh = await open(join(this.dir, segmentName(seq)), 'r');
    this.readFhSeq = seq;
    return this.readFh;
  }

  private async dropFirstSegment(): Promise<void> {
    const seg = this.segments.shift();
    if (seg === undefined) return;
    if (this.readFhSeq === seg.seq) {
      await this.readFh?.close();
      this.readFh = null;
      this.readFhSeq = -1;
    }
    await unlink(join(this.dir, segmentName(seg.seq)));
    this.readOffset = 0;
    await this.saveCursor();
  }

  /** Marks the record returned by the last {@link DiskQueue.peek} as done. */
  async ack(): Promise<void> {
    const p = this.peeked;
    if (p === null) throw new Error('DiskQueue.ack() without a preceding peek()');
    this.peeked = null;
    this.readOffset = p.next;
    const seg = this.segments[0];
    if (seg !== undefined) seg.records -= Math.max(p.records, 0);
    if (p.own) this.ownRecords -= Math.max(p.records, 0);
    await this.saveCursor();
  }

  private async openCursor(): Promise<void> {
    try {
      this.cursorFh = await openInPlace(join(this.dir, CURSOR_FILE));
    } catch (err) {
      this.cursorUnavailable(err);
    }
  }

  private cursorUnavailable(err: unknown): void {
    this.cursorFh = null;
    if (this.cursorFailed) return;
    this.cursorFailed = true;
    this.log?.('warn', 'cdr queue: the replay cursor cannot be saved; a later run replays some batches again (idempotent)', { error: String(err) });
  }

  private async saveCursor(): Promise<void> {
    if (this.cursorFh === null) return;
    const buf = Buffer.alloc(CURSOR_BYTES);
    buf.writeUInt32BE(CURSOR_MAGIC, 0);
    buf.writeDoubleBE(this.segments[0]?.seq ?? 0, 4);
    buf.writeDoubleBE(this.readOffset, 12);
    buf.writeUInt32BE(crc32(buf.subarray(0, 20)), 20);
    try {
      await this.cursorFh.write(buf, 0, CURSOR_BYTES, 0);
    } catch (err) {
      await this.cursorFh.close().catch(() => undefined);
      this.cursorUnavailable(err);
    }
  }

  /** Closes file handles and releases the lock; the queue's contents stay for the next process. */
  async close(): Promise<void> {
    // Segments replayed to their end are removed now, not by whoever opens the queue next.
    try {
      while (this.segments.length > 0 && this.readOffset >= this.segments[0]!.size) {
        if (this.segments[0]!.seq === this.writeSeq) await this.sealWriteSegment();
        await this.dropFirstSegment();
      }
    } catch (err) {
      this.log?.('warn', 'cdr queue: could not remove a replayed segment', { error: String(err) });
    }
    await this.writeFh?.close();
    await this.readFh?.close();
    await this.cursorFh?.close();
    this.writeFh = null;
    this.readFh = null;
    this.cursorFh = null;
    await this.lock.release();
  }
}

/** When the oldest waiting record of `segments` was queued (ms since 1970), or null. */
export function oldestQueued(segments: readonly Segment[]): number | null {
  let oldest = Number.POSITIVE_INFINITY;
  for (const s of segments) if (s.records > 0 && s.oldest < oldest) oldest = s.oldest;
  return Number.isFinite(oldest) ? oldest : null;
}

/** `target.json` of a queue directory, or null. */
export async function readQueueTarget(dir: string): Promise<QueueTarget | null> {
  try {
    const t = JSON.parse(await readFile(join(dir, TARGET_FILE), 'utf8')) as Partial<QueueTarget>;
    if (typeof t.database !== 'string') return null;
    return { database: t.database, database_uuid: typeof t.database_uuid === 'string' ? t.database_uuid : null, sensor: typeof t.sensor === 'string' ? t.sensor : null };
  } catch {
    return null;
  }
}

/** The segments of `dir` and where replay resumes, with each segment's waiting records counted. */
export async function readQueueState(dir: string): Promise<{ segments: Segment[]; readOffset: number }> {
  const segments: Segment[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const match = SEGMENT_RE.exec(name);
    if (match === null) continue;
    const size = (await stat(join(dir, name))).size;
    segments.push({ seq: Number(match[1]), size, records: 0, oldest: Number.NaN });
  }
  segments.sort((a, b) => a.seq - b.seq);
  const readOffset = await readCursor(dir, segments[0]?.seq ?? -1);
  for (const [i, seg] of segments.entries()) await countSegment(dir, seg, i === 0 ? readOffset : 0);
  return { segments, readOffset };
}

async function readCursor(dir: string, firstSeq: number): Promise<number> {
  try {
    const buf = await readFile(join(dir, CURSOR_FILE));
    if (buf.length >= CURSOR_BYTES && buf.readUInt32BE(0) === CURSOR_MAGIC && crc32(buf.subarray(0, 20)) === buf.readUInt32BE(20)) {
      return buf.readDoubleBE(4) === firstSeq ? buf.readDoubleBE(12) : 0;
    }
  } catch {
    // Fall through to the cursor of an older sniffer.
  }
  try {
    const old = JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8')) as { seq?: unknown; offset?: unknown };
    if (old.seq === firstSeq && typeof old.offset === 'number') return old.offset;
  } catch {
    // No or unreadable cursor: start at the oldest segment; replays are idempotent.
  }
  return 0;
}

/**
 * Counts the CDRs of a segment's records from `from` by walking their headers (one small read
 * per record); damaged stretches and version 1 records need the segment's bytes, read whole.
 */
async function countSegment(dir: string, seg: Segment, from: number): Promise<void> {
  const fh = await open(join(dir, segmentName(seg.seq)), 'r');
  try {
    const head = Buffer.alloc(RECORD_HEADER_BYTES);
    let at = from;
    while (at < seg.size) {
      const n = (await fh.read(head, 0, Math.min(RECORD_HEADER_BYTES, seg.size - at), at)).bytesRead;
      const header = readRecordHeader(head.subarray(0, n), 0, seg.size - at, false);
      if (header === null) {
        const rest = Buffer.alloc(seg.size - at);
        await fh.read(rest, 0, rest.length, at);
        for (const piece of scanSegment(rest)) {
          if (piece.kind !== 'record') continue;
          const h = piece.header;
          seg.records += h.version === 1 ? (payloadRecordCount(rest.subarray(piece.offset + h.headerBytes, piece.offset + h.headerBytes + h.length)) ?? 0) : h.records;
          if (h.version === 2 && Number.isNaN(seg.oldest)) seg.oldest = h.queuedAt;
        }
        return;
      }
      seg.records += header.records;
      if (Number.isNaN(seg.oldest)) seg.oldest = header.queuedAt;
      at += header.headerBytes + header.length;
    }
  } finally {
    await fh.close();
  }
}
