import { randomBytes } from 'node:crypto';
import { AckStatus, SendWindow, STREAM_ID_LENGTH, rawBatchFootprint, type RawBatch } from '@callscope/mirror-protocol';
import type { Logger } from '@callscope/runtime';
import type { CaptureBatch } from '@callscope/live-capture';
import { PacketBatcher, type CapturedPacket, type PendingBatch } from './batcher.js';
import type { BatchCompressor } from './compression.js';
import { SpillRecordStatus, decodeSpillRecord, spillRecordLength, type DecodedSpillRecord, type SpillRecord, type SpillStore } from './spill-store.js';

/** States of the link to the sniffer, as the health endpoint and the logs name them. */
export type LinkState = 'idle' | 'connecting' | 'handshake' | 'streaming' | 'backoff' | 'refused' | 'closed';

/** Every counter of the sender (the health endpoint serves them as they are). */
export interface SenderCounters {
  /** Packets handed to the sender by its inputs. */
  packetsCaptured: number;
  /** Packets the kernel or the interface dropped before the sender saw them (libpcap). */
  kernelDrops: number;
  /** Batches built (each gets a sequence number). */
  batchesBuilt: number;
  /** Of those, batches built in the buffers of a released batch (acked, evicted or spilled) instead of new ones. */
  batchesReused: number;
  /** Batches written for the first time. */
  batchesSent: number;
  /** Batches acknowledged by the sniffer. */
  batchesAcked: number;
  /** Batches written again after a reconnect (the sniffer had not acknowledged them). */
  batchesResent: number;
  /**
   * Batches the sniffer never got and never will: evicted because the buffer (buffer.maxMb)
   * overflowed, either before they were written or (written, then evicted unacknowledged) once an
   * Ack or the next handshake showed they had not arrived. Exactly the sniffer's lost batches.
   */
  batchesDropped: number;
  /** Packets in those batches. */
  packetsDropped: number;
  /** Captured bytes of the packets batched. */
  bytesRaw: number;
  /** Bytes of the batch frames (compressed, with framing) as first written, counted once per batch. */
  bytesCompressed: number;
  /** Version 2 (flow blocks): packets written whole (not RTP over Ethernet/IP/UDP), resends included. */
  flowPacketsLiteral: number;
  /** Version 2: packets that opened or replaced a flow context (header sent whole), resends included. */
  flowPacketsNew: number;
  /** Version 2: packets sent against their flow's previous header, resends included. */
  flowPacketsDelta: number;
  /** Bytes written to the socket, resends and heartbeats included. */
  bytesWritten: number;
  /** Connections established after the first. */
  reconnects: number;
  /** Handshakes the sniffer refused (wrong secret, unknown sensor, version). */
  authFailures: number;
  /** Connection attempts that failed before streaming (refused, timeout, reset, bad challenge). */
  connectFailures: number;
  /** Acknowledgements above anything sent, ignored. */
  invalidAcks: number;
  /** Disk spill (buffer.spillDir): batches written to spill files. */
  spillBatches: number;
  /** Bytes of those records. */
  spillBytes: number;
  /** Spilled batches read back into memory for the link. */
  spillReadBatches: number;
  /** Gauge: batches in the spill now (on disk or queued for it). */
  spilledNow: number;
  /** Disk errors of the spill (write, read, CRC, delete): spilling stops, memory-only eviction goes on. */
  spillErrors: number;
  /** Batches found in an earlier process's leftover spill files at start and discarded (a new stream cannot resend them). */
  spillDiscardedBatches: number;
  /** Packets in those batches. */
  spillDiscardedPackets: number;
}

/** Creates zeroed {@link SenderCounters}. */
export function createSenderCounters(): SenderCounters {
  return {
    packetsCaptured: 0,
    kernelDrops: 0,
    batchesBuilt: 0,
    batchesReused: 0,
    batchesSent: 0,
    batchesAcked: 0,
    batchesResent: 0,
    batchesDropped: 0,
    packetsDropped: 0,
    bytesRaw: 0,
    bytesCompressed: 0,
    flowPacketsLiteral: 0,
    flowPacketsNew: 0,
    flowPacketsDelta: 0,
    bytesWritten: 0,
    reconnects: 0,
    authFailures: 0,
    connectFailures: 0,
    invalidAcks: 0,
    spillBatches: 0,
    spillBytes: 0,
    spillReadBatches: 0,
    spilledNow: 0,
    spillErrors: 0,
    spillDiscardedBatches: 0,
    spillDiscardedPackets: 0,
  };
}

/**
 * Where batches go: the connection to the sniffer (or a test double). The link pulls batches from
 * the window itself ({@link MirrorSender.batchAt}) at the socket's pace and encodes each as it
 * writes it, so a slow link fills the bounded window, never an unbounded socket buffer.
 */
export interface BatchLink {
  /** A new batch entered the window: write what the socket takes now. */
  pump(): void;
  /** True when a write now would go out without queueing in user space (streaming, socket drained). */
  readonly flowing: boolean;
}

/**
 * Bound on the batches evicted while in flight whose fate is still unknown: at the bound the link
 * writes nothing new until an Ack or a reconnect settles them (bookkeeping stays bounded).
 */
export const MAX_IN_DOUBT_BATCHES = 1 << 18;

/**
 * What the window keeps per batch: the batch as the batcher built it, independent of any
 * connection (a version 2 frame depends on the connection's flow context, so frames are made when
 * a connection writes them, and again on the next connection for a resend).
 */
export interface WindowItem {
  /** The batch in memory; null while it is in the spill only. */
  raw: RawBatch | null;
  packets: number;
  /** Memory the raw batch holds (`rawBatchFootprint`), accounted while `raw` is set. */
  footprint: number;
  /** Its spill record while it is in the spill (on disk or queued for it). */
  spill: SpillRecord | null;
  /** Read back from the spill (accounted in the read-ahead budget, not the memory bound). */
  readBack: boolean;
  /** Acknowledged or evicted: a read-back finishing late finds it gone. */
  gone: boolean;
  /**
   * `raw` holds the batcher's buffers (not a batch decoded from a spill record): when the window
   * lets go of it (acknowledged, evicted, or copied into the spill) they go back to the batcher.
   */
  own: boolean;
}

/** Options of a {@link MirrorSender}. */
export interface MirrorSenderOptions {
  batch: { maxPackets: number; maxBytes: number; maxMs: number };
  /**
   * Bound of the unacknowledged batches kept for resend, in bytes (buffer.maxMb): their raw form,
   * packet bytes plus 24 bytes of fields per packet slot (`rawBatchFootprint`).
   */
  bufferBytes: number;
  /** The batch compression (the connection's frame encoder uses it). */
  compressor: BatchCompressor;
  logger: Logger;
  /** Minimum ms between two overflow warnings (each names the totals); default 5000. */
  overflowLogIntervalMs?: number;
  /**
   * The disk spill (buffer.spillDir), or null/absent: when the memory bound is reached the oldest
   * batches not written on the current connection go there instead of being evicted; only when
   * it is full too (or failed) are the oldest batches evicted, counted as without a spill.
   */
  spill?: SpillStore | null;
  /** Bytes of batches read back from the spill ahead of the link; default min(bufferBytes / 8, 8 MiB). */
  readAheadBytes?: number;
  /** Wall clock in ms (tests). */
  now?: () => number;
}

/**
 * The sender's core: packets -> raw batches (count, bytes, time) numbered by sequence -> the
 * bounded window of unacknowledged batches -> the link, which encodes and compresses each batch as
 * it writes it. It counts every packet
 * and every batch, so `packetsCaptured = packets in batches acked + retained + in doubt + dropped +
 * open batch` holds at any time; an overflow of the window is counted and logged, never silent.
 *
 * An evicted batch is "dropped" only when the sniffer cannot have it. One evicted after it was
 * written (in flight, or written on a connection that has since died) may still arrive: it is kept
 * "in doubt" (its sequence and packet count, not its bytes) until a cumulative Ack at or above it
 * (delivered) or the next handshake's acked_sequence (below it: dropped) settles it. For that the
 * Hello announces the lowest batch in doubt ({@link helloSequence}), so the sniffer does not skip
 * it. A batch evicted before the current connection wrote it leaves a hole the sniffer cannot see
 * mid-connection: the link reconnects, and the next Hello's next_sequence makes it count the hole.
 */
export class MirrorSender {
  /** Counters (live object). */
  readonly counters: SenderCounters = createSenderCounters();
  /**
   * This process's stream (Hello.stream_id): sequences restart at 1 with every process, and the
   * new id tells the sniffer so (it would otherwise drop the new batches as duplicates of the old).
   */
  readonly streamId: Uint8Array = randomBytes(STREAM_ID_LENGTH);
  /** Unacknowledged batches, bounded by `bufferBytes`. */
  readonly window: SendWindow<WindowItem>;
  private readonly batcher: PacketBatcher;
  private readonly log: Logger;
  private link: BatchLink | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Date.now() when the open batch got its first packet (batch.maxMs counts from there). */
  private openedAt = 0;
  /** Batches closed by one addCaptured call (reused). */
  private readonly closedScratch: PendingBatch[] = [];
  /**
   * The retained batches, oldest first, mirroring the window: retained sequences are always the
   * contiguous range [window.resumeSequence, window.nextSequence), so a sequence indexes this deque.
   */
  private retained: WindowItem[] = [];
  private retainedHead = 0;
  /** Highest sequence written at least once (resends are writes at or below it). */
  private highestWritten = 0;
  /**
   * One above the highest sequence written since the last handshake (0: none): an evicted batch
   * below it may have reached the sniffer. A handshake resets it, because its acked_sequence tells
   * exactly what the sniffer holds (it keeps nothing above a gap: a hole ends the connection).
   */
  private writtenMark = 0;
  /** Batches evicted after being written, fate unknown: ascending sequences with their packets. */
  private inDoubtSequences: number[] = [];
  private inDoubtPackets: number[] = [];
  private inDoubtHead = 0;
  private inDoubtPacketSum = 0;
  private loggedDrops = 0;
  private lastOverflowLogMs = -Infinity;
  private waiters: (() => void)[] = [];
  private readonly highWater: number;
  /** Bytes of the retained batches held in memory, read-back ones aside (bounded by bufferBytes). */
  private memoryBytesValue = 0;
  /** Bytes of batches read back from the spill and still retained (bounded by the read-ahead budget). */
  private readBackBytes = 0;
  private readonly spill: SpillStore | null;
  private readonly readAheadBytes: number;
  /**
   * The batches in the spill are the contiguous sequences [spillHead, spillTail): the oldest ones
   * not written on the current connection when memory filled, read back in order from spillHead.
   */
  private spillHead = 1;
  private spillTail = 1;
  private reading = false;

  constructor(private readonly options: MirrorSenderOptions) {
    this.batcher = new PacketBatcher(options.batch);
    // The sender bounds memory itself (evictOldest), since with a spill the window also holds batches on disk.
    this.window = new SendWindow<WindowItem>({ maxBytes: Number.MAX_SAFE_INTEGER });
    this.log = options.logger;
    // Inputs that can wait (a replay) pause at half the buffer, so a slow link never evicts.
    this.highWater = Math.floor(options.bufferBytes / 2);
    this.spill = options.spill ?? null;
    this.readAheadBytes = options.readAheadBytes ?? Math.max(1, Math.min(Math.floor(options.bufferBytes / 8), 8 * 1024 * 1024));
    if (this.spill !== null) {
      this.spill.listener = {
        written: () => {
          this.syncSpillCounters();
        },
        writeFailed: (records) => {
          this.takeBackFromSpill(records);
        },
      };
    }
  }

  /** Bytes of the retained batches in memory (bounded by bufferBytes; read-ahead from the spill aside). */
  get memoryBytes(): number {
    return this.memoryBytesValue;
  }

  /** Attaches the link that writes frames (the connection). */
  attach(link: BatchLink): void {
    this.link = link;
  }

  /**
   * Takes one captured packet (its data is copied). Synchronous: a live capture cannot wait.
   *
   * batch.maxMs: the packet that opens a batch notes the time, and one timer, armed when none is,
   * flushes the open batch once it is maxMs old (re-armed for the rest when the batch it was
   * armed for closed earlier and a younger one is open). A busy stream, whose batches close on
   * count, so arms a timer every maxMs instead of arming and clearing one per batch.
   */
  add(packet: CapturedPacket): void {
    this.counters.packetsCaptured++;
    const closed = this.batcher.add(packet);
    if (closed !== null) this.emit(closed);
    if (this.batcher.pending === 1) this.batchOpened();
  }

  /** The open batch got its first packet now: batch.maxMs counts from here (see add). */
  private batchOpened(): void {
    this.openedAt = Date.now();
    if (this.timer === null) this.armTimer(this.options.batch.maxMs);
  }

  /**
   * Takes a live capture's batch whole (@callscope/live-capture's `CaptureBatch`): the same as
   * {@link add} for each of its packets in order, without a record or a view per packet (see
   * PacketBatcher.addCaptured). Synchronous; the batch's buffers may be reused once it returns.
   */
  addCaptured(batch: CaptureBatch): void {
    const count = batch.count;
    if (count === 0) return;
    this.counters.packetsCaptured += count;
    const wasPending = this.batcher.pending;
    const closed = this.closedScratch;
    this.batcher.addCaptured(batch.linkType, batch.headers, batch.words, batch.data, count, closed);
    for (const b of closed) this.emit(b);
    const opened = closed.length > 0 || wasPending === 0;
    closed.length = 0;
    // As add(): the packet that opened the batch still open notes the time (here, all of this
    // capture batch's packets came within the same moment).
    if (opened && this.batcher.pending > 0) this.batchOpened();
  }

  /** Closes the open batch now (timer, end of input, shutdown). */
  flush(): void {
    this.clearTimer();
    const closed = this.batcher.flush();
    if (closed !== null) this.emit(closed);
  }

  /**
   * For inputs that can wait (replay): undefined when the sender takes more now, else a promise
   * that settles when the link flows again and the window is below half its bound. A live capture
   * never waits: there the window's overflow counts what the link could not carry.
   */
  room(): Promise<void> | undefined {
    if (this.hasRoom()) return undefined;
    return new Promise((resolve) => {
      this.waiters.push(resolve);
    });
  }

  /** Called by the link when it may have room again (drain, ack, state change). */
  notify(): void {
    if (this.waiters.length === 0 || !this.hasRoom()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * The `Hello.next_sequence` of a new connection: the lowest batch in doubt when there is one (so
   * the AuthResult's acked_sequence says whether the sniffer got it), else the oldest retained.
   */
  get helloSequence(): number {
    return this.inDoubtHead < this.inDoubtSequences.length ? this.inDoubtSequences[this.inDoubtHead]! : this.window.resumeSequence;
  }

  /**
   * Applies a handshake's `AuthResult.acked_sequence` (the sniffer's contiguous mark after it
   * resumed at {@link helloSequence}): batches in doubt at or below it were delivered, those above
   * it are dropped; the retained batches above it are known not to be there.
   *
   * @returns the batches evicted above the sniffer's mark and below the oldest retained batch (a
   *   hole the sniffer does not know of yet: the caller must reconnect before writing, so that the
   *   next Hello announces it), or 0.
   */
  resumed(ackedSequence: number): number {
    this.settle(ackedSequence, true);
    // Above anything sent: the caller logs and counts it; the window keeps its batches for resend.
    if (ackedSequence > 0 && ackedSequence < this.window.nextSequence) this.acknowledge(ackedSequence);
    this.writtenMark = 0;
    if (ackedSequence >= this.window.nextSequence) return 0;
    return Math.max(0, this.window.resumeSequence - 1 - ackedSequence);
  }

  /** Applies a cumulative acknowledgement from the sniffer (Ack, AuthResult.ackedSequence). */
  acknowledge(sequence: number): AckStatus {
    this.settle(sequence, false);
    const before = this.window.stats.acked;
    const status = this.window.ack(sequence);
    if (status === AckStatus.Invalid) this.counters.invalidAcks++;
    const released = this.window.stats.acked - before;
    if (released > 0) {
      this.counters.batchesAcked += released;
      this.shiftRetained(released);
      this.notify();
    }
    return status;
  }

  /** The compression the link's frame encoder uses. */
  get compressor(): BatchCompressor {
    return this.options.compressor;
  }

  /**
   * A retained batch, or null when it was acknowledged, dropped or not built yet, or is in the
   * spill: then it is being read back, and the link is pumped when it is in memory again. Valid
   * only until the window releases the batch (its buffers are then reused, the object emptied):
   * encode it at once, keep no reference.
   */
  batchAt(sequence: number): RawBatch | null {
    const item = this.itemAt(sequence);
    if (item === null) return null;
    if (item.raw === null && item.spill !== null) this.readAhead();
    return item.raw;
  }

  /** Records that a batch's frame was written (new or resent) with its bytes. */
  wrote(sequence: number, bytes: number): void {
    this.counters.bytesWritten += bytes;
    if (sequence >= this.writtenMark) this.writtenMark = sequence + 1;
    if (sequence <= this.highestWritten) {
      this.counters.batchesResent++;
    } else {
      this.counters.batchesSent++;
      this.counters.bytesCompressed += bytes;
      this.highestWritten = sequence;
    }
  }

  /** Batches not acknowledged yet: retained, plus evicted in flight with their fate unknown. */
  get unackedBatches(): number {
    return this.window.size + this.inDoubtBatches;
  }

  /** Batches evicted after being written whose arrival no Ack or handshake has settled yet. */
  get inDoubtBatches(): number {
    return this.inDoubtSequences.length - this.inDoubtHead;
  }

  /** Packets in those batches. */
  get inDoubtPacketCount(): number {
    return this.inDoubtPacketSum;
  }

  /** False while {@link MAX_IN_DOUBT_BATCHES} are in doubt: the link must write nothing new until some settle. */
  get mayWrite(): boolean {
    return this.inDoubtBatches < MAX_IN_DOUBT_BATCHES;
  }

  /** Packets waiting in the open batch. */
  get openPackets(): number {
    return this.batcher.pending;
  }

  /** Waits for the spill's pending writes and deletes its files (what is unacknowledged is counted). */
  async closeSpill(): Promise<void> {
    if (this.spill === null) return;
    await this.spill.close();
    this.syncSpillCounters();
  }

  /** Logs overflow totals not yet logged (shutdown) and stops the timer. */
  close(): void {
    this.clearTimer();
    if (this.window.stats.droppedBatches > this.loggedDrops) this.logOverflow(true);
    if (this.inDoubtBatches > 0) {
      this.log.warn(
        { inDoubtBatches: this.inDoubtBatches, inDoubtPackets: this.inDoubtPacketSum },
        'mirror: batches evicted while in flight were never acknowledged: whether the sniffer got them is unknown (counted unacknowledged)',
      );
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private hasRoom(): boolean {
    return this.link !== null && this.link.flowing && this.memoryBytesValue <= this.highWater;
  }

  private itemAt(sequence: number): WindowItem | null {
    const first = this.window.resumeSequence;
    if (sequence < first || sequence >= this.window.nextSequence) return null;
    return this.retained[this.retainedHead + (sequence - first)] ?? null;
  }

  private emit(batch: PendingBatch): void {
    this.counters.batchesBuilt++;
    this.counters.batchesReused = this.batcher.reused;
    this.counters.bytesRaw += batch.dataBytes;
    const footprint = rawBatchFootprint(batch.raw);
    const item: WindowItem = { raw: batch.raw, packets: batch.raw.count, footprint, spill: null, readBack: false, gone: false, own: true };
    this.window.push(item, footprint);
    this.retained.push(item);
    this.memoryBytesValue += footprint;
    this.enforceBound();
    // A streaming link that finds its next batch evicted unwritten reconnects (the hole is announced).
    this.link?.pump();
  }

  /**
   * Brings memory back within bufferBytes: the oldest batches not written on this connection go to
   * the spill while it takes them; else the oldest retained batches are evicted, counted.
   */
  private enforceBound(): void {
    const evictedBefore = this.window.stats.droppedBatches;
    while (this.memoryBytesValue > this.options.bufferBytes && this.window.size > 0) {
      if (!this.spillOne()) this.evictOldest();
    }
    this.syncSpillCounters();
    if (this.window.stats.droppedBatches > evictedBefore) this.logOverflow(false);
  }

  /** Moves the next spill candidate to the spill; false when there is none or the spill cannot take it. */
  private spillOne(): boolean {
    const spill = this.spill;
    if (spill === null || !spill.healthy) return false;
    // Extend the spilled range at its end; when empty, start at the oldest batch this connection has
    // not written (read-back batches below spillTail stay: the link is about to write them).
    const sequence = this.spillHead < this.spillTail ? this.spillTail : Math.max(this.spillTail, this.writtenMark, this.window.resumeSequence);
    const item = this.itemAt(sequence);
    if (item?.raw == null) return false;
    if (!spill.canTake(spillRecordLength(item.raw))) return false;
    // append copies the batch into its record (encodeSpillRecord): the raw batch is free.
    item.spill = spill.append(sequence, item.raw);
    this.release(item);
    this.memoryBytesValue -= item.footprint;
    if (this.spillHead >= this.spillTail) this.spillHead = sequence;
    this.spillTail = sequence + 1;
    return true;
  }

  /** Evicts the oldest retained batch: in doubt when written since the last handshake, else dropped. */
  private evictOldest(): void {
    const sequence = this.window.dropOldest();
    if (sequence === 0) return;
    const packets = this.shiftRetained(1);
    if (sequence < this.writtenMark) {
      // Written since the last handshake: the sniffer may have it. An Ack or the next handshake tells.
      this.inDoubtSequences.push(sequence);
      this.inDoubtPackets.push(packets);
      this.inDoubtPacketSum += packets;
    } else {
      // Never written since the last handshake, whose acked_sequence showed the sniffer lacks it.
      this.counters.batchesDropped++;
      this.counters.packetsDropped += packets;
    }
  }

  /**
   * Reads spilled batches back, in order from spillHead, while the read-ahead budget allows; the
   * link is pumped after each. Asynchronous: the capture path never waits for the disk.
   */
  private readAhead(): void {
    if (this.reading || this.spill === null) return;
    const item = this.itemAt(this.spillHead);
    if (this.spillHead >= this.spillTail || item === null || item.spill === null || this.readBackBytes >= this.readAheadBytes) return;
    const record = item.spill;
    this.reading = true;
    this.spill.read(record).then(
      (raw) => {
        this.reading = false;
        if (!item.gone && item.spill === record) {
          this.spill!.release(record);
          item.spill = null;
          item.raw = raw;
          item.readBack = true;
          this.readBackBytes += item.footprint;
          if (this.spillHead === record.sequence) this.spillHead++;
        }
        this.syncSpillCounters();
        this.link?.pump();
        this.readAhead();
      },
      (err: unknown) => {
        this.reading = false;
        if (item.gone || item.spill !== record) {
          // Acknowledged or evicted while it was read (its segment may have gone): not needed, not an error.
          this.readAhead();
          return;
        }
        this.spill!.fail(err as Error);
        // The batch is lost: evict up to it (the oldest first, as an overflow does), counted; the
        // link then finds the hole and reconnects so that the sniffer counts it too.
        const evictedBefore = this.window.stats.droppedBatches;
        // (A function: evictOldest marks the item gone, which the type checker does not follow.)
        const gone = () => item.gone;
        while (!gone() && this.window.size > 0) this.evictOldest();
        this.syncSpillCounters();
        if (this.window.stats.droppedBatches > evictedBefore) this.logOverflow(false);
        this.link?.pump();
        this.readAhead();
      },
    );
  }

  /** Records a failed write did not put on disk come back to memory (their bytes were kept); then the bound is enforced. */
  private takeBackFromSpill(records: SpillRecord[]): void {
    const out: DecodedSpillRecord = { sequence: 0, raw: null, packets: 0, length: 0 };
    let lowest = Infinity;
    for (const record of records) {
      const item = this.itemAt(record.sequence);
      if (item === null || item.spill !== record || record.pending === null) continue;
      if (decodeSpillRecord(record.pending, 0, out) !== SpillRecordStatus.Ok || out.raw === null) continue;
      item.raw = out.raw;
      item.spill = null;
      this.memoryBytesValue += item.footprint;
      lowest = Math.min(lowest, record.sequence);
    }
    // Those were the newest spilled (writes go in order): the spilled range ends before them.
    if (lowest < this.spillTail) this.spillTail = Math.max(this.spillHead, lowest);
    this.enforceBound();
    this.link?.pump();
  }

  private syncSpillCounters(): void {
    const spill = this.spill;
    if (spill === null) return;
    const c = this.counters;
    c.spillBatches = spill.stats.batchesWritten;
    c.spillBytes = spill.stats.bytesWritten;
    c.spillReadBatches = spill.stats.batchesRead;
    c.spillErrors = spill.stats.errors;
    c.spilledNow = Math.max(0, this.spillTail - this.spillHead);
  }

  /**
   * Settles the batches in doubt at or below `acked` as delivered (counted acknowledged); with
   * `final` (a handshake's acked_sequence), those above it as dropped.
   */
  private settle(acked: number, final: boolean): void {
    const sequences = this.inDoubtSequences;
    let head = this.inDoubtHead;
    while (head < sequences.length && (final || sequences[head]! <= acked)) {
      const packets = this.inDoubtPackets[head]!;
      this.inDoubtPacketSum -= packets;
      if (sequences[head]! <= acked) {
        this.counters.batchesAcked++;
      } else {
        this.counters.batchesDropped++;
        this.counters.packetsDropped += packets;
      }
      head++;
    }
    if (head === sequences.length) {
      this.inDoubtSequences = [];
      this.inDoubtPackets = [];
      this.inDoubtHead = 0;
    } else if (head >= 1024 && head * 2 >= sequences.length) {
      this.inDoubtSequences = sequences.slice(head);
      this.inDoubtPackets = this.inDoubtPackets.slice(head);
      this.inDoubtHead = 0;
    } else {
      this.inDoubtHead = head;
    }
  }

  /** Forgets the `n` oldest retained batches (acknowledged or evicted); returns their packets. */
  private shiftRetained(n: number): number {
    let sum = 0;
    for (let i = 0; i < n && this.retainedHead < this.retained.length; i++) {
      const item = this.retained[this.retainedHead++]!;
      sum += item.packets;
      if (item.raw !== null) {
        if (item.readBack) this.readBackBytes -= item.footprint;
        else this.memoryBytesValue -= item.footprint;
      }
      if (item.spill !== null) this.spill?.release(item.spill);
      this.release(item);
      item.spill = null;
      item.gone = true;
    }
    // The spilled range never reaches below the oldest retained batch.
    const first = this.window.resumeSequence;
    if (this.spillHead < first) this.spillHead = first;
    if (this.spillTail < this.spillHead) this.spillTail = this.spillHead;
    if (this.retainedHead === this.retained.length) {
      this.retained = [];
      this.retainedHead = 0;
    } else if (this.retainedHead >= 1024 && this.retainedHead * 2 >= this.retained.length) {
      this.retained = this.retained.slice(this.retainedHead);
      this.retainedHead = 0;
    }
    return sum;
  }

  /**
   * Drops the item's raw batch, handing the batcher's buffers back for the next batches. Safe at
   * every caller: the link encodes a batch synchronously in `pump` (a frame never references it),
   * a spill record is a copy, a batch in doubt keeps only its sequence and packet count, and
   * `batchAt` returns null from now on; the batch object is emptied (`detachRawBatch`), so a
   * reference kept anyway sees no packets rather than another batch's.
   */
  private release(item: WindowItem): void {
    if (item.raw !== null && item.own) this.batcher.recycle(item.raw);
    item.raw = null;
    item.own = false;
  }

  private logOverflow(final: boolean): void {
    const now = (this.options.now ?? Date.now)();
    if (!final && now - this.lastOverflowLogMs < (this.options.overflowLogIntervalMs ?? 5000)) return;
    this.lastOverflowLogMs = now;
    const evicted = this.window.stats.droppedBatches;
    this.log.warn(
      {
        droppedBatches: this.counters.batchesDropped,
        droppedPackets: this.counters.packetsDropped,
        newlyEvictedBatches: evicted - this.loggedDrops,
        inDoubtBatches: this.inDoubtBatches,
        bufferBytes: this.options.bufferBytes,
      },
      'mirror buffer full: the oldest unacknowledged batches were dropped (the sniffer counts them lost; those already written are counted only if it never got them); raise buffer.maxMb or check the link',
    );
    this.loggedDrops = evicted;
  }

  private armTimer(ms: number): void {
    this.timer = setTimeout(this.onTimer, ms);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.batcher.pending === 0) return;
    const rest = this.openedAt + this.options.batch.maxMs - Date.now();
    if (rest >= 1) this.armTimer(rest);
    else this.flush();
  };

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
