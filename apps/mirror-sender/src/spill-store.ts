import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { rawBatchDataLength, type RawBatch } from '@callscope/mirror-protocol';
import type { Logger } from '@callscope/runtime';

/**
 * Record layout of a spill segment (host byte order: a spill file never leaves its host):
 *
 * ```
 * u32 payload length P | u32 CRC-32 of the payload | payload (P bytes):
 *   f64 sequence | u32 packet count n | u32 data length D
 *   f64 tsSec[n] | u32 linkType[n] | u32 tsNsec[n] | u32 origLen[n] | u32 end[n] | data (D bytes)
 * ```
 *
 * A crash can leave a torn last record (short header, short payload) or a record whose CRC does
 * not match: a reader stops there. tsSec comes first so it sits 8-byte aligned in the payload.
 */
export const SPILL_RECORD_HEADER_BYTES = 8;
const PAYLOAD_FIXED_BYTES = 16;
/** Per packet: tsSec (8) + linkType, tsNsec, origLen, end (4 each). */
const PAYLOAD_BYTES_PER_PACKET = 24;
/** Spill segment file names: `segment-<number>.spill`. */
const SEGMENT_PATTERN = /^segment-(\d{8})\.spill$/;

/** Bytes of the spill record of a batch. */
export function spillRecordLength(raw: RawBatch): number {
  return SPILL_RECORD_HEADER_BYTES + PAYLOAD_FIXED_BYTES + raw.count * PAYLOAD_BYTES_PER_PACKET + rawBatchDataLength(raw);
}

/** Serializes a batch and its sequence into one spill record (a copy). */
export function encodeSpillRecord(sequence: number, raw: RawBatch): Buffer {
  const n = raw.count;
  const dataLength = rawBatchDataLength(raw);
  const out = Buffer.allocUnsafe(spillRecordLength(raw));
  const payloadLength = out.length - SPILL_RECORD_HEADER_BYTES;
  let o = SPILL_RECORD_HEADER_BYTES;
  out.writeDoubleLE(sequence, o);
  out.writeUInt32LE(n, o + 8);
  out.writeUInt32LE(dataLength, o + 12);
  o += PAYLOAD_FIXED_BYTES;
  for (const a of [raw.tsSec, raw.linkType, raw.tsNsec, raw.origLen, raw.end]) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, n * a.BYTES_PER_ELEMENT);
    out.set(bytes, o);
    o += bytes.length;
  }
  out.set(raw.data.subarray(0, dataLength), o);
  out.writeUInt32LE(payloadLength, 0);
  out.writeUInt32LE(crc32(out.subarray(SPILL_RECORD_HEADER_BYTES)), 4);
  return out;
}

/** Outcome of {@link decodeSpillRecord}. */
export const SpillRecordStatus = {
  Ok: 0,
  /** Fewer bytes than the header or the payload it announces (a torn tail). */
  Truncated: 1,
  /** The payload's CRC-32 differs from the header's (a corrupted or torn record). */
  BadCrc: 2,
  /** The CRC matches but the fields contradict the length (not a record of this format). */
  Malformed: 3,
} as const;
/** A value of {@link SpillRecordStatus}. */
export type SpillRecordStatus = (typeof SpillRecordStatus)[keyof typeof SpillRecordStatus];

/** A decoded spill record (see {@link decodeSpillRecord}). */
export interface DecodedSpillRecord {
  sequence: number;
  /** The batch (its own buffers), or null when only the header was wanted. */
  raw: RawBatch | null;
  packets: number;
  /** Bytes of the whole record (header included). */
  length: number;
}

/**
 * Decodes the record at `offset` of `buf`. With `withBatch` false only the sequence and packet
 * count are read (after the CRC check), as the start-up scan of leftover files needs.
 */
export function decodeSpillRecord(buf: Uint8Array, offset: number, out: DecodedSpillRecord, withBatch = true): SpillRecordStatus {
  if (buf.length - offset < SPILL_RECORD_HEADER_BYTES + PAYLOAD_FIXED_BYTES) return SpillRecordStatus.Truncated;
  const view = new DataView(buf.buffer, buf.byteOffset + offset, buf.length - offset);
  const payloadLength = view.getUint32(0, true);
  if (payloadLength > buf.length - offset - SPILL_RECORD_HEADER_BYTES) return SpillRecordStatus.Truncated;
  const payload = buf.subarray(offset + SPILL_RECORD_HEADER_BYTES, offset + SPILL_RECORD_HEADER_BYTES + payloadLength);
  if (crc32(payload) !== view.getUint32(4, true)) return SpillRecordStatus.BadCrc;
  if (payloadLength < PAYLOAD_FIXED_BYTES) return SpillRecordStatus.Malformed;
  const sequence = view.getFloat64(8, true);
  const n = view.getUint32(16, true);
  const dataLength = view.getUint32(20, true);
  if (!Number.isSafeInteger(sequence) || sequence < 1 || PAYLOAD_FIXED_BYTES + n * PAYLOAD_BYTES_PER_PACKET + dataLength !== payloadLength) return SpillRecordStatus.Malformed;
  out.sequence = sequence;
  out.packets = n;
  out.length = SPILL_RECORD_HEADER_BYTES + payloadLength;
  out.raw = null;
  if (!withBatch) return SpillRecordStatus.Ok;
  let o = PAYLOAD_FIXED_BYTES;
  const take = <T extends Uint32Array | Float64Array>(a: T): T => {
    const bytes = a.length * a.BYTES_PER_ELEMENT;
    new Uint8Array(a.buffer).set(payload.subarray(o, o + bytes));
    o += bytes;
    return a;
  };
  const raw: RawBatch = {
    count: n,
    tsSec: take(new Float64Array(n)),
    linkType: take(new Uint32Array(n)),
    tsNsec: take(new Uint32Array(n)),
    origLen: take(new Uint32Array(n)),
    end: take(new Uint32Array(n)),
    data: payload.slice(o, o + dataLength),
  };
  if (n > 0 && raw.end[n - 1] !== dataLength) return SpillRecordStatus.Malformed;
  out.raw = raw;
  return SpillRecordStatus.Ok;
}

/** What {@link scanSpillDir} found in leftover segment files. */
export interface SpillLeftover {
  files: number;
  bytes: number;
  batches: number;
  packets: number;
  /** Files whose last record was torn or did not pass its CRC (a crash while writing). */
  tornFiles: number;
}

/** Reads every leftover segment of `dir` (records up to the first torn or bad one) and deletes it. */
export function discardLeftoverSpill(dir: string): SpillLeftover {
  const found: SpillLeftover = { files: 0, bytes: 0, batches: 0, packets: 0, tornFiles: 0 };
  const rec: DecodedSpillRecord = { sequence: 0, raw: null, packets: 0, length: 0 };
  for (const name of readdirSync(dir)) {
    if (!SEGMENT_PATTERN.test(name)) continue;
    const path = join(dir, name);
    const buf = readFileSync(path);
    found.files++;
    found.bytes += buf.length;
    let offset = 0;
    while (offset < buf.length) {
      if (decodeSpillRecord(buf, offset, rec, false) !== SpillRecordStatus.Ok) {
        found.tornFiles++;
        break;
      }
      found.batches++;
      found.packets += rec.packets;
      offset += rec.length;
    }
    unlinkSync(path);
  }
  return found;
}

/** One spilled batch: where its record is, or its bytes while the write is pending. */
export interface SpillRecord {
  readonly sequence: number;
  readonly packets: number;
  readonly length: number;
  readonly segment: SpillSegment;
  readonly offset: number;
  /** The record's bytes until they are on disk (a read is served from them meanwhile). */
  pending: Buffer | null;
  /** Acknowledged or dropped: the disk copy is no longer needed. */
  released: boolean;
}

/** A segment file (append-only). */
export interface SpillSegment {
  readonly number: number;
  readonly path: string;
  /** Bytes assigned (written or pending). */
  size: number;
  /** Records not yet released. */
  live: number;
  /** No more appends (rolled over, or the store failed). */
  sealed: boolean;
  handle: FileHandle | null;
  deleted: boolean;
}

/** Counters of a {@link SpillStore} (the sender's health endpoint serves them). */
export interface SpillStats {
  /** Batches written to disk. */
  batchesWritten: number;
  /** Bytes of those records. */
  bytesWritten: number;
  /** Batches read back. */
  batchesRead: number;
  /** Disk errors (write, read, CRC mismatch, delete). */
  errors: number;
}

/** Options of a {@link SpillStore}. */
export interface SpillStoreOptions {
  dir: string;
  /** Bound on the bytes of segment files (buffer.spillMaxMb). */
  maxBytes: number;
  /** A segment is sealed at this size; default min(64 MiB, maxBytes / 16) (space comes back a segment at a time). */
  segmentBytes?: number;
  /** Bound on record bytes waiting to be written (memory); default 8 MiB. */
  queueBytes?: number;
  logger: Logger;
}

/** Who hears of a {@link SpillStore}'s asynchronous writes (the sender). */
export interface SpillListener {
  /** Records reached the disk. */
  written(): void;
  /** A write failed: these records (their bytes still in `pending`) are not on disk and never will be. */
  writeFailed(records: SpillRecord[]): void;
}

/** Default bound of the write queue's memory. */
export const DEFAULT_SPILL_QUEUE_BYTES = 8 * 1024 * 1024;

/**
 * Append-only spill of raw batches to segment files (`segment-NNNNNNNN.spill` in `dir`): the
 * mirror-sender moves the oldest unwritten batches there when its memory window is full and reads
 * them back, in order, as the link drains. Writes are asynchronous and batched (one `writev` of
 * everything queued), the queue's memory is bounded ({@link canTake}); a segment file is deleted
 * once every record in it is released (acknowledged or dropped). After a disk error the store
 * takes nothing more ({@link healthy} false): the sender falls back to memory-only eviction.
 */
export class SpillStore {
  readonly stats: SpillStats = { batchesWritten: 0, bytesWritten: 0, batchesRead: 0, errors: 0 };
  /** Told about finished and failed writes. */
  listener: SpillListener | null = null;
  private readonly segmentBytes: number;
  private readonly queueBytes: number;
  private readonly log: Logger;
  private segments: SpillSegment[] = [];
  private active: SpillSegment | null = null;
  private nextSegment = 1;
  private queue: SpillRecord[] = [];
  private queued = 0;
  private diskBytes = 0;
  private writing: Promise<void> | null = null;
  /** The segment a write is under way to (its file is removed after that write, not during it). */
  private inWrite: SpillSegment | null = null;
  private failed = false;

  /**
   * Checks that `dir` is writable (creates it when missing) and discards leftover segments of an
   * earlier process (a new process is a new stream: they cannot be resent under the old one).
   *
   * @throws Error naming the directory when it cannot be created or written.
   */
  static open(options: SpillStoreOptions): { store: SpillStore; leftover: SpillLeftover } {
    const { dir } = options;
    try {
      mkdirSync(dir, { recursive: true });
      if (!statSync(dir).isDirectory()) throw new Error('not a directory');
      const probe = join(dir, `.probe-${process.pid}`);
      const fd = openSync(probe, 'w');
      try {
        writeSync(fd, 'x');
      } finally {
        closeSync(fd);
        unlinkSync(probe);
      }
    } catch (err) {
      throw new Error(`buffer.spillDir ${dir} is not a writable directory: ${(err as Error).message}`);
    }
    const leftover = discardLeftoverSpill(dir);
    return { store: new SpillStore(options), leftover };
  }

  private constructor(private readonly options: SpillStoreOptions) {
    if (!(options.maxBytes > 0)) throw new RangeError(`maxBytes must be > 0, got ${options.maxBytes}`);
    this.segmentBytes = options.segmentBytes ?? Math.max(1, Math.min(64 * 1024 * 1024, Math.floor(options.maxBytes / 16)));
    this.queueBytes = options.queueBytes ?? DEFAULT_SPILL_QUEUE_BYTES;
    this.log = options.logger;
  }

  /** False after a disk error: nothing more is spilled. */
  get healthy(): boolean {
    return !this.failed;
  }

  /** Bytes of the segment files (written and pending). */
  get usedBytes(): number {
    return this.diskBytes;
  }

  /** Record bytes waiting to be written (memory). */
  get queuedBytes(): number {
    return this.queued;
  }

  /**
   * True when a record of `length` bytes fits: the store is healthy, the disk bound holds and the
   * write queue has room (a lone record larger than the queue bound is taken when the queue is empty).
   */
  canTake(length: number): boolean {
    return !this.failed && this.diskBytes + length <= this.options.maxBytes && (this.queued === 0 || this.queued + length <= this.queueBytes);
  }

  /** Queues a batch for the disk (its bytes are copied); the caller checked {@link canTake}. */
  append(sequence: number, raw: RawBatch): SpillRecord {
    const bytes = encodeSpillRecord(sequence, raw);
    let seg = this.active;
    if (seg === null || (seg.size > 0 && seg.size + bytes.length > this.segmentBytes)) {
      if (seg !== null) {
        seg.sealed = true;
        this.maybeDelete(seg);
      }
      seg = { number: this.nextSegment++, path: '', size: 0, live: 0, sealed: false, handle: null, deleted: false };
      (seg as { path: string }).path = join(this.options.dir, `segment-${String(seg.number).padStart(8, '0')}.spill`);
      this.segments.push(seg);
      this.active = seg;
    }
    const record: SpillRecord = { sequence, packets: raw.count, length: bytes.length, segment: seg, offset: seg.size, pending: bytes, released: false };
    seg.size += bytes.length;
    seg.live++;
    this.diskBytes += bytes.length;
    this.queue.push(record);
    this.queued += bytes.length;
    this.writing ??= this.drain();
    return record;
  }

  /**
   * The batch of a record: from its pending bytes, else read from its segment and checked.
   *
   * @throws Error on a read error, a CRC mismatch or a record that is not the one expected (the
   *   caller counts the batch lost).
   */
  async read(record: SpillRecord): Promise<RawBatch> {
    let buf = record.pending;
    if (buf === null) {
      const seg = record.segment;
      if (seg.handle === null) throw new Error(`spill segment ${seg.path} is not open`);
      buf = Buffer.allocUnsafe(record.length);
      const { bytesRead } = await seg.handle.read(buf, 0, record.length, record.offset);
      if (bytesRead !== record.length) throw new Error(`spill segment ${seg.path}: short read at ${record.offset} (${bytesRead} of ${record.length} bytes)`);
    }
    const out: DecodedSpillRecord = { sequence: 0, raw: null, packets: 0, length: 0 };
    const status = decodeSpillRecord(buf, 0, out);
    if (status !== SpillRecordStatus.Ok || out.sequence !== record.sequence || out.raw === null) {
      const why = status === SpillRecordStatus.BadCrc ? 'CRC mismatch' : status === SpillRecordStatus.Ok ? `sequence ${out.sequence} instead of ${record.sequence}` : `status ${status}`;
      throw new Error(`spill segment ${record.segment.path}: record of batch ${record.sequence} at ${record.offset} is unreadable (${why})`);
    }
    this.stats.batchesRead++;
    return out.raw;
  }

  /** Marks a record acknowledged or dropped; a sealed segment with no live record is deleted. */
  release(record: SpillRecord): void {
    if (record.released) return;
    record.released = true;
    record.segment.live--;
    this.maybeDelete(record.segment);
  }

  /** Counts a disk error found by the caller (a failed read) and stops spilling. */
  fail(err: Error): void {
    this.stats.errors++;
    if (!this.failed) this.log.error({ err: err.message }, 'mirror spill: disk error; spilling stops, the memory buffer alone holds unacknowledged batches (overflow is counted)');
    this.failed = true;
  }

  /** Waits for pending writes, closes and deletes every segment (what is unacknowledged at exit is counted by the sender). */
  async close(): Promise<void> {
    while (this.writing !== null) await this.writing;
    const all = this.segments;
    this.segments = [];
    this.active = null;
    for (const seg of all) {
      seg.sealed = true;
      seg.live = 0;
      seg.deleted = true;
      this.diskBytes -= seg.size;
    }
    await Promise.all(all.map((seg) => this.removeFile(seg)));
  }

  /**
   * Deletes a sealed segment without live records: its bytes leave the disk bound at once (records
   * still queued for it are not written at all), its file goes after any write under way to it.
   */
  private maybeDelete(seg: SpillSegment): void {
    if (seg.live > 0 || seg.deleted) return;
    if (!seg.sealed) {
      // The active segment emptied: seal it so it can go, the next append opens a new one.
      if (seg !== this.active) return;
      seg.sealed = true;
      this.active = null;
    }
    seg.deleted = true;
    this.diskBytes -= seg.size;
    this.segments = this.segments.filter((s) => s !== seg);
    if (this.inWrite !== seg) void this.removeFile(seg);
  }

  private async removeFile(seg: SpillSegment): Promise<void> {
    const handle = seg.handle;
    if (handle === null) return;
    seg.handle = null;
    try {
      await handle.close();
      await unlink(seg.path);
    } catch (err) {
      this.stats.errors++;
      this.log.error({ err: (err as Error).message, path: seg.path }, 'mirror spill: could not delete a segment');
    }
  }

  /** Writes everything queued, one writev per segment run, until the queue is empty. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failed) {
        const seg = this.queue[0]!.segment;
        let n = 0;
        while (n < this.queue.length && this.queue[n]!.segment === seg) n++;
        const run = this.queue.slice(0, n);
        if (!seg.deleted) {
          this.inWrite = seg;
          try {
            seg.handle ??= await open(seg.path, 'w+');
            await seg.handle.writev(run.map((r) => r.pending!), run[0]!.offset);
          } catch (err) {
            this.fail(err as Error);
            break;
          } finally {
            this.inWrite = null;
          }
        }
        this.queue.splice(0, n);
        for (const r of run) {
          this.queued -= r.length;
          r.pending = null;
          if (!seg.deleted) {
            this.stats.batchesWritten++;
            this.stats.bytesWritten += r.length;
          }
        }
        // Released while its write was under way: the file goes now.
        if (seg.deleted) await this.removeFile(seg);
        this.listener?.written();
      }
      if (this.failed && this.queue.length > 0) {
        // Not on disk: the records' bytes are still in memory; the sender takes them back.
        const left = this.queue;
        this.queue = [];
        this.queued = 0;
        for (const r of left) {
          if (!r.released) {
            r.released = true;
            r.segment.live--;
          }
        }
        for (const r of left) {
          r.segment.sealed = true;
          this.maybeDelete(r.segment);
        }
        this.listener?.writeFailed(left);
      }
    } finally {
      this.writing = null;
    }
  }
}
