/**
 * A batch of captured packets in one flat, connection-independent form: parallel typed arrays for
 * the per-packet fields and every packet's bytes back to back in one buffer. The mirror-sender's
 * batcher writes packets straight into it (no per-packet object, one copy of the bytes), its window
 * keeps it until the sniffer acknowledges it, and each connection encodes it when it writes it
 * (protocol version 2 against that connection's flow context, version 1 as a PacketList). The
 * flow-block decoder produces the same form on the receiving side.
 *
 * Packet `i` is `data[i === 0 ? 0 : end[i - 1], end[i])`.
 */
export interface RawBatch {
  /** Packets in the batch. */
  count: number;
  /** LINKTYPE_* per packet. */
  linkType: Uint32Array;
  /** Capture time, whole seconds (unix), per packet. */
  tsSec: Float64Array;
  /** Nanoseconds within the second, per packet. */
  tsNsec: Uint32Array;
  /** Length on the wire per packet (0: same as captured). */
  origLen: Uint32Array;
  /** End offset in `data` of each packet's bytes. */
  end: Uint32Array;
  /** The packets' bytes, back to back; bytes above `end[count - 1]` are unused capacity. */
  data: Uint8Array;
}

/** Creates an empty {@link RawBatch} able to hold `packets` packets and `bytes` data bytes before it grows. */
export function createRawBatch(packets: number, bytes: number): RawBatch {
  const n = Math.max(1, packets);
  return {
    count: 0,
    linkType: new Uint32Array(n),
    tsSec: new Float64Array(n),
    tsNsec: new Uint32Array(n),
    origLen: new Uint32Array(n),
    end: new Uint32Array(n),
    data: new Uint8Array(Math.max(0, bytes)),
  };
}

/**
 * Empties a batch for reuse with room for about `packets` packets and `bytes` data bytes, like
 * {@link createRawBatch} but keeping each buffer whose capacity is within an eighth below and a
 * quarter above what is asked (a batcher asks for the last batch's size plus an eighth, so a
 * buffer of the same traffic fits; a quarter above is what {@link trimRawBatch} keeps). A buffer
 * outside that range is replaced by one of the exact size (no copy: the batch is empty), so a
 * reused batch is neither grown by doubling nor trimmed when it closes much more often than a new
 * one. The old contents stay in the kept buffers until overwritten: the caller must hold the only
 * reference to the batch.
 */
export function resetRawBatch(batch: RawBatch, packets: number, bytes: number): void {
  const n = Math.max(1, packets);
  const b = Math.max(0, bytes);
  batch.count = 0;
  const fits = (capacity: number, wanted: number): boolean => capacity >= wanted - (wanted >> 3) && capacity <= wanted + (wanted >> 2);
  if (!fits(batch.linkType.length, n)) {
    batch.linkType = new Uint32Array(n);
    batch.tsSec = new Float64Array(n);
    batch.tsNsec = new Uint32Array(n);
    batch.origLen = new Uint32Array(n);
    batch.end = new Uint32Array(n);
  }
  if (!fits(batch.data.length, b)) batch.data = new Uint8Array(b);
}

/**
 * Moves the buffers of `batch` into a new, empty {@link RawBatch} (for reuse) and leaves `batch`
 * empty with zero capacity: whoever still holds `batch` sees no packets, never the packets a reuse
 * writes into its former buffers (views taken earlier with {@link rawPacketData} do alias them).
 */
export function detachRawBatch(batch: RawBatch): RawBatch {
  const moved: RawBatch = { ...batch, count: 0 };
  batch.count = 0;
  batch.linkType = EMPTY_U32;
  batch.tsSec = EMPTY_F64;
  batch.tsNsec = EMPTY_U32;
  batch.origLen = EMPTY_U32;
  batch.end = EMPTY_U32;
  batch.data = EMPTY_BYTES;
  return moved;
}

// Zero-length, so sharing them between detached batches shares nothing (a later append reallocates).
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_F64 = new Float64Array(0);
const EMPTY_BYTES = new Uint8Array(0);

/** Bytes of packet data held (the end of the last packet). */
export function rawBatchDataLength(batch: RawBatch): number {
  return batch.count === 0 ? 0 : batch.end[batch.count - 1]!;
}

/** Memory a batch holds (typed arrays and data buffer, capacity included): what a window accounts. */
export function rawBatchFootprint(batch: RawBatch): number {
  return batch.data.byteLength + batch.linkType.length * RAW_BATCH_BYTES_PER_SLOT;
}

/** Metadata bytes per packet slot of a {@link RawBatch} (link type, seconds, nanoseconds, original length, end). */
export const RAW_BATCH_BYTES_PER_SLOT = 4 + 8 + 4 + 4 + 4;

/** Makes room for `packets` packet slots, keeping the first `batch.count`. Allocates only when it grows. */
export function reserveRawBatchPackets(batch: RawBatch, packets: number): void {
  if (packets > batch.linkType.length) growRawBatchPackets(batch, packets);
}

/**
 * The growing half of {@link reserveRawBatchPackets}, apart: its closure made V8 allocate a context
 * on every call of the check, i.e. per packet appended, ~40 bytes of garbage (allocation profile).
 */
function growRawBatchPackets(batch: RawBatch, packets: number): void {
  const n = Math.max(packets, batch.linkType.length * 2);
  const grow = <T extends Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
    const b = make(n);
    b.set(a.subarray(0, batch.count));
    return b;
  };
  batch.linkType = grow(batch.linkType, (k) => new Uint32Array(k));
  batch.tsSec = grow(batch.tsSec, (k) => new Float64Array(k));
  batch.tsNsec = grow(batch.tsNsec, (k) => new Uint32Array(k));
  batch.origLen = grow(batch.origLen, (k) => new Uint32Array(k));
  batch.end = grow(batch.end, (k) => new Uint32Array(k));
}

/** Makes room for `bytes` data bytes in total, keeping those in use. Allocates only when it grows. */
export function reserveRawBatchBytes(batch: RawBatch, bytes: number): void {
  if (bytes <= batch.data.length) return;
  const next = new Uint8Array(Math.max(bytes, batch.data.length * 2, 256));
  next.set(batch.data.subarray(0, rawBatchDataLength(batch)));
  batch.data = next;
}

/**
 * Appends one packet (its bytes are copied). The fields are checked because they travel as
 * varints: a capture source never produces anything else.
 *
 * @throws RangeError on a link type, nanoseconds or original length outside u32, or seconds that
 *   are not a non-negative safe integer (programmer error in the capture source).
 */
export function appendRawPacket(batch: RawBatch, linkType: number, tsSec: number, tsNsec: number, origLen: number, data: Uint8Array): void {
  if (!(Number.isSafeInteger(tsSec) && tsSec >= 0)) throw new RangeError(`tsSec must be a non-negative safe integer, got ${tsSec}`);
  if (!(linkType >>> 0 === linkType && tsNsec >>> 0 === tsNsec && origLen >>> 0 === origLen)) {
    throw new RangeError(`linkType ${linkType}, tsNsec ${tsNsec} and origLen ${origLen} must be u32 integers`);
  }
  // The slot first: it may replace `batch.data` with a larger buffer.
  const start = appendRawPacketSlot(batch, linkType, tsSec, tsNsec, origLen, data.length);
  batch.data.set(data, start);
}

/**
 * Appends one packet's fields and room for its `length` bytes, unchecked, and returns where in
 * `batch.data` its bytes go: the caller copies them there before the batch is read (a growth of
 * `data` keeps the bytes so far, that room included). For a caller that copies the bytes of
 * several packets in one piece, from fields that are u32 by construction (a live capture's
 * headers); {@link appendRawPacket} is this with the checks and the copy.
 */
export function appendRawPacketSlot(batch: RawBatch, linkType: number, tsSec: number, tsNsec: number, origLen: number, length: number): number {
  const i = batch.count;
  reserveRawBatchPackets(batch, i + 1);
  const start = rawBatchDataLength(batch);
  reserveRawBatchBytes(batch, start + length);
  batch.linkType[i] = linkType;
  batch.tsSec[i] = tsSec;
  batch.tsNsec[i] = tsNsec;
  batch.origLen[i] = origLen;
  batch.end[i] = start + length;
  batch.count = i + 1;
  return start;
}

/**
 * Gives back unused capacity above a quarter of what is used (one copy of the data, only then):
 * what a window keeps should be close to what it holds.
 */
export function trimRawBatch(batch: RawBatch): void {
  const used = rawBatchDataLength(batch);
  if (batch.data.length - used > used / 4) batch.data = batch.data.slice(0, used);
  const n = batch.count;
  if (batch.linkType.length - n > n / 4) {
    batch.linkType = batch.linkType.slice(0, n);
    batch.tsSec = batch.tsSec.slice(0, n);
    batch.tsNsec = batch.tsNsec.slice(0, n);
    batch.origLen = batch.origLen.slice(0, n);
    batch.end = batch.end.slice(0, n);
  }
}

/** The bytes of packet `i` (a view into `batch.data`). @throws RangeError when `i` is not below `count`. */
export function rawPacketData(batch: RawBatch, i: number): Uint8Array {
  if (!(Number.isInteger(i) && i >= 0 && i < batch.count)) throw new RangeError(`packet ${i} outside 0..${batch.count - 1}`);
  return batch.data.subarray(i === 0 ? 0 : batch.end[i - 1]!, batch.end[i]);
}
