import { XR_UNAVAILABLE, type RtcpCompound } from './rtcp-compound.js';

/** Sender reports remembered for LSR matching (per session). */
const SR_HISTORY = 16;
/** Default number of reported-on sources tracked per session. */
const DEFAULT_SOURCES = 8;

/**
 * RTCP view of one RTP session (both directions of a call feed the same object): per reported
 * source SSRC the latest receiver-report figures, the round-trip time derived from LSR/DLSR,
 * and the XR VoIP metrics when a reporter sends them.
 *
 * Round-trip time (RFC 3550 §6.4.1): the probe records the arrival of each SR with the middle 32
 * bits of its NTP timestamp; when a report block later echoes that value as LSR, the probe-side
 * round trip is `arrival(RR) - arrival(SR) - DLSR / 65536 s`. This is the round trip between the
 * probe and the reporter (the probe sits on the path, not at the SR's sender); for a probe next to
 * one endpoint it is that endpoint's RTT.
 *
 * Fixed typed arrays; an update allocates nothing. When more sources appear than the table
 * holds, the oldest entry is reused and `evicted` counts it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1
 * @see https://www.rfc-editor.org/rfc/rfc3611#section-4.7
 */
export class RtcpSessionStats {
  /** RTCP compounds accounted. */
  compounds = 0;
  /** Report blocks whose LSR matched a sender report seen by the probe. */
  rttSamples = 0;
  /** Source entries reused because the table was full. */
  evicted = 0;
  /** Number of valid source entries. */
  sources = 0;
  /** Source SSRC per entry. */
  readonly ssrc: Uint32Array;
  /** Receiver reports about the source. */
  readonly reports: Uint32Array;
  /** Latest fraction lost, * 256. */
  readonly fractionLost: Uint8Array;
  /** Latest cumulative lost (signed). */
  readonly cumulativeLost: Int32Array;
  /** Latest extended highest sequence number. */
  readonly highestSeq: Uint32Array;
  /** Latest interarrival jitter, RTP timestamp units. */
  readonly jitter: Uint32Array;
  /** Largest reported jitter, RTP timestamp units. */
  readonly maxJitter: Uint32Array;
  /** Latest round-trip time, ms (NaN until measured). */
  readonly rttMs: Float64Array;
  /** Largest round-trip time, ms (NaN until measured). */
  readonly maxRttMs: Float64Array;
  /** XR VoIP metrics MOS-LQ * 10 (127 = none received). */
  readonly xrMosLq: Uint8Array;
  /** XR VoIP metrics MOS-CQ * 10 (127 = none received). */
  readonly xrMosCq: Uint8Array;
  /** XR VoIP metrics R factor (127 = none received). */
  readonly xrRFactor: Uint8Array;
  /** XR VoIP metrics loss rate * 256. */
  readonly xrLossRate: Uint8Array;
  /** XR VoIP metrics discard rate * 256. */
  readonly xrDiscardRate: Uint8Array;

  private readonly srSsrc = new Uint32Array(SR_HISTORY);
  private readonly srMiddle = new Uint32Array(SR_HISTORY);
  private readonly srArrivalMs = new Float64Array(SR_HISTORY);
  private srCount = 0;
  private readonly lastUsed: Float64Array;
  private originSec = -1;
  private originNsec = 0;

  constructor(readonly capacity = DEFAULT_SOURCES) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity ${capacity} must be a positive integer`);
    this.ssrc = new Uint32Array(capacity);
    this.reports = new Uint32Array(capacity);
    this.fractionLost = new Uint8Array(capacity);
    this.cumulativeLost = new Int32Array(capacity);
    this.highestSeq = new Uint32Array(capacity);
    this.jitter = new Uint32Array(capacity);
    this.maxJitter = new Uint32Array(capacity);
    this.rttMs = new Float64Array(capacity).fill(Number.NaN);
    this.maxRttMs = new Float64Array(capacity).fill(Number.NaN);
    this.xrMosLq = new Uint8Array(capacity).fill(XR_UNAVAILABLE);
    this.xrMosCq = new Uint8Array(capacity).fill(XR_UNAVAILABLE);
    this.xrRFactor = new Uint8Array(capacity).fill(XR_UNAVAILABLE);
    this.xrLossRate = new Uint8Array(capacity);
    this.xrDiscardRate = new Uint8Array(capacity);
    this.lastUsed = new Float64Array(capacity);
  }

  /** Account one parsed compound (status `Ok`) that arrived at `tsSec`/`tsNsec`. */
  update(c: RtcpCompound, tsSec: number, tsNsec: number): void {
    if (this.originSec < 0) {
      this.originSec = tsSec;
      this.originNsec = tsNsec;
    }
    const now = (tsSec - this.originSec) * 1000 + (tsNsec - this.originNsec) / 1e6;
    this.compounds++;
    if (c.hasSenderReport) {
      const slot = this.srCount % SR_HISTORY;
      this.srSsrc[slot] = c.srSsrc;
      // Middle 32 bits of the 64-bit NTP timestamp, as echoed in LSR.
      this.srMiddle[slot] = (((c.srNtpSec & 0xffff) << 16) | (c.srNtpFrac >>> 16)) >>> 0;
      this.srArrivalMs[slot] = now;
      this.srCount++;
    }
    for (let i = 0; i < c.reportCount; i++) {
      const e = this.entry(c.reportSource[i]!, now);
      this.reports[e]!++;
      this.fractionLost[e] = c.reportFractionLost[i]!;
      this.cumulativeLost[e] = c.reportCumulativeLost[i]!;
      this.highestSeq[e] = c.reportHighestSeq[i]!;
      const j = c.reportJitter[i]!;
      this.jitter[e] = j;
      if (j > this.maxJitter[e]!) this.maxJitter[e] = j;
      const lsr = c.reportLsr[i]!;
      if (lsr !== 0) {
        const srAt = this.findSr(c.reportSource[i]!, lsr);
        if (srAt >= 0) {
          const rtt = now - srAt - (c.reportDlsr[i]! * 1000) / 65536;
          // A negative value means the SR seen was not the one echoed (clock or capture order).
          if (rtt >= 0) {
            this.rttMs[e] = rtt;
            const max = this.maxRttMs[e]!;
            if (Number.isNaN(max) || rtt > max) this.maxRttMs[e] = rtt;
            this.rttSamples++;
          }
        }
      }
    }
    for (let i = 0; i < c.voipMetricsCount; i++) {
      const m = c.voipMetrics[i]!;
      const e = this.entry(m.sourceSsrc, now);
      this.xrMosLq[e] = m.mosLq;
      this.xrMosCq[e] = m.mosCq;
      this.xrRFactor[e] = m.rFactor;
      this.xrLossRate[e] = m.lossRate;
      this.xrDiscardRate[e] = m.discardRate;
    }
  }

  /** Entry index of a source SSRC, or -1. */
  indexOf(ssrc: number): number {
    const key = ssrc >>> 0;
    for (let i = 0; i < this.sources; i++) if (this.ssrc[i] === key) return i;
    return -1;
  }

  /** Latest reported jitter of entry `i` in ms, with the source's RTP clock rate. */
  jitterMs(i: number, clockRate: number): number {
    return clockRate > 0 ? (this.jitter[i]! * 1000) / clockRate : Number.NaN;
  }

  /** Latest fraction lost of entry `i`, percent. */
  fractionLostPercent(i: number): number {
    return (this.fractionLost[i]! * 100) / 256;
  }

  private entry(ssrc: number, now: number): number {
    const found = this.indexOf(ssrc);
    if (found >= 0) {
      this.lastUsed[found] = now;
      return found;
    }
    let e: number;
    if (this.sources < this.capacity) {
      e = this.sources++;
    } else {
      e = 0;
      for (let i = 1; i < this.capacity; i++) if (this.lastUsed[i]! < this.lastUsed[e]!) e = i;
      this.evicted++;
    }
    this.ssrc[e] = ssrc >>> 0;
    this.reports[e] = 0;
    this.fractionLost[e] = 0;
    this.cumulativeLost[e] = 0;
    this.highestSeq[e] = 0;
    this.jitter[e] = 0;
    this.maxJitter[e] = 0;
    this.rttMs[e] = Number.NaN;
    this.maxRttMs[e] = Number.NaN;
    this.xrMosLq[e] = XR_UNAVAILABLE;
    this.xrMosCq[e] = XR_UNAVAILABLE;
    this.xrRFactor[e] = XR_UNAVAILABLE;
    this.xrLossRate[e] = 0;
    this.xrDiscardRate[e] = 0;
    this.lastUsed[e] = now;
    return e;
  }

  private findSr(ssrc: number, middle: number): number {
    const n = Math.min(this.srCount, SR_HISTORY);
    for (let k = 0; k < n; k++) {
      const slot = (this.srCount - 1 - k) % SR_HISTORY;
      if (this.srSsrc[slot] === ssrc && this.srMiddle[slot] === middle) return this.srArrivalMs[slot]!;
    }
    return -1;
  }
}
