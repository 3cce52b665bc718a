import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { crc32, createGunzip, gunzip as gunzipCallback } from 'node:zlib';
import { decompress as zstdDecompress } from '@cloudpss/zstd';
import { CaptureError, CaptureErrorCode, MAX_CAPTURE_LENGTH, PCAP_GLOBAL_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH } from '@callscope/pcap-format';
import { CaptureParser, CaptureParseStatus, inspectZstdFrame, ZstdFrameStatus } from '@callscope/pcap-format';
import type { PacketRecord, ZstdFrameInfo } from '@callscope/pcap-format';
import { locateCallFiles } from './locate-call.js';
import type { SpoolCallFile } from './locate-call.js';
import { MergedCaptureFormat as Formats, MergedCaptureOutput, OUTPUT_CHUNK_BYTES } from './merged-capture-output.js';
import type { MergedCaptureFormat, OutputBufferProvider } from './merged-capture-output.js';
import { SpoolError, SpoolErrorCode } from './spool-error.js';
import { SpoolGroup, spoolCallName, spoolMinuteDir } from './spool-path.js';
import { callHashOf, ChunkCompression, MAX_MEMBER_BYTES, parseTarHeader, readZstdCrcTrailer, sameChunk, sensorHashOf, TAR_BLOCK, ZSTD_CRC_TRAILER_BYTES } from './segment-format.js';
import type { IndexEntry } from './segment-format.js';
import { listSegments, scanSegment } from './segment-reader.js';

const gunzipAsync = promisify(gunzipCallback);
/** A chunk's file header magic: classic pcap, nanosecond resolution, read little-endian. */
const PCAP_MAGIC_NS_LE = 0xa1b23c4d;
/** Largest single read of a run's chunks (they are read ahead when they lie close together). */
const READ_AHEAD_BYTES = 1024 * 1024;
/** Bytes of other calls' members between two chunks of a run that a read-ahead still spans. */
const READ_GAP_BYTES = 16 * 1024;

/** Which call to fetch: what the CDR stores (Call-ID and start time), plus the groups wanted. */
export interface CallPcapQuery {
  /** Call-ID as stored in the CDR. */
  callId: string;
  /** Call start, whole epoch seconds. */
  startSec: number;
  /** Microseconds of the start. */
  startUsec: number;
  /** Groups to merge (default both): `sip`, and `rtp` (RTP with RTCP). */
  kinds?: readonly SpoolGroup[];
  /**
   * Only this sensor's chunks (the CDR's `sensor`: two mirrored sensors may hold the same Call-ID
   * at the same start). Absent: every sensor's. Files of the old per-call layout name no sensor
   * and are included either way: they were written by this sniffer before sensors were recorded,
   * and the web GUI always names the CDR's sensor (leaving them out would make every call
   * recorded before an upgrade "not found").
   */
  sensor?: string;
}

/** What a retrieval produced. */
export interface CallPcapSummary {
  /** Classic pcap (one link type) or pcapng (several). */
  format: MergedCaptureFormat;
  /** Files read: segment archives holding the call's chunks, then old-layout per-call files. */
  files: string[];
  /** Chunks (segment members) merged. */
  chunks: number;
  /**
   * Chunks left out: an index entry whose member header says something else (a damaged or
   * hostile index), a member that is not a readable pcap or gzip. Archive path, offset, reason.
   */
  skipped: { path: string; offset: number; reason: string }[];
  /** Packets written to the output. */
  packets: number;
  /** Output bytes. */
  bytes: number;
  /**
   * Files that ended inside a record (a writer killed mid-write) or in a torn gzip member: their
   * complete records were merged, the tail was left out. Path + catalogue code.
   */
  truncated: { path: string; code: CaptureErrorCode }[];
}

const READ_BYTES = 64 * 1024;

/** Pulls records from one spool file through the lib's `CaptureParser`. */
class FileCursor {
  readonly parser = new CaptureParser();
  truncation: CaptureErrorCode | null = null;
  private handle: FileHandle | null = null;
  private gunzip: AsyncIterator<Buffer> | null = null;
  /** The file has no more bytes: only `finish()` may still give records (see CaptureParser.finish). */
  private atEof = false;
  private destroyGzip: (() => void) | null = null;
  private readonly chunk = new Uint8Array(READ_BYTES);
  private done = false;

  constructor(readonly file: SpoolCallFile) {}

  async open(): Promise<void> {
    if (this.file.gzip) {
      const input = createReadStream(this.file.path);
      const gunzip = createGunzip();
      input.on('error', (err) => gunzip.destroy(err));
      input.pipe(gunzip);
      this.gunzip = (gunzip as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      this.destroyGzip = () => {
        input.destroy();
        gunzip.destroy();
      };
    } else {
      this.handle = await open(this.file.path, 'r');
    }
  }

  /** The current record (valid until the next {@link FileCursor.next}). */
  get record(): PacketRecord {
    return this.parser.record;
  }

  /** Advances to the next record; false at the end of the file (complete or torn). */
  async next(): Promise<boolean> {
    if (this.done) return false;
    if (this.atEof) return this.end();
    for (;;) {
      const status = this.parser.next();
      if (status === CaptureParseStatus.Record) return true;
      if (status === CaptureParseStatus.Error) throw this.corrupt(this.parser.error);
      const more = await this.read();
      if (more === null) {
        this.atEof = true;
        return this.end();
      }
      this.parser.push(more);
    }
  }

  async close(): Promise<void> {
    this.done = true;
    this.destroyGzip?.();
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  private async read(): Promise<Uint8Array | null> {
    if (this.handle !== null) {
      // Reusing the chunk is safe: the parser copied any partial record to its carry on NEED_MORE.
      const { bytesRead } = await this.handle.read(this.chunk, 0, READ_BYTES, null);
      return bytesRead === 0 ? null : this.chunk.subarray(0, bytesRead);
    }
    try {
      const step = await this.gunzip!.next();
      return step.done === true ? null : step.value;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('Z_')) throw err;
      // A torn last gzip member (writer killed mid-write): every complete record was delivered.
      this.truncation = CaptureErrorCode.GZIP_ERROR;
      return null;
    }
  }

  /** The stream ended: records a resync left waiting come out one per call, then the end. */
  private end(): boolean {
    const status = this.parser.finish();
    if (status === CaptureParseStatus.Record) return true;
    this.done = true;
    if (status === CaptureParseStatus.Error) throw this.corrupt(this.parser.error);
    if (status === CaptureParseStatus.Truncated && this.truncation === null) this.truncation = this.parser.truncation!.code;
    return false;
  }

  private corrupt(err: CaptureError | null): SpoolError {
    return new SpoolError(SpoolErrorCode.CorruptFile, `${this.file.path}: ${err?.message ?? 'unreadable'}`, { cause: err });
  }
}

/**
 * Output buffers lent to a consumer that gives them back (see {@link CallPcapStream.recycle}).
 *
 * Why: memory touched for the first time costs a page fault per 4 KiB. A one-hour call is 83 MB
 * of pcap; read into fresh buffers and handed on in fresh buffers, those faults (in the kernel's
 * copy of each read and in ours) were most of a retrieval's time on a VM, and varied the most
 * (70-220 ms in a fresh process, against 30-60 ms for the same bytes from reused buffers).
 */
class OutputRecycler implements OutputBufferProvider {
  /** Buffers handed out and not given back, by their memory. */
  private readonly lent = new Map<ArrayBufferLike, Buffer>();
  private readonly free: Buffer[] = [];

  allocate(size: number): Buffer {
    let buf = this.free.pop();
    if (buf === undefined || buf.length < size) buf = Buffer.allocUnsafeSlow(Math.max(size, OUTPUT_CHUNK_BYTES));
    this.lent.set(buf.buffer, buf);
    return buf;
  }

  /** True when `chunk` was one of ours still lent; its buffer is then reused. */
  recycle(chunk: Uint8Array): boolean {
    const buf = this.lent.get(chunk.buffer);
    if (buf === undefined) return false;
    this.lent.delete(chunk.buffer);
    // Oversized buffers (a record above 64 KiB) and a consumer holding many are not kept.
    if (buf.length === OUTPUT_CHUNK_BYTES && this.free.length < MAX_FREE_OUTPUT_BUFFERS) this.free.push(buf);
    return true;
  }
}

/** Output buffers kept for reuse at most (1 MiB): a consumer writing to a socket holds a few in flight. */
const MAX_FREE_OUTPUT_BUFFERS = 16;

/** What one positioned read of a run's members gave. */
interface ReadSpan {
  /** The bytes read (shorter than `wanted` when the archive ends first). */
  buf: Buffer;
  /** The whole buffer `buf` lies in (reused for later reads when the cursor recycles). */
  mem: Buffer;
  wanted: number;
  /** Index in the run of the first member past the read. */
  nextIndex: number;
}

/** One chunk to read: its archive and index entry (checked against the member header on read). */
interface ChunkRef {
  tarPath: string;
  segment: number;
  entry: IndexEntry;
}

/**
 * Pulls records from a run of chunks of one call, one sensor and one group, in chunk order: their
 * concatenation is the order the writer received the packets in. One chunk in memory at a time.
 */
class ChunkCursor {
  private parser: CaptureParser | null = null;
  private atEnd = false;
  /** The pcap bytes of the chunk in hand. */
  private data: Uint8Array | null = null;
  /** The record in hand is the first of its chunk (nothing of the chunk was handed on yet). */
  private fresh = false;
  /** The last read (it may hold the next chunks of the run). */
  private ahead: { tarPath: string; start: number; buf: Buffer; mem: Buffer } | null = null;
  /** Read buffers free for reuse (only when the output copies every byte: `recycle`). */
  private readonly spare: Buffer[] = [];
  /** The read after it, in flight. */
  private prefetch: { tarPath: string; start: number; block: Promise<ReadSpan> } | null = null;
  private i = 0;
  private readonly handles = new Map<string, FileHandle>();
  private readonly zstdInfo: ZstdFrameInfo = { contentSize: 0 };

  /**
   * @param recycle - the output copies every record (an {@link OutputBufferProvider}), so a read
   *   buffer is reused once the cursor has moved past its chunks; else chunks may leave in it.
   */
  constructor(
    private readonly refs: readonly ChunkRef[],
    private readonly summary: CallPcapSummary,
    private readonly recycle: boolean,
  ) {}

  get record(): PacketRecord {
    return this.parser!.record;
  }

  /** At the first record of a chunk (see {@link ChunkCursor.wholeChunk}). */
  get isFresh(): boolean {
    return this.fresh;
  }

  /**
   * The next record of the chunk in hand, without I/O: true, or null when that chunk is used up
   * (then {@link ChunkCursor.next} reads the next one). The merge asks this first: an await per
   * packet would cost more than the packet.
   */
  nextInChunk(): true | null {
    this.fresh = false;
    const parser = this.parser;
    if (parser === null) return null;
    for (;;) {
      // The whole chunk was pushed: once the parser needs more, finish() gives what a resync held back.
      const status = this.atEnd ? parser.finish() : parser.next();
      if (status === CaptureParseStatus.Record) return true;
      if (status === CaptureParseStatus.NeedMore) {
        this.atEnd = true;
        continue;
      }
      if (status === CaptureParseStatus.Error || status === CaptureParseStatus.Truncated) {
        const ref = this.refs[this.i - 1]!;
        this.summary.skipped.push({ path: ref.tarPath, offset: ref.entry.offset, reason: `member is not a readable pcap after record ${this.summary.packets}` });
      }
      this.parser = null;
      return null;
    }
  }

  async next(): Promise<boolean> {
    for (;;) {
      if (this.nextInChunk() !== null) return true;
      if (this.i >= this.refs.length) return false;
      const ref = this.refs[this.i++]!;
      const data = await this.load(ref);
      if (data === null) continue;
      this.summary.chunks++;
      this.parser = new CaptureParser();
      this.atEnd = false;
      this.parser.push(data);
      this.data = data;
      if (this.nextInChunk() !== null) {
        this.fresh = true;
        return true;
      }
    }
  }

  /**
   * The records of the chunk in hand as they are (its bytes past the pcap file header), when
   * the merge may copy them in one piece: the cursor is at the chunk's first record, the chunk is
   * a classic little-endian ns pcap whose every record header is sane (inside the chunk, capture
   * length within the snaplen, ns below 10^9), and every record is strictly earlier than `bound`
   * (the earliest record of the other runs; null: none), so a record-by-record merge would have
   * taken them all in this order too. Else null, and nothing changes. On success the chunk is used
   * up: call {@link ChunkCursor.next} for the next one.
   */
  wholeChunk(bound: PacketRecord | null): { records: Uint8Array; packets: number } | null {
    const data = this.data;
    if (!this.fresh || data === null || data.length < PCAP_GLOBAL_HEADER_LENGTH) return null;
    const view = new DataView(data.buffer, data.byteOffset, data.length);
    if (view.getUint32(0, true) !== PCAP_MAGIC_NS_LE) return null;
    let maxSec = -1;
    let maxNsec = 0;
    let packets = 0;
    let at = PCAP_GLOBAL_HEADER_LENGTH;
    while (at < data.length) {
      if (at + PCAP_RECORD_HEADER_LENGTH > data.length) return null;
      const sec = view.getUint32(at, true);
      const nsec = view.getUint32(at + 4, true);
      const capLen = view.getUint32(at + 8, true);
      if (nsec >= 1_000_000_000 || capLen > MAX_CAPTURE_LENGTH || at + PCAP_RECORD_HEADER_LENGTH + capLen > data.length) return null;
      if (sec > maxSec || (sec === maxSec && nsec > maxNsec)) {
        maxSec = sec;
        maxNsec = nsec;
      }
      packets++;
      at += PCAP_RECORD_HEADER_LENGTH + capLen;
    }
    if (bound !== null && !(maxSec < bound.tsSec || (maxSec === bound.tsSec && maxNsec < bound.tsNsec))) return null;
    this.parser = null;
    this.fresh = false;
    this.data = null;
    return { records: data.subarray(PCAP_GLOBAL_HEADER_LENGTH), packets };
  }

  /** The chunk's pcap bytes, or null (counted in `summary.skipped`) when the member is not the indexed one. */
  private async load(ref: ChunkRef): Promise<Uint8Array | null> {
    let handle = this.handles.get(ref.tarPath);
    if (handle === undefined) {
      handle = await open(ref.tarPath, 'r');
      this.handles.set(ref.tarPath, handle);
    }
    const e = ref.entry;
    const skip = (reason: string): null => {
      this.summary.skipped.push({ path: ref.tarPath, offset: e.offset, reason });
      return null;
    };
    const buf = await this.readMember(handle, ref);
    if (buf === null) return skip('member cut short');
    const header = parseTarHeader(buf, 0);
    if (typeof header === 'string') return skip(`no member header (${header})`);
    if (!sameChunk(e, header)) return skip('member header differs from its index entry');
    const data = buf.subarray(TAR_BLOCK);
    if (e.compression === ChunkCompression.NONE) return data;
    // A chunk is at most flushBytes (16 MiB) + one record: no member may unpack to more than
    // MAX_MEMBER_BYTES, whatever it claims (a damaged or hostile archive must not exhaust memory).
    if (e.compression === ChunkCompression.GZIP) {
      try {
        return await gunzipAsync(data, { maxOutputLength: MAX_MEMBER_BYTES });
      } catch (err) {
        return skip(`gzip: ${(err as Error).message}`);
      }
    }
    // zstd: one frame that declares its size (as the writer makes them), checked before the decoder
    // allocates, then the skippable frame with the chunk's CRC-32. The same bound as mirror-codec's
    // decompressBatch, done here with the shared frame inspection: that codec would bring lz4-napi
    // and protobufjs into every reader of the spool (manager API, the writer thread's bundle).
    const crc = readZstdCrcTrailer(data);
    if (crc < 0) return skip('zstd: no CRC frame after the data frame');
    const frame = data.subarray(0, data.length - ZSTD_CRC_TRAILER_BYTES);
    const st = inspectZstdFrame(frame, 0, frame.length, this.zstdInfo);
    if (st !== ZstdFrameStatus.Ok) return skip(`zstd: not one whole frame with its size (status ${st})`);
    if (this.zstdInfo.contentSize > MAX_MEMBER_BYTES) return skip(`zstd: frame declares ${this.zstdInfo.contentSize} bytes`);
    let out: Uint8Array;
    try {
      out = zstdDecompress(frame);
    } catch (err) {
      return skip(`zstd: ${(err as Error).message}`);
    }
    if (out.length !== this.zstdInfo.contentSize) return skip(`zstd: ${out.length} bytes, the frame declares ${this.zstdInfo.contentSize}`);
    if (crc32(out) !== crc) return skip('zstd: CRC-32 mismatch (the member is damaged)');
    return out;
  }

  /**
   * The member's header and data: one positioned read covers the next chunks of the run too when
   * they lie close behind it in the same archive (up to {@link READ_AHEAD_BYTES}): a long call's
   * chunks are mostly adjacent, and a read per 64 KiB chunk cost more than parsing it. Null when
   * the archive ends inside the member.
   */
  private async readMember(handle: FileHandle, ref: ChunkRef): Promise<Buffer | null> {
    const e = ref.entry;
    const need = TAR_BLOCK + e.size;
    const ahead = this.ahead;
    if (ahead !== null && ahead.tarPath === ref.tarPath && e.offset >= ahead.start && e.offset + need <= ahead.start + ahead.buf.length) {
      return ahead.buf.subarray(e.offset - ahead.start, e.offset - ahead.start + need);
    }
    const pre = this.prefetch;
    this.prefetch = null;
    const block = pre !== null && pre.tarPath === ref.tarPath && pre.start === e.offset ? await pre.block : await this.readSpan(handle, this.i - 1);
    // Every chunk of the previous read was parsed and copied out (the merge asks for the next
    // chunk only then): with a copying output its buffer is free. A prefetch dropped above (the
    // run skipped a chunk) keeps its buffer; only the garbage collector gets it back.
    if (this.recycle && this.ahead !== null && this.spare.length < 2) this.spare.push(this.ahead.mem);
    this.ahead = { tarPath: ref.tarPath, start: e.offset, buf: block.buf, mem: block.mem };
    // The run's next read starts now, while this one's chunks are parsed and handed on: reads and
    // the merge overlap instead of taking turns.
    const nextRef = this.refs[block.nextIndex];
    if (nextRef !== undefined && nextRef.tarPath === ref.tarPath && block.buf.length === block.wanted) {
      const next = this.readSpan(handle, block.nextIndex);
      // Its error is raised where it is awaited (the run reaching that chunk); a retrieval closed
      // before then has no use for it.
      next.catch(() => undefined);
      this.prefetch = { tarPath: ref.tarPath, start: nextRef.entry.offset, block: next };
    }
    return block.buf.length < need ? null : block.buf.subarray(0, need);
  }

  /** One positioned read from the member of `refs[first]` over the run's next members lying close behind it. */
  private async readSpan(handle: FileHandle, first: number): Promise<ReadSpan> {
    const ref = this.refs[first]!;
    const start = ref.entry.offset;
    let end = start + TAR_BLOCK + ref.entry.size;
    let j = first + 1;
    for (; j < this.refs.length; j++) {
      const next = this.refs[j]!;
      const nextEnd = next.entry.offset + TAR_BLOCK + next.entry.size;
      if (next.tarPath !== ref.tarPath || next.entry.offset < end || next.entry.offset - end > READ_GAP_BYTES || nextEnd - start > READ_AHEAD_BYTES) break;
      end = nextEnd;
    }
    let mem = this.spare.pop();
    // Fresh read buffers are of the read-ahead size at least, so that they serve later reads too.
    if (mem === undefined || mem.length < end - start) mem = this.recycle ? Buffer.allocUnsafeSlow(Math.max(end - start, READ_AHEAD_BYTES)) : Buffer.allocUnsafe(end - start);
    const { bytesRead } = await handle.read(mem, 0, end - start, start);
    return { buf: mem.subarray(0, bytesRead), mem, wanted: end - start, nextIndex: j };
  }

  async close(): Promise<void> {
    this.i = this.refs.length;
    this.parser = null;
    this.prefetch = null;
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map((h) => h.close()));
  }
}

/** What the merge pulls from: an old-layout file or a run of chunks. */
interface RecordCursor {
  readonly record: PacketRecord;
  next(): Promise<boolean>;
  close(): Promise<void>;
}

function earlier(a: PacketRecord, b: PacketRecord): boolean {
  return a.tsSec < b.tsSec || (a.tsSec === b.tsSec && a.tsNsec < b.tsNsec);
}

/**
 * An opened call capture: the call's chunks (and old-layout files) are found and their first
 * records read, so a missing or unreadable call is reported before any byte is produced (an HTTP
 * handler can still answer 404).
 */
export interface CallPcapStream {
  /** Output format. */
  readonly format: MergedCaptureFormat;
  /** Filled in while `chunks()` runs; final once it has finished. */
  readonly summary: CallPcapSummary;
  /** The merged capture in chunks of about 64 KiB (call once). Closes the files when done. */
  chunks(): AsyncGenerator<Buffer, void, undefined>;
  /**
   * Gives a chunk back once the consumer is done with it (parsed, counted, or its write to a
   * file or socket called back): later chunks reuse its memory. Only with
   * {@link CallPcapOpenOptions.recycle}; true when the chunk was taken back (false: not one of
   * this stream's, already given back, or the stream does not recycle).
   */
  recycle(chunk: Uint8Array): boolean;
  /** Closes the files without reading (when the client went away before `chunks()`). */
  close(): Promise<void>;
}

/** Options of {@link openCallPcap}. */
export interface CallPcapOpenOptions {
  /**
   * The consumer gives each chunk back with {@link CallPcapStream.recycle} when done with it.
   * The retrieval then copies every record into its own output buffers and reuses those, and its
   * read buffers, instead of touching fresh memory for every chunk (see OutputRecycler): for a
   * one-hour call about half the time, and far less variation. Without it (default) chunks are
   * the consumer's to keep, and long runs of records leave in the read buffers without a copy.
   */
  recycle?: boolean;
}

/**
 * Finds a call's chunks in the segments of its start minute: reads those segments' indexes (and
 * scans any archive tail an index does not cover yet), keeps the entries of the call (64-bit hash
 * of Call-ID + start), the groups and the sensor asked for, and orders them into one run per
 * sensor and group (segment number, then chunk number).
 */
async function findCallChunks(
  spoolDir: string,
  query: CallPcapQuery,
  kinds: readonly SpoolGroup[],
): Promise<{ runs: ChunkRef[][]; files: string[]; skipped: CallPcapSummary['skipped']; known: boolean }> {
  const name = spoolCallName(query.callId, query.startSec, query.startUsec);
  const { hi, lo } = callHashOf(name);
  const sensorHash = query.sensor === undefined ? null : sensorHashOf(query.sensor);
  const minuteAbs = join(spoolDir, ...spoolMinuteDir(query.startSec).split('/'));
  const byRun = new Map<string, ChunkRef[]>();
  const files: string[] = [];
  const skipped: CallPcapSummary['skipped'] = [];
  let known = false;
  for (const segment of await listSegments(minuteAbs)) {
    const scan = await scanSegment(
      segment,
      (e) => e.callHi === hi && e.callLo === lo && kinds.includes(e.group) && (sensorHash === null || e.sensorHash === sensorHash),
    );
    known ||= scan.badMatching > 0;
    if (scan.entries.length > 0 || scan.badMatching > 0) {
      files.push(segment.tarPath);
      // A torn tail (writer killed mid-write) may have been one of this call's chunks: say so.
      if (scan.tornTarBytes > 0) skipped.push({ path: segment.tarPath, offset: scan.tarSize - scan.tornTarBytes, reason: `torn tail: ${scan.tornTarBytes} bytes after the last complete member` });
      if (scan.badEntries > 0) skipped.push({ path: segment.tarPath, offset: 0, reason: `${scan.badEntries} index entries point past the archive or are impossible` });
    }
    for (const entry of scan.entries) {
      const key = `${entry.sensorHash}:${entry.group}`;
      let run = byRun.get(key);
      if (run === undefined) byRun.set(key, (run = []));
      run.push({ tarPath: segment.tarPath, segment: segment.n, entry });
    }
  }
  const runs = [...byRun.values()];
  for (const run of runs) run.sort((a, b) => a.segment - b.segment || a.entry.chunkNo - b.entry.chunkNo);
  // SIP runs first: equal timestamps keep SIP before RTP, as the per-call layout did.
  runs.sort((a, b) => (a[0]!.entry.group === b[0]!.entry.group ? 0 : a[0]!.entry.group === SpoolGroup.SIP ? -1 : 1));
  return { runs, files, skipped, known };
}

/**
 * Opens the packets of one call for retrieval, merged into ONE capture in time order (k-way merge
 * by timestamp of the call's chunk runs and old-layout files; ties keep SIP before RTP). Classic
 * ns pcap when every packet has the same link type, else pcapng with one interface per link type;
 * timestamps, captured bytes and original lengths are those stored.
 *
 * Reads only the index of the call's start minute (every chunk of a call lies there, however long
 * the call) and the call's chunks; old-layout files are found by recomputing their names.
 *
 * @param spoolDir - spool root
 * @param query - see {@link CallPcapQuery}
 * @throws SpoolError `CallNotFound` when no chunk or file of the requested groups exists,
 *   `CorruptFile` when an old-layout file is not a readable capture
 */
export async function openCallPcap(spoolDir: string, query: CallPcapQuery, options: CallPcapOpenOptions = {}): Promise<CallPcapStream> {
  const recycler = options.recycle === true ? new OutputRecycler() : null;
  const kinds = query.kinds ?? [SpoolGroup.SIP, SpoolGroup.RTP];
  const { runs, files, skipped, known } = await findCallChunks(spoolDir, query, kinds);
  const location = await locateCallFiles(spoolDir, query.callId, query.startSec, query.startUsec, kinds);
  if (location.files.length === 0 && runs.length === 0 && known) {
    throw new SpoolError(SpoolErrorCode.CorruptFile, `${files.join(', ')}: the index lists chunks of Call-ID ${JSON.stringify(query.callId)} that the archive does not hold (${skipped.map((k) => k.reason).join('; ')})`);
  }
  if (location.files.length === 0 && runs.length === 0) {
    const sensor = query.sensor === undefined ? '' : ` of sensor ${JSON.stringify(query.sensor)}`;
    throw new SpoolError(SpoolErrorCode.CallNotFound, `no ${kinds.join('+')} packets${sensor} for Call-ID ${JSON.stringify(query.callId)} started ${query.startSec}.${query.startUsec} under ${location.minuteDir}`);
  }
  const summary: CallPcapSummary = {
    format: Formats.PCAP,
    files: [...files, ...location.files.map((f) => f.path)],
    chunks: 0,
    skipped,
    packets: 0,
    bytes: 0,
    truncated: [],
  };
  const fileCursors = location.files.map((f) => new FileCursor(f));
  const cursors: RecordCursor[] = [...runs.map((run) => new ChunkCursor(run, summary, recycler !== null)), ...fileCursors];
  const live: RecordCursor[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(cursors.map((c) => c.close()));
  };
  const linkTypes: number[] = [];
  for (const run of runs) for (const ref of run) if (!linkTypes.includes(ref.entry.linkType)) linkTypes.push(ref.entry.linkType);
  try {
    for (const cursor of fileCursors) await cursor.open();
    for (const cursor of cursors) if (await cursor.next()) live.push(cursor);
  } catch (err) {
    await closeAll();
    throw err;
  }
  if (live.length === 0 && summary.skipped.length > 0) {
    await closeAll();
    throw new SpoolError(SpoolErrorCode.CorruptFile, `no readable chunk of Call-ID ${JSON.stringify(query.callId)}: ${summary.skipped.map((k) => `${k.path}@${k.offset}: ${k.reason}`).join('; ')}`);
  }
  for (const c of fileCursors) if (live.includes(c) && !linkTypes.includes(c.record.linkType)) linkTypes.push(c.record.linkType);
  const output = new MergedCaptureOutput(linkTypes, recycler);
  summary.format = output.format;
  const single = output.format === Formats.PCAP;
  const noteTruncation = (c: RecordCursor): void => {
    if (c instanceof FileCursor && c.truncation !== null) summary.truncated.push({ path: c.file.path, code: c.truncation });
  };
  for (const c of cursors) if (!live.includes(c)) noteTruncation(c);

  async function* chunks(): AsyncGenerator<Buffer, void, undefined> {
    try {
      while (live.length > 0) {
        let min = 0;
        for (let i = 1; i < live.length; i++) if (earlier(live[i]!.record, live[min]!.record)) min = i;
        const cursor = live[min]!;
        if (single && cursor instanceof ChunkCursor && cursor.isFresh) {
          // A chunk wholly earlier than every other run's next record goes out in one piece
          // (records of a chunk are in arrival order): a one-hour call is mostly one run.
          let bound: PacketRecord | null = null;
          for (let i = 0; i < live.length; i++) if (i !== min && (bound === null || earlier(live[i]!.record, bound))) bound = live[i]!.record;
          const whole = cursor.wholeChunk(bound);
          if (whole !== null) {
            summary.packets += whole.packets;
            for (const out of output.addRecords(whole.records)) {
              summary.bytes += out.length;
              yield out;
            }
            if (!(await cursor.next())) live.splice(min, 1);
            continue;
          }
        }
        const r = cursor.record;
        const full = output.add(r.linkType, r.tsSec, r.tsNsec, r.data, r.origLen);
        summary.packets++;
        if (full !== null) {
          summary.bytes += full.length;
          yield full;
        }
        const more = (cursor instanceof ChunkCursor ? cursor.nextInChunk() : null) ?? (await cursor.next());
        if (!more) {
          noteTruncation(cursor);
          live.splice(min, 1);
        }
      }
      const last = output.take();
      summary.bytes += last.length;
      if (last.length > 0) yield last;
    } finally {
      await closeAll();
    }
  }
  const recycle = (chunk: Uint8Array): boolean => recycler?.recycle(chunk) ?? false;
  return { format: output.format, summary, chunks, recycle, close: closeAll };
}

/** Where {@link readCallPcap} sends the merged capture: a stream (back-pressure honoured) or a callback. */
export type CallPcapSink = Writable | ((chunk: Buffer) => void | Promise<void>);

/**
 * Writes an opened call capture into `out` (not ended), honouring `drain`, each chunk given back
 * to the retrieval once its write has called back (open it with {@link CallPcapOpenOptions.recycle}).
 * Stops when `out` closes first (a client gone; also one gone before this was called, for which no
 * 'drain' would ever come): the generator's end closes the files.
 *
 * @returns true when every chunk was written, false when `out` closed first
 * @throws what the retrieval throws (a file failing mid-way); `out` is left as it is
 */
export async function writeCallPcap(stream: CallPcapStream, out: Writable): Promise<boolean> {
  const gone = new AbortController();
  const onClose = (): void => {
    gone.abort();
  };
  out.once('close', onClose);
  if (out.destroyed) gone.abort();
  try {
    for await (const chunk of stream.chunks()) {
      if (gone.signal.aborted) return false;
      if (!out.write(chunk, () => stream.recycle(chunk))) await once(out, 'drain', { signal: gone.signal });
    }
    return !gone.signal.aborted;
  } catch (err) {
    if (gone.signal.aborted) return false;
    throw err;
  } finally {
    out.off('close', onClose);
  }
}

/**
 * Writes the merged capture of one call to `sink` (see {@link openCallPcap}); a `Writable` is not
 * ended, so several calls can share it. Chunks are recycled (see {@link CallPcapOpenOptions}): a
 * callback sink must copy what it keeps beyond the promise it returns (or its return, when it
 * returns none); a `Writable` is written by {@link writeCallPcap} (which stops early when it
 * closes first: the summary then counts what was produced, not what the sink took).
 *
 * @param spoolDir - spool root
 * @param query - see {@link CallPcapQuery}
 * @param sink - see {@link CallPcapSink}
 * @returns the summary (packets, bytes, files, truncated tails)
 * @throws SpoolError as {@link openCallPcap}
 */
export async function readCallPcap(spoolDir: string, query: CallPcapQuery, sink: CallPcapSink): Promise<CallPcapSummary> {
  const stream = await openCallPcap(spoolDir, query, { recycle: true });
  if (typeof sink !== 'function') {
    await writeCallPcap(stream, sink);
    return stream.summary;
  }
  for await (const chunk of stream.chunks()) {
    await sink(chunk);
    stream.recycle(chunk);
  }
  return stream.summary;
}
