import {
  DEFAULT_MAX_FRAME_LENGTH,
  appendRawPacket,
  appendRawPacketSlot,
  createRawBatch,
  detachRawBatch,
  resetRawBatch,
  trimRawBatch,
  type RawBatch,
} from '@callscope/mirror-protocol';

/** What the batcher reads of a captured packet (a pcap-format `PacketRecord` fits). */
export interface CapturedPacket {
  /** LINKTYPE_* of the capture. */
  linkType: number;
  tsSec: number;
  /** Nanoseconds within the second. */
  tsNsec: number;
  /** Length on the wire (>= data.length). */
  origLen: number;
  /** Captured bytes; may alias a reused capture buffer (the batcher copies them). */
  data: Uint8Array;
}

/**
 * Upper bound of the encoding of one packet besides its bytes: in a version 1 PacketList the list
 * entry's tag and length and the tags and varints of link type, seconds, nanoseconds, original
 * length and data length; in a version 2 flow block its varints (fewer). Counted into a batch's
 * size so the encoded batch never exceeds `maxBytes` by more than the envelope's few bytes.
 */
export const PACKET_OVERHEAD_BYTES = 40;

/**
 * Room kept below the frame bound for the envelope and for compression that expands incompressible
 * data (deflate and Brotli add a few bytes per block), so a full batch always fits in one frame.
 */
export const BATCH_FRAME_MARGIN = 256 * 1024;

/** Limits of a {@link PacketBatcher} (config `batch.*`). */
export interface BatcherLimits {
  /** Packets per batch. */
  maxPackets: number;
  /** Bytes per batch before compression (data plus {@link PACKET_OVERHEAD_BYTES} per packet). */
  maxBytes: number;
}

/** One full batch, handed over by {@link PacketBatcher.add} or {@link PacketBatcher.flush}. */
export interface PendingBatch {
  /** Packets in capture order, their bytes copied once into the batch's own buffer. */
  raw: RawBatch;
  /** Captured bytes (sum of data lengths). */
  dataBytes: number;
}

/** Smallest packet capacity of a new batch (a quiet link's batches hold few packets). */
const MIN_PACKET_SLOTS = 16;
/** Smallest data capacity of a new batch. */
const MIN_DATA_BYTES = 1024;
/**
 * Released batches kept for reuse ({@link PacketBatcher.recycle}). A steady stream releases one
 * batch per batch built (acks arrive in order), so a few cover it; the bound keeps a burst of
 * acks from parking a window's worth of buffers here.
 */
export const RECYCLED_BATCHES_MAX = 4;

/**
 * Gathers captured packets into batches bounded by packet count and bytes. Pure: the time bound
 * (`batch.maxMs`) is the caller's timer, which calls {@link flush}. Each packet's bytes are
 * copied once on entry (capture sources hand over a reused buffer), straight into the batch's one
 * buffer ({@link RawBatch}): no per-packet object. A new batch starts with the capacity the last
 * one needed plus an eighth, so it rarely grows (each growth copies) and wastes little of the
 * window's memory; a batch left with more than a quarter unused (smaller than the one before) is
 * trimmed when it closes (one copy, only then), so the window accounts about what it holds.
 *
 * A batch the window no longer needs (acknowledged, evicted, or copied into the spill) comes back
 * through {@link recycle} and is refilled instead of allocating a new one: its buffers are
 * reused, so whoever hands it back must hold no other reference to it.
 */
export class PacketBatcher {
  private raw: RawBatch;
  private bytes = 0;
  private dataBytes = 0;
  private readonly maxPackets: number;
  private readonly maxBytes: number;
  /** Released batches for reuse, at most {@link RECYCLED_BATCHES_MAX}. */
  private readonly free: RawBatch[] = [];
  private reusedCount = 0;
  /** The open batch was started in recycled buffers. */
  private openReused = false;

  /** @throws RangeError on limits below 1. */
  constructor(limits: BatcherLimits) {
    if (!Number.isInteger(limits.maxPackets) || limits.maxPackets < 1) throw new RangeError(`maxPackets must be an integer >= 1, got ${limits.maxPackets}`);
    if (!Number.isInteger(limits.maxBytes) || limits.maxBytes < 1) throw new RangeError(`maxBytes must be an integer >= 1, got ${limits.maxBytes}`);
    this.maxPackets = limits.maxPackets;
    this.maxBytes = Math.min(limits.maxBytes, DEFAULT_MAX_FRAME_LENGTH - BATCH_FRAME_MARGIN);
    this.raw = createRawBatch(Math.min(this.maxPackets, MIN_PACKET_SLOTS), MIN_DATA_BYTES);
  }

  /** Packets waiting in the open batch. */
  get pending(): number {
    return this.raw.count;
  }

  /**
   * Adds one packet. When it does not fit in the open batch (bytes), the open batch is closed first
   * and returned, and the packet starts the next one; when the packet fills the batch (count or
   * bytes), that batch is returned. A packet larger than `maxBytes` alone travels alone.
   *
   * @returns a closed batch to send, or null.
   * @throws RangeError on fields a capture never produces (see `appendRawPacket`).
   */
  add(packet: CapturedPacket): PendingBatch | null {
    const size = packet.data.length + PACKET_OVERHEAD_BYTES;
    let closed: PendingBatch | null = null;
    if (this.closesBefore(size)) closed = this.take();
    appendRawPacket(this.raw, packet.linkType, packet.tsSec, packet.tsNsec, packet.origLen, packet.data);
    this.bytes += size;
    this.dataBytes += packet.data.length;
    if (closed === null && this.isFull()) return this.take();
    // When a batch was just closed, the packet that opened the next one waits even if it fills it
    // alone (one batch per call): the next add or the timer's flush closes it before anything joins.
    return closed;
  }

  /** Whether a packet of `size` (bytes + overhead) closes the open batch before it joins (it would pass maxBytes). */
  private closesBefore(size: number): boolean {
    return this.raw.count > 0 && this.bytes + size > this.maxBytes;
  }

  /** Whether the open batch is full (count or bytes) after a packet joined. */
  private isFull(): boolean {
    return this.raw.count >= this.maxPackets || this.bytes >= this.maxBytes;
  }

  /**
   * Adds a capture batch's packets (@callscope/live-capture's `CaptureBatch`: `words` u32 per
   * packet in `headers`, seconds, nanoseconds, caplen, original length, offset in `data`), each
   * exactly as {@link add} would, and pushes the batches that close onto `closed`, in order. What
   * differs is the copy: packets that lie back to back in `data` and go to the same batch are
   * copied in one piece, and no view or record is made per packet (the live path's cost per
   * packet: a view, three calls and a copy of ~200 bytes each).
   *
   * The fields are the capture's own u32 headers, so they are not checked again.
   */
  addCaptured(linkType: number, headers: Uint32Array, words: number, data: Uint8Array, count: number, closed: PendingBatch[]): void {
    // The run of packets appended to `this.raw` and not yet copied: data[runFrom, runTo) goes to raw.data at runAt.
    let runFrom = -1;
    let runTo = 0;
    let runAt = 0;
    const copyRun = (): void => {
      if (runFrom < 0) return;
      this.raw.data.set(data.subarray(runFrom, runTo), runAt);
      runFrom = -1;
    };
    for (let i = 0, o = 0; i < count; i++, o += words) {
      const capLen = headers[o + 2]!;
      const off = headers[o + 4]!;
      const size = capLen + PACKET_OVERHEAD_BYTES;
      const closedHere = this.closesBefore(size);
      if (closedHere) {
        copyRun();
        closed.push(this.take());
      }
      // The run is copied into `raw.data` as it is then (after any growth the slots made).
      const start = appendRawPacketSlot(this.raw, linkType, headers[o]!, headers[o + 1]!, headers[o + 3]!, capLen);
      if (runFrom >= 0 && off === runTo && runAt + (runTo - runFrom) === start) runTo += capLen;
      else {
        copyRun();
        runFrom = off;
        runTo = off + capLen;
        runAt = start;
      }
      this.bytes += size;
      this.dataBytes += capLen;
      // As in add: at most one batch closes per packet.
      if (!closedHere && this.isFull()) {
        copyRun();
        closed.push(this.take());
      }
    }
    copyRun();
  }

  /** Batches closed that were built in a recycled batch's buffers rather than fresh ones (cumulative). */
  get reused(): number {
    return this.reusedCount;
  }

  /** Released batches waiting for reuse. */
  get recycledPending(): number {
    return this.free.length;
  }

  /**
   * Takes back the buffers of a batch nothing needs any more, to refill them for a later batch
   * (kept only while fewer than {@link RECYCLED_BATCHES_MAX} wait; else left to the garbage
   * collector). `raw` itself is left empty (`detachRawBatch`); views of its packets taken before
   * would see the next batches' bytes, so the caller must hold none (the sender's window hands a
   * batch back when it is acknowledged, evicted or copied into the spill).
   */
  recycle(raw: RawBatch): void {
    if (raw === this.raw || this.free.length >= RECYCLED_BATCHES_MAX || raw.data.length === 0) return;
    // The buffers move to a new object and `raw` is left empty: a reference kept by mistake sees
    // no packets rather than the next batch's (and recycling it again is a no-op: no capacity).
    this.free.push(detachRawBatch(raw));
  }

  /** Closes the open batch (timer, end of input); null when it is empty. */
  flush(): PendingBatch | null {
    return this.raw.count === 0 ? null : this.take();
  }

  private take(): PendingBatch {
    const raw = this.raw;
    const n = raw.count;
    if (this.openReused) this.reusedCount++;
    trimRawBatch(raw);
    const batch: PendingBatch = { raw, dataBytes: this.dataBytes };
    const packets = Math.min(this.maxPackets, Math.max(MIN_PACKET_SLOTS, n + (n >> 3)));
    const bytes = Math.max(MIN_DATA_BYTES, this.dataBytes + (this.dataBytes >> 3));
    const reuse = this.free.pop();
    if (reuse === undefined) {
      this.raw = createRawBatch(packets, bytes);
      this.openReused = false;
    } else {
      // Its buffers are kept when they fit the capacity a new batch would get (else replaced: see resetRawBatch).
      resetRawBatch(reuse, packets, bytes);
      this.raw = reuse;
      this.openReused = true;
    }
    this.bytes = 0;
    this.dataBytes = 0;
    return batch;
  }
}
