import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import { compress as zstdCompress } from '@cloudpss/zstd';
import {
  MAX_CAPTURE_LENGTH,
  PCAP_GLOBAL_HEADER_LENGTH,
  PCAP_RECORD_HEADER_LENGTH,
  PcapResolution,
  serializePcapGlobalHeader,
} from '@callscope/pcap-format';
import {
  callHashOf,
  INDEX_ENTRY_BYTES,
  INDEX_MAGIC,
  memberName,
  paddedSize,
  segmentFileNames,
  sensorHashOf,
  sensorTag,
  TAR_BLOCK,
  TarHeaderTemplate,
  writeIndexEntry,
} from './segment-format.js';
import { ChunkCompression, zstdCrcTrailer } from './segment-format.js';
import type { IndexEntry } from './segment-format.js';
import { resolveSpoolWriterOptions, SpoolMode } from './spool-options.js';
import type { ResolvedSpoolWriterOptions, SpoolWriterOptions } from './spool-options.js';
import { SpoolGroup, spoolCallName, spoolMinuteDir } from './spool-path.js';
import type { SpoolSink } from './spool-sink.js';
import { SpoolDropReason } from './spool-stats.js';
import type { SpoolWriterStats } from './spool-stats.js';


/** What a packet is, as classified by the sniffer. RTCP is stored with RTP. */
export type SpoolPacketKind = 'sip' | 'rtp' | 'rtcp';

/** Opaque per-call state the writer attaches to a {@link SpoolCallRef}. */
export interface SpoolCallState {
  /** Brand: only the writer creates these. */
  readonly __spoolCallState: true;
}

/**
 * The sniffer's handle for one call, created once per call. The writer stores its own state in
 * `spoolState` on the first `write`, so the packet path never looks a call up by Call-ID.
 */
export interface SpoolCallRef {
  /** Call-ID as the CDR stores it. */
  readonly callId: string;
  /** Call start (first INVITE), whole epoch seconds, as the CDR stores it. */
  readonly startSec: number;
  /** Microseconds of the call start. */
  readonly startUsec: number;
  /**
   * The sensor that saw the call (the CDR's `sensor`): part of the call's key, since two mirrored
   * sensors may see the same Call-ID at the same start. Read once, at the call's first `write`;
   * absent = the writer's `sensor` option.
   */
  sensor?: string;
  /** Owned by the spool writer (its state object, or for ThreadedSpoolWriter a slot number); leave undefined. */
  spoolState?: SpoolCallState | number;
}

/** Chunks are written at nanosecond resolution: the sniffer's timestamps are kept exactly. */
const RESOLUTION = PcapResolution.NANOSECONDS;
/**
 * Chunks are built of fixed-size blocks (at most `flushBytes`), carved from 1 MiB slabs and reused
 * forever. Before, a chunk was one buffer that doubled from 2 KiB up to `flushBytes`: at 10,000
 * open calls under the memory cap every call's chunk kept growing, each growth copied the chunk
 * and allocated the next size (the pool by exact size missed while the mix of sizes moved), and
 * fresh buffers page-faulted on first touch. A worker profile of 4 M packets showed 0.66 s of
 * growth copies, 0.72 s of allocation and 0.5 s of GC against 1.2 s of the copy that is the work.
 * A chain of blocks goes to disk as it is (writev takes the pieces), so no byte is copied twice.
 */
const BLOCK_BYTES = 4096;
const SLAB_BYTES = 1024 * 1024;
/**
 * zstd level of `compression: 'zstd'`: on the corpus chunks level 3 gained 0.1 % in size for 1.7x
 * the time, level -1 lost 2 % for 25 % less (README "Compression").
 */
const ZSTD_LEVEL = 1;
/**
 * A chunk's first block starts with room for its tar header (filled in at hand-off, so a plain
 * chunk goes to disk without another copy) and then the pcap global header.
 */
const CHUNK_HEAD = TAR_BLOCK + PCAP_GLOBAL_HEADER_LENGTH;
const GROUP_NAMES = [SpoolGroup.SIP, SpoolGroup.RTP] as const;
/**
 * Most bytes of one segment write. The memory a write holds is given back when it completes: at
 * 10,000 calls the first write of a run took everything queued (~130 MiB) and held it ~0.3 s,
 * while a producer paced on memory waited.
 */
const MAX_WRITE_BYTES = 16 * 1024 * 1024;
const ZEROS = Buffer.alloc(TAR_BLOCK);

/**
 * Blocks of one size, carved from slabs as needed and kept once made: the writer's memory cap
 * bounds how many are in use, so the idle ones are at most what a burst needed. No allocation and
 * no garbage per chunk in the steady state.
 */
class BlockPool {
  private readonly free: Buffer[] = [];
  private slab: Buffer | null = null;
  private carved = 0;

  /**
   * @param blockBytes - size of every block
   * @param arena - memory to carve blocks from before any slab of the pool's own (see
   *   {@link SpoolWriterInternals.arena})
   */
  constructor(
    readonly blockBytes: number,
    arena: Buffer | null = null,
  ) {
    this.slab = arena;
  }

  get(): Buffer {
    const b = this.free.pop();
    if (b !== undefined) return b;
    if (this.slab === null || this.carved + this.blockBytes > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES - (SLAB_BYTES % this.blockBytes), this.blockBytes));
      this.carved = 0;
    }
    const block = this.slab.subarray(this.carved, this.carved + this.blockBytes);
    this.carved += this.blockBytes;
    return block;
  }

  put(blocks: readonly Buffer[]): void {
    for (const b of blocks) this.free.push(b);
  }

  /** Forgets every idle block and the slab being carved (blocks still in use stay valid). */
  clear(): void {
    this.free.length = 0;
    this.slab = null;
    this.carved = 0;
  }
}

/** A chunk being filled: one call, one group, one link type; its bytes are `blocks` in order. */
class Filling {
  readonly blocks: Buffer[];
  /** The block being filled (the last of `blocks`) and the write position in it. */
  buf: Buffer;
  /** `buf` lies in the writer's arena (see SpoolWriter.copy). */
  bufInArena = false;
  pos = CHUNK_HEAD;
  /** Bytes of the chunk, tar header room included. */
  len = CHUNK_HEAD;
  packets = 0;

  constructor(
    readonly call: CallState,
    readonly group: 0 | 1,
    readonly linkType: number,
    readonly firstSec: number,
    first: Buffer,
  ) {
    this.blocks = [first];
    this.buf = first;
    // The pcap header leads every chunk: each member is a complete capture by itself.
    serializePcapGlobalHeader(first, TAR_BLOCK, linkType, MAX_CAPTURE_LENGTH, RESOLUTION);
  }

  /** Memory the chunk holds. */
  get capacity(): number {
    return this.blocks.length * this.buf.length;
  }
}

/** A chunk handed to its segment and not yet on disk. */
interface PendingChunk {
  call: CallState;
  entry: IndexEntry;
  /** Its pieces in the segment's queue (header room and blocks, or header, data and trailer; then the padding, if any). */
  pieceCount: number;
  packets: number;
  /** Memory account of the chunk (its buffers' sizes). */
  capacity: number;
  /** The chunk's blocks, back to the pool once written (null: a compressed copy, not pooled). */
  reuse: Buffer[] | null;
}

/** The writer's state for one call (the object behind `SpoolCallRef.spoolState`). */
class CallState implements SpoolCallState {
  declare readonly __spoolCallState: true;
  readonly filling: [Filling | null, Filling | null] = [null, null];
  readonly chunkNo = [0, 0];
  /** Chunks handed off (being compressed, queued or being written). */
  inFlight = 0;
  ended = false;
  closing: Promise<void> | null = null;
  readonly waiters: (() => void)[] = [];
  readonly callHi: number;
  readonly callLo: number;
  readonly sensorHash: number;
  /** Member headers of this call's chunks (made at its first hand-off). */
  header: TarHeaderTemplate | null = null;

  constructor(
    readonly minute: MinuteState,
    readonly name: string,
    readonly sensorTagText: string,
    sensor: string,
  ) {
    const h = callHashOf(name);
    this.callHi = h.hi;
    this.callLo = h.lo;
    this.sensorHash = sensorHashOf(sensor);
  }
}

/** One minute directory (of call starts) this writer has calls or a segment in. */
class MinuteState {
  openCalls = 0;
  segment: Segment | null = null;
  /** Next segment number to try (a restarted writer skips the numbers earlier runs used). */
  nextSegment = 0;
  /** Calls of this minute whose end waits for their chunks to be written. */
  urgent = 0;
  /** Its segment is being closed: a late call of this minute starts a new MinuteState. */
  finishing = false;

  constructor(
    readonly minuteDir: string,
    readonly dir: string,
    readonly startSec: number,
  ) {}
}

/** One `seg.<n>.tar` + `seg.<n>.idx`, appended to by one write at a time. */
class Segment {
  tar: FileHandle | null = null;
  idx: FileHandle | null = null;
  tarPath = '';
  /** Logical end of the archive: bytes written + queued. */
  offset = 0;
  pieces: Buffer[] = [];
  piecesBytes = 0;
  pending: PendingChunk[] = [];
  /** In the ready queue or being written. */
  scheduled = false;
  /** A write failed: this file takes nothing more (its tail may be torn); the minute starts a new one. */
  broken = false;
  /** End-of-archive written and handles closed (or closing). */
  finished = false;

  constructor(readonly minute: MinuteState) {}
}

/** {@link admitPacket}: store it. */
export const ADMITTED = 0;
/** {@link admitPacket}: RTP/RTCP in `sip` mode (counted as `packetsFiltered`). */
export const FILTERED = 1;
/** {@link admitPacket}: fields that are no pcap record (counted as `bad_packet`). */
export const BAD = 2;

/**
 * What both writers decide before they look at the call: the mode's filter, then the record's
 * fields ({@link isStorablePacket}).
 */
export function admitPacket(mode: SpoolMode, kind: SpoolPacketKind, capLen: number, tsSec: number, tsNsec: number, origLen: number, linkType: number, rtpHeaderEnd: number): number {
  if (kind !== 'sip' && mode === SpoolMode.SIP) return FILTERED;
  return isStorablePacket(capLen, tsSec, tsNsec, origLen, linkType, rtpHeaderEnd) ? ADMITTED : BAD;
}

/**
 * True when a packet's fields fit a ns pcap record and its cut point lies in the frame: what
 * {@link SpoolWriter.write} checks before storing (else the packet is dropped as `bad_packet`).
 */
export function isStorablePacket(capLen: number, tsSec: number, tsNsec: number, origLen: number, linkType: number, rtpHeaderEnd: number): boolean {
  return (
    capLen <= MAX_CAPTURE_LENGTH &&
    tsSec >>> 0 === tsSec &&
    tsNsec >>> 0 === tsNsec &&
    tsNsec <= 999_999_999 &&
    origLen >>> 0 === origLen &&
    origLen >= capLen &&
    linkType >>> 0 === linkType &&
    linkType <= 0xffff &&
    rtpHeaderEnd >>> 0 === rtpHeaderEnd &&
    rtpHeaderEnd <= capLen
  );
}

const copyBytes = (src: Uint8Array, start: number, length: number, dst: Buffer, at: number): void => {
  if (start === 0 && length === src.length) dst.set(src, at);
  else dst.set(src.subarray(start, start + length), at);
};

/** What the spool's worker thread gives its {@link SpoolWriter} beyond the options. @internal */
export interface SpoolWriterInternals {
  /**
   * Memory the writer carves its chunk blocks from first (a whole ArrayBuffer's tail; its own
   * slabs only once it is used up). A record whose source lies in the same ArrayBuffer (the
   * worker's batch buffer, at its head) is copied with `copyWithin`: no view per record. Copying
   * from one buffer into another needs a `subarray` view of the source per record (~100 bytes of
   * garbage): 4 M packets made 59 young-generation collections of the worker's 60 MB heap, 0.4 s
   * of its thread and more on V8's helper threads, on the cores the packet thread needs; and
   * `copyWithin` moved the bytes in half the time of `subarray` + `set` (microbenchmark, 230 bytes).
   */
  arena?: Buffer;
}

/** A Buffer view of `b` (the zstd binding returns Buffers already; no copy either way). */
const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export function countersZero(): Record<SpoolDropReason, number> {
  const out = {} as Record<SpoolDropReason, number>;
  for (const reason of Object.values(SpoolDropReason)) out[reason] = 0;
  return out;
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/**
 * The spool writer (README "Spool"). `write` is called synchronously from the packet path for
 * every packet of a call: it copies the frame into the call's chunk buffer and returns. Full
 * chunks (and every chunk at `endCall`, on the flush timer and under memory pressure) are handed
 * to the segment of the call's start minute as a tar member (header + complete pcap + padding);
 * each segment is appended to by one write at a time, which takes everything queued meanwhile
 * (≥ `segmentWriteBytes`, or sooner when a call end waits), so the disk sees a few large
 * sequential appends whatever the number of calls. After the data, the chunks' index entries are
 * appended to the segment's `.idx`.
 *
 * Crash safety: files are only appended to; a member is complete or is the torn tail; the index
 * is written after the data it points to and is rebuildable from the tar headers
 * (`rebuildSpoolIndex`). Readers also scan the part of a segment its index does not cover yet.
 */
export class SpoolWriter implements SpoolSink {
  /** The validated, frozen options. */
  readonly options: ResolvedSpoolWriterOptions;

  private readonly dropped = countersZero();
  private packetsWritten = 0;
  private bytesWritten = 0;
  private packetsFiltered = 0;
  private packetsCut = 0;
  private filesCreated = 0;
  private chunksWritten = 0;
  private writeErrors = 0;
  /** Capacity of chunk buffers still filling + chunks handed off and not yet written. */
  private memoryBytes = 0;
  /** Capacity of chunk buffers still filling (the part a hand-off can move on). */
  private fillingBytes = 0;
  /** Chunks with records, oldest first (Map keeps insertion order). */
  private readonly dirty = new Map<Filling, true>();
  private ready: Segment[] = [];
  private readyHead = 0;
  private active = 0;
  /**
   * Some segment holds queued chunks that are not scheduled for writing (waiting for a full
   * write's worth or the timer): a write past half the cap then hands over and schedules.
   */
  private unscheduled = false;
  private readonly openCalls = new Set<CallState>();
  private readonly minutes = new Map<string, MinuteState>();
  /** Start of the newest call minute seen: older minutes without open calls are finished. */
  private newestMinuteSec = 0;
  private readonly idleWaiters: (() => void)[] = [];
  /** `relieve()` callers waiting for memory to drop. */
  private readonly roomWaiters: (() => void)[] = [];
  private readonly pool: BlockPool;
  /** The whole ArrayBuffer of {@link SpoolWriterInternals.arena}, as bytes from its start; or null. */
  private readonly arena: Uint8Array | null;
  /** Where a chunk of several blocks is gathered for its compressor. */
  private scratch = Buffer.alloc(0);
  /** A record header that spans two blocks is assembled here first. */
  private readonly recordHead = Buffer.alloc(PCAP_RECORD_HEADER_LENGTH);
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly defaultSensorTag: string;
  /** The source of the last record copied and whether it lies in the arena (see copy()). */
  private lastSrc: Uint8Array | null = null;
  private lastSrcInArena = false;

  /**
   * @param options - see {@link SpoolWriterOptions}; validated once (throws `RangeError`/`TypeError`)
   * @param internals - for the spool's worker thread only (see {@link SpoolWriterInternals})
   */
  constructor(options: SpoolWriterOptions, internals: SpoolWriterInternals = {}) {
    this.options = resolveSpoolWriterOptions(options);
    const arena = internals.arena ?? null;
    this.arena = arena === null ? null : new Uint8Array(arena.buffer);
    this.pool = new BlockPool(Math.min(BLOCK_BYTES, this.options.flushBytes), arena);
    this.defaultSensorTag = sensorTag(this.options.sensor);
    this.timer = setInterval(() => {
      this.handOffAll();
      this.scheduleAll();
    }, this.options.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Stores one packet of a call. Synchronous and non-throwing for any packet: a packet that cannot
   * be stored is counted in `stats().packetsDropped`. The frame is copied (the capture buffer may
   * be reused as soon as this returns).
   *
   * @param call - the sniffer's per-call handle
   * @param kind - SIP goes to the call's `sip` chunks, RTP/RTCP to its `rtp` chunks
   * @param tsSec - capture time, epoch seconds
   * @param tsNsec - nanoseconds 0..999 999 999
   * @param frame - whole captured frame, starting at the link header
   * @param origLen - length on the wire (≥ frame.length)
   * @param linkType - LINKTYPE_* of the frame
   * @param rtpHeaderEnd - `rtp_headers` mode, kind `rtp`: bytes of `frame` up to the end of its RTP
   *   header (link + tunnels + IP + UDP + RTP header, from the caller's decode; see
   *   {@link SpoolMode.RTP_HEADERS}); the packet is stored cut there. 0 (the default) when the cut
   *   point is not known: the frame is stored whole. Ignored in the other modes and for SIP/RTCP.
   *   Not an integer in 0..frame.length: the packet is dropped as `bad_packet`.
   * @param state - `call.spoolState` as the caller read it after an earlier `write` of this call:
   *   its own copy, kept where its packet path finds it without reading `call` (the sniffer keeps
   *   it by the call engine's call number: reading a field of the call object was a cache miss
   *   per packet at 10,000 open calls, 0.75 s per 4 million packets). Stale, and never to be
   *   passed, once {@link endCall}(call) was called. Omitted or undefined: read from `call`.
   */
  write(
    call: SpoolCallRef,
    kind: SpoolPacketKind,
    tsSec: number,
    tsNsec: number,
    frame: Uint8Array,
    origLen: number,
    linkType: number,
    rtpHeaderEnd = 0,
    state: SpoolCallRef['spoolState'] = call.spoolState,
  ): void {
    if (this.closed) {
      this.dropped[SpoolDropReason.CLOSED]++;
      return;
    }
    const mode = this.options.mode;
    let capLen = frame.length;
    const admitted = admitPacket(mode, kind, capLen, tsSec, tsNsec, origLen, linkType, rtpHeaderEnd);
    if (admitted !== ADMITTED) {
      if (admitted === FILTERED) this.packetsFiltered++;
      else this.dropped[SpoolDropReason.BAD_PACKET]++;
      return;
    }
    if (kind === 'rtp' && mode === SpoolMode.RTP_HEADERS && rtpHeaderEnd > 0 && rtpHeaderEnd < capLen) {
      if ((state as CallState | undefined)?.ended !== true) this.packetsCut++;
      capLen = rtpHeaderEnd;
    }
    this.storeRecord(call, kind === 'sip' ? 0 : 1, tsSec, tsNsec, frame, 0, capLen, origLen, linkType, false, state as CallState | undefined);
  }

  /**
   * The packet path after validation, shared by {@link write} and the spool's worker thread (which
   * reads records out of its ring, validated and cut by the producing thread): copies `capLen`
   * bytes of `src` from `start`; with `headerInSrc` the 16 bytes before `start` are the record's
   * ns pcap header, copied with them. Not for other callers: nothing is checked here but the call.
   *
   * @internal
   */
  storeRecord(
    call: SpoolCallRef,
    group: 0 | 1,
    tsSec: number,
    tsNsec: number,
    src: Uint8Array,
    start: number,
    capLen: number,
    origLen: number,
    linkType: number,
    headerInSrc = false,
    known = call.spoolState as CallState | undefined,
  ): void {
    if (this.closed) {
      this.dropped[SpoolDropReason.CLOSED]++;
      return;
    }
    const state = known ?? this.openCall(call);
    if (state.ended) {
      this.dropped[SpoolDropReason.CALL_ENDED]++;
      return;
    }
    const recordLen = PCAP_RECORD_HEADER_LENGTH + capLen;
    if (this.memoryBytes + recordLen > this.options.maxBufferedBytes) {
      this.dropped[SpoolDropReason.BUFFER_FULL]++;
      this.handOffOldest();
      return;
    }
    let chunk = state.filling[group];
    // A chunk holds one link type and at most flushBytes (unless one record alone is larger).
    if (chunk !== null && (chunk.linkType !== linkType || chunk.len + recordLen > this.options.flushBytes)) {
      this.handOff(chunk);
      chunk = null;
    }
    if (chunk === null) {
      chunk = new Filling(state, group, linkType, tsSec, this.pool.get());
      chunk.bufInArena = this.inArena(chunk.buf);
      state.filling[group] = chunk;
      this.memoryBytes += chunk.capacity;
      this.fillingBytes += chunk.capacity;
    }
    const at = chunk.pos;
    const buf = chunk.buf;
    if (at + recordLen <= buf.length) {
      if (headerInSrc) {
        // The producer thread wrote the record header before the frame: one copy of both.
        this.copy(src, start - PCAP_RECORD_HEADER_LENGTH, recordLen, chunk, at);
      } else {
        // The record header of a ns pcap (fields validated above; serializePcapRecordHeader would check them again).
        buf.writeUInt32LE(tsSec, at);
        buf.writeUInt32LE(tsNsec, at + 4);
        buf.writeUInt32LE(capLen, at + 8);
        buf.writeUInt32LE(origLen, at + 12);
        this.copy(src, start, capLen, chunk, at + PCAP_RECORD_HEADER_LENGTH);
      }
      chunk.pos = at + recordLen;
    } else if (headerInSrc) {
      this.appendSpanning(chunk, src, start - PCAP_RECORD_HEADER_LENGTH, recordLen);
    } else {
      const head = this.recordHead;
      head.writeUInt32LE(tsSec, 0);
      head.writeUInt32LE(tsNsec, 4);
      head.writeUInt32LE(capLen, 8);
      head.writeUInt32LE(origLen, 12);
      this.appendSpanning(chunk, head, 0, PCAP_RECORD_HEADER_LENGTH);
      this.appendSpanning(chunk, src, start, capLen);
    }
    chunk.len += recordLen;
    chunk.packets++;
    if (chunk.packets === 1) this.dirty.set(chunk, true);
    if (chunk.len >= this.options.flushBytes) this.handOff(chunk);
    // Past half the cap: hand the oldest over. Also when the buffers filling are under half but
    // the account is not, because of chunks queued and not scheduled (each segment under its
    // write's worth): a producer paced on the account would otherwise wait for the 2 s timer
    // (83,000 packets/s in spool.bench at a 64 MiB cap, 600 minutes of 10,000 calls).
    const half = this.options.maxBufferedBytes / 2;
    if (this.fillingBytes > half || (this.unscheduled && this.memoryBytes > half)) this.handOffOldest();
  }

  /**
   * The call's CDR was written: hands its chunks to the segment. Later packets of the call are
   * dropped (`call_ended`). The promise resolves (never rejects: failures are counted) once its
   * chunks are on disk and indexed.
   *
   * @param call - the handle given to {@link SpoolWriter.write}
   */
  endCall(call: SpoolCallRef): Promise<void> {
    const state = call.spoolState as CallState | undefined;
    if (state === undefined) return Promise.resolve();
    if (state.closing !== null) return state.closing;
    const done = new Promise<void>((resolve) => state.waiters.push(resolve));
    if (!state.ended) {
      state.ended = true;
      state.minute.urgent++;
      for (const chunk of state.filling) if (chunk !== null) this.handOff(chunk);
      const segment = state.minute.segment;
      if (segment !== null) this.schedule(segment);
    }
    this.settleCall(state);
    return done;
  }

  /**
   * Bytes held in memory now (chunk buffers + writes in flight), cheap to read per packet: an
   * offline reader that can wait (sniffer analyze) pauses at half of `maxBufferedBytes` and awaits
   * {@link SpoolWriter.flush}, so nothing is dropped for lack of buffer there.
   */
  get bufferedBytes(): number {
    return this.memoryBytes;
  }

  /** The memory bound given in the options. */
  get maxBufferedBytes(): number {
    return this.options.maxBufferedBytes;
  }

  /** Hands every chunk to its segment; resolves once everything queued so far is written. */
  async flush(): Promise<void> {
    this.handOffAll();
    this.scheduleAll();
    await this.whenIdle();
  }

  /**
   * Ends every open call, writes everything, finishes every segment (end-of-archive blocks),
   * closes every descriptor and stops the timer. Later `write` calls are dropped (`closed`).
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const ends = [...this.openCalls].map(async (state) => {
      const ref: SpoolCallRef = { callId: '', startSec: 0, startUsec: 0, spoolState: state };
      await this.endCall(ref);
    });
    this.closed = true;
    await Promise.all(ends);
    await this.whenIdle();
    for (const minute of [...this.minutes.values()]) await this.finishMinute(minute);
    // Nothing is written any more: the idle blocks go back to the allocator.
    this.pool.clear();
    this.scratch = Buffer.alloc(0);
  }

  /** A snapshot of the counters. */
  stats(): SpoolWriterStats {
    let open = 0;
    for (const m of this.minutes.values()) if (m.segment?.tar != null) open += 2;
    return {
      packetsWritten: this.packetsWritten,
      bytesWritten: this.bytesWritten,
      packetsDropped: { ...this.dropped },
      packetsFiltered: this.packetsFiltered,
      packetsCut: this.packetsCut,
      filesOpen: open,
      filesCreated: this.filesCreated,
      chunksWritten: this.chunksWritten,
      callsOpen: this.openCalls.size,
      writeErrors: this.writeErrors,
      bufferedBytes: this.memoryBytes,
    };
  }

  /** None: this writer runs on the caller's thread, whose time it is (see SpoolSink). */
  writerThreadCpuSeconds(): null {
    return null;
  }

  /**
   * Minute directories (`YYYY-MM-DD/HH/MM`) holding calls not yet closed or a segment still being
   * written: retention skips them. A call's chunks all lie in its start minute, so this is exact.
   * A fresh set per call.
   */
  openMinuteDirectories(): Set<string> {
    return new Set(this.minutes.keys());
  }

  private openCall(call: SpoolCallRef): CallState {
    const name = spoolCallName(call.callId, call.startSec, call.startUsec);
    const minuteDir = spoolMinuteDir(call.startSec);
    let minute = this.minutes.get(minuteDir);
    if (minute === undefined || minute.finishing) {
      minute = new MinuteState(minuteDir, join(this.options.spoolDir, ...minuteDir.split('/')), call.startSec - (call.startSec % 60));
      this.minutes.set(minuteDir, minute);
    }
    if (minute.startSec > this.newestMinuteSec) this.newestMinuteSec = minute.startSec;
    const sensor = call.sensor ?? this.options.sensor;
    const state = new CallState(minute, name, sensor === this.options.sensor ? this.defaultSensorTag : sensorTag(sensor), sensor);
    call.spoolState = state;
    this.openCalls.add(state);
    minute.openCalls++;
    return state;
  }

  /** Appends `n` bytes of `src` from `from` across as many new blocks as they need. */
  private appendSpanning(chunk: Filling, src: Uint8Array, from: number, n: number): void {
    let done = 0;
    while (done < n) {
      if (chunk.pos === chunk.buf.length) {
        const block = this.pool.get();
        chunk.blocks.push(block);
        chunk.buf = block;
        chunk.bufInArena = this.inArena(block);
        chunk.pos = 0;
        this.memoryBytes += block.length;
        this.fillingBytes += block.length;
      }
      const take = Math.min(n - done, chunk.buf.length - chunk.pos);
      this.copy(src, from + done, take, chunk, chunk.pos);
      chunk.pos += take;
      done += take;
    }
  }

  /**
   * Copies `length` bytes of `src` from `start` into the block `chunk` fills, at `at`: within the
   * arena when both lie there. Whether they do is known without asking per record: `.buffer` of a
   * typed array is a call into V8's C++ runtime, and two per packet were ~5 % of the writer
   * thread's CPU (perf, 4 million packets). A block is checked when it is taken; the source (the
   * worker's batch buffer, the same object for every record of a batch) when it changes.
   */
  private copy(src: Uint8Array, start: number, length: number, chunk: Filling, at: number): void {
    const dst = chunk.buf;
    if (chunk.bufInArena) {
      if (src !== this.lastSrc) {
        this.lastSrc = src;
        this.lastSrcInArena = this.inArena(src);
      }
      if (this.lastSrcInArena) {
        const from = src.byteOffset + start;
        this.arena!.copyWithin(dst.byteOffset + at, from, from + length);
        return;
      }
    }
    copyBytes(src, start, length, dst, at);
  }

  /** `view` lies in the arena (false without one). */
  private inArena(view: Uint8Array): boolean {
    return this.arena !== null && view.buffer === this.arena.buffer;
  }

  /** Moves a filling chunk to its segment (compressing it first when asked, synchronously). */
  private handOff(chunk: Filling): void {
    const call = chunk.call;
    if (call.filling[chunk.group] === chunk) call.filling[chunk.group] = null;
    this.dirty.delete(chunk);
    const capacity = chunk.capacity;
    this.fillingBytes -= capacity;
    if (chunk.packets === 0) {
      this.memoryBytes -= capacity;
      this.pool.put(chunk.blocks);
      return;
    }
    const chunkNo = call.chunkNo[chunk.group]!++;
    call.inFlight++;
    const blocks = chunk.blocks;
    const compression = this.options.compression;
    if (compression === ChunkCompression.NONE) {
      // The tar header goes into the room kept for it in the first block: the blocks are the member.
      const pieces = blocks.slice();
      pieces[pieces.length - 1] = chunk.buf.subarray(0, chunk.pos);
      this.queueChunk(chunk, chunkNo, pieces, chunk.len - TAR_BLOCK, compression, blocks, capacity);
      return;
    }
    // Compressed here, synchronously, at the hand-off (on the writer thread when there is one): a
    // chunk is a few KiB to 64 KiB, and a thread-pool job per chunk (zlib.gzip) cost more than the
    // compression itself: each creates its zlib handle and deflate state on this thread, then
    // round-trips through libuv, and with thousands of chunks handed over at once under memory
    // pressure the queue of jobs held every raw buffer (5,600 packets/s in spool.bench at 10,000
    // calls). gzipSync at level 1 costs ~8 us per KiB of real G.711 chunks, zstd level 1 ~2.5 us.
    let packed: Buffer;
    let trailer: Buffer | null = null;
    try {
      const raw = this.gather(chunk);
      if (compression === ChunkCompression.ZSTD) {
        packed = asBuffer(zstdCompress(raw, ZSTD_LEVEL));
        trailer = zstdCrcTrailer(crc32(raw));
      } else packed = gzipSync(raw, { level: this.options.gzipLevel });
    } catch (err) {
      this.writeErrors++;
      this.dropped[SpoolDropReason.WRITE_ERROR] += chunk.packets;
      this.memoryBytes -= capacity;
      this.pool.put(blocks);
      this.options.logger?.('error', 'spool chunk compression failed', { compression, error: String(err) });
      call.inFlight--;
      this.settleCall(call);
      return;
    }
    // The raw blocks are free once compressed: the account holds the compressed copy and its header.
    this.memoryBytes -= capacity;
    this.pool.put(blocks);
    // Its tar header goes in a piece of its own: the compressed bytes are written as they are
    // (zstd: then the skippable frame with the chunk's CRC-32, see ZSTD_CRC_TRAILER_BYTES).
    const pieces = trailer === null ? [Buffer.allocUnsafe(TAR_BLOCK), packed] : [Buffer.allocUnsafe(TAR_BLOCK), packed, trailer];
    const size = packed.length + (trailer === null ? 0 : trailer.length);
    this.memoryBytes += TAR_BLOCK + size;
    this.queueChunk(chunk, chunkNo, pieces, size, compression, null, TAR_BLOCK + size);
  }

  /**
   * The chunk's pcap bytes (after the tar header room) in one piece for a compressor: the first
   * block itself when it is the only one, else the blocks copied into a scratch buffer kept for
   * the next chunk (a fresh buffer per chunk cost more in allocation than the copy).
   */
  private gather(chunk: Filling): Buffer {
    const blocks = chunk.blocks;
    if (blocks.length === 1) return chunk.buf.subarray(TAR_BLOCK, chunk.pos);
    const n = chunk.len - TAR_BLOCK;
    if (this.scratch.length < n) this.scratch = Buffer.allocUnsafeSlow(Math.max(n, 2 * this.scratch.length));
    const out = this.scratch;
    let at = blocks[0]!.copy(out, 0, TAR_BLOCK);
    for (let i = 1; i < blocks.length - 1; i++) at += blocks[i]!.copy(out, at);
    chunk.buf.copy(out, at, 0, chunk.pos);
    return out.subarray(0, n);
  }

  /**
   * Appends a member (`pieces`: 512 bytes of room for its tar header at the start of the first,
   * then `size` bytes of data) and its padding to the queue of the call minute's segment.
   */
  private queueChunk(chunk: Filling, chunkNo: number, pieces: Buffer[], size: number, compression: ChunkCompression, reuse: Buffer[] | null, capacity: number): void {
    const call = chunk.call;
    const minute = call.minute;
    let segment = minute.segment;
    if (segment === null || segment.broken || segment.finished) {
      segment = new Segment(minute);
      minute.segment = segment;
    }
    const group = GROUP_NAMES[chunk.group];
    call.header ??= new TarHeaderTemplate(call.name);
    call.header.write(pieces[0]!, 0, memberName(call.sensorTagText, group, chunkNo, chunk.linkType, compression), size, chunk.firstSec);
    const padded = paddedSize(size);
    for (const piece of pieces) segment.pieces.push(piece);
    if (padded > size) segment.pieces.push(ZEROS.subarray(0, padded - size));
    const pieceCount = pieces.length + (padded > size ? 1 : 0);
    const entry: IndexEntry = {
      callHi: call.callHi,
      callLo: call.callLo,
      sensorHash: call.sensorHash,
      group,
      chunkNo,
      linkType: chunk.linkType,
      compression,
      offset: segment.offset,
      size,
    };
    segment.offset += TAR_BLOCK + padded;
    segment.piecesBytes += TAR_BLOCK + padded;
    segment.pending.push({ call, entry, pieceCount, packets: chunk.packets, capacity, reuse });
    if (this.wantsWrite(segment)) this.schedule(segment);
    else if (!segment.scheduled) this.unscheduled = true;
  }

  /**
   * Whether a segment's queue should go to disk now rather than wait for more: a full write's
   * worth, a call end waiting, a flush or relieve waiting, close, or the account past half the
   * cap. (Memory pressure also schedules every segment at once from handOffOldest.)
   */
  private wantsWrite(segment: Segment): boolean {
    return (
      segment.pieces.length > 0 &&
      (segment.piecesBytes >= this.options.segmentWriteBytes ||
        segment.minute.urgent > 0 ||
        this.memoryBytes > this.options.maxBufferedBytes / 2 ||
        this.idleWaiters.length > 0 ||
        this.roomWaiters.length > 0 ||
        this.closed)
    );
  }

  /**
   * Offline back-pressure (sniffer analyze, a reader that can wait): hands the oldest chunks to
   * their segments and resolves once the memory held is back under `target` (default 3/8 of
   * `maxBufferedBytes`). Unlike {@link SpoolWriter.flush} it does not wait for everything to be
   * written, so the reader goes on parsing while the disk writes (on libuv's threads).
   */
  async relieve(target = (this.options.maxBufferedBytes * 3) / 8): Promise<void> {
    this.handOffOldest();
    this.scheduleAll();
    while (this.memoryBytes > target && !this.isIdle()) {
      await new Promise<void>((resolve) => {
        this.roomWaiters.push(resolve);
        this.scheduleAll();
      });
    }
  }

  private handOffAll(): void {
    for (const chunk of [...this.dirty.keys()]) this.handOff(chunk);
  }

  /** Hands over the oldest chunks until a quarter of the cap is left filling. */
  private handOffOldest(): void {
    const target = this.options.maxBufferedBytes / 4;
    for (const chunk of this.dirty.keys()) {
      if (this.fillingBytes <= target) break;
      this.handOff(chunk);
    }
    // Chunks handed over holding more than 1/8 of the cap go to disk now, whatever their segments
    // hold: a producer paced on bufferedBytes would otherwise wait for the 2 s timer.
    // Past half the cap with little handed over (the rest queued): schedule it all the same.
    if (this.memoryBytes - this.fillingBytes > this.options.maxBufferedBytes / 8 || this.memoryBytes > this.options.maxBufferedBytes / 2) this.scheduleAll();
  }

  private scheduleAll(): void {
    this.unscheduled = false;
    for (const minute of this.minutes.values()) if (minute.segment !== null) this.schedule(minute.segment);
    this.pump();
  }

  private schedule(segment: Segment): void {
    if (segment.scheduled || segment.pieces.length === 0) return;
    segment.scheduled = true;
    this.ready.push(segment);
    this.pump();
  }

  private pump(): void {
    while (this.active < this.options.ioConcurrency && this.readyHead < this.ready.length) {
      const segment = this.ready[this.readyHead++]!;
      if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
        this.ready = this.ready.slice(this.readyHead);
        this.readyHead = 0;
      }
      this.active++;
      void this.writeSegment(segment);
    }
    if (this.isIdle()) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      for (const resolve of this.roomWaiters.splice(0)) resolve();
    }
  }

  private isIdle(): boolean {
    if (this.active !== 0 || this.readyHead < this.ready.length) return false;
    for (const minute of this.minutes.values()) if (minute.segment !== null && minute.segment.pieces.length > 0) return false;
    return true;
  }

  private async whenIdle(): Promise<void> {
    while (!this.isIdle()) {
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        this.scheduleAll();
      });
    }
  }

  /**
   * Writes what the segment has queued, at most MAX_WRITE_BYTES of whole chunks (the rest stays
   * queued for the next write), then their index entries. Never rejects: failures are counted.
   */
  private async writeSegment(segment: Segment): Promise<void> {
    const pieces = segment.pieces;
    const pending = segment.pending;
    let bytes = segment.piecesBytes;
    if (bytes <= MAX_WRITE_BYTES) {
      segment.pieces = [];
      segment.pending = [];
    } else {
      // A member's bytes on disk: its header block and its data padded to whole blocks.
      const memberBytes = (p: PendingChunk): number => TAR_BLOCK + paddedSize(p.entry.size);
      let n = 0;
      let pieceEnd = 0;
      bytes = 0;
      while (n < pending.length && (n === 0 || bytes + memberBytes(pending[n]!) <= MAX_WRITE_BYTES)) {
        bytes += memberBytes(pending[n]!);
        pieceEnd += pending[n]!.pieceCount;
        n++;
      }
      // The rest stays queued; `pieces` and `pending` keep this write's part.
      segment.pieces = pieces.splice(pieceEnd);
      segment.pending = pending.splice(n);
    }
    segment.piecesBytes -= bytes;
    const minute = segment.minute;
    let packets = 0;
    for (const p of pending) packets += p.packets;
    try {
      if (segment.broken) throw new Error('segment broken by an earlier write error');
      if (segment.tar === null) await this.openSegment(segment);
      await writevAll(segment.tar!, pieces);
      const idx = Buffer.allocUnsafe(pending.length * INDEX_ENTRY_BYTES);
      for (let i = 0; i < pending.length; i++) writeIndexEntry(idx, i * INDEX_ENTRY_BYTES, pending[i]!.entry);
      await writevAll(segment.idx!, [idx]);
      this.packetsWritten += packets;
      this.chunksWritten += pending.length;
      this.bytesWritten += bytes + idx.length;
      this.options.onBytesWritten?.(minute.minuteDir, bytes + idx.length);
    } catch (err) {
      this.writeErrors++;
      this.dropped[SpoolDropReason.WRITE_ERROR] += packets;
      if (!segment.broken) {
        segment.broken = true;
        this.options.logger?.('error', 'spool segment write failed; the minute continues in a new segment', { path: segment.tarPath, error: String(err) });
      }
    } finally {
      for (const p of pending) {
        this.memoryBytes -= p.capacity;
        if (p.reuse !== null) this.pool.put(p.reuse);
        p.call.inFlight--;
        if (p.call.ended) this.settleCall(p.call);
      }
      for (const resolve of this.roomWaiters.splice(0)) resolve();
      segment.scheduled = false;
      this.active--;
      if (segment.broken) await this.closeSegment(segment);
      // Chunks queued meanwhile: write them now if the reasons still hold.
      if (this.wantsWrite(segment)) this.schedule(segment);
      else if (segment.pieces.length > 0) this.unscheduled = true;
      this.maybeFinishOldMinutes();
      this.pump();
    }
  }

  /** Creates the minute's next free `seg.<n>.tar` (never appends to a file of an earlier run) and its index. */
  private async openSegment(segment: Segment): Promise<void> {
    const minute = segment.minute;
    await mkdir(minute.dir, { recursive: true });
    for (;;) {
      const names = segmentFileNames(minute.nextSegment++);
      const path = join(minute.dir, names.tar);
      try {
        segment.tar = await open(path, 'wx');
      } catch (err) {
        if (errnoOf(err) === 'EEXIST' && minute.nextSegment < 1_000_000) continue;
        throw err;
      }
      segment.tarPath = path;
      this.filesCreated++;
      // An index without its archive is a leftover: this run's entries replace it.
      segment.idx = await open(join(minute.dir, names.idx), 'w');
      this.filesCreated++;
      await writevAll(segment.idx, [INDEX_MAGIC]);
      this.bytesWritten += INDEX_MAGIC.length;
      this.options.onBytesWritten?.(minute.minuteDir, INDEX_MAGIC.length);
      return;
    }
  }

  /**
   * Closes both files. No end-of-archive blocks are written: tar readers (GNU tar, bsdtar) accept
   * an archive that ends at a member boundary, and leaving them out keeps every state of a
   * segment, closed or killed mid-run, the same valid archive.
   */
  private async closeSegment(segment: Segment): Promise<void> {
    if (segment.finished) return;
    segment.finished = true;
    const { tar, idx } = segment;
    segment.tar = null;
    segment.idx = null;
    for (const handle of [tar, idx]) {
      try {
        await handle?.close();
      } catch (err) {
        this.writeErrors++;
        this.options.logger?.('error', 'spool close failed', { path: segment.tarPath, error: String(err) });
      }
    }
  }

  /** Minutes older than the newest call minute, with no open call and nothing queued, are done. */
  private maybeFinishOldMinutes(): void {
    for (const minute of this.minutes.values()) {
      if (minute.startSec >= this.newestMinuteSec || minute.openCalls > 0 || minute.finishing) continue;
      const s = minute.segment;
      if (s !== null && (s.scheduled || s.pieces.length > 0)) continue;
      void this.finishMinute(minute);
    }
  }

  private async finishMinute(minute: MinuteState): Promise<void> {
    if (minute.openCalls > 0 || minute.finishing) return;
    minute.finishing = true;
    // Nothing is written to the minute any more: retention may delete it now (unlinking a file
    // that is still open only delays freeing its blocks to the close just below).
    if (this.minutes.get(minute.minuteDir) === minute) this.minutes.delete(minute.minuteDir);
    const s = minute.segment;
    minute.segment = null;
    if (s !== null) await this.closeSegment(s);
  }

  /** Once an ended call's chunks are all written, forgets the call. */
  private settleCall(state: CallState): void {
    if (state.closing !== null || !state.ended || state.inFlight > 0) return;
    state.closing = Promise.resolve();
    this.openCalls.delete(state);
    const minute = state.minute;
    minute.urgent--;
    minute.openCalls--;
    for (const resolve of state.waiters.splice(0)) resolve();
    if (minute.openCalls === 0) this.maybeFinishOldMinutes();
  }
}

/** Writes every buffer in order at the file's position, continuing after short writes. */
async function writevAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let list = buffers;
  let total = 0;
  for (const b of list) total += b.length;
  while (total > 0) {
    const { bytesWritten } = await handle.writev(list);
    total -= bytesWritten;
    if (total === 0) return;
    let skip = bytesWritten;
    let i = 0;
    while (skip >= list[i]!.length) skip -= list[i++]!.length;
    list = [list[i]!.subarray(skip), ...list.slice(i + 1)];
  }
}
