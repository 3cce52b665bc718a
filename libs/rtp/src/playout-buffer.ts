/** Kinds of simulated jitter buffer. */
export const PlayoutBufferKind = {
  /** Constant depth. */
  Fixed: 0,
  /** Depth follows the observed lateness, up to a maximum. */
  Adaptive: 1,
} as const;

/** One of the {@link PlayoutBufferKind} values. */
export type PlayoutBufferKind = (typeof PlayoutBufferKind)[keyof typeof PlayoutBufferKind];

/** Sender/receiver clock drift tolerated by the playout floor: it rises 1 ms per second. */
const FLOOR_DRIFT_PER_MS = 0.001;
/** A lateness beyond this is a timestamp discontinuity (new timeline), not network delay. */
const DISCONTINUITY_MS = 5000;
/** Adaptive: smallest depth, one 20 ms frame. */
const ADAPTIVE_MIN_MS = 20;
/** Adaptive: margin kept above the lateness that forced a growth. */
const ADAPTIVE_MARGIN_MS = 10;
/** Adaptive: shrink time constant, in packets (~10 s of 20 ms packets). */
const ADAPTIVE_SHRINK_PACKETS = 512;

/**
 * A simulated receiver jitter buffer, judging each packet on time or late. Model (README
 * "Jitter buffers"):
 *
 * - transit = arrival - RTP timestamp / clock (ms); the playout floor is the smallest transit
 *   seen, which rises by 1 ms per second of arrival time to follow clock drift, is lowered at
 *   once by any faster packet, and restarts at a marker bit (talkspurt) or a timestamp jump.
 * - lateness = transit - floor; the packet misses its playout deadline — and counts as lost for
 *   this buffer — when lateness > depth.
 * - Fixed: depth constant. Adaptive: a late packet grows the depth to lateness + 10 ms (up to the
 *   maximum), otherwise the depth shrinks towards lateness + 10 ms with a 512-packet time
 *   constant, never below 20 ms.
 *
 * Scalar state only: nothing is allocated per packet.
 */
export class PlayoutBuffer {
  /** Current depth, ms. */
  depthMs: number;
  /** Packets offered. */
  offered = 0;
  /** Packets that missed their deadline. */
  late = 0;
  /** Lateness of the last packet offered, ms (for delay-variation buckets). */
  lastLatenessMs = 0;
  private depthSumMs = 0;
  private floorMs = 0;
  private lastArrivalMs = 0;
  private started = false;

  /**
   * @param kind fixed or adaptive
   * @param depthMs fixed depth, or the adaptive starting depth
   * @param maxDepthMs adaptive ceiling (ignored for fixed)
   */
  constructor(
    readonly kind: PlayoutBufferKind,
    depthMs: number,
    readonly maxDepthMs: number = depthMs,
  ) {
    if (!(depthMs > 0) || !(maxDepthMs >= depthMs)) throw new RangeError(`bad buffer depth ${depthMs}/${maxDepthMs}`);
    this.depthMs = depthMs;
  }

  /** Mean depth over the packets offered, ms (the buffer's contribution to one-way delay). */
  get meanDepthMs(): number {
    return this.offered === 0 ? this.depthMs : this.depthSumMs / this.offered;
  }

  /**
   * Judge one packet. `transitMs` = arrival - timestamp / clock, `arrivalMs` on the stream's
   * time origin, `restart` true at a talkspurt start (marker bit). Returns true when on time.
   */
  offer(transitMs: number, arrivalMs: number, restart: boolean): boolean {
    if (!this.started || restart) {
      this.started = true;
      this.floorMs = transitMs;
    } else {
      this.floorMs += (arrivalMs - this.lastArrivalMs) * FLOOR_DRIFT_PER_MS;
      if (transitMs < this.floorMs || transitMs - this.floorMs > DISCONTINUITY_MS) this.floorMs = transitMs;
    }
    this.lastArrivalMs = arrivalMs;
    const lateness = transitMs - this.floorMs;
    this.lastLatenessMs = lateness;
    this.offered++;
    this.depthSumMs += this.depthMs;
    const onTime = lateness <= this.depthMs;
    if (!onTime) this.late++;
    if (this.kind === PlayoutBufferKind.Adaptive) {
      const target = lateness + ADAPTIVE_MARGIN_MS;
      if (!onTime) this.depthMs = Math.min(this.maxDepthMs, target);
      else if (target < this.depthMs) this.depthMs = Math.max(ADAPTIVE_MIN_MS, this.depthMs - (this.depthMs - target) / ADAPTIVE_SHRINK_PACKETS);
    }
    return onTime;
  }
}
