import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';
import {
  MAX_CAPTURE_LENGTH,
  PCAP_GLOBAL_HEADER_LENGTH,
  PCAP_RECORD_HEADER_LENGTH,
  PcapResolution,
  serializePcapGlobalHeader,
  serializePcapRecordHeader,
} from '@callscope/pcap-format';
import { locateCallFiles } from './locate-call.js';
import type { SpoolCallLocation } from './locate-call.js';
import { resolveSpoolWriterOptions, SpoolMode } from './spool-options.js';
import type { ResolvedSpoolWriterOptions, SpoolWriterOptions } from './spool-options.js';
import { MAX_FILE_VARIANTS, SpoolGroup, spoolCallName, spoolFileName, spoolMinuteDir } from './spool-path.js';
import { SpoolDropReason } from './spool-stats.js';
import type { SpoolWriterStats } from './spool-stats.js';

const gzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gzipCallback);

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
  /** Owned by the spool writer; leave undefined. */
  spoolState?: SpoolCallState;
}

/** Spool files are written at nanosecond resolution: the sniffer's timestamps are kept exactly. */
const RESOLUTION = PcapResolution.NANOSECONDS;
/** First buffer of a file; it doubles up to `flushBytes`, so 10 000 quiet calls cost ~10 MiB, not 10 000 x 64 KiB. */
const INITIAL_BUFFER_BYTES = 1024;
const GROUP_INDEX = { sip: 0, rtp: 1, rtcp: 1 } as const;
const GROUP_NAMES = [SpoolGroup.SIP, SpoolGroup.RTP] as const;

/** A buffer handed to the disk: its bytes, its allocation (for the memory account), its packets. */
interface Chunk {
  data: Buffer;
  capacity: number;
  packets: number;
}

/** One pcap file of a call (one group, one link type). */
class SpoolFile {
  buf: Buffer | null = null;
  bufLen = 0;
  bufPackets = 0;
  readonly queue: Chunk[] = [];
  /** In the ready queue or being written: guarantees one writer per file, hence order. */
  scheduled = false;
  /** A write is in progress: the pool must not close this handle. */
  writing = false;
  handle: FileHandle | null = null;
  /** The file exists on disk with its global header (reopen in append mode). */
  created = false;
  /** The global header was put in the first buffer. */
  headerBuffered = false;
  /** A write failed: the tail may be torn, nothing more is appended. */
  broken = false;
  path = '';

  constructor(
    readonly call: CallState,
    readonly group: 0 | 1,
    public variant: number,
    readonly linkType: number,
  ) {}
}

/** The writer's state for one call (the object behind `SpoolCallRef.spoolState`). */
class CallState implements SpoolCallState {
  declare readonly __spoolCallState: true;
  readonly files: SpoolFile[] = [];
  /** Last file used per group: the common case (one link type) costs one comparison. */
  readonly last: [SpoolFile | null, SpoolFile | null] = [null, null];
  readonly nextVariant = [0, 0];
  ended = false;
  /** Set once every file is written: resolves when they are closed and the call forgotten. */
  closing: Promise<void> | null = null;
  readonly waiters: (() => void)[] = [];

  constructor(
    readonly minuteDir: string,
    readonly dir: string,
    readonly name: string,
  ) {}
}

function countersZero(): Record<SpoolDropReason, number> {
  const out = {} as Record<SpoolDropReason, number>;
  for (const reason of Object.values(SpoolDropReason)) out[reason] = 0;
  return out;
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/**
 * Per-call pcap spool writer (DESIGN.md "Spool"). `write` is called synchronously from the packet
 * path for every packet of a call: it copies the frame into the call's buffer and returns; file
 * I/O happens in the background, in order per file, through a bounded pool of descriptors.
 *
 * Files: `<spool>/<YYYY-MM-DD>/<HH>/<MM>/<name>.sip.pcap` and `<name>.rtp.pcap` (RTCP with RTP),
 * `.pcap.gz` with gzip, nanosecond classic pcap, little-endian, one link type per file — a
 * packet on another link type than the group's first opens a variant file `<name>.rtp.1.pcap`
 * (up to {@link MAX_FILE_VARIANTS}); retrieval merges variants (into pcapng when link types
 * differ). Nothing is rewritten or converted.
 *
 * Crash safety: every buffer handed to the disk holds whole records, the global header goes
 * with the first buffer, and files are only appended to, so a killed process leaves files that
 * are valid up to their last complete record (a torn tail at most, which readers report).
 *
 * Memory: each file's buffer starts at 1 KiB and doubles up to `flushBytes`; buffers go to disk
 * when full, every `flushIntervalMs`, at `endCall`, and oldest-first past half of
 * `maxBufferedBytes`; a packet that would exceed `maxBufferedBytes` is dropped and counted.
 */
export class SpoolWriter {
  /** The validated, frozen options. */
  readonly options: ResolvedSpoolWriterOptions;

  private readonly dropped = countersZero();
  private packetsWritten = 0;
  private bytesWritten = 0;
  private packetsFiltered = 0;
  private packetsCut = 0;
  private filesCreated = 0;
  private writeErrors = 0;
  /** Capacity of buffers still filling + writes queued or in flight. */
  private memoryBytes = 0;
  /** Capacity of buffers still filling (the part a flush can hand over). */
  private fillingBytes = 0;
  /** Files with a non-empty buffer, oldest first (Map keeps insertion order). */
  private readonly dirty = new Map<SpoolFile, true>();
  /** Files waiting for an I/O slot. */
  private ready: SpoolFile[] = [];
  private readyHead = 0;
  private active = 0;
  /** Open descriptors, least recently used first. */
  private readonly pool = new Map<SpoolFile, FileHandle>();
  private readonly openCalls = new Set<CallState>();
  private readonly openMinutes = new Map<string, number>();
  private readonly createdDirs = new Set<string>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** Descriptors opened or being opened and not yet closed (≤ maxOpenFiles). */
  private descriptors = 0;

  /**
   * @param options - see {@link SpoolWriterOptions}; validated once (throws `RangeError`/`TypeError`)
   */
  constructor(options: SpoolWriterOptions) {
    this.options = resolveSpoolWriterOptions(options);
    this.timer = setInterval(() => {
      this.handOffAll();
    }, this.options.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Stores one packet of a call. Synchronous and non-throwing for any packet: a packet that cannot
   * be stored is counted in `stats().packetsDropped`. The frame is copied (the capture buffer may
   * be reused as soon as this returns).
   *
   * @param call - the sniffer's per-call handle
   * @param kind - SIP goes to `.sip.pcap`, RTP/RTCP to `.rtp.pcap`
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
  ): void {
    if (this.closed) {
      this.dropped[SpoolDropReason.CLOSED]++;
      return;
    }
    const mode = this.options.mode;
    if (kind !== 'sip' && mode === SpoolMode.SIP) {
      this.packetsFiltered++;
      return;
    }
    let capLen = frame.length;
    if (
      capLen > MAX_CAPTURE_LENGTH ||
      tsSec >>> 0 !== tsSec ||
      tsNsec >>> 0 !== tsNsec ||
      tsNsec > 999_999_999 ||
      origLen >>> 0 !== origLen ||
      origLen < capLen ||
      linkType >>> 0 !== linkType ||
      linkType > 0xffff ||
      rtpHeaderEnd >>> 0 !== rtpHeaderEnd ||
      rtpHeaderEnd > capLen
    ) {
      this.dropped[SpoolDropReason.BAD_PACKET]++;
      return;
    }
    const state = (call.spoolState as CallState | undefined) ?? this.openCall(call);
    if (state.ended) {
      this.dropped[SpoolDropReason.CALL_ENDED]++;
      return;
    }
    const group = GROUP_INDEX[kind];
    let file = state.last[group];
    if (file === null || file.linkType !== linkType) {
      file = this.fileFor(state, group, linkType);
      if (file === null) {
        this.dropped[SpoolDropReason.TOO_MANY_FILES]++;
        return;
      }
    }
    if (file.broken) {
      this.dropped[SpoolDropReason.WRITE_ERROR]++;
      return;
    }
    if (kind === 'rtp' && mode === SpoolMode.RTP_HEADERS && rtpHeaderEnd > 0 && rtpHeaderEnd < capLen) {
      capLen = rtpHeaderEnd;
      this.packetsCut++;
    }
    const recordLen = PCAP_RECORD_HEADER_LENGTH + capLen;
    if (this.memoryBytes + recordLen > this.options.maxBufferedBytes) {
      this.dropped[SpoolDropReason.BUFFER_FULL]++;
      this.handOffOldest();
      return;
    }
    this.append(file, tsSec, tsNsec, frame, capLen, origLen, recordLen);
    if (this.fillingBytes > this.options.maxBufferedBytes / 2) this.handOffOldest();
  }

  /**
   * The call's CDR was written: hands its buffers to the disk and closes its files. Later packets
   * of the call are dropped (`call_ended`). The promise resolves (never rejects: failures are
   * counted) once the files are complete on disk and closed.
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
      for (const file of state.files) this.handOff(file);
    }
    this.settleCall(state);
    return done;
  }

  /**
   * Bytes held in memory now (buffers + writes in flight), cheap to read per packet: an offline
   * reader that can wait (sniffer analyze) pauses at half of `maxBufferedBytes` and awaits
   * {@link SpoolWriter.flush}, so nothing is dropped for lack of buffer there.
   */
  get bufferedBytes(): number {
    return this.memoryBytes;
  }

  /** The memory bound given in the options. */
  get maxBufferedBytes(): number {
    return this.options.maxBufferedBytes;
  }

  /** Hands every buffer to the disk; resolves once everything queued so far is written. */
  flush(): Promise<void> {
    this.handOffAll();
    return this.whenIdle();
  }

  /**
   * Ends every open call, writes everything, closes every descriptor and stops the timer. Later
   * `write` calls are dropped (`closed`).
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
    for (const [file, handle] of [...this.pool]) {
      this.pool.delete(file);
      file.handle = null;
      await this.closeHandle(file, handle);
    }
  }

  /** A snapshot of the counters. */
  stats(): SpoolWriterStats {
    return {
      packetsWritten: this.packetsWritten,
      bytesWritten: this.bytesWritten,
      packetsDropped: { ...this.dropped },
      packetsFiltered: this.packetsFiltered,
      packetsCut: this.packetsCut,
      filesOpen: this.pool.size,
      filesCreated: this.filesCreated,
      callsOpen: this.openCalls.size,
      writeErrors: this.writeErrors,
      bufferedBytes: this.memoryBytes,
    };
  }

  /**
   * Minute directories (`YYYY-MM-DD/HH/MM`) holding calls not yet closed: retention skips them.
   * A fresh set per call.
   */
  openMinuteDirectories(): Set<string> {
    return new Set(this.openMinutes.keys());
  }

  /**
   * The files of a call in this writer's spool (see {@link locateCallFiles}).
   *
   * @param callId - Call-ID as stored in the CDR
   * @param startSec - call start, epoch seconds
   * @param startUsec - microseconds of the start
   */
  locate(callId: string, startSec: number, startUsec: number): Promise<SpoolCallLocation> {
    return locateCallFiles(this.options.spoolDir, callId, startSec, startUsec);
  }

  private openCall(call: SpoolCallRef): CallState {
    const minuteDir = spoolMinuteDir(call.startSec);
    const state = new CallState(minuteDir, join(this.options.spoolDir, ...minuteDir.split('/')), spoolCallName(call.callId, call.startSec, call.startUsec));
    call.spoolState = state;
    this.openCalls.add(state);
    this.openMinutes.set(minuteDir, (this.openMinutes.get(minuteDir) ?? 0) + 1);
    return state;
  }

  private fileFor(state: CallState, group: 0 | 1, linkType: number): SpoolFile | null {
    let file: SpoolFile | null = null;
    for (const f of state.files) if (f.group === group && f.linkType === linkType && !f.broken) file = f;
    if (file === null) {
      const variant = state.nextVariant[group]!;
      if (variant >= MAX_FILE_VARIANTS) return null;
      state.nextVariant[group] = variant + 1;
      file = new SpoolFile(state, group, variant, linkType);
      file.path = this.pathOf(file);
      state.files.push(file);
    }
    state.last[group] = file;
    return file;
  }

  private pathOf(file: SpoolFile): string {
    return join(file.call.dir, spoolFileName(file.call.name, GROUP_NAMES[file.group], file.variant, this.options.gzip));
  }

  private append(file: SpoolFile, tsSec: number, tsNsec: number, frame: Uint8Array, capLen: number, origLen: number, recordLen: number): void {
    const header = file.headerBuffered ? 0 : PCAP_GLOBAL_HEADER_LENGTH;
    const need = file.bufLen + header + recordLen;
    let buf = file.buf;
    if (buf === null || need > buf.length) {
      const flushBytes = this.options.flushBytes;
      if (buf !== null && buf.length >= flushBytes) {
        this.handOff(file);
        buf = null;
      }
      const used = buf === null ? 0 : file.bufLen;
      let size = buf === null ? INITIAL_BUFFER_BYTES : buf.length * 2;
      while (size < used + header + recordLen) size *= 2;
      size = Math.max(Math.min(size, flushBytes), used + header + recordLen);
      const grown = Buffer.allocUnsafe(size);
      if (buf !== null) buf.copy(grown, 0, 0, used);
      const oldCapacity = buf === null ? 0 : buf.length;
      this.memoryBytes += size - oldCapacity;
      this.fillingBytes += size - oldCapacity;
      file.buf = buf = grown;
    }
    if (header !== 0) {
      // The global header travels with the first records: a file never exists without it.
      serializePcapGlobalHeader(buf, 0, file.linkType, MAX_CAPTURE_LENGTH, RESOLUTION);
      file.bufLen = PCAP_GLOBAL_HEADER_LENGTH;
      file.headerBuffered = true;
    }
    const at = file.bufLen;
    serializePcapRecordHeader(buf, at, tsSec, tsNsec, capLen, origLen, RESOLUTION);
    buf.set(capLen === frame.length ? frame : frame.subarray(0, capLen), at + PCAP_RECORD_HEADER_LENGTH);
    file.bufLen = at + recordLen;
    file.bufPackets++;
    if (!this.dirty.has(file)) this.dirty.set(file, true);
    if (file.bufLen >= this.options.flushBytes) this.handOff(file);
  }

  /** Moves the file's buffer to its write queue and schedules the file. */
  private handOff(file: SpoolFile): void {
    const buf = file.buf;
    if (buf === null) return;
    this.dirty.delete(file);
    file.buf = null;
    this.fillingBytes -= buf.length;
    if (file.bufLen > 0) {
      file.queue.push({ data: buf.subarray(0, file.bufLen), capacity: buf.length, packets: file.bufPackets });
    } else {
      this.memoryBytes -= buf.length;
    }
    file.bufLen = 0;
    file.bufPackets = 0;
    this.schedule(file);
  }

  private handOffAll(): void {
    for (const file of [...this.dirty.keys()]) this.handOff(file);
  }

  /** Hands over the oldest buffers until a quarter of the cap is left filling. */
  private handOffOldest(): void {
    const target = this.options.maxBufferedBytes / 4;
    for (const file of this.dirty.keys()) {
      if (this.fillingBytes <= target) break;
      this.handOff(file);
    }
  }

  private schedule(file: SpoolFile): void {
    if (file.scheduled || file.queue.length === 0) return;
    file.scheduled = true;
    this.ready.push(file);
    this.pump();
  }

  private pump(): void {
    while (this.active < this.options.ioConcurrency && this.readyHead < this.ready.length) {
      const file = this.ready[this.readyHead++]!;
      if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
        this.ready = this.ready.slice(this.readyHead);
        this.readyHead = 0;
      }
      this.active++;
      void this.writeFile(file);
    }
    if (this.active === 0 && this.readyHead >= this.ready.length) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private whenIdle(): Promise<void> {
    if (this.active === 0 && this.readyHead >= this.ready.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes the file's queued chunks in order. Never rejects: failures are counted. */
  private async writeFile(file: SpoolFile): Promise<void> {
    file.writing = true;
    try {
      while (file.queue.length > 0) {
        const chunk = file.queue[0]!;
        if (!file.broken) {
          try {
            const data = this.options.gzip ? await gzipAsync(chunk.data, { level: this.options.gzipLevel }) : chunk.data;
            const handle = await this.acquire(file);
            await writeAll(handle, data);
            this.packetsWritten += chunk.packets;
            this.bytesWritten += data.length;
            this.options.onBytesWritten?.(file.call.minuteDir, data.length);
          } catch (err) {
            this.writeErrors++;
            file.broken = true;
            this.options.logger?.('error', 'spool write failed; later packets of this file are dropped', { path: file.path, error: String(err) });
            await this.release(file);
          }
        }
        if (file.broken) this.dropped[SpoolDropReason.WRITE_ERROR] += chunk.packets;
        file.queue.shift();
        this.memoryBytes -= chunk.capacity;
      }
    } finally {
      file.writing = false;
      file.scheduled = false;
      this.active--;
      if (file.call.ended) this.settleCall(file.call);
      this.schedule(file);
      this.pump();
    }
  }

  /** The file's descriptor, opening it (and evicting the least recently used idle one) if needed. */
  private async acquire(file: SpoolFile): Promise<FileHandle> {
    const open = file.handle;
    if (open !== null) {
      this.pool.delete(file);
      this.pool.set(file, open);
      return open;
    }
    // Count descriptors being opened or closed too, so the cap holds with concurrent writers.
    while (this.descriptors >= this.options.maxOpenFiles) {
      let victim: SpoolFile | null = null;
      for (const candidate of this.pool.keys()) {
        if (!candidate.writing) {
          victim = candidate;
          break;
        }
      }
      if (victim === null) {
        // Every pooled descriptor is busy or still closing: let those operations finish.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      await this.release(victim);
    }
    this.descriptors++;
    let handle: FileHandle;
    try {
      handle = await this.openFile(file);
    } catch (err) {
      this.descriptors--;
      throw err;
    }
    file.handle = handle;
    this.pool.set(file, handle);
    return handle;
  }

  private async openFile(file: SpoolFile): Promise<FileHandle> {
    if (file.created) return this.openWithDir(file.path, 'a', file.call.dir);
    for (;;) {
      try {
        // 'wx': never append a second global header to a file left by an earlier run.
        const handle = await this.openWithDir(file.path, 'wx', file.call.dir);
        file.created = true;
        this.filesCreated++;
        return handle;
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
        const state = file.call;
        const variant = state.nextVariant[file.group]!;
        if (variant >= MAX_FILE_VARIANTS) throw err;
        state.nextVariant[file.group] = variant + 1;
        file.variant = variant;
        file.path = this.pathOf(file);
      }
    }
  }

  /** Opens, creating the minute directory when missing (first use, or removed by retention). */
  private async openWithDir(path: string, flags: string, dir: string): Promise<FileHandle> {
    if (!this.createdDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.createdDirs.add(dir);
    }
    try {
      return await open(path, flags);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
      await mkdir(dir, { recursive: true });
      return await open(path, flags);
    }
  }

  private async release(file: SpoolFile): Promise<void> {
    const handle = file.handle;
    if (handle === null) return;
    file.handle = null;
    this.pool.delete(file);
    await this.closeHandle(file, handle);
  }

  private async closeHandle(file: SpoolFile, handle: FileHandle): Promise<void> {
    try {
      await handle.close();
    } catch (err) {
      this.writeErrors++;
      this.options.logger?.('error', 'spool close failed', { path: file.path, error: String(err) });
    } finally {
      this.descriptors--;
    }
  }

  /** Once an ended call's files are all written, closes them and forgets the call. */
  private settleCall(state: CallState): void {
    if (state.closing !== null) return;
    for (const file of state.files) {
      if (file.scheduled || file.writing || file.queue.length > 0 || file.buf !== null) return;
    }
    state.closing = this.finalizeCall(state);
  }

  private async finalizeCall(state: CallState): Promise<void> {
    for (const file of state.files) await this.release(file);
    this.openCalls.delete(state);
    const left = (this.openMinutes.get(state.minuteDir) ?? 1) - 1;
    if (left <= 0) this.openMinutes.delete(state.minuteDir);
    else this.openMinutes.set(state.minuteDir, left);
    for (const resolve of state.waiters.splice(0)) resolve();
  }
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset, null);
    offset += bytesWritten;
  }
}
