import { Codec, PayloadTypeMap } from './codec.js';
import { G711_NO_PLC, burstRatio, codecImpairment, eModelR, rToMos } from './e-model.js';
import { PlayoutBuffer, PlayoutBufferKind } from './playout-buffer.js';
import { WiresharkRtpAnalysis } from './wireshark-rtp-analysis.js';

/** The header fields the statistics read (an {@link RtpHeader} qualifies). */
export interface RtpPacketFields {
  /** 16-bit sequence number. */
  readonly sequenceNumber: number;
  /** 32-bit RTP timestamp. */
  readonly timestamp: number;
  /** Payload type 0..127. */
  readonly payloadType: number;
  /** Marker bit. */
  readonly marker: boolean;
}

/** Index of each simulated jitter buffer in the MOS arrays. */
export const JitterBufferIndex = {
  /** Fixed 50 ms (mos_f1). */
  Fixed50: 0,
  /** Fixed 200 ms (mos_f2). */
  Fixed200: 1,
  /** Adaptive up to 500 ms (mos_adapt). */
  Adaptive500: 2,
} as const;

/** One of the {@link JitterBufferIndex} values. */
export type JitterBufferIndex = (typeof JitterBufferIndex)[keyof typeof JitterBufferIndex];

/** Upper edges (ms) of the packet-delay-variation buckets; a last bucket takes >= 300 ms. */
export const PDV_BUCKET_EDGES_MS: readonly number[] = [50, 70, 90, 120, 150, 200, 300];

/** Options of {@link RtpStreamStats}; all optional. */
export interface RtpStreamStatsOptions {
  /** Payload-type map of the session (SDP rtpmap); default: static assignments only. */
  payloadTypes?: PayloadTypeMap;
  /** How many 10-second interval MOS values to keep (a ring of the most recent); default 360 (1 h). */
  intervalCapacity?: number;
  /** Interval length in ms; default 10000. */
  intervalMs?: number;
  /** Assumed one-way network delay in ms for the E-model delay impairment; default 0 (see README). */
  networkDelayMs?: number;
  /** Whether G.711 receivers conceal loss (G.711 Appendix I); default true. */
  g711Plc?: boolean;
}

/** Reordering window in packets: slots are judged once they are this far behind the highest. */
const WINDOW = 128;
const WINDOW_MASK = WINDOW - 1;
/** RFC 3550 A.1 constants. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const SEQ_MOD = 65536;
/** An interval with fewer judged packets than this gets no MOS (too little to rate). */
const MIN_INTERVAL_SLOTS = 25;
/** Loss-state tracks: 0 = network (received at all), 1..3 = played by each jitter buffer. */
const TRACKS = 4;
const BUFFERS = 3;
const RECEIVED_BIT = 1;
const ALL_PLAYED = 0b1110;
const TRACK_MASK = 0b1111;

/**
 * Statistics of one RTP stream (one SSRC on one 5-tuple): Wireshark's numbers
 * ({@link RtpStreamStats.wireshark}), RFC 3550 A.1/A.3 sequence accounting, duplicates,
 * reordering, loss bursts, packet-delay variation, and E-model MOS behind three simulated jitter
 * buffers, for the whole stream and per 10-second interval.
 *
 * Everything is preallocated in the constructor; {@link RtpStreamStats.update} allocates nothing.
 * Call {@link RtpStreamStats.finish} once at stream end before reading loss/MOS figures (the last
 * {@link WINDOW} packets wait there for reordered arrivals).
 */
export class RtpStreamStats {
  /** Wireshark-compatible analysis (packets, lost, sequence errors, delta, jitter). */
  readonly wireshark = new WiresharkRtpAnalysis();
  /** The session's payload-type map. */
  readonly payloadTypes: PayloadTypeMap;

  /** Packets received, duplicates included. */
  packets = 0;
  /** Payload bytes received. */
  payloadBytes = 0;
  /** Packets whose extended sequence number was already received (within the window). */
  duplicates = 0;
  /** Packets arriving after a higher sequence number (late/reordered, duplicates excluded). */
  reordered = 0;
  /** Reordered packets so late that their slot had already been judged lost. */
  tooLate = 0;
  /** Sequence jumps beyond RFC 3550 MAX_DROPOUT; two in a row re-synchronise the numbering. */
  sequenceJumps = 0;
  /** Packets left out of the sequence accounting: the first packet of each out-of-range jump. */
  unplaced = 0;
  /** First extended sequence number (RFC 3550 A.1 base_seq). */
  baseExtSeq = 0;
  /** Highest extended sequence number received (RFC 3550 A.1). */
  highestExtSeq = 0;
  /** Loss bursts by length: index 0..8 = 1..9 packets, index 9 = 10 or more. */
  readonly lossBursts = new Uint32Array(10);
  /** Packets per delay-variation bucket (see {@link PDV_BUCKET_EDGES_MS}; 8 buckets). */
  readonly pdvBuckets = new Uint32Array(PDV_BUCKET_EDGES_MS.length + 1);
  /** Arrival time of the first packet (capture seconds / nanoseconds). */
  firstSec = 0;
  /** Nanoseconds part of the first arrival. */
  firstNsec = 0;
  /** Arrival of the last packet, seconds. */
  lastSec = 0;
  /** Nanoseconds part of the last arrival. */
  lastNsec = 0;
  /** Payload type of the last packet. */
  payloadType = -1;
  /** Codec of the last audio packet (telephone-event and CN do not change it). */
  codec: Codec = Codec.Unknown;
  /** Packetisation time estimated from consecutive packets, ms. */
  frameMs = 20;
  /** The three simulated jitter buffers, indexed by {@link JitterBufferIndex}. */
  readonly buffers: readonly PlayoutBuffer[] = [
    new PlayoutBuffer(PlayoutBufferKind.Fixed, 50),
    new PlayoutBuffer(PlayoutBufferKind.Fixed, 200),
    new PlayoutBuffer(PlayoutBufferKind.Adaptive, 50, 500),
  ];
  /** Capacity of the interval ring. */
  readonly intervalCapacity: number;
  /** Intervals rated so far (the ring keeps the last `intervalCapacity`). */
  intervalCount = 0;
  /** Interval MOS ring: `[slot * 3 + buffer]`. */
  readonly intervalMos: Float32Array;
  /** Interval number (from stream start) of each ring slot. */
  readonly intervalIndex: Int32Array;
  /** Lowest interval MOS per buffer (NaN until one interval is rated). */
  readonly minIntervalMos = new Float64Array(BUFFERS).fill(Number.NaN);
  /** Assumed one-way network delay, ms (settable, e.g. from RTCP RTT / 2). */
  networkDelayMs: number;

  private readonly intervalMs: number;
  private readonly g711Plc: boolean;
  private started = false;
  private finished = false;
  // RFC 3550 A.1 state
  private maxSeq = 0;
  private cycles = 0;
  private badSeq = -1;
  private judgedUpTo = 0;
  // Timestamp unwrapping and transit
  private lastTs = 0;
  private extTs = 0;
  private lastSeq = 0;
  // Reordering window
  private readonly slotFlags = new Uint8Array(WINDOW);
  private readonly slotInterval = new Int32Array(WINDOW);
  private lastInterval = 0;
  private currentInterval = 0;
  private netRun = 0;
  // Loss tracks: totals and current interval. [track]
  private prevState = -1;
  private readonly total = new TrackCounters();
  private readonly interval = new TrackCounters();

  constructor(options: RtpStreamStatsOptions = {}) {
    this.payloadTypes = options.payloadTypes ?? new PayloadTypeMap();
    const cap = options.intervalCapacity ?? 360;
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`intervalCapacity ${cap} must be a positive integer`);
    this.intervalCapacity = cap;
    this.intervalMos = new Float32Array(cap * BUFFERS);
    this.intervalIndex = new Int32Array(cap);
    this.intervalMs = options.intervalMs ?? 10_000;
    if (!(this.intervalMs > 0)) throw new RangeError(`intervalMs ${this.intervalMs} must be > 0`);
    this.networkDelayMs = options.networkDelayMs ?? 0;
    this.g711Plc = options.g711Plc ?? true;
  }

  /**
   * Account one RTP packet: header fields, capture arrival time as integer seconds and
   * nanoseconds, payload length in bytes. Allocates nothing.
   */
  update(h: RtpPacketFields, tsSec: number, tsNsec: number, payloadLength: number): void {
    if (!this.started) {
      this.started = true;
      this.firstSec = tsSec;
      this.firstNsec = tsNsec;
    }
    this.lastSec = tsSec;
    this.lastNsec = tsNsec;
    // Relative to the stream's first packet: exact integers in, well inside double precision.
    const arrivalMs = (tsSec - this.firstSec) * 1000 + (tsNsec - this.firstNsec) / 1e6;
    const seq = h.sequenceNumber & 0xffff;
    const ts = h.timestamp >>> 0;
    const pt = h.payloadType & 0x7f;
    const pts = this.payloadTypes;
    const clock = pts.statsClockRate(pt);
    this.wireshark.update(seq, ts, pt, h.marker, arrivalMs, clock);
    this.packets++;
    this.payloadBytes += payloadLength;
    this.payloadType = pt;
    const codec = pts.codec[pt]! as Codec;
    if (codec !== Codec.TelephoneEvent && codec !== Codec.CN) this.codec = codec;

    // Timestamp unwrapping by signed 32-bit steps; packetisation from consecutive packets.
    const first = this.packets === 1;
    if (first) {
      this.lastTs = ts;
      this.extTs = 0;
    } else {
      const step = (ts - this.lastTs) | 0;
      if (step > 0 && clock > 0 && seq === ((this.lastSeq + 1) & 0xffff) && codec !== Codec.TelephoneEvent) {
        this.frameMs = (step * 1000) / clock;
      }
      this.extTs += step;
      this.lastTs = ts;
    }
    this.lastSeq = seq;

    const ext = this.extendSequence(seq, first);
    if (ext < 0) return; // a first out-of-range jump: counted, not placed
    const interval = Math.floor(arrivalMs / this.intervalMs);

    if (ext > this.highestExtSeq || first) {
      this.highestExtSeq = ext;
      this.judgeUpTo(ext - WINDOW);
    } else if (ext <= this.judgedUpTo) {
      this.reordered++;
      this.tooLate++;
      return;
    } else {
      const f = this.slotFlags[ext & WINDOW_MASK]!;
      if ((f & RECEIVED_BIT) !== 0) {
        this.duplicates++;
        return;
      }
      this.reordered++;
    }
    const idx = ext & WINDOW_MASK;
    this.slotInterval[idx] = interval;
    let flags = RECEIVED_BIT;
    if (clock > 0) {
      const transitMs = arrivalMs - (this.extTs * 1000) / clock;
      const buffers = this.buffers;
      for (let b = 0; b < BUFFERS; b++) {
        if (buffers[b]!.offer(transitMs, arrivalMs, h.marker)) flags |= 2 << b;
      }
      this.countPdv(buffers[0]!.lastLatenessMs);
    } else {
      // telephone-event / unknown clock: no timeline to judge; never played as audio anyway.
      flags |= ALL_PLAYED;
    }
    this.slotFlags[idx] = flags;
  }

  /**
   * Judge every slot still waiting in the reordering window and rate the last interval. Call
   * once when the stream ends; later calls do nothing.
   */
  finish(): void {
    if (this.finished || !this.started) return;
    this.finished = true;
    this.judgeUpTo(this.highestExtSeq);
    this.closeInterval();
  }

  /** RFC 3550 A.1 expected packets: highest - base + 1 (0 before any packet). */
  get expected(): number {
    return this.started ? this.highestExtSeq - this.baseExtSeq + 1 : 0;
  }

  /**
   * RFC 3550 A.3 cumulative lost = expected - received (negative with duplicates); packets of
   * an out-of-range jump that never became the new numbering are not "received" here.
   */
  get lost(): number {
    return this.expected - (this.packets - this.unplaced);
  }

  /** Slots judged so far (equals {@link RtpStreamStats.expected} after finish). */
  get judged(): number {
    return this.total.expected;
  }

  /** Packets lost for a loss track after finish: 0 = network, 1..3 = buffer index + 1. */
  trackLost(track: number): number {
    return track >= 0 && track < TRACKS ? this.total.lost(track) : 0;
  }

  /** Effective loss in percent behind a jitter buffer (network loss + late packets). */
  lossPercent(buffer: JitterBufferIndex): number {
    const n = this.total.expected;
    return n === 0 ? 0 : (this.total.lost(buffer + 1) * 100) / n;
  }

  /** Burst ratio of the effective loss pattern behind a jitter buffer (G.113 Markov model). */
  burstRatio(buffer: JitterBufferIndex): number {
    return trackBurstRatio(this.total, buffer + 1);
  }

  /** MOS for the whole stream behind one jitter buffer (mos_f1 / mos_f2 / mos_adapt). */
  mos(buffer: JitterBufferIndex): number {
    return this.rate(this.total, buffer);
  }

  /** One-way delay assumed for a buffer: network + mean buffer depth + one frame, ms. */
  oneWayDelayMs(buffer: JitterBufferIndex): number {
    return this.networkDelayMs + this.buffers[buffer]!.meanDepthMs + this.frameMs;
  }

  /** Number of interval values held in the ring (at most the capacity). */
  get intervalsKept(): number {
    return Math.min(this.intervalCount, this.intervalCapacity);
  }

  /**
   * MOS of the i-th kept interval (0 = oldest kept) for one buffer; NaN when out of range.
   * Intervals with fewer than 25 judged packets are not rated and not stored.
   */
  intervalMosAt(i: number, buffer: JitterBufferIndex): number {
    const kept = this.intervalsKept;
    if (!(i >= 0 && i < kept)) return Number.NaN;
    const slot = (this.intervalCount - kept + i) % this.intervalCapacity;
    return this.intervalMos[slot * BUFFERS + buffer]!;
  }

  private rate(c: TrackCounters, buffer: number): number {
    if (c.expected === 0) return Number.NaN;
    const track = buffer + 1;
    const loss = (c.lost(track) * 100) / c.expected;
    const imp = this.codec === Codec.PCMU || this.codec === Codec.PCMA ? (this.g711Plc ? codecImpairment(this.codec) : G711_NO_PLC) : codecImpairment(this.codec);
    const delay = this.networkDelayMs + this.buffers[buffer]!.meanDepthMs + this.frameMs;
    return rToMos(eModelR(imp, loss, trackBurstRatio(c, track), delay));
  }

  /** RFC 3550 A.1 update_seq, without probation: returns the extended number, or -1 for a jump. */
  private extendSequence(seq: number, first: boolean): number {
    if (first) {
      this.maxSeq = seq;
      this.cycles = 0;
      this.baseExtSeq = seq;
      this.highestExtSeq = seq;
      this.judgedUpTo = seq - 1;
      return seq;
    }
    const udelta = (seq - this.maxSeq + SEQ_MOD) & 0xffff;
    if (udelta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += SEQ_MOD;
      this.maxSeq = seq;
      this.badSeq = -1;
      return this.cycles + seq;
    }
    if (udelta <= SEQ_MOD - MAX_MISORDER) {
      this.sequenceJumps++;
      if (seq !== this.badSeq) {
        this.badSeq = (seq + 1) & 0xffff;
        this.unplaced++;
        return -1;
      }
      // Two sequential packets after a jump: the source restarted its numbering. Judge what is
      // pending, then continue the extended numbering right after the highest seen.
      this.judgeUpTo(this.highestExtSeq);
      this.cycles = this.highestExtSeq + 1 - seq;
      this.maxSeq = seq;
      this.badSeq = -1;
      return this.cycles + seq;
    }
    // Duplicate or reordered within MAX_MISORDER behind maxSeq.
    let ext = this.cycles + seq;
    if (seq > this.maxSeq) ext -= SEQ_MOD;
    return ext;
  }

  /** Judge slots up to `upTo` inclusive, in sequence order. */
  private judgeUpTo(upTo: number): void {
    // Only (judgedUpTo, judgedUpTo + WINDOW] can hold received packets; beyond is a plain gap.
    const ringEnd = Math.min(upTo, this.judgedUpTo + WINDOW);
    let s = this.judgedUpTo + 1;
    for (; s <= ringEnd; s++) {
      const idx = s & WINDOW_MASK;
      const f = this.slotFlags[idx]!;
      this.slotFlags[idx] = 0;
      this.judgeSlot(f, (f & RECEIVED_BIT) !== 0 ? this.slotInterval[idx]! : this.lastInterval);
    }
    for (; s <= upTo; s++) this.judgeSlot(0, this.lastInterval);
    if (upTo > this.judgedUpTo) this.judgedUpTo = upTo;
  }

  private judgeSlot(flags: number, interval: number): void {
    if (interval > this.currentInterval) {
      this.closeInterval();
      this.currentInterval = interval;
    }
    this.lastInterval = interval;
    if ((flags & RECEIVED_BIT) === 0) {
      this.netRun++;
    } else if (this.netRun > 0) {
      this.lossBursts[Math.min(this.netRun, 10) - 1]!++;
      this.netRun = 0;
    }
    const state = flags & TRACK_MASK;
    const prev = this.prevState;
    this.total.add(prev, state);
    this.interval.add(prev, state);
    this.prevState = state;
  }

  private closeInterval(): void {
    const iv = this.interval;
    if (iv.expected >= MIN_INTERVAL_SLOTS) {
      const slot = this.intervalCount % this.intervalCapacity;
      this.intervalIndex[slot] = this.currentInterval;
      for (let b = 0; b < BUFFERS; b++) {
        const mos = this.rate(iv, b);
        this.intervalMos[slot * BUFFERS + b] = mos;
        const min = this.minIntervalMos[b]!;
        if (Number.isNaN(min) || mos < min) this.minIntervalMos[b] = mos;
      }
      this.intervalCount++;
    }
    iv.reset();
  }

  private countPdv(latenessMs: number): void {
    const edges = PDV_BUCKET_EDGES_MS;
    let i = 0;
    while (i < edges.length && latenessMs >= edges[i]!) i++;
    this.pdvBuckets[i]!++;
  }
}

/**
 * Loss-track counters. Per judged slot only two increments: a histogram of the 4-bit track
 * state (bit k = track k ok) and of (previous state, state) pairs; per-track losses and Markov
 * transitions are summed from them when a MOS is computed, keeping the per-packet cost flat.
 */
class TrackCounters {
  expected = 0;
  readonly state = new Uint32Array(16);
  readonly pairs = new Uint32Array(256);

  add(prev: number, state: number): void {
    this.expected++;
    this.state[state]!++;
    if (prev >= 0) this.pairs[(prev << 4) | state]!++;
  }

  /** Slots lost on track k. */
  lost(k: number): number {
    let n = 0;
    for (let s = 0; s < 16; s++) if (((s >> k) & 1) === 0) n += this.state[s]!;
    return n;
  }

  /** Transition counts on track k: [from ok, ok -> lost, from lost, lost -> ok]. */
  transitions(k: number, out: Float64Array): void {
    let fromOk = 0;
    let okToLost = 0;
    let fromLost = 0;
    let lostToOk = 0;
    for (let i = 0; i < 256; i++) {
      const c = this.pairs[i]!;
      if (c === 0) continue;
      const was = (i >> (4 + k)) & 1;
      const now = (i >> k) & 1;
      if (was === 1) {
        fromOk += c;
        if (now === 0) okToLost += c;
      } else {
        fromLost += c;
        if (now === 1) lostToOk += c;
      }
    }
    out[0] = fromOk;
    out[1] = okToLost;
    out[2] = fromLost;
    out[3] = lostToOk;
  }

  reset(): void {
    this.expected = 0;
    this.state.fill(0);
    this.pairs.fill(0);
  }
}

const scratch = new Float64Array(4);

function trackBurstRatio(c: TrackCounters, track: number): number {
  c.transitions(track, scratch);
  return burstRatio(scratch[1]!, scratch[0]!, scratch[3]!, scratch[2]!);
}
