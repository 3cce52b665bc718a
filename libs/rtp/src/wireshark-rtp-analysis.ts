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
 * All state is scalar: nothing is allocated per packet.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3550#appendix-A.8
 * @see https://gitlab.com/wireshark/wireshark/-/blob/release-4.0/ui/tap-rtp-analysis.c
 */
export class WiresharkRtpAnalysis {
  /** Packets received (Wireshark `total_nr`). */
  packets = 0;
  /** Wireshark's sequence error count (`sequence`). */
  sequenceErrors = 0;
  /** Sequence number of the first packet. */
  startSeq = 0;
  /** Sequence number of the last packet received. */
  stopSeq = 0;
  /** Sequence wrap count. */
  cycles = 0;
  /** Current jitter, ms. */
  jitterMs = 0;
  /** Largest jitter over regular packets, ms. */
  maxJitterMs = 0;
  /** Smallest jitter over regular packets, ms (-1 until one is seen). */
  minJitterMs = -1;
  /** Wireshark's mean jitter, ms. */
  meanJitterMs = 0;
  /** Largest arrival delta between consecutive packets, ms. */
  maxDeltaMs = 0;
  /** Smallest delta, ms (-1 until one is seen). */
  minDeltaMs = -1;
  /** Wireshark's mean delta, ms. */
  meanDeltaMs = 0;
  /** Largest absolute skew (nominal - arrival), ms, signed. */
  maxSkewMs = 0;
  /** True once a packet had a wrong sequence number or timestamp (Wireshark's "problem"). */
  problem = false;
  /** Clock rate of the last packet with a known one, Hz. */
  clockRate = 0;

  private first = true;
  private seqNum = 0;
  private under = false;
  private firstTimestamp = 0;
  private lastPt = 0;
  private timeMs = 0;
  private deltaMs = 0;
  private lastNominalMs = 0;
  private startMs = 0;

  /**
   * Wireshark's expected packet count. When the last packet's sequence number is below the
   * first's without a counted wrap (a stray late packet at the very end) Wireshark's guint32
   * arithmetic underflows to ~4.29e9; callscope reports 0 instead of that garbage.
   */
  get expected(): number {
    if (this.packets === 0) return 0;
    const n = this.stopSeq + this.cycles * 0x10000 - this.startSeq + 1;
    return n > 0 ? n : 0;
  }

  /** Wireshark's lost count (negative with duplicates). */
  get lost(): number {
    return this.expected - this.packets;
  }

  /**
   * Account one packet. `arrivalMs` is the arrival time in ms on any fixed origin (callscope
   * uses the stream's first packet); `clockRate` the payload's statistics clock (0 = none).
   */
  update(seq: number, timestamp: number, payloadType: number, marker: boolean, arrivalMs: number, clockRate: number): void {
    if (this.first) {
      this.first = false;
      this.startSeq = seq;
      this.stopSeq = seq;
      this.seqNum = seq;
      this.startMs = arrivalMs;
      this.firstTimestamp = timestamp;
      this.timeMs = arrivalMs;
      this.lastNominalMs = 0;
      this.lastPt = payloadType;
      this.packets = 1;
      return;
    }
    let flags = 0;
    // Timestamp at or after the first packet's (mod 2^32, within half the range).
    const first = this.firstTimestamp;
    let inTimeSequence: boolean;
    if (first <= timestamp) inTimeSequence = timestamp - first < 0x80000000;
    else inTimeSequence = 0xffffffff - first + timestamp < 0x80000000;
    if (!inTimeSequence) flags |= FLAG_WRONG_TIMESTAMP;

    if (inTimeSequence) {
      if (seq < this.startSeq && !this.under) {
        this.cycles++;
        this.under = true;
      } else if (seq === 0 && this.stopSeq === 65535 && !this.under) {
        this.cycles++;
        this.under = true;
      } else if (seq > this.startSeq && this.under) {
        this.under = false;
      }
    }

    if (inTimeSequence && this.seqNum + 1 === seq) {
      this.seqNum = seq;
    } else if (inTimeSequence && this.seqNum === 65535 && seq === 0) {
      this.seqNum = seq;
    } else if (inTimeSequence && (this.seqNum + 1 < seq || this.seqNum - seq > 0xff00)) {
      // A forward jump, or a huge backward one taken as lost packets around the wrap (#5958).
      this.seqNum = seq;
      this.sequenceErrors++;
      flags |= FLAG_WRONG_SEQ;
    } else if (this.seqNum + 1 > seq) {
      // Late or duplicated.
      this.sequenceErrors++;
      flags |= FLAG_WRONG_SEQ;
    }

    if (payloadType === PT_CN || payloadType === PT_CN_OLD) flags |= FLAG_PT_CN;
    if (this.lastPt === PT_CN || this.lastPt === PT_CN_OLD) flags |= FLAG_FOLLOW_PT_CN;
    this.lastPt = payloadType;

    let currentJitter = 0;
    if (inTimeSequence) {
      if (clockRate !== 0) {
        this.clockRate = clockRate;
        // (ts - first) mod 2^32, divided by the *integer* kHz as Wireshark's guint32 division.
        let nominal = timestamp - first;
        if (nominal < 0) nominal += TWO_POW_32;
        const nominalMs = nominal / Math.trunc(clockRate / 1000);
        const expectedMs = this.timeMs + (nominalMs - this.lastNominalMs);
        const diff = Math.abs(arrivalMs - expectedMs);
        currentJitter = (15 * this.jitterMs + diff) / 16;
        this.deltaMs = arrivalMs - this.timeMs;
        this.jitterMs = currentJitter;
        this.lastNominalMs = nominalMs;
        const skew = nominalMs - (arrivalMs - this.startMs);
        if (Math.abs(skew) > Math.abs(this.maxSkewMs)) this.maxSkewMs = skew;
      } else {
        this.deltaMs = arrivalMs - this.timeMs;
      }
    }
    if (marker) flags |= FLAG_MARKER;

    if ((flags & (FLAG_FIRST | FLAG_MARKER | FLAG_PT_CN | FLAG_WRONG_TIMESTAMP | FLAG_FOLLOW_PT_CN)) === 0) {
      const delta = this.deltaMs;
      if (delta > this.maxDeltaMs) this.maxDeltaMs = delta;
      if (this.minDeltaMs === -1 || delta < this.minDeltaMs) this.minDeltaMs = delta;
      // Wireshark divides by total_nr before the increment: the number of deltas so far.
      this.meanDeltaMs = (this.meanDeltaMs * (this.packets - 1) + delta) / this.packets;
      if (clockRate !== 0) {
        if (this.jitterMs > this.maxJitterMs) this.maxJitterMs = this.jitterMs;
        this.meanJitterMs = (this.meanJitterMs * (this.packets - 1) + currentJitter) / this.packets;
        if (this.minJitterMs === -1 || this.jitterMs < this.minJitterMs) this.minJitterMs = this.jitterMs;
      }
    }
    if ((flags & (FLAG_WRONG_SEQ | FLAG_WRONG_TIMESTAMP)) !== 0) this.problem = true;
    if (inTimeSequence) this.timeMs = arrivalMs;
    this.stopSeq = seq;
    this.packets++;
  }
}
