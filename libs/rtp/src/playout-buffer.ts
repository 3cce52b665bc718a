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
/**
 * An arrival gap beyond this (no packet offered for over a second) is a stall: every buffer has
 * run dry, and the first packet after it restarts the timeline, as a receiver re-primes an empty
 * buffer (Asterisk's fixed jitter buffer resynchronises at the same 1000 ms default). Shorter
 * gaps followed by a burst stay network delay: their packets are judged late as before.
 */
export const PLAYOUT_STALL_MS = 1000;
/** Adaptive: smallest depth, one 20 ms frame. */
const ADAPTIVE_MIN_MS = 20;
/** Adaptive: margin kept above the lateness that forced a growth. */
const ADAPTIVE_MARGIN_MS = 10;
/** Adaptive: shrink time constant, in packets (~10 s of 20 ms packets). */
const ADAPTIVE_SHRINK_PACKETS = 512;

// A group of buffers offered the same packets shares one timeline: the playout floor, its drift
// and the lateness depend only on (transit, arrival, restart), never on a depth, so they are
// kept once per group; each buffer adds its own depth, depth sum, late count, kind and ceiling.
// For RtpStreamStats' three buffers that is 20 doubles instead of 30 on every packet.
const G_STARTED = 0;
const G_FLOOR = 1;
const G_LAST_ARRIVAL = 2;
const G_LATENESS = 3;
const G_OFFERED = 4;
const GROUP_HEADER = 5;
// Per buffer, after the header.
const B_KIND = 0;
const B_MAX_DEPTH = 1;
const B_DEPTH = 2;
const B_DEPTH_SUM = 3;
const B_LATE = 4;
const BUFFER_LENGTH = 5;

/** Number of doubles of a group of `count` buffers sharing one timeline. */
export function playoutGroupLength(count: number): number {
  return GROUP_HEADER + count * BUFFER_LENGTH;
}

/**
 * Initialise buffer `index` of the group at `s[o]` (the group's doubles must be zero, as in a
 * fresh array). Programmer errors (depth not > 0, maximum below the depth) throw `RangeError`.
 */
export function initPlayoutGroupBuffer(s: Float64Array, o: number, index: number, kind: PlayoutBufferKind, depthMs: number, maxDepthMs: number): void {
  if (!(depthMs > 0) || !(maxDepthMs >= depthMs)) throw new RangeError(`bad buffer depth ${depthMs}/${maxDepthMs}`);
  const p = o + GROUP_HEADER + index * BUFFER_LENGTH;
  s[p + B_KIND] = kind;
  s[p + B_MAX_DEPTH] = maxDepthMs;
  s[p + B_DEPTH] = depthMs;
}

/**
 * Judge one packet against every buffer of the group at `s[o]` (model: {@link PlayoutBuffer}).
 * `transitMs` = arrival - timestamp / clock, `arrivalMs` on the stream's time origin, `restart`
 * true when the caller saw a new timeline (a talkspurt's marker bit, a payload-type change, a
 * timestamp jump); a stall (arrival gap > {@link PLAYOUT_STALL_MS}) and a lateness over 5 s
 * restart it here. Returns a mask with bit `b` set when buffer `b` played
 * the packet on time. Allocates nothing.
 */
export function offerPlayoutGroup(s: Float64Array, o: number, count: number, transitMs: number, arrivalMs: number, restart: boolean): number {
  let floorMs: number;
  const sinceLastMs = arrivalMs - s[o + G_LAST_ARRIVAL]!;
  if (s[o + G_STARTED] === 0 || restart || sinceLastMs > PLAYOUT_STALL_MS) {
    s[o + G_STARTED] = 1;
    floorMs = transitMs;
  } else {
    floorMs = s[o + G_FLOOR]! + sinceLastMs * FLOOR_DRIFT_PER_MS;
    if (transitMs < floorMs || transitMs - floorMs > DISCONTINUITY_MS) floorMs = transitMs;
  }
  s[o + G_FLOOR] = floorMs;
  s[o + G_LAST_ARRIVAL] = arrivalMs;
  const lateness = transitMs - floorMs;
  s[o + G_LATENESS] = lateness;
  s[o + G_OFFERED]!++;
  let onTimeMask = 0;
  for (let b = 0, p = o + GROUP_HEADER; b < count; b++, p += BUFFER_LENGTH) {
    const depthMs = s[p + B_DEPTH]!;
    s[p + B_DEPTH_SUM]! += depthMs;
    const onTime = lateness <= depthMs;
    if (onTime) onTimeMask |= 1 << b;
    else s[p + B_LATE]!++;
    if (s[p + B_KIND] === PlayoutBufferKind.Adaptive) {
      const target = lateness + ADAPTIVE_MARGIN_MS;
      if (!onTime) s[p + B_DEPTH] = Math.min(s[p + B_MAX_DEPTH]!, target);
      else if (target < depthMs) s[p + B_DEPTH] = Math.max(ADAPTIVE_MIN_MS, depthMs - (depthMs - target) / ADAPTIVE_SHRINK_PACKETS);
    }
  }
  return onTimeMask;
}

/** Lateness of the last packet offered to the group at `s[o]`, ms (the same for every buffer). */
export function playoutGroupLatenessMs(s: Float64Array, o: number): number {
  return s[o + G_LATENESS]!;
}

/** Mean depth of buffer `index` of the group at `s[o]` over the packets offered, ms. */
export function playoutGroupMeanDepthMs(s: Float64Array, o: number, index: number): number {
  const offered = s[o + G_OFFERED]!;
  const p = o + GROUP_HEADER + index * BUFFER_LENGTH;
  return offered === 0 ? s[p + B_DEPTH]! : s[p + B_DEPTH_SUM]! / offered;
}

/**
 * A simulated receiver jitter buffer, judging each packet on time or late. Model (README
 * "Jitter buffers"):
 *
 * - transit = arrival - RTP timestamp / clock (ms); the playout floor is the smallest transit
 *   seen, which rises by 1 ms per second of arrival time to follow clock drift, is lowered at
 *   once by any faster packet, and restarts when the caller says so (marker bit, payload-type
 *   change, timestamp jump), after an arrival gap over {@link PLAYOUT_STALL_MS} (a stall) or at
 *   a lateness over 5 s (discontinuity).
 * - lateness = transit - floor; the packet misses its playout deadline — and counts as lost for
 *   this buffer — when lateness > depth.
 * - Fixed: depth constant. Adaptive: a late packet grows the depth to lateness + 10 ms (up to the
 *   maximum), otherwise the depth shrinks towards lateness + 10 ms with a 512-packet time
 *   constant, never below 20 ms.
 *
 * The state lives in a `Float64Array` as a *group* (see {@link offerPlayoutGroup}): the object's
 * own group of one, or one buffer of the group of three inside `RtpStreamStats`' per-stream
 * block. Nothing is allocated per packet.
 */
export class PlayoutBuffer {
  private readonly s: Float64Array;
  /** Offset of the group. */
  private readonly o: number;
  /** Offset of this buffer's own doubles. */
  private readonly p: number;

  /**
   * A standalone buffer with its own state.
   *
   * @param kind fixed or adaptive
   * @param depthMs fixed depth, or the adaptive starting depth
   * @param maxDepthMs adaptive ceiling (ignored for fixed); default `depthMs`
   */
  constructor(kind: PlayoutBufferKind, depthMs: number, maxDepthMs?: number);
  /**
   * A view of buffer `index` of the group kept at `state[groupOffset]` (set up with
   * {@link initPlayoutGroupBuffer}); how `RtpStreamStats` exposes its embedded buffers.
   */
  constructor(state: Float64Array, groupOffset: number, index: number);
  constructor(kindOrState: PlayoutBufferKind | Float64Array, depthOrOffset: number, maxDepthOrIndex?: number) {
    if (kindOrState instanceof Float64Array) {
      const offset = depthOrOffset;
      const index = maxDepthOrIndex ?? 0;
      if (!(Number.isInteger(offset) && Number.isInteger(index) && offset >= 0 && index >= 0 && offset + playoutGroupLength(index + 1) <= kindOrState.length)) {
        throw new RangeError(`group offset ${offset} / buffer ${index} outside a Float64Array of ${kindOrState.length}`);
      }
      this.s = kindOrState;
      this.o = offset;
      this.p = offset + GROUP_HEADER + index * BUFFER_LENGTH;
    } else {
      this.s = new Float64Array(playoutGroupLength(1));
      this.o = 0;
      this.p = GROUP_HEADER;
      initPlayoutGroupBuffer(this.s, 0, 0, kindOrState, depthOrOffset, maxDepthOrIndex ?? depthOrOffset);
    }
  }

  /** Fixed or adaptive. */
  get kind(): PlayoutBufferKind {
    return this.s[this.p + B_KIND] as PlayoutBufferKind;
  }
  /** Adaptive ceiling, ms (equals the depth for a fixed buffer). */
  get maxDepthMs(): number {
    return this.s[this.p + B_MAX_DEPTH]!;
  }
  /** Current depth, ms. */
  get depthMs(): number {
    return this.s[this.p + B_DEPTH]!;
  }
  /** Packets offered. */
  get offered(): number {
    return this.s[this.o + G_OFFERED]!;
  }
  /** Packets that missed their deadline. */
  get late(): number {
    return this.s[this.p + B_LATE]!;
  }
  /** Lateness of the last packet offered, ms (for delay-variation buckets). */
  get lastLatenessMs(): number {
    return this.s[this.o + G_LATENESS]!;
  }

  /** Mean depth over the packets offered, ms (the buffer's contribution to one-way delay). */
  get meanDepthMs(): number {
    const offered = this.offered;
    return offered === 0 ? this.depthMs : this.s[this.p + B_DEPTH_SUM]! / offered;
  }

  /**
   * Judge one packet. `transitMs` = arrival - timestamp / clock, `arrivalMs` on the stream's
   * time origin, `restart` true at a new timeline (marker bit, codec change, timestamp jump). Returns true when on time.
   * Only for a standalone buffer: a view's group is fed by its owner (its buffers share one
   * timeline), so offering through the view throws `TypeError` (a programmer error).
   */
  offer(transitMs: number, arrivalMs: number, restart: boolean): boolean {
    if (this.p !== GROUP_HEADER || this.o !== 0 || this.s.length !== playoutGroupLength(1)) {
      throw new TypeError('a PlayoutBuffer view is fed by the RtpStreamStats that owns it');
    }
    return offerPlayoutGroup(this.s, 0, 1, transitMs, arrivalMs, restart) === 1;
  }
}
