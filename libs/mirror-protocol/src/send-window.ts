/** Outcome of {@link SendWindow.ack}. */
export const AckStatus = {
  /** The acknowledgement advanced; batches up to it were released. */
  Advanced: 0,
  /** At or below an earlier acknowledgement (a repeat, or a receiver that lost its state). No-op. */
  Stale: 1,
  /** Above anything sent, or not a safe integer: a peer bug. Ignored and counted. */
  Invalid: 2,
} as const;
/** A value of {@link AckStatus}. */
export type AckStatus = (typeof AckStatus)[keyof typeof AckStatus];

/** One retained batch of a {@link SendWindow}. */
export interface SendWindowEntry<T> {
  sequence: number;
  item: T;
  byteLength: number;
}

/** Counters of a {@link SendWindow}. Dropped batches are never silent. */
export interface SendWindowStats {
  /** Batches pushed. */
  pushed: number;
  /** Batches released by acknowledgements. */
  acked: number;
  /**
   * Batches evicted, oldest first, because the byte bound was exceeded; never resent. One evicted
   * after it was written may still arrive: the caller decides when it is lost (README, Invariants).
   */
  droppedBatches: number;
  /** Bytes of those batches. */
  droppedBytes: number;
  /** Acknowledgements at or below an earlier one. */
  staleAcks: number;
  /** Acknowledgements above anything sent. */
  invalidAcks: number;
}

/** Options of a {@link SendWindow}. */
export interface SendWindowOptions {
  /** Bound on the bytes of retained (unacknowledged) batches. */
  maxBytes: number;
  /** Sequence of the first batch; default 1 (0 means "none" in Ack). */
  firstSequence?: number;
}

/**
 * Sender-side buffer of unacknowledged batches, keyed by sequence number.
 *
 * The sender pushes each batch (typically its encoded frame) before writing it; cumulative
 * acknowledgements release batches; after a reconnect {@link unacked} lists, in sequence order,
 * exactly what must be resent, and {@link resumeSequence} is what `Hello.nextSequence` announces.
 * Memory is bounded by `maxBytes`: when a push exceeds it, the OLDEST batches are evicted (the
 * newest packets matter most to live monitoring) and counted in `stats.droppedBatches`; the receiver
 * learns of the hole from `Hello.nextSequence` and counts it too. An evicted batch the sender had
 * already written may have arrived all the same: the sender settles those from the acknowledgements
 * (see the README's Invariants) before it counts them lost.
 *
 * @typeParam T - what is kept per batch (encoded frame bytes, or the batch object).
 */
export class SendWindow<T> {
  /** Counters. */
  readonly stats: SendWindowStats = { pushed: 0, acked: 0, droppedBatches: 0, droppedBytes: 0, staleAcks: 0, invalidAcks: 0 };
  private readonly maxBytes: number;
  // Parallel queue with a head index: push/shift are O(1) amortised without per-entry objects.
  private sequences: number[] = [];
  private items: T[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;
  private next: number;
  private acked: number;

  /** @throws RangeError on a non-positive bound or first sequence. */
  constructor(options: SendWindowOptions) {
    if (!(options.maxBytes > 0)) throw new RangeError(`maxBytes must be > 0, got ${options.maxBytes}`);
    const first = options.firstSequence ?? 1;
    if (!Number.isSafeInteger(first) || first < 1) throw new RangeError(`firstSequence must be >= 1, got ${first}`);
    this.maxBytes = options.maxBytes;
    this.next = first;
    this.acked = first - 1;
  }

  /** The sequence the next {@link push} assigns (write it into `PacketBatch.sequence` first). */
  get nextSequence(): number {
    return this.next;
  }

  /** The highest acknowledged sequence (first sequence - 1 before any acknowledgement). */
  get ackedSequence(): number {
    return this.acked;
  }

  /** The first sequence to send after a reconnect: the oldest retained batch, else the next new one. */
  get resumeSequence(): number {
    return this.head < this.sequences.length ? this.sequences[this.head]! : this.next;
  }

  /** Retained (unacknowledged, not dropped) batches. */
  get size(): number {
    return this.sequences.length - this.head;
  }

  /** Bytes of the retained batches (always <= maxBytes after a push returns). */
  get retainedBytes(): number {
    return this.bytes;
  }

  /**
   * Retains a batch under {@link nextSequence} and advances it. Evicts the oldest batches while the
   * bound is exceeded — possibly this one, if it alone is larger than the bound.
   *
   * @returns the sequence assigned to the batch.
   * @throws RangeError on a negative or non-integer byte length.
   */
  push(item: T, byteLength: number): number {
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) throw new RangeError(`byteLength must be >= 0, got ${byteLength}`);
    const sequence = this.next++;
    this.sequences.push(sequence);
    this.items.push(item);
    this.sizes.push(byteLength);
    this.bytes += byteLength;
    this.stats.pushed++;
    while (this.bytes > this.maxBytes && this.head < this.sequences.length) {
      this.stats.droppedBatches++;
      this.stats.droppedBytes += this.sizes[this.head]!;
      this.shift();
    }
    return sequence;
  }

  /**
   * Evicts the oldest retained batch, counted like an overflow eviction (`stats.droppedBatches`):
   * for a caller that bounds its memory itself (the mirror-sender with a disk spill, whose window
   * holds batches on disk too).
   *
   * @returns the evicted batch's sequence, or 0 when nothing is retained.
   */
  dropOldest(): number {
    if (this.head >= this.sequences.length) return 0;
    const sequence = this.sequences[this.head]!;
    this.stats.droppedBatches++;
    this.stats.droppedBytes += this.sizes[this.head]!;
    this.shift();
    return sequence;
  }

  /**
   * Applies a cumulative acknowledgement (`Ack.sequence` or `AuthResult.ackedSequence`):
   * releases every retained batch with a sequence at or below it.
   */
  ack(sequence: number): AckStatus {
    if (!Number.isSafeInteger(sequence) || sequence >= this.next) {
      this.stats.invalidAcks++;
      return AckStatus.Invalid;
    }
    if (sequence <= this.acked) {
      this.stats.staleAcks++;
      return AckStatus.Stale;
    }
    this.acked = sequence;
    while (this.head < this.sequences.length && this.sequences[this.head]! <= sequence) {
      this.stats.acked++;
      this.shift();
    }
    return AckStatus.Advanced;
  }

  /** The retained batches in sequence order: what to resend after a reconnect. Allocates (once per reconnect). */
  unacked(): SendWindowEntry<T>[] {
    const out: SendWindowEntry<T>[] = [];
    for (let i = this.head; i < this.sequences.length; i++) {
      out.push({ sequence: this.sequences[i]!, item: this.items[i]!, byteLength: this.sizes[i]! });
    }
    return out;
  }

  private shift(): void {
    this.bytes -= this.sizes[this.head]!;
    // Drop the reference now so a released batch can be collected before the next compaction.
    (this.items as (T | undefined)[])[this.head] = undefined;
    this.head++;
    if (this.head === this.sequences.length) {
      this.sequences.length = this.items.length = this.sizes.length = this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.sequences.length) {
      this.sequences.splice(0, this.head);
      this.items.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
  }
}
