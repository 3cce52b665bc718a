/**
 * Append-only on-disk queue of batches for when the database is unreachable.
 *
 * Layout: a directory of segment files `q-<12-digit seq>.seg` plus `cursor.json`. A record is
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     magic 0x43534451 ("CSDQ")                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   payload length (bytes, BE)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  CRC-32 (ISO-HDLC) of payload                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    payload (UTF-8 JSON) ...                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Guarantees: {@link DiskQueue.append} returns only after the record is written and
 * `fdatasync`'d, so an acknowledged record survives a crash of the process or the host. A record
 * torn by a crash mid-append (short, bad magic, bad checksum) can only be the tail of a segment
 * written by a dead process, because every process appends to a fresh segment; it is counted,
 * logged and skipped. Total size is bounded by `maxBytes`: an append that would exceed it is
 * refused (the caller counts and reports it). Reading is at-least-once: `cursor.json` is updated
 * after each {@link DiskQueue.ack} but not fsync'd, so after a crash a few batches may be replayed
 * again, which the idempotent writer absorbs.
 *
 * One queue directory belongs to one writer at a time.
 *
 * @packageDocumentation
 */
import { crc32 } from 'node:zlib';
import { mkdir, open, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogCallback } from '@callscope/runtime';

/** Record magic: "CSDQ". */
export const DISK_QUEUE_MAGIC = 0x43534451;
/** Bytes of a record header (magic, length, CRC-32). */
export const DISK_QUEUE_HEADER_BYTES = 12;

const SEGMENT_RE = /^q-(\d{12})\.seg$/;
const segmentName = (seq: number): string => `q-${String(seq).padStart(12, '0')}.seg`;

/** Options of {@link DiskQueue.open}. */
export interface DiskQueueOptions {
  /** Directory of the queue (created if missing). */
  dir: string;
  /** Upper bound of all segment files together, bytes (default 1 GiB). */
  maxBytes?: number;
  /** A segment is closed and a new one started past this size, bytes (default 16 MiB). */
  segmentBytes?: number;
  /** Where torn records are reported. */
  log?: LogCallback;
}

interface Segment {
  seq: number;
  size: number;
}

/** Counters of a {@link DiskQueue}. */
export interface DiskQueueStats {
  /** Bytes in segment files (including records already replayed but not yet reclaimed). */
  bytes: number;
  /** Segment files present. */
  segments: number;
  /** Records found torn or corrupt and skipped. */
  torn: number;
  /** Bytes skipped with them. */
  torn_bytes: number;
}

/** See the module documentation. */
export class DiskQueue {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly log: LogCallback | undefined;
  private readonly segments: Segment[];
  private writeFh: FileHandle | null = null;
  private writeSeq: number;
  private readFh: FileHandle | null = null;
  private readFhSeq = -1;
  private readOffset: number;
  private peekedNext = -1;
  private torn = 0;
  private tornBytes = 0;

  private constructor(dir: string, options: DiskQueueOptions, segments: Segment[], readOffset: number) {
    this.dir = dir;
    this.maxBytes = options.maxBytes ?? 1024 ** 3;
    this.segmentBytes = options.segmentBytes ?? 16 * 1024 ** 2;
    this.log = options.log;
    this.segments = segments;
    this.readOffset = readOffset;
    // A new process never appends to an old segment, whose tail may be torn.
    this.writeSeq = (segments.at(-1)?.seq ?? 0) + 1;
  }

  /** Opens (or creates) the queue in `options.dir`, finding what earlier processes left behind. */
  static async open(options: DiskQueueOptions): Promise<DiskQueue> {
    await mkdir(options.dir, { recursive: true });
    const names = await readdir(options.dir);
    const segments: Segment[] = [];
    for (const name of names) {
      const match = SEGMENT_RE.exec(name);
      if (match === null) continue;
      const size = (await stat(join(options.dir, name))).size;
      segments.push({ seq: Number(match[1]), size });
    }
    segments.sort((a, b) => a.seq - b.seq);
    let readOffset = 0;
    try {
      const cursor = JSON.parse(await readFile(join(options.dir, 'cursor.json'), 'utf8')) as { seq?: unknown; offset?: unknown };
      if (typeof cursor.seq === 'number' && typeof cursor.offset === 'number' && segments[0]?.seq === cursor.seq) {
        readOffset = cursor.offset;
      }
    } catch {
      // No or unreadable cursor: start at the oldest segment; replays are idempotent.
      readOffset = 0;
    }
    return new DiskQueue(options.dir, options, segments, readOffset);
  }

  /** Whether records are waiting to be replayed. */
  hasBacklog(): boolean {
    let unread = -this.readOffset;
    for (const s of this.segments) unread += s.size;
    return unread > 0;
  }

  /** Counters and sizes. */
  stats(): DiskQueueStats {
    return { bytes: this.totalBytes(), segments: this.segments.length, torn: this.torn, torn_bytes: this.tornBytes };
  }

  private totalBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  /**
   * Appends one record and fsyncs it. Resolves `true` once durable, `false` (nothing written) if
   * it would push the queue beyond `maxBytes`. Rejects on an I/O error.
   */
  async append(payload: Buffer): Promise<boolean> {
    const need = DISK_QUEUE_HEADER_BYTES + payload.length;
    if (this.totalBytes() + need > this.maxBytes) return false;
    let active = this.segments.at(-1);
    if (this.writeFh === null || active?.seq !== this.writeSeq || active.size >= this.segmentBytes) {
      await this.writeFh?.close();
      if (active?.seq === this.writeSeq) this.writeSeq++;
      this.writeFh = await open(join(this.dir, segmentName(this.writeSeq)), 'a');
      active = { seq: this.writeSeq, size: 0 };
      this.segments.push(active);
      await this.syncDir();
    }
    const header = Buffer.allocUnsafe(DISK_QUEUE_HEADER_BYTES);
    header.writeUInt32BE(DISK_QUEUE_MAGIC, 0);
    header.writeUInt32BE(payload.length, 4);
    header.writeUInt32BE(crc32(payload), 8);
    const { bytesWritten } = await this.writeFh.writev([header, payload]);
    active.size += bytesWritten;
    if (bytesWritten !== need) throw new Error(`short write to disk queue: ${bytesWritten} of ${need} bytes`);
    await this.writeFh.datasync();
    return true;
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
   * The oldest record not yet acknowledged, or `null` when the backlog is empty. Torn or corrupt
   * records are skipped (with the rest of their segment) and counted. Calling it again without
   * {@link DiskQueue.ack} returns the same record.
   */
  async peek(): Promise<Buffer | null> {
    for (;;) {
      const seg = this.segments[0];
      if (seg === undefined) return null;
      if (this.readOffset >= seg.size) {
        if (seg.seq === this.writeSeq && this.writeFh !== null) {
          if (this.segments.length > 1) return null;
          // Fully replayed active segment: reclaim it; the next append starts a new one.
          await this.writeFh.close();
          this.writeFh = null;
          this.writeSeq++;
        }
        await this.dropFirstSegment();
        continue;
      }
      const fh = await this.readHandle(seg.seq);
      const header = Buffer.alloc(DISK_QUEUE_HEADER_BYTES);
      const remaining = seg.size - this.readOffset;
      const got = (await fh.read(header, 0, DISK_QUEUE_HEADER_BYTES, this.readOffset)).bytesRead;
      const length = header.readUInt32BE(4);
      if (got < DISK_QUEUE_HEADER_BYTES || header.readUInt32BE(0) !== DISK_QUEUE_MAGIC || length > remaining - DISK_QUEUE_HEADER_BYTES) {
        this.skipTorn(seg, 'truncated or bad header');
        continue;
      }
      const payload = Buffer.alloc(length);
      await fh.read(payload, 0, length, this.readOffset + DISK_QUEUE_HEADER_BYTES);
      if (crc32(payload) !== header.readUInt32BE(8)) {
        this.skipTorn(seg, 'checksum mismatch');
        continue;
      }
      this.peekedNext = this.readOffset + DISK_QUEUE_HEADER_BYTES + length;
      return payload;
    }
  }

  private skipTorn(seg: Segment, reason: string): void {
    const skipped = seg.size - this.readOffset;
    this.torn++;
    this.tornBytes += skipped;
    this.log?.('warn', 'disk queue: torn record skipped with the rest of its segment', {
      segment: segmentName(seg.seq),
      offset: this.readOffset,
      bytes: skipped,
      reason,
    });
    this.readOffset = seg.size;
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
    if (this.peekedNext < 0) throw new Error('DiskQueue.ack() without a preceding peek()');
    this.readOffset = this.peekedNext;
    this.peekedNext = -1;
    await this.saveCursor();
  }

  private async saveCursor(): Promise<void> {
    const seq = this.segments[0]?.seq ?? 0;
    const tmp = join(this.dir, 'cursor.json.tmp');
    await writeFile(tmp, JSON.stringify({ seq, offset: this.readOffset }));
    await rename(tmp, join(this.dir, 'cursor.json'));
  }

  /** Closes file handles; the queue's contents stay for the next process. */
  async close(): Promise<void> {
    await this.writeFh?.close();
    await this.readFh?.close();
    this.writeFh = null;
    this.readFh = null;
  }
}
