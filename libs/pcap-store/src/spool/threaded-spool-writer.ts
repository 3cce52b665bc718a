import { Worker } from 'node:worker_threads';
import { resolveSpoolWriterOptions, SpoolMode } from './spool-options.js';
import type { ResolvedSpoolWriterOptions, SpoolWriterOptions } from './spool-options.js';
import { spoolMinuteDir } from './spool-path.js';
import { createRing, DEFAULT_BATCH_BYTES, MIN_BATCH_BYTES, NO_SENSOR, OPEN_HEADER_BYTES, PACKET_FRAME_OFFSET, recordBytes, RingProducer, RingRecord } from './spool-ring.js';
import type { SpoolSink } from './spool-sink.js';
import { SpoolDropReason } from './spool-stats.js';
import type { SpoolWriterStats } from './spool-stats.js';
import type { SpoolWorkerData, SpoolWorkerMessage } from './spool-worker.js';
import { ADMITTED, admitPacket, countersZero, FILTERED } from './spool-writer.js';
import type { SpoolCallRef, SpoolPacketKind } from './spool-writer.js';

/** Options of {@link ThreadedSpoolWriter}: the writer's, plus the ring between the threads. */
export interface ThreadedSpoolWriterOptions extends SpoolWriterOptions {
  /**
   * Bytes of the ring the packet thread copies packets into (a power of two, 4..512 MiB); default
   * 64 MiB: ~290,000 packets of 214 bytes, a quarter of a second at a million packets/s, which
   * absorbs the writer thread's pauses (GC, a slow disk write) without drops in live capture.
   */
  ringBytes?: number;
  /**
   * Most bytes of the ring the writer thread takes per batch (a multiple of 8 from
   * MIN_BATCH_BYTES up; default 16 MiB, see the worker). Smaller batches are for tests: they make
   * the worker cut its copy inside records.
   */
  batchBytes?: number;
  /**
   * Nice value of the writer thread (Linux: per thread; 0..19, default 0: as the packet thread;
   * never below what the thread starts with).
   * For a producer that waits on a full ring (offline analysis): the packet thread, which sets the
   * pace, then gets a core first when more threads are runnable than there are cores, and the ring
   * absorbs the writer's lag without a packet lost. A live capture keeps 0: there a writer behind
   * on a busy host fills the ring and drops packets (`buffer_full`).
   */
  writerNice?: number;
}

/** Default ring size (see {@link ThreadedSpoolWriterOptions.ringBytes}). */
export const DEFAULT_SPOOL_RING_BYTES = 64 * 1024 * 1024;
/** How often control records waiting for room are retried (a full ring during live capture). */
const BACKLOG_RETRY_MS = 20;
/** Longest single wait of `relieve` (it loops: a stalled worker must not hang the caller). */
const RELIEVE_WAIT_MS = 50;

/**
 * The packet thread's state of one call, in `slots[slot]`. The call's `SpoolCallRef.spoolState`
 * holds the slot number itself, negated once the call ended: the packet path reads one field of
 * the caller's object and no object of ours (at 10,000 open calls a second object per packet was a
 * second cache miss, ~0.2 us). Slots are reused once the worker has finished a call; a late packet
 * of that call still reads its own negative number, never the new owner's slot.
 */
class ThreadCallState {
  readonly done: Promise<void>;
  resolve!: () => void;

  constructor(
    readonly call: SpoolCallRef,
    readonly slot: number,
    readonly minuteDir: string,
  ) {
    this.done = new Promise<void>((resolve) => {
      this.resolve = resolve;
    });
  }
}

const emptyStats = (): SpoolWriterStats => ({
  packetsWritten: 0,
  bytesWritten: 0,
  packetsDropped: countersZero(),
  packetsFiltered: 0,
  packetsCut: 0,
  filesOpen: 0,
  filesCreated: 0,
  chunksWritten: 0,
  callsOpen: 0,
  writeErrors: 0,
  bufferedBytes: 0,
});

/**
 * A {@link SpoolWriter} on a worker thread. `write` validates the packet (as SpoolWriter does),
 * applies the mode (`sip` filter, `rtp_headers` cut) and copies the record into a shared ring:
 * one sequential copy, no allocation. The worker copies each packet into its call's buffer and
 * writes the segments, on the other core.
 *
 * Pacing and loss: the worker paces itself on the writer's memory (it stops reading the ring
 * while the writer holds more than half its cap), so its writer never drops for memory; the ring
 * fills instead. `bufferedBytes` / `maxBufferedBytes` describe the ring, so an offline producer
 * paced on them (`analyze`) waits in `relieve()` and loses nothing; a live one that keeps writing
 * into a full ring has those packets counted as `buffer_full`, here, exactly.
 *
 * If the worker dies (an exception in it, the thread killed), the failure is logged once, the
 * packets it had not accounted for are counted as `write_error`, every waiting promise resolves,
 * and later packets are counted as `write_error` too: the sniffer goes on without its spool.
 *
 * The worker's script is the caller's: a file that calls {@link runSpoolWorker} (the sniffer's
 * bundle ships one beside main.js).
 */
export class ThreadedSpoolWriter implements SpoolSink {
  readonly options: ResolvedSpoolWriterOptions;

  private readonly ring: RingProducer;
  private readonly ringBuf: Buffer;
  private readonly view: DataView;
  private readonly worker: Worker;
  private readonly dropped = countersZero();
  private packetsFiltered = 0;
  private packetsCut = 0;
  /** Packets put into the ring. */
  private packetsQueued = 0;
  private workerStats: SpoolWriterStats = emptyStats();
  private workerMinutes: string[] = [];
  private workerCpuS: number | null = null;
  private orphans = 0;
  /** Calls opened and not yet reported ended by the worker, by slot (index 0 unused). */
  private readonly slots: (ThreadCallState | undefined)[] = [undefined];
  private readonly freeSlots: number[] = [];
  private openCount = 0;
  /** Open calls per minute directory (retention must not delete them, whatever the worker reported last). */
  private readonly minuteCalls = new Map<string, number>();
  /** Control records (open, end, flush, close) waiting for room, in order. */
  private backlog: Buffer[] = [];
  private readonly backlogTimer: NodeJS.Timeout;
  private readonly flushWaiters = new Map<number, () => void>();
  private nextToken = 0;
  private closedWaiter: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private closed = false;
  /** The worker finished (closed) or failed: nothing more goes to it. */
  private gone = false;
  private failed = false;
  private holds = 0;

  constructor(options: ThreadedSpoolWriterOptions, workerScript: URL | string) {
    const { ringBytes = DEFAULT_SPOOL_RING_BYTES, batchBytes = DEFAULT_BATCH_BYTES, writerNice = 0, ...writerOptions } = options;
    if (!Number.isInteger(batchBytes) || batchBytes < MIN_BATCH_BYTES || batchBytes % 8 !== 0) {
      throw new RangeError(`spool batchBytes must be a multiple of 8 of at least ${MIN_BATCH_BYTES}, got ${batchBytes}`);
    }
    if (!Number.isInteger(writerNice) || writerNice < 0 || writerNice > 19) {
      throw new RangeError(`spool writerNice must be an integer in [0, 19], got ${writerNice}`);
    }
    this.options = resolveSpoolWriterOptions(writerOptions);
    const buffers = createRing(ringBytes);
    this.ring = new RingProducer(buffers);
    this.ringBuf = Buffer.from(buffers.data);
    this.view = new DataView(buffers.data);
    const { logger: _logger, onBytesWritten, ...plain } = this.options;
    const data: SpoolWorkerData = { kind: 'callscope-spool-writer', ring: buffers, options: plain, reportBytes: onBytesWritten !== undefined, batchBytes, nice: writerNice };
    this.worker = new Worker(workerScript, { workerData: data });
    this.worker.on('message', (m: SpoolWorkerMessage) => { this.onMessage(m); });
    this.worker.on('error', (err) => { this.fail(err); });
    this.worker.on('exit', (code) => {
      if (!this.gone) this.fail(new Error(`spool writer thread exited (code ${code})`));
    });
    // The thread keeps the process alive only while someone waits for it (see hold()).
    this.worker.unref();
    this.backlogTimer = setInterval(() => this.pumpBacklog(), BACKLOG_RETRY_MS);
    this.backlogTimer.unref();
  }

  /** See {@link SpoolWriter.write}; the same validation, mode and counters, and the same `state`. */
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
    if (this.closed || this.gone) {
      this.dropped[this.failed ? SpoolDropReason.WRITE_ERROR : SpoolDropReason.CLOSED]++;
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
    let slot = state as number | undefined;
    if (slot === undefined) slot = this.openCall(call);
    else if (slot < 0) {
      this.dropped[SpoolDropReason.CALL_ENDED]++;
      return;
    }
    if (kind === 'rtp' && mode === SpoolMode.RTP_HEADERS && rtpHeaderEnd > 0 && rtpHeaderEnd < capLen) {
      capLen = rtpHeaderEnd;
      this.packetsCut++;
    }
    if (this.backlog.length > 0 && !this.pumpBacklog()) {
      this.dropped[SpoolDropReason.BUFFER_FULL]++;
      return;
    }
    const ring = this.ring;
    // The frame starts at the same address modulo 8 as its source: V8 copies into a shared buffer
    // with a relaxed-atomic memcpy that moves whole words only when source and destination are
    // equally aligned, else byte by byte (~4x slower for a 214-byte frame).
    const skew = (frame.byteOffset - PACKET_FRAME_OFFSET) & 7;
    const total = recordBytes(PACKET_FRAME_OFFSET + skew, capLen);
    const off = ring.reserve(total);
    if (off < 0) {
      this.dropped[SpoolDropReason.BUFFER_FULL]++;
      return;
    }
    const words = ring.words;
    const w = off >> 2;
    words[w] = total;
    words[w + 1] = RingRecord.PACKET;
    words[w + 2] = slot;
    words[w + 3] = kind === 'sip' ? 0 : 1;
    words[w + 4] = tsSec;
    words[w + 5] = tsNsec;
    words[w + 6] = origLen;
    words[w + 7] = linkType;
    words[w + 8] = capLen;
    words[w + 9] = skew;
    // The frame's pcap record header, before it: the worker copies both in one piece.
    const data = off + PACKET_FRAME_OFFSET + skew;
    const view = this.view;
    view.setUint32(data - 16, tsSec, true);
    view.setUint32(data - 12, tsNsec, true);
    view.setUint32(data - 8, capLen, true);
    view.setUint32(data - 4, origLen, true);
    ring.bytes.set(capLen === frame.length ? frame : frame.subarray(0, capLen), data);
    ring.commit();
    this.packetsQueued++;
  }

  /** See {@link SpoolWriter.endCall}: resolves once the worker has the call's chunks on disk. */
  endCall(call: SpoolCallRef): Promise<void> {
    const slot = call.spoolState as number | undefined;
    if (slot === undefined) return Promise.resolve();
    const state = this.slots[Math.abs(slot)];
    // Its slot reused (or never ours): the call was finished long ago.
    if (state === undefined || state.call !== call) return Promise.resolve();
    if (slot > 0) {
      call.spoolState = -slot;
      if (this.gone) this.settle(state);
      else {
        this.hold();
        void state.done.then(() => { this.release(); });
        this.control(recordBytes(12, 0), (b, at) => {
          b.writeUInt32LE(RingRecord.END, at + 4);
          b.writeUInt32LE(state.slot, at + 8);
        });
      }
    }
    return state.done;
  }

  /** Bytes in the ring not yet taken by the writer thread. */
  get bufferedBytes(): number {
    return this.ring.used();
  }

  /** The ring's size: a producer pacing on `bufferedBytes` waits past half of it. */
  get maxBufferedBytes(): number {
    return this.ring.size;
  }

  /** Resolves once the ring is back under 3/8 full (or the worker is gone). */
  async relieve(): Promise<void> {
    const target = (this.ring.size * 3) / 8;
    if (this.ring.used() <= target) return;
    this.hold();
    try {
      while (!this.gone && this.ring.used() > target) {
        this.pumpBacklog();
        await this.ring.waitForRoom(target, RELIEVE_WAIT_MS);
      }
    } finally {
      this.release();
    }
  }

  /** See {@link SpoolWriter.flush}: everything written so far is on disk when it resolves. */
  async flush(): Promise<void> {
    if (this.gone || this.closed) return;
    const token = this.nextToken++;
    const done = new Promise<void>((resolve) => this.flushWaiters.set(token, resolve));
    this.hold();
    this.control(recordBytes(12, 0), (b, at) => {
      b.writeUInt32LE(RingRecord.FLUSH, at + 4);
      b.writeUInt32LE(token, at + 8);
    });
    try {
      await done;
    } finally {
      this.release();
    }
  }

  /** See {@link SpoolWriter.close}: every open call ends, everything is written, the thread exits. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    if (!this.gone) {
      const done = new Promise<void>((resolve) => {
        this.closedWaiter = resolve;
      });
      this.hold();
      this.control(recordBytes(8, 0), (b, at) => b.writeUInt32LE(RingRecord.CLOSE, at + 4));
      await done;
      this.release();
    }
    clearInterval(this.backlogTimer);
    this.gone = true;
    for (const state of [...this.slots]) if (state !== undefined) this.settle(state);
    await this.worker.terminate();
  }

  /** Counters of both threads, summed (the worker's as of its last report, ≤ 200 ms old). */
  stats(): SpoolWriterStats {
    const w = this.workerStats;
    const packetsDropped = countersZero();
    for (const reason of Object.values(SpoolDropReason)) packetsDropped[reason] = this.dropped[reason] + w.packetsDropped[reason];
    packetsDropped[SpoolDropReason.BAD_PACKET] += this.orphans;
    return {
      packetsWritten: w.packetsWritten,
      bytesWritten: w.bytesWritten,
      packetsDropped,
      packetsFiltered: this.packetsFiltered + w.packetsFiltered,
      packetsCut: this.packetsCut + w.packetsCut,
      filesOpen: w.filesOpen,
      filesCreated: w.filesCreated,
      chunksWritten: w.chunksWritten,
      callsOpen: this.openCount,
      writeErrors: w.writeErrors + (this.failed ? 1 : 0),
      bufferedBytes: this.ring.used() + w.bufferedBytes,
    };
  }

  /** See SpoolSink: the writer thread's CPU seconds as of its last report (final after close). */
  writerThreadCpuSeconds(): number | null {
    return this.workerCpuS;
  }

  /** Minutes with open calls (known here at once) or segments the worker still writes. */
  openMinuteDirectories(): Set<string> {
    const out = new Set(this.workerMinutes);
    for (const minute of this.minuteCalls.keys()) out.add(minute);
    return out;
  }

  private openCall(call: SpoolCallRef): number {
    const slot = this.freeSlots.pop() ?? this.slots.length;
    const state = new ThreadCallState(call, slot, spoolMinuteDir(call.startSec));
    call.spoolState = slot;
    this.slots[slot] = state;
    this.openCount++;
    this.minuteCalls.set(state.minuteDir, (this.minuteCalls.get(state.minuteDir) ?? 0) + 1);
    const id = call.callId;
    const sensor = call.sensor;
    const idBytes = Buffer.byteLength(id);
    const sensorBytes = sensor === undefined ? 0 : Buffer.byteLength(sensor);
    this.control(recordBytes(OPEN_HEADER_BYTES, idBytes + sensorBytes), (b, at) => {
      b.writeUInt32LE(RingRecord.OPEN, at + 4);
      b.writeUInt32LE(slot, at + 8);
      b.writeUInt32LE(call.startSec >>> 0, at + 12);
      b.writeUInt32LE(call.startUsec >>> 0, at + 16);
      b.writeUInt32LE(idBytes, at + 20);
      b.writeUInt32LE(sensor === undefined ? NO_SENSOR : sensorBytes, at + 24);
      b.write(id, at + OPEN_HEADER_BYTES, 'utf8');
      if (sensor !== undefined) b.write(sensor, at + OPEN_HEADER_BYTES + idBytes, 'utf8');
    });
    return slot;
  }

  /**
   * Puts a control record into the ring after any waiting ones; when the ring is full it waits in
   * the backlog (retried on every write and by a timer): control records are never dropped, or a
   * call would never end.
   */
  private control(total: number, fill: (b: Buffer, at: number) => void): void {
    if (this.gone) return;
    if (this.backlog.length === 0) {
      const off = this.ring.reserve(total);
      if (off >= 0) {
        this.ringBuf.writeUInt32LE(total, off);
        fill(this.ringBuf, off);
        this.ring.commit();
        return;
      }
    }
    const b = Buffer.alloc(total);
    b.writeUInt32LE(total, 0);
    fill(b, 0);
    this.backlog.push(b);
  }

  /** Moves waiting control records into the ring; true when none is left waiting. */
  private pumpBacklog(): boolean {
    while (this.backlog.length > 0 && !this.gone) {
      const b = this.backlog[0]!;
      const off = this.ring.reserve(b.length);
      if (off < 0) return false;
      this.ringBuf.set(b, off);
      this.ring.commit();
      this.backlog.shift();
    }
    return true;
  }

  private onMessage(m: SpoolWorkerMessage): void {
    switch (m.t) {
      case 'ended':
        for (const slot of m.slots) {
          const state = this.slots[slot];
          if (state !== undefined) this.settle(state);
        }
        break;
      case 'bytes':
        for (let i = 0; i < m.minutes.length; i++) this.options.onBytesWritten?.(m.minutes[i]!, m.bytes[i]!);
        break;
      case 'log':
        this.options.logger?.(m.level, m.message, m.fields);
        break;
      case 'stats':
        this.workerStats = m.stats;
        this.workerMinutes = m.minutes;
        this.orphans = m.orphans;
        this.workerCpuS = m.threadCpuS;
        break;
      case 'flushed':
        this.flushWaiters.get(m.token)?.();
        this.flushWaiters.delete(m.token);
        break;
      case 'closed':
        // Its final counters came just before, as a 'stats' message.
        this.gone = true;
        this.closedWaiter?.();
        break;
      case 'fatal':
        this.fail(new Error(m.error));
        break;
    }
  }

  /** The call is done (written, or the worker is gone): its promise resolves, its minute may go. */
  private settle(state: ThreadCallState): void {
    if (this.slots[state.slot] !== state) return;
    this.slots[state.slot] = undefined;
    this.openCount--;
    // Free for another call once its owner is marked ended (a late packet of it is then refused).
    if (state.call.spoolState === -state.slot) this.freeSlots.push(state.slot);
    const left = (this.minuteCalls.get(state.minuteDir) ?? 1) - 1;
    if (left > 0) this.minuteCalls.set(state.minuteDir, left);
    else this.minuteCalls.delete(state.minuteDir);
    state.resolve();
  }

  private fail(err: Error): void {
    if (this.gone) return;
    this.gone = true;
    this.failed = true;
    const w = this.workerStats;
    let accounted = w.packetsWritten;
    for (const reason of Object.values(SpoolDropReason)) accounted += w.packetsDropped[reason];
    // What the worker had not reported written or dropped is lost (at most its last 200 ms of
    // reports are counted twice: as written on disk and as lost).
    this.dropped[SpoolDropReason.WRITE_ERROR] += Math.max(0, this.packetsQueued - accounted - this.orphans);
    this.options.logger?.('error', 'spool writer thread failed; packets are no longer spooled (counted as write_error)', { error: err.stack ?? err.message });
    clearInterval(this.backlogTimer);
    this.backlog = [];
    for (const state of [...this.slots]) if (state !== undefined) this.settle(state);
    for (const resolve of this.flushWaiters.values()) resolve();
    this.flushWaiters.clear();
    this.closedWaiter?.();
    void this.worker.terminate();
  }

  /** Someone awaits the worker: keep the process alive until it answers. */
  private hold(): void {
    if (this.holds++ === 0) this.worker.ref();
  }

  private release(): void {
    if (--this.holds === 0) this.worker.unref();
  }
}
