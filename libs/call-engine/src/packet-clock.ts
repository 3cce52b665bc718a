/** How far packet time may move at once, and how much traffic confirms a bigger move. */
export interface PacketClockOptions {
  /**
   * A packet dated more than this far from the clock (ahead or behind) is a candidate step, not
   * time passing: held until the traffic confirms it. Timeouts shorter than it (linger, BYE) can
   * still be cut by an outlier inside it; the RTP, no-answer and absolute timeouts cannot.
   */
  maxStepS: number;
  /**
   * Packets, after the first one off the clock, that must all stay off it on the same side
   * (none returning to the clock's timeline) before the clock takes the step.
   */
  confirmPackets: number;
}

/**
 * One minute: longer than any real capture's jitter and reordering (a packet a minute late or early is
 * not a timing artefact of the network), shorter than the RTP/no-answer timeouts (5 min) that a
 * lone outlier must not trigger. Three further packets: a corrupt record or a HEP packet from a
 * misset agent is alone or nearly so; a real step (host clock set, files concatenated) is followed
 * by all the traffic, and even a quiet link confirms it within three packets.
 */
export const DEFAULT_PACKET_CLOCK_OPTIONS: PacketClockOptions = { maxStepS: 60, confirmPackets: 3 };

/**
 * Packet time made robust to lone bad timestamps. The call and registration tables time calls out
 * on packet time (so files and live capture agree); taking the latest timestamp ever seen as "now"
 * let one record dated an hour ahead end every open call (callscope issue 12, finding 1).
 *
 * - A packet within `maxStepS` of the clock moves it forward (never back): the per-packet path, a
 *   subtraction and two compares.
 * - A packet further off (ahead or behind) starts a pending step. Every further packet on the same
 *   side (more than `maxStepS` off in the same direction) supports it; after `confirmPackets` of
 *   them the clock steps to the earliest time of that run (forward) or the latest (backward): the
 *   smallest move the traffic agrees on. A packet back on the clock's timeline cancels the step: its
 *   packets were outliers ({@link PacketClock.outliers}).
 * - A confirmed backward step (capture clock reset, files concatenated out of order) moves the
 *   clock back, so calls of the new timeline time out normally; calls whose last activity lies
 *   ahead of the new time wait until packet time passes it again, or the end of the input (or
 *   eviction) closes them.
 * - {@link PacketClock.trust} (the live daemon's wall-clock tick) is trusted time: it moves the
 *   clock forward without confirmation.
 *
 * Tables read {@link PacketClock.nowUs}; one clock may be shared by several tables, then each packet
 * must be observed once.
 */
export class PacketClock {
  /** The time the tables run on (µs since the epoch); 0 before the first packet. */
  nowUs = 0;
  /** Packets more than `maxStepS` off the clock that the traffic did not confirm (lone bad timestamps). */
  outliers = 0;
  /** Steps the traffic confirmed (forward or backward): the capture's clock itself jumped. */
  steps = 0;

  /** `maxStepS` in µs. */
  readonly maxStepUs: number;
  private readonly confirmPackets: number;
  /**
   * `maxStepUs` while no step is pending, -1 while one is: the per-packet test `|ts - now| <= window`
   * then fails for every packet, so the pending step is settled on the slow path without a
   * second test on the fast one.
   */
  private window: number;
  /** Packets of the pending run (0: none). */
  private pending = 0;
  /** Direction of the pending run: 1 ahead, -1 behind. */
  private pendingSide = 0;
  /** The time the clock takes if the pending run is confirmed. */
  private pendingUs = 0;

  constructor(options: PacketClockOptions = DEFAULT_PACKET_CLOCK_OPTIONS) {
    if (!(options.maxStepS > 0) || !Number.isInteger(options.confirmPackets) || options.confirmPackets < 1) {
      throw new RangeError(`PacketClock: maxStepS ${options.maxStepS} must be > 0, confirmPackets ${options.confirmPackets} an integer >= 1`);
    }
    this.maxStepUs = options.maxStepS * 1e6;
    this.confirmPackets = options.confirmPackets;
    this.window = this.maxStepUs;
  }

  /**
   * One packet's timestamp (µs). True when it is on the clock's timeline (within `maxStepS`) or
   * confirmed a step; false while it is off it (an outlier, or a step not yet confirmed): its
   * time must not be trusted as "now" (nor stamp activity that the timeouts read).
   */
  observe(tsUs: number): boolean {
    const d = tsUs - this.nowUs;
    if (d <= this.window && d >= -this.window) {
      if (d > 0) this.nowUs = tsUs;
      return true;
    }
    return this.offClock(tsUs, d);
  }

  /** Trusted time (the live daemon's wall clock on an idle link): moves the clock forward, unconfirmed. */
  trust(nowUs: number): void {
    if (nowUs <= this.nowUs) return;
    this.nowUs = nowUs;
    // A pending step that trusted time has caught up with was early traffic, not an outlier.
    if (this.pending > 0 && Math.abs(this.pendingUs - nowUs) <= this.maxStepUs) this.settle(0);
  }

  private offClock(tsUs: number, d: number): boolean {
    if (this.nowUs === 0) {
      // The first packet sets the clock: there is no timeline yet to be off.
      this.nowUs = tsUs;
      return true;
    }
    const side = d > 0 ? 1 : -1;
    if (this.pending === 0 || (d <= this.maxStepUs && d >= -this.maxStepUs) || side !== this.pendingSide) {
      // Back on the timeline, or off on the other side: the pending run (if any) was outliers.
      if (this.pending > 0) this.settle(this.pending);
      if (d <= this.maxStepUs && d >= -this.maxStepUs) {
        if (d > 0) this.nowUs = tsUs;
        return true;
      }
      this.pending = 1;
      this.pendingSide = side;
      this.pendingUs = tsUs;
      this.window = -1;
      return false;
    }
    // Supports the pending step: forward takes the earliest time of the run, backward the latest.
    if (side > 0 ? tsUs < this.pendingUs : tsUs > this.pendingUs) this.pendingUs = tsUs;
    if (++this.pending <= this.confirmPackets) return false;
    this.nowUs = this.pendingUs;
    this.steps++;
    this.settle(0);
    // Forward steps to the run's earliest time: this packet is at or after it, so moves it on.
    if (tsUs > this.nowUs && tsUs - this.nowUs <= this.maxStepUs) this.nowUs = tsUs;
    return true;
  }

  /** End the pending run, counting `outliers` of its packets as outliers. */
  private settle(outliers: number): void {
    this.outliers += outliers;
    this.pending = 0;
    this.pendingSide = 0;
    this.window = this.maxStepUs;
  }
}
