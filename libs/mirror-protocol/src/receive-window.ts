/** Outcome of {@link ReceiveWindow.receive}. */
export const ReceiveStatus = {
  /** First time this sequence is seen: process the batch. */
  New: 0,
  /** Already received (a resend after a reconnect): drop it, counted. */
  Duplicate: 1,
  /** Sequence 0 or not a safe integer: a peer bug, counted. */
  Invalid: 2,
} as const;
/** A value of {@link ReceiveStatus}. */
export type ReceiveStatus = (typeof ReceiveStatus)[keyof typeof ReceiveStatus];

/** Counters of a {@link ReceiveWindow}. */
export interface ReceiveWindowStats {
  /** Batches accepted as new. */
  accepted: number;
  /** Resent batches dropped as duplicates. */
  duplicates: number;
  /** Sequences never received and given up on (sender overflow, or the out-of-order bound). */
  lost: number;
  /** Invalid sequences. */
  invalid: number;
}

/** Options of a {@link ReceiveWindow}. */
export interface ReceiveWindowOptions {
  /**
   * Highest contiguous sequence already received for this sensor, when the receiver kept it
   * across a restart. Absent: unknown, and the first sequence seen (or resumed) sets the base
   * without counting anything lost.
   */
  ackedSequence?: number;
  /** Bound on sequences held above a gap; default 1024. */
  maxAhead?: number;
}

/**
 * Receiver-side dedupe of batches by sequence number, one per sensor.
 *
 * Tracks the highest contiguous sequence received ({@link ackSequence}, what `Ack` carries) and a
 * bounded set of sequences received above a gap. TCP keeps order within a connection, so gaps
 * only come from the sender's bounded buffer evicting batches: {@link resume} with
 * `Hello.nextSequence` closes them and counts them lost. If more than `maxAhead` sequences pile up
 * above a gap, the receiver stops waiting for the lowest missing one (counted lost), so memory is
 * bounded whatever the peer sends.
 */
export class ReceiveWindow {
  /** Counters. */
  readonly stats: ReceiveWindowStats = { accepted: 0, duplicates: 0, lost: 0, invalid: 0 };
  private acked: number | null;
  private readonly ahead = new Set<number>();
  private readonly maxAhead: number;

  /** @throws RangeError on a bad `ackedSequence` or `maxAhead`. */
  constructor(options: ReceiveWindowOptions = {}) {
    const acked = options.ackedSequence;
    if (acked !== undefined && (!Number.isSafeInteger(acked) || acked < 0)) {
      throw new RangeError(`ackedSequence must be >= 0, got ${acked}`);
    }
    const maxAhead = options.maxAhead ?? 1024;
    if (!Number.isSafeInteger(maxAhead) || maxAhead < 1) throw new RangeError(`maxAhead must be >= 1, got ${maxAhead}`);
    this.acked = acked ?? null;
    this.maxAhead = maxAhead;
  }

  /** Highest contiguous sequence received: the value to send in `Ack` (0 before anything). */
  get ackSequence(): number {
    return this.acked ?? 0;
  }

  /**
   * Starts a connection at the sender's `Hello.nextSequence`. Sequences below it that were never
   * received will never come (the sender dropped them): they are counted lost.
   *
   * @returns how many sequences were counted lost.
   */
  resume(nextSequence: number): number {
    if (!Number.isSafeInteger(nextSequence) || nextSequence < 1) {
      this.stats.invalid++;
      return 0;
    }
    if (this.acked === null) {
      this.acked = nextSequence - 1;
      return 0;
    }
    return this.skipTo(nextSequence - 1);
  }

  /** Classifies a received batch's sequence and records it. */
  receive(sequence: number): ReceiveStatus {
    if (!Number.isSafeInteger(sequence) || sequence < 1) {
      this.stats.invalid++;
      return ReceiveStatus.Invalid;
    }
    this.acked ??= sequence - 1;
    if (sequence <= this.acked || this.ahead.has(sequence)) {
      this.stats.duplicates++;
      return ReceiveStatus.Duplicate;
    }
    this.stats.accepted++;
    if (sequence === this.acked + 1) {
      this.acked = sequence;
      this.absorb();
    } else {
      this.ahead.add(sequence);
      if (this.ahead.size > this.maxAhead) {
        let lowest = Infinity;
        for (const s of this.ahead) if (s < lowest) lowest = s;
        this.skipTo(lowest - 1);
      }
    }
    return ReceiveStatus.New;
  }

  /** Moves the contiguous mark up to `target`, counting never-received sequences as lost. */
  private skipTo(target: number): number {
    const acked = this.acked ?? 0;
    if (target <= acked) return 0;
    let lost = target - acked;
    for (const s of this.ahead) {
      if (s <= target) {
        lost--;
        this.ahead.delete(s);
      }
    }
    this.stats.lost += lost;
    this.acked = target;
    this.absorb();
    return lost;
  }

  /** Advances over sequences already held above the mark. */
  private absorb(): void {
    let acked = this.acked ?? 0;
    while (this.ahead.delete(acked + 1)) acked++;
    this.acked = acked;
  }
}
