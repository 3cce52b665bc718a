/** Per-packet flags, as Wireshark's `STAT_FLAG_*` (ui/tap-rtp-analysis.h). */
const FLAG_FIRST = 0x001;
const FLAG_MARKER = 0x002;
const FLAG_WRONG_SEQ = 0x004;
const FLAG_PT_CN = 0x010;
const FLAG_FOLLOW_PT_CN = 0x020;
const FLAG_WRONG_TIMESTAMP = 0x080;
const PT_CN = 13;
const PT_CN_OLD = 19;
const TWO_POW_32 = 0x1_0000_0000;


// Offsets of the state doubles, in the order a packet reads them (first cache line first).
const W_PACKETS = 0;
const W_FIRST_TIMESTAMP = 1;
const W_START_SEQ = 2;
const W_UNDER = 3;
const W_STOP_SEQ = 4;
const W_CYCLES = 5;
const W_SEQ_NUM = 6;
const W_SEQUENCE_ERRORS = 7;
const W_LAST_PT = 8;
const W_CLOCK_RATE = 9;
const W_JITTER = 10;
const W_TIME = 11;
const W_LAST_NOMINAL = 12;
const W_DELTA = 13;
const W_START_MS = 14;
const W_MAX_SKEW = 15;
const W_MAX_DELTA = 16;
const W_MIN_DELTA = 17;
const W_MEAN_DELTA = 18;
const W_MAX_JITTER = 19;
const W_MEAN_JITTER = 20;
const W_MIN_JITTER = 21;
const W_PROBLEM = 22;

/** Number of doubles of one analysis' state (see {@link initWiresharkState}). */
export const WIRESHARK_STATE_LENGTH = 23;

/** Reset the state region `s[o .. o + WIRESHARK_STATE_LENGTH)` to "no packet yet". */
export function initWiresharkState(s: Float64Array, o: number): void {
  s.fill(0, o, o + WIRESHARK_STATE_LENGTH);
  s[o + W_MIN_DELTA] = -1;
  s[o + W_MIN_JITTER] = -1;
}

/** Current jitter (ms) of the state at `s[o]`, without a view object. */
export function wiresharkJitterMs(s: Float64Array, o: number): number {
  return s[o + W_JITTER]!;
}

/** Largest jitter (ms) of the state at `s[o]`, without a view object. */
export function wiresharkMaxJitterMs(s: Float64Array, o: number): number {
  return s[o + W_MAX_JITTER]!;
}

/** Wireshark's lost count of the state at `s[o]` (see {@link WiresharkRtpAnalysis.lost}), without a view object. */
export function wiresharkLost(s: Float64Array, o: number): number {
  const packets = s[o + W_PACKETS]!;
  if (packets === 0) return 0;
  const n = s[o + W_STOP_SEQ]! + s[o + W_CYCLES]! * 0x10000 - s[o + W_START_SEQ]! + 1;
  return (n > 0 ? n : 0) - packets;
}

/**
 * Account one packet into the state at `s[o]` (Wireshark `rtppacket_analyse`, see
 * {@link WiresharkRtpAnalysis}). `arrivalMs` on any fixed origin, `clockRate` the payload's
 * statistics clock (0 = none). Allocates nothing.
 */
export function updateWiresharkState(
  s: Float64Array,
  o: number,
  seq: number,
  timestamp: number,
  payloadType: number,
  marker: boolean,
  arrivalMs: number,
  clockRate: number,
): void {
  const packets = s[o + W_PACKETS]!;
  if (packets === 0) {
    s[o + W_START_SEQ] = seq;
    s[o + W_STOP_SEQ] = seq;
    s[o + W_SEQ_NUM] = seq;
    s[o + W_START_MS] = arrivalMs;
    s[o + W_FIRST_TIMESTAMP] = timestamp;
    s[o + W_TIME] = arrivalMs;
    s[o + W_LAST_NOMINAL] = 0;
    s[o + W_LAST_PT] = payloadType;
    s[o + W_PACKETS] = 1;
    return;
  }
  let flags = 0;
  // Timestamp at or after the first packet's (mod 2^32, within half the range).
  const first = s[o + W_FIRST_TIMESTAMP]!;
  let inTimeSequence: boolean;
  if (first <= timestamp) inTimeSequence = timestamp - first < 0x80000000;
  else inTimeSequence = 0xffffffff - first + timestamp < 0x80000000;
  if (!inTimeSequence) flags |= FLAG_WRONG_TIMESTAMP;

  const startSeq = s[o + W_START_SEQ]!;
  if (inTimeSequence) {
    const under = s[o + W_UNDER] !== 0;
    if (seq < startSeq && !under) {
      s[o + W_CYCLES]!++;
      s[o + W_UNDER] = 1;
    } else if (seq === 0 && s[o + W_STOP_SEQ] === 65535 && !under) {
      s[o + W_CYCLES]!++;
      s[o + W_UNDER] = 1;
    } else if (seq > startSeq && under) {
      s[o + W_UNDER] = 0;
    }
  }

  const seqNum = s[o + W_SEQ_NUM]!;
  if (inTimeSequence && seqNum + 1 === seq) {
    s[o + W_SEQ_NUM] = seq;
  } else if (inTimeSequence && seqNum === 65535 && seq === 0) {
    s[o + W_SEQ_NUM] = seq;
  } else if (inTimeSequence && (seqNum + 1 < seq || seqNum - seq > 0xff00)) {
    // A forward jump, or a huge backward one taken as lost packets around the wrap (#5958).
    s[o + W_SEQ_NUM] = seq;
    s[o + W_SEQUENCE_ERRORS]!++;
    flags |= FLAG_WRONG_SEQ;
  } else if (seqNum + 1 > seq) {
    // Late or duplicated.
    s[o + W_SEQUENCE_ERRORS]!++;
    flags |= FLAG_WRONG_SEQ;
  }

  if (payloadType === PT_CN || payloadType === PT_CN_OLD) flags |= FLAG_PT_CN;
  const lastPt = s[o + W_LAST_PT];
  if (lastPt === PT_CN || lastPt === PT_CN_OLD) flags |= FLAG_FOLLOW_PT_CN;
  s[o + W_LAST_PT] = payloadType;

  let currentJitter = 0;
  const timeMs = s[o + W_TIME]!;
  if (inTimeSequence) {
    if (clockRate !== 0) {
      s[o + W_CLOCK_RATE] = clockRate;
      // (ts - first) mod 2^32, divided by the *integer* kHz as Wireshark's guint32 division.
      let nominal = timestamp - first;
      if (nominal < 0) nominal += TWO_POW_32;
      const nominalMs = nominal / Math.trunc(clockRate / 1000);
      const expectedMs = timeMs + (nominalMs - s[o + W_LAST_NOMINAL]!);
      const diff = Math.abs(arrivalMs - expectedMs);
      currentJitter = (15 * s[o + W_JITTER]! + diff) / 16;
      s[o + W_DELTA] = arrivalMs - timeMs;
      s[o + W_JITTER] = currentJitter;
      s[o + W_LAST_NOMINAL] = nominalMs;
      const skew = nominalMs - (arrivalMs - s[o + W_START_MS]!);
      if (Math.abs(skew) > Math.abs(s[o + W_MAX_SKEW]!)) s[o + W_MAX_SKEW] = skew;
    } else {
      s[o + W_DELTA] = arrivalMs - timeMs;
    }
  }
  if (marker) flags |= FLAG_MARKER;

  if ((flags & (FLAG_FIRST | FLAG_MARKER | FLAG_PT_CN | FLAG_WRONG_TIMESTAMP | FLAG_FOLLOW_PT_CN)) === 0) {
    const delta = s[o + W_DELTA]!;
    if (delta > s[o + W_MAX_DELTA]!) s[o + W_MAX_DELTA] = delta;
    const minDelta = s[o + W_MIN_DELTA]!;
    if (minDelta === -1 || delta < minDelta) s[o + W_MIN_DELTA] = delta;
    // Wireshark divides by total_nr before the increment: the number of deltas so far.
    s[o + W_MEAN_DELTA] = (s[o + W_MEAN_DELTA]! * (packets - 1) + delta) / packets;
    if (clockRate !== 0) {
      const jitter = s[o + W_JITTER]!;
      if (jitter > s[o + W_MAX_JITTER]!) s[o + W_MAX_JITTER] = jitter;
      s[o + W_MEAN_JITTER] = (s[o + W_MEAN_JITTER]! * (packets - 1) + currentJitter) / packets;
      const minJitter = s[o + W_MIN_JITTER]!;
      if (minJitter === -1 || jitter < minJitter) s[o + W_MIN_JITTER] = jitter;
    }
  }
  if ((flags & (FLAG_WRONG_SEQ | FLAG_WRONG_TIMESTAMP)) !== 0) s[o + W_PROBLEM] = 1;
  if (inTimeSequence) s[o + W_TIME] = arrivalMs;
  s[o + W_STOP_SEQ] = seq;
  s[o + W_PACKETS] = packets + 1;
}

/**
 * Wireshark's RTP stream analysis (`rtppacket_analyse` in ui/tap-rtp-analysis.c, 4.0 branch,
 * which `tshark -z rtp,streams` and sharkd's RTP analysis both run), re-expressed so that every
 * number callscope reports under a Wireshark name is the number Wireshark shows:
 *
 * - `packets`: packets received (duplicates included).
 * - `expected = last seq + 65536 * cycles - first seq + 1` — note *last received*, not highest,
 *   and cycles counted by Wireshark's `under` flag heuristic; `lost = expected - packets`.
 * - `sequenceErrors`: packets whose sequence number was not previous + 1 (jumps, late, dups).
 * - per packet with clock rate f (kHz, integer-divided as `clock_rate / 1000`):
 *   `D = |arrival - (prev arrival + (ts - prev ts) / f)|`, `J = (15 J + D) / 16` (RFC 3550 A.8
 *   in ms, in floating point).
 * - min/mean/max delta and jitter only over "regular" packets: not the first, no marker bit,
 *   not comfort noise (PT 13/19) nor the packet right after one, and timestamp not before the
 *   first packet's; mean = running mean divided by the packet count so far.
 * - packets with clock 0 (telephone-event, unknown dynamic PT) update delta but not jitter.
 *
 * The state is a run of {@link WIRESHARK_STATE_LENGTH} doubles in a `Float64Array`, either the
 * object's own or a region of a larger block: `RtpStreamStats` keeps it inside its per-stream
 * state block so that a packet touches adjacent cache lines, not a separate object. Nothing is
 * allocated per packet.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3550#appendix-A.8
 * @see https://gitlab.com/wireshark/wireshark/-/blob/release-4.0/ui/tap-rtp-analysis.c
 */
export class WiresharkRtpAnalysis {
  private readonly s: Float64Array;
  private readonly o: number;

  /** A standalone analysis with its own state. */
  constructor();
  /**
   * A view of state kept at `state[offset]` (initialised with {@link initWiresharkState}); how
   * {@link RtpStreamStats} exposes the analysis embedded in its per-stream block.
   */
  constructor(state: Float64Array, offset: number);
  constructor(state?: Float64Array, offset = 0) {
    if (state === undefined) {
      this.s = new Float64Array(WIRESHARK_STATE_LENGTH);
      this.o = 0;
      initWiresharkState(this.s, 0);
    } else {
      if (!(Number.isInteger(offset) && offset >= 0 && offset + WIRESHARK_STATE_LENGTH <= state.length)) {
        throw new RangeError(`state offset ${offset} outside a Float64Array of ${state.length}`);
      }
      this.s = state;
      this.o = offset;
    }
  }

  /** Packets received (Wireshark `total_nr`). */
  get packets(): number {
    return this.s[this.o + W_PACKETS]!;
  }
  /** Wireshark's sequence error count (`sequence`). */
  get sequenceErrors(): number {
    return this.s[this.o + W_SEQUENCE_ERRORS]!;
  }
  /** Sequence number of the first packet. */
  get startSeq(): number {
    return this.s[this.o + W_START_SEQ]!;
  }
  /** Sequence number of the last packet received. */
  get stopSeq(): number {
    return this.s[this.o + W_STOP_SEQ]!;
  }
  /** Sequence wrap count. */
  get cycles(): number {
    return this.s[this.o + W_CYCLES]!;
  }
  /** Current jitter, ms. */
  get jitterMs(): number {
    return this.s[this.o + W_JITTER]!;
  }
  /** Largest jitter over regular packets, ms. */
  get maxJitterMs(): number {
    return this.s[this.o + W_MAX_JITTER]!;
  }
  /** Smallest jitter over regular packets, ms (-1 until one is seen). */
  get minJitterMs(): number {
    return this.s[this.o + W_MIN_JITTER]!;
  }
  /** Wireshark's mean jitter, ms. */
  get meanJitterMs(): number {
    return this.s[this.o + W_MEAN_JITTER]!;
  }
  /** Largest arrival delta between consecutive packets, ms. */
  get maxDeltaMs(): number {
    return this.s[this.o + W_MAX_DELTA]!;
  }
  /** Smallest delta, ms (-1 until one is seen). */
  get minDeltaMs(): number {
    return this.s[this.o + W_MIN_DELTA]!;
  }
  /** Wireshark's mean delta, ms. */
  get meanDeltaMs(): number {
    return this.s[this.o + W_MEAN_DELTA]!;
  }
  /** Largest absolute skew (nominal - arrival), ms, signed. */
  get maxSkewMs(): number {
    return this.s[this.o + W_MAX_SKEW]!;
  }
  /** True once a packet had a wrong sequence number or timestamp (Wireshark's "problem"). */
  get problem(): boolean {
    return this.s[this.o + W_PROBLEM] !== 0;
  }
  /** Clock rate of the last packet with a known one, Hz. */
  get clockRate(): number {
    return this.s[this.o + W_CLOCK_RATE]!;
  }

  /**
   * Wireshark's expected packet count. When the last packet's sequence number is below the
   * first's without a counted wrap (a stray late packet at the very end) Wireshark's guint32
   * arithmetic underflows to ~4.29e9; callscope reports 0 instead of that garbage.
   */
  get expected(): number {
    return this.packets + wiresharkLost(this.s, this.o);
  }

  /** Wireshark's lost count (negative with duplicates). */
  get lost(): number {
    return wiresharkLost(this.s, this.o);
  }

  /**
   * Account one packet. `arrivalMs` is the arrival time in ms on any fixed origin (callscope
   * uses the stream's first packet); `clockRate` the payload's statistics clock (0 = none).
   */
  update(seq: number, timestamp: number, payloadType: number, marker: boolean, arrivalMs: number, clockRate: number): void {
    updateWiresharkState(this.s, this.o, seq, timestamp, payloadType, marker, arrivalMs, clockRate);
  }
}
