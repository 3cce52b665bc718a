import { Codec, PayloadTypeMap, payloadTypeMapsEpoch } from './codec.js';
import { G711_NO_PLC, burstRatio, codecImpairment, eModelR, rToMos, type CodecImpairment } from './e-model.js';
import {
  PlayoutBuffer,
  PlayoutBufferKind,
  initPlayoutGroupBuffer,
  offerPlayoutGroup,
  playoutGroupLatenessMs,
  playoutGroupLength,
  playoutGroupMeanDepthMs,
} from './playout-buffer.js';
import { StateSlabs } from './state-slabs.js';
import {
  WIRESHARK_STATE_LENGTH,
  WiresharkRtpAnalysis,
  initWiresharkState,
  updateWiresharkState,
  wiresharkJitterMs,
  wiresharkLost,
  wiresharkMaxJitterMs,
} from './wireshark-rtp-analysis.js';

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

/**
 * One codec a stream carried (README "Jitter buffers and MOS"): its payload type, the codec the
 * session's map gave it, and the arrival of its first packet in ms after the stream's first
 * packet (add {@link RtpStreamStats.firstSec}/`firstNsec` for wall-clock time).
 */
export interface RtpCodecUse {
  /** Payload type 0..127. */
  readonly pt: number;
  /** Codec of the payload type (`Codec`). */
  readonly codec: Codec;
  /** Arrival of its first packet, whole ms (floor) from the stream's first packet. */
  readonly firstMs: number;
}

/** Codec changes a stream records; later ones are counted in {@link RtpStreamStats.codecsOverflow}. */
export const RTP_CODEC_LOG_CAPACITY = 32;

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

/** Doubles of a stream's state block reserved for its owner (see {@link RtpStreamStats.stateBlock}). */
export const RTP_STREAM_OWNER_WORDS = 5;
const OWNER_WORDS = RTP_STREAM_OWNER_WORDS;
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
 * A judged slot's 4-bit track state is 0 (not received, so not played either) or odd (received
 * plus played bits): 9 possible states, histogram index `(state + 1) >> 1`.
 */
const STATE_HISTOGRAM = 9;
/** Interval MOS ring slots inside the state block; beyond, a separate ring doubling up to the capacity. */
const BLOCK_INTERVALS = 8;
/** Slot entries keep the interval number in a signed 12-bit field (see I_SLOTS). */
const NARROW_INTERVAL_MIN = -2048;
const NARROW_INTERVAL_MAX = 2047;
const LOSS_BURST_BUCKETS = 10;
const PDV_BUCKETS = PDV_BUCKET_EDGES_MS.length + 1;
const PDV_FIRST_EDGE_MS = PDV_BUCKET_EDGES_MS[0]!;
/**
 * Timestamp jump: a packet whose timestamp step from the packet before it (same payload type)
 * differs from (sequence step x packetisation time) by more than max(this many ms, one
 * packetisation time) starts a new jitter-buffer timeline.
 */
const TS_JUMP_MS = 20;

// ---------------------------------------------------------------------------------------------
// Per-stream state block (1348 bytes, 1352 apart in a slab shared by 256 streams), 93 doubles
// then 151 32-bit integers:
//   [cold doubles | owner words | hot doubles: stream, Wireshark analysis, jitter-buffer group |
//    hot integers: loss-track histogram, PDV buckets, reordering window | cold integers]
// so that a packet in sequence touches one run of ~12 adjacent cache lines (updateAt reads
// nothing else on that path). With 20 000 interleaved streams each packet finds its stream cold
// in cache: the number of distinct lines and objects touched is what costs, not the arithmetic.
// Every value that was a JS number before stays a double (same arithmetic, same results);
// integers are the former typed-array counters, slot flags and interval numbers.
// ---------------------------------------------------------------------------------------------
// Float64 indices. Cold first (read when an interval closes, on reordering or a figure read),
// so that the hot doubles run straight into the hot integers.
const S_CUR_START_PREV = 0;
const S_FINISHED = 1;
const S_INTERVAL_COUNT = 2;
const S_NETWORK_DELAY = 3;
const S_MIN_INTERVAL_MOS = 4;
/** Slots judged in the closed intervals. */
const S_T_EXPECTED = S_MIN_INTERVAL_MOS + BUFFERS;
const S_INTERVAL_CAPACITY = S_T_EXPECTED + 1;
const S_G711_PLC = S_INTERVAL_CAPACITY + 1;
/** Slots of the interval MOS ring allocated so far. */
const S_RING_LENGTH = S_G711_PLC + 1;
const S_DUPLICATES = S_RING_LENGTH + 1;
const S_REORDERED = S_RING_LENGTH + 2;
const S_TOO_LATE = S_RING_LENGTH + 3;
const S_SEQUENCE_JUMPS = S_RING_LENGTH + 4;
const S_UNPLACED = S_RING_LENGTH + 5;
const S_BASE_EXT_SEQ = S_RING_LENGTH + 6;
// Words the stream's owner may use for its own per-packet fields (see RTP_STREAM_OWNER_WORDS):
// first in the hot run, so that matching a packet to its stream reads the line the update reads.
const S_OWNER = S_RING_LENGTH + 7;
// Hot: every packet of a stream in sequence reads or writes these.
const S_HOT = S_OWNER + OWNER_WORDS;
const S_PACKETS = S_HOT;
const S_FIRST_SEC = S_HOT + 1;
const S_FIRST_NSEC = S_HOT + 2;
const S_LAST_SEC = S_HOT + 3;
const S_LAST_NSEC = S_HOT + 4;
const S_PAYLOAD_BYTES = S_HOT + 5;
const S_PAYLOAD_TYPE = S_HOT + 6;
const S_CODEC = S_HOT + 7;
// The last payload type's map lookup and the map version it was made at.
const S_LOOKUP_PT = S_HOT + 8;
const S_LOOKUP_VERSION = S_HOT + 9;
const S_LOOKUP_CLOCK = S_HOT + 10;
const S_LOOKUP_CODEC = S_HOT + 11;
const S_LAST_TS = S_HOT + 12;
const S_EXT_TS = S_HOT + 13;
const S_LAST_SEQ = S_HOT + 14;
const S_FRAME_MS = S_HOT + 15;
const S_INTERVAL_MS = S_HOT + 16;
// RFC 3550 A.1 state
const S_MAX_SEQ = S_HOT + 17;
const S_CYCLES = S_HOT + 18;
const S_BAD_SEQ = S_HOT + 19;
const S_HIGHEST_EXT_SEQ = S_HOT + 20;
const S_JUDGED_UP_TO = S_HOT + 21;
// Slot judging
const S_LAST_INTERVAL = S_HOT + 22;
const S_CURRENT_INTERVAL = S_HOT + 23;
const S_NET_RUN = S_HOT + 24;
const S_PREV_STATE = S_HOT + 25;
const S_CUR_EXPECTED = S_HOT + 26;
/** 1 once the slot interval numbers moved to `wideIntervals` (see I_SLOTS). */
const S_WIDE = S_HOT + 27;
const S_WIRESHARK = S_HOT + 28;
const S_BUFFERS = S_WIRESHARK + WIRESHARK_STATE_LENGTH;
const F64_LENGTH = S_BUFFERS + playoutGroupLength(BUFFERS);
const F64_BYTES = F64_LENGTH * 8;
// Int32 indices (the Int32Array starts at F64_BYTES). Counters are read as unsigned (`>>> 0`):
// the same 32-bit wrap as the Uint32Array views handed out.
// Current interval's loss-track counters: state histogram, per-track transitions.
const I_HISTOGRAM = 0;
const I_OK_TO_LOST = I_HISTOGRAM + STATE_HISTOGRAM;
const I_LOST_TO_OK = I_OK_TO_LOST + TRACKS;
const I_PDV = I_LOST_TO_OK + TRACKS;
// Reordering window: one 16-bit entry per slot, two per word: the slot's flags (bits 0..3) and
// the number of the interval its packet arrived in (bits 4..15, signed; interval 0 = the first
// packet's). A stream whose interval numbers leave that range (> 5.6 h at 10 s intervals, or a
// capture clock stepping far back) moves the numbers to a separate Int32Array (`wideIntervals`).
const I_SLOTS = I_PDV + PDV_BUCKETS;
// The first BLOCK_INTERVALS slots of the interval MOS ring: MOS as float32 bits [slot * 3 + b],
// then the interval numbers [slot]; read-only views are made on demand.
const I_RING = I_SLOTS + WINDOW / 2;
const I_LOSS_BURSTS = I_RING + BLOCK_INTERVALS * (BUFFERS + 1);
// Loss-track totals of the closed intervals, per track: lost, fromOk, okToLost, fromLost, lostToOk.
const I_T_LOST = I_LOSS_BURSTS + LOSS_BURST_BUCKETS;
const I_T_FROM_OK = I_T_LOST + TRACKS;
const I_T_OK_TO_LOST = I_T_FROM_OK + TRACKS;
const I_T_FROM_LOST = I_T_OK_TO_LOST + TRACKS;
const I_T_LOST_TO_OK = I_T_FROM_LOST + TRACKS;
const I32_LENGTH = I_T_LOST_TO_OK + TRACKS;
/** Bytes of one stream's state block. */
const STATE_BYTES = F64_BYTES + I32_LENGTH * 4;
/** Distance between blocks in a slab: the next block's doubles stay 8-byte aligned. */
const BLOCK_STRIDE = Math.ceil(STATE_BYTES / 8) * 8;
/** 256 blocks (~350 KB) per slab: few slabs, so their typed-array objects stay in cache. */
const BLOCKS_PER_SLAB_SHIFT = 8;
/** Where every stream's state block lives (see {@link StateSlabs}). */
const slabs = new StateSlabs(BLOCK_STRIDE, BLOCKS_PER_SLAB_SHIFT);

/**
 * The slab (a Float64Array shared by 256 streams) holding state block `block`, for reading a
 * stream's owner words without its object: `rtpStreamSlab(b)[rtpStreamOwnerIndex(b) + i]`.
 */
export function rtpStreamSlab(block: number): Float64Array {
  return slabs.f64Of(block);
}

/** Index in {@link rtpStreamSlab} of owner word 0 of state block `block`. */
export function rtpStreamOwnerIndex(block: number): number {
  return slabs.f64Base(block) + S_OWNER;
}

/**
 * Memory held by the state blocks of all {@link RtpStreamStats} in this process: blocks in use
 * and the bytes of their slabs (free blocks included). The slabs are shared, so a stream's
 * state does not show up as an ArrayBuffer of its own: memory accounting must count it here.
 */
export function rtpStreamStateMemory(): { blocksInUse: number; blockBytes: number; slabBytes: number } {
  return { blocksInUse: slabs.blocksInUse, blockBytes: slabs.blockBytes, slabBytes: slabs.bytesAllocated };
}

/** Key of the hidden property by which a view of a state block keeps its stream alive. */
const OWNER = Symbol('RtpStreamStats');

/** Float32 rounding of interval MOS values, stored as bits in the Int32 ring. */
const f32 = new Float32Array(1);
const f32Bits = new Int32Array(f32.buffer);

/** Views handed out for reading, created on first use (not per stream up front). */
interface Facades {
  readonly wireshark: WiresharkRtpAnalysis;
  readonly buffers: readonly PlayoutBuffer[];
  readonly lossBursts: Uint32Array;
  readonly pdvBuckets: Uint32Array;
  readonly minIntervalMos: Float64Array;
  /** Views of the interval ring, remade when it grows. */
  intervalMos: Float32Array | null;
  intervalIndex: Int32Array | null;
}

/**
 * Statistics of one RTP stream (one SSRC on one 5-tuple): Wireshark's numbers
 * ({@link RtpStreamStats.wireshark}), RFC 3550 A.1/A.3 sequence accounting, duplicates,
 * reordering, loss bursts, packet-delay variation, and E-model MOS behind three simulated jitter
 * buffers, for the whole stream and per 10-second interval.
 *
 * Memory layout (README "Memory layout"): all per-packet state of a stream lives in one
 * 1.35 KB block of a slab shared by 256 streams, seen through the slab's Float64Array and
 * Int32Array, so that a packet touches a run of adjacent cache lines instead of ~15 separately
 * allocated objects — what keeps the cost nearly flat at 20 000 interleaved streams. The interval MOS ring keeps its first 8
 * intervals in the block, then moves out and doubles up to `intervalCapacity`. The read-side
 * objects (`wireshark`, `buffers`, `lossBursts`, `pdvBuckets`, `minIntervalMos`, `intervalMos`)
 * are views of the same state, created on first access. {@link RtpStreamStats.update} allocates
 * nothing per packet.
 *
 * Call {@link RtpStreamStats.finish} once at stream end before reading loss/MOS figures (the last
 * {@link WINDOW} packets wait there for reordered arrivals).
 */
export class RtpStreamStats {
  /** The session's payload-type map. */
  readonly payloadTypes: PayloadTypeMap;
  /** The slab holding this stream's state block (shared with the other blocks of the slab). */
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;
  /** Index of the block's first double in `f64`. */
  private readonly o: number;
  /** Index of the block's first integer in `i32`. */
  private readonly q: number;
  /** The state block's number (see {@link RtpStreamStats.stateBlock}). */
  private readonly block: number;
  /** Interval ring once it outgrew the block (`null`: the block's own BLOCK_INTERVALS slots). */
  private ring: Int32Array | null = null;
  /** Slot interval numbers once one left the 12-bit range (rare; see I_SLOTS). */
  private wideIntervals: Int32Array | null = null;
  private facades: Facades | null = null;
  /**
   * Audio codecs carried, in arrival order (at most RTP_CODEC_LOG_CAPACITY): the first, then the
   * changes in an array made at the first change. Most streams carry one codec: it is two small
   * integers (`firstUse` = pt | codec << 7, -1 before any; `firstUseMs`), no object.
   */
  private firstUse = -1;
  private firstUseMs = 0;
  private laterUses: RtpCodecUse[] | null = null;
  /** Codec changes not kept (the log was full). */
  private codecLogOverflow = 0;
  /** Payload type of the last audio packet (-1 before any): a change restarts the buffers. */
  private audioPt = -1;

  constructor(options: RtpStreamStatsOptions = {}) {
    this.payloadTypes = options.payloadTypes ?? new PayloadTypeMap();
    const cap = options.intervalCapacity ?? 360;
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`intervalCapacity ${cap} must be a positive integer`);
    const intervalMs = options.intervalMs ?? 10_000;
    if (!(intervalMs > 0)) throw new RangeError(`intervalMs ${intervalMs} must be > 0`);
    const block = slabs.allocate(this);
    this.block = block;
    const f = slabs.f64Of(block);
    const o = slabs.f64Base(block);
    this.f64 = f;
    this.i32 = slabs.i32Of(block);
    this.o = o;
    this.q = o * 2 + F64_LENGTH * 2;
    f[o + S_PAYLOAD_TYPE] = -1;
    f[o + S_LOOKUP_PT] = -1;
    f[o + S_CODEC] = Codec.Unknown;
    f[o + S_FRAME_MS] = 20;
    f[o + S_BAD_SEQ] = -1;
    f[o + S_PREV_STATE] = -1;
    f[o + S_CUR_START_PREV] = -1;
    f[o + S_NETWORK_DELAY] = options.networkDelayMs ?? 0;
    f[o + S_INTERVAL_CAPACITY] = cap;
    f[o + S_INTERVAL_MS] = intervalMs;
    f[o + S_G711_PLC] = (options.g711Plc ?? true) ? 1 : 0;
    f[o + S_RING_LENGTH] = Math.min(cap, BLOCK_INTERVALS);
    f.fill(Number.NaN, o + S_MIN_INTERVAL_MOS, o + S_MIN_INTERVAL_MOS + BUFFERS);
    initWiresharkState(f, o + S_WIRESHARK);
    initPlayoutGroupBuffer(f, o + S_BUFFERS, JitterBufferIndex.Fixed50, PlayoutBufferKind.Fixed, 50, 50);
    initPlayoutGroupBuffer(f, o + S_BUFFERS, JitterBufferIndex.Fixed200, PlayoutBufferKind.Fixed, 200, 200);
    initPlayoutGroupBuffer(f, o + S_BUFFERS, JitterBufferIndex.Adaptive500, PlayoutBufferKind.Adaptive, 50, 500);
  }

  /** Wireshark-compatible analysis (packets, lost, sequence errors, delta, jitter). */
  get wireshark(): WiresharkRtpAnalysis {
    return this.views().wireshark;
  }
  /** The three simulated jitter buffers, indexed by {@link JitterBufferIndex}. */
  get buffers(): readonly PlayoutBuffer[] {
    return this.views().buffers;
  }
  /** Loss bursts by length: index 0..8 = 1..9 packets, index 9 = 10 or more (a view of the state). */
  get lossBursts(): Uint32Array {
    return this.views().lossBursts;
  }
  /** Packets per delay-variation bucket (see {@link PDV_BUCKET_EDGES_MS}; 8 buckets; a view). */
  get pdvBuckets(): Uint32Array {
    return this.views().pdvBuckets;
  }
  /** Lowest interval MOS per buffer (NaN until one interval is rated; a view of the state). */
  get minIntervalMos(): Float64Array {
    return this.views().minIntervalMos;
  }

  /**
   * Current Wireshark jitter, ms, read from the state block without making the `wireshark` view:
   * for live views that poll every stream of a sensor, where a view per stream would stay
   * allocated for the stream's life.
   */
  get jitterMs(): number {
    return wiresharkJitterMs(this.f64, this.o + S_WIRESHARK);
  }
  /** Largest Wireshark jitter so far, ms (as {@link RtpStreamStats.jitterMs}: no view made). */
  get maxJitterMs(): number {
    return wiresharkMaxJitterMs(this.f64, this.o + S_WIRESHARK);
  }
  /** Wireshark's lost count so far (negative with duplicates; no view made). */
  get wiresharkLost(): number {
    return wiresharkLost(this.f64, this.o + S_WIRESHARK);
  }
  /** Lowest interval MOS behind one buffer so far (NaN until an interval is rated; no view made). */
  lowestIntervalMos(buffer: JitterBufferIndex): number {
    return this.f64[this.o + S_MIN_INTERVAL_MOS + buffer]!;
  }

  /**
   * Make this stream's statistics a copy of `source`'s: its state block, interval ring and wide
   * interval numbers (owner words included). A snapshot for a live view: {@link RtpStreamStats.finish}
   * on the copy judges the copy's window only, so `source` goes on, and ends, exactly as if no
   * snapshot had been taken. Both must use the same interval capacity (the copy's constructor
   * options); the copy's payload-type map is its own constructor's.
   */
  copyStateFrom(source: RtpStreamStats): void {
    if (source === this) return;
    this.f64.set(source.f64.subarray(source.o, source.o + F64_LENGTH), this.o);
    this.i32.set(source.i32.subarray(source.q, source.q + I32_LENGTH), this.q);
    this.ring = source.ring === null ? null : source.ring.slice();
    this.firstUse = source.firstUse;
    this.firstUseMs = source.firstUseMs;
    this.laterUses = source.laterUses === null ? null : source.laterUses.slice();
    this.codecLogOverflow = source.codecLogOverflow;
    this.audioPt = source.audioPt;
    this.wideIntervals = source.wideIntervals === null ? null : source.wideIntervals.slice();
    // Views of the interval ring point at the old arrays: remade on the next read.
    if (this.facades !== null) {
      this.facades.intervalMos = null;
      this.facades.intervalIndex = null;
    }
  }

  /** Capacity of the interval ring. */
  get intervalCapacity(): number {
    return this.f64[this.o + S_INTERVAL_CAPACITY]!;
  }
  /** Packets received, duplicates included. */
  get packets(): number {
    return this.f64[this.o + S_PACKETS]!;
  }
  /** Payload bytes received. */
  get payloadBytes(): number {
    return this.f64[this.o + S_PAYLOAD_BYTES]!;
  }
  /** Packets whose extended sequence number was already received (within the window). */
  get duplicates(): number {
    return this.f64[this.o + S_DUPLICATES]!;
  }
  /** Packets arriving after a higher sequence number (late/reordered, duplicates excluded). */
  get reordered(): number {
    return this.f64[this.o + S_REORDERED]!;
  }
  /** Reordered packets so late that their slot had already been judged lost. */
  get tooLate(): number {
    return this.f64[this.o + S_TOO_LATE]!;
  }
  /** Sequence jumps beyond RFC 3550 MAX_DROPOUT; two in a row re-synchronise the numbering. */
  get sequenceJumps(): number {
    return this.f64[this.o + S_SEQUENCE_JUMPS]!;
  }
  /** Packets left out of the sequence accounting: the first packet of each out-of-range jump. */
  get unplaced(): number {
    return this.f64[this.o + S_UNPLACED]!;
  }
  /** First extended sequence number (RFC 3550 A.1 base_seq). */
  get baseExtSeq(): number {
    return this.f64[this.o + S_BASE_EXT_SEQ]!;
  }
  /** Highest extended sequence number received (RFC 3550 A.1). */
  get highestExtSeq(): number {
    return this.f64[this.o + S_HIGHEST_EXT_SEQ]!;
  }
  /** Arrival time of the first packet (capture seconds / nanoseconds). */
  get firstSec(): number {
    return this.f64[this.o + S_FIRST_SEC]!;
  }
  /** Nanoseconds part of the first arrival. */
  get firstNsec(): number {
    return this.f64[this.o + S_FIRST_NSEC]!;
  }
  /** Arrival of the last packet, seconds. */
  get lastSec(): number {
    return this.f64[this.o + S_LAST_SEC]!;
  }
  /** Nanoseconds part of the last arrival. */
  get lastNsec(): number {
    return this.f64[this.o + S_LAST_NSEC]!;
  }
  /** Payload type of the last packet (-1 before any). */
  get payloadType(): number {
    return this.f64[this.o + S_PAYLOAD_TYPE]!;
  }
  /** Codec of the last audio packet (telephone-event and CN do not change it). */
  get codec(): Codec {
    return this.f64[this.o + S_CODEC] as Codec;
  }
  /** Packetisation time estimated from consecutive packets, ms. */
  get frameMs(): number {
    return this.f64[this.o + S_FRAME_MS]!;
  }
  /** Intervals rated so far (the ring keeps the last `intervalCapacity`). */
  get intervalCount(): number {
    return this.f64[this.o + S_INTERVAL_COUNT]!;
  }
  /** Assumed one-way network delay, ms (settable, e.g. from RTCP RTT / 2). */
  get networkDelayMs(): number {
    return this.f64[this.o + S_NETWORK_DELAY]!;
  }
  set networkDelayMs(ms: number) {
    this.f64[this.o + S_NETWORK_DELAY] = ms;
  }
  /**
   * Interval MOS ring: `[slot * 3 + buffer]`; its first 8 slots live in the state block, then it
   * grows by doubling up to `intervalCapacity` slots. A view, remade when the ring grows: prefer
   * {@link RtpStreamStats.intervalMosAt}.
   */
  get intervalMos(): Float32Array {
    const v = this.views();
    const len = this.f64[this.o + S_RING_LENGTH]!;
    if (v.intervalMos === null || v.intervalMos.length !== len * BUFFERS) {
      const ring = this.ring ?? this.i32;
      v.intervalMos = this.owned(new Float32Array(ring.buffer, ring.byteOffset + this.ringBase() * 4, len * BUFFERS));
    }
    return v.intervalMos;
  }
  /** Interval number (from stream start) of each ring slot (a view like `intervalMos`). */
  get intervalIndex(): Int32Array {
    const v = this.views();
    const len = this.f64[this.o + S_RING_LENGTH]!;
    if (v.intervalIndex === null || v.intervalIndex.length !== len) {
      const ring = this.ring ?? this.i32;
      const start = this.ringBase() + len * BUFFERS;
      v.intervalIndex = this.owned(ring.subarray(start, start + len));
    }
    return v.intervalIndex;
  }

  /**
   * Account one RTP packet: header fields, capture arrival time as integer seconds and
   * nanoseconds, payload length in bytes. Allocates nothing per packet: only the interval MOS
   * ring's growth (the 9th, 17th, 33rd ... rated interval, at most 6 times for the default
   * capacity) and, once, the wide interval table of a stream whose interval numbers outgrow 12 bits.
   */
  update(h: RtpPacketFields, tsSec: number, tsNsec: number, payloadLength: number): void {
    RtpStreamStats.updateAt(this, this.block, h, tsSec, tsNsec, payloadLength);
  }

  /**
   * The state block of this stream: with {@link RtpStreamStats.updateAt}, {@link rtpStreamSlab}
   * and {@link rtpStreamOwnerIndex}, a caller that keeps the number beside its own index (the
   * sniffer's endpoint table) reaches the stream's state without first reading the object — one
   * dependent cache miss less per packet at tens of thousands of streams. Valid while the stream
   * is reachable.
   */
  get stateBlock(): number {
    return this.block;
  }

  /**
   * {@link RtpStreamStats.update} of `stream`, whose {@link RtpStreamStats.stateBlock} is `block`
   * (a programmer error otherwise). A packet in sequence with a known payload type reads only
   * the state block: the object is read on the rarer paths (payload-type change, loss, reordering,
   * interval end). Returns the packet's codec (`Codec`).
   */
  static updateAt(stream: RtpStreamStats, block: number, h: RtpPacketFields, tsSec: number, tsNsec: number, payloadLength: number): Codec {
    const f = slabs.f64Of(block);
    const n = slabs.i32Of(block);
    const o = slabs.f64Base(block);
    // The block's integers follow its F64_LENGTH doubles: two int32 per double.
    const q = o * 2 + F64_LENGTH * 2;
    if (f[o + S_PACKETS] === 0) {
      f[o + S_FIRST_SEC] = tsSec;
      f[o + S_FIRST_NSEC] = tsNsec;
    }
    f[o + S_LAST_SEC] = tsSec;
    f[o + S_LAST_NSEC] = tsNsec;
    // Relative to the stream's first packet: exact integers in, well inside double precision.
    const arrivalMs = (tsSec - f[o + S_FIRST_SEC]!) * 1000 + (tsNsec - f[o + S_FIRST_NSEC]!) / 1e6;
    const seq = h.sequenceNumber & 0xffff;
    const ts = h.timestamp >>> 0;
    const pt = h.payloadType & 0x7f;
    const marker = h.marker;
    // One map lookup per payload-type change (or change of any map in use) instead of four
    // cache lines per packet; the check reads neither the stream object nor its map.
    let clock: number;
    let codec: Codec;
    // A new jitter-buffer timeline at this packet: a talkspurt start, an audio codec change or
    // a timestamp jump (README "Jitter buffers and MOS").
    let resync = marker;
    // Same payload type as the packet before (whose timestamp step can then be judged).
    let samePt = true;
    const epoch = payloadTypeMapsEpoch();
    if (pt === f[o + S_LOOKUP_PT] && epoch === f[o + S_LOOKUP_VERSION]) {
      clock = f[o + S_LOOKUP_CLOCK]!;
      codec = f[o + S_LOOKUP_CODEC] as Codec;
    } else {
      samePt = pt === f[o + S_LOOKUP_PT];
      const pts = stream.payloadTypes;
      pts.markInUse();
      clock = pts.statsClockRate(pt);
      codec = pts.codec[pt]! as Codec;
      f[o + S_LOOKUP_PT] = pt;
      f[o + S_LOOKUP_VERSION] = epoch;
      f[o + S_LOOKUP_CLOCK] = clock;
      f[o + S_LOOKUP_CODEC] = codec;
      // A late packet of the codec before a switch (older than the highest sequence number) is
      // no codec change: it neither restarts the buffers nor enters the codec log.
      const ahead = (seq - f[o + S_MAX_SEQ]! + SEQ_MOD) & 0xffff;
      if ((f[o + S_PACKETS] === 0 || (ahead > 0 && ahead < SEQ_MOD - MAX_MISORDER)) && stream.noteCodec(pt, codec, arrivalMs)) resync = true;
    }
    updateWiresharkState(f, o + S_WIRESHARK, seq, ts, pt, marker, arrivalMs, clock);
    const packets = f[o + S_PACKETS]! + 1;
    f[o + S_PACKETS] = packets;
    f[o + S_PAYLOAD_BYTES]! += payloadLength;
    f[o + S_PAYLOAD_TYPE] = pt;
    if (codec !== Codec.TelephoneEvent && codec !== Codec.CN) f[o + S_CODEC] = codec;

    // Timestamp unwrapping by signed 32-bit steps; packetisation from consecutive packets.
    const first = packets === 1;
    if (first) {
      f[o + S_LAST_TS] = ts;
      f[o + S_EXT_TS] = 0;
    } else {
      const step = (ts - f[o + S_LAST_TS]!) | 0;
      const lastSeq = f[o + S_LAST_SEQ]!;
      if (clock > 0) {
        // Timestamp jump: the step differs from (sequence step x packetisation time) by more
        // than max(TS_JUMP_MS, one packet); judged against the packet before when it had the
        // same payload type (not CN). In sequence, the step's duration is needed anyway.
        const frameMs = f[o + S_FRAME_MS]!;
        const limitMs = frameMs > TS_JUMP_MS ? frameMs : TS_JUMP_MS;
        const judge = samePt && codec !== Codec.CN;
        if (seq === ((lastSeq + 1) & 0xffff)) {
          const stepMs = (step * 1000) / clock;
          if (judge && (stepMs - frameMs > limitMs || frameMs - stepMs > limitMs)) resync = true;
          // Not across a new timeline: its step is a jump or a silence, not a packet's duration.
          if (step > 0 && !resync) f[o + S_FRAME_MS] = stepMs;
        } else if (judge) {
          const deviationMs = (step * 1000) / clock - (((seq - lastSeq) << 16) >> 16) * frameMs;
          if (deviationMs > limitMs || deviationMs < -limitMs) resync = true;
        }
      }
      f[o + S_EXT_TS]! += step;
      f[o + S_LAST_TS] = ts;
    }
    f[o + S_LAST_SEQ] = seq;

    // extendSequence's common case inline (V8 does not inline the method here).
    let ext: number;
    const maxSeq = f[o + S_MAX_SEQ]!;
    const udelta = (seq - maxSeq + SEQ_MOD) & 0xffff;
    if (!first && udelta < MAX_DROPOUT) {
      if (seq < maxSeq) f[o + S_CYCLES]! += SEQ_MOD;
      f[o + S_MAX_SEQ] = seq;
      f[o + S_BAD_SEQ] = -1;
      ext = f[o + S_CYCLES]! + seq;
    } else {
      ext = stream.extendSequence(seq, first);
      if (ext < 0) return codec; // a first out-of-range jump: counted, not placed
    }
    const interval = Math.floor(arrivalMs / f[o + S_INTERVAL_MS]!);

    const idx = ext & WINDOW_MASK;
    const word = q + I_SLOTS + (idx >> 1);
    const shift = (idx & 1) << 4;
    if (ext > f[o + S_HIGHEST_EXT_SEQ]! || first) {
      f[o + S_HIGHEST_EXT_SEQ] = ext;
      const upTo = ext - WINDOW;
      const judgedUpTo = f[o + S_JUDGED_UP_TO]!;
      if (upTo === judgedUpTo + 1 && f[o + S_WIDE] === 0) {
        // In sequence with a full window: exactly one slot leaves it, the one this packet is
        // about to reuse (same index), so it needs no clearing (the store below masks it).
        // judgeUpTo + judgeSlot inlined for the common slot (received, same state as the one
        // before, no loss run to close, interval not past the current one); V8 does not
        // inline judgeUpTo here and the call plus its loop was ~20% of a packet.
        f[o + S_JUDGED_UP_TO] = upTo;
        const old = (n[word]! >>> shift) & 0xffff;
        const state = old & TRACK_MASK;
        if ((old & RECEIVED_BIT) === 0) {
          stream.judgeSlot(state, f[o + S_LAST_INTERVAL]!);
        } else {
          const slotInterval = (old << 16) >> 20; // sign-extend the 12-bit field
          if (state === f[o + S_PREV_STATE] && f[o + S_NET_RUN] === 0 && slotInterval <= f[o + S_CURRENT_INTERVAL]!) {
            f[o + S_LAST_INTERVAL] = slotInterval;
            f[o + S_CUR_EXPECTED]!++;
            n[q + I_HISTOGRAM + ((state + 1) >> 1)]!++;
          } else {
            stream.judgeSlot(state, slotInterval);
          }
        }
      } else if (upTo > judgedUpTo) {
        stream.judgeUpTo(upTo);
      }
    } else if (ext <= f[o + S_JUDGED_UP_TO]!) {
      f[o + S_REORDERED]!++;
      f[o + S_TOO_LATE]!++;
      return codec;
    } else {
      if (((n[word]! >>> shift) & RECEIVED_BIT) !== 0) {
        f[o + S_DUPLICATES]!++;
        return codec;
      }
      f[o + S_REORDERED]!++;
    }
    let entry = 0;
    if (f[o + S_WIDE] === 0 && interval >= NARROW_INTERVAL_MIN && interval <= NARROW_INTERVAL_MAX) {
      entry = (interval << 4) & 0xfff0;
    } else {
      stream.widenIntervals()[idx] = interval;
    }
    let flags = RECEIVED_BIT;
    if (clock > 0) {
      const transitMs = arrivalMs - (f[o + S_EXT_TS]! * 1000) / clock;
      // Bit b + 1 = played on time by buffer b.
      flags |= offerPlayoutGroup(f, o + S_BUFFERS, BUFFERS, transitMs, arrivalMs, resync) << 1;
      const latenessMs = playoutGroupLatenessMs(f, o + S_BUFFERS);
      // Nearly every packet lands in the first bucket: skip the edge scan for it.
      if (latenessMs < PDV_FIRST_EDGE_MS) n[q + I_PDV]!++;
      else stream.countPdv(latenessMs);
    } else {
      // telephone-event / unknown clock: no timeline to judge; never played as audio anyway.
      flags |= ALL_PLAYED;
    }
    n[word] = (n[word]! & ~(0xffff << shift)) | ((entry | flags) << shift);
    return codec;
  }

  /**
   * Judge every slot still waiting in the reordering window and rate the last interval. Call
   * once when the stream ends; later calls do nothing.
   */
  finish(): void {
    const f = this.f64;
    const o = this.o;
    if (f[o + S_FINISHED] !== 0 || f[o + S_PACKETS] === 0) return;
    f[o + S_FINISHED] = 1;
    this.judgeUpTo(f[o + S_HIGHEST_EXT_SEQ]!);
    this.closeInterval();
  }

  /** RFC 3550 A.1 expected packets: highest - base + 1 (0 before any packet). */
  get expected(): number {
    const f = this.f64;
    const o = this.o;
    return f[o + S_PACKETS]! > 0 ? f[o + S_HIGHEST_EXT_SEQ]! - f[o + S_BASE_EXT_SEQ]! + 1 : 0;
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
    return this.f64[this.o + S_T_EXPECTED]! + this.f64[this.o + S_CUR_EXPECTED]!;
  }

  /** Packets lost for a loss track after finish: 0 = network, 1..3 = buffer index + 1. */
  trackLost(track: number): number {
    if (!(track >= 0 && track < TRACKS)) return 0;
    this.trackCounts(track, true, scratch);
    return scratch[C_LOST]!;
  }

  /** Effective loss in percent behind a jitter buffer (network loss + late packets). */
  lossPercent(buffer: JitterBufferIndex): number {
    this.trackCounts(buffer + 1, true, scratch);
    const n = scratch[C_EXPECTED]!;
    return n === 0 ? 0 : (scratch[C_LOST]! * 100) / n;
  }

  /** Burst ratio of the effective loss pattern behind a jitter buffer (G.113 Markov model). */
  burstRatio(buffer: JitterBufferIndex): number {
    this.trackCounts(buffer + 1, true, scratch);
    return countsBurstRatio(scratch);
  }

  /** MOS for the whole stream behind one jitter buffer (mos_f1 / mos_f2 / mos_adapt). */
  mos(buffer: JitterBufferIndex): number {
    return this.rate(true, buffer);
  }

  /** One-way delay assumed for a buffer: network + mean buffer depth + one frame, ms. */
  oneWayDelayMs(buffer: JitterBufferIndex): number {
    return this.networkDelayMs + this.meanDepthMs(buffer) + this.frameMs;
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
    f32Bits[0] = (this.ring ?? this.i32)[this.ringBase() + slot * BUFFERS + buffer]!;
    return f32[0]!;
  }

  /**
   * Every audio codec (payload type) the stream carried, with the arrival of its first packet,
   * in order; a switch back to an earlier payload type is a new entry. Telephone-event and CN do
   * not count. At most {@link RTP_CODEC_LOG_CAPACITY} entries (see {@link RtpStreamStats.codecsOverflow}).
   */
  codecs(): readonly RtpCodecUse[] {
    return this.firstUse < 0 ? [] : [this.useAt(0), ...(this.laterUses ?? [])];
  }

  /** Codec changes not listed by {@link RtpStreamStats.codecs} because the list was full. */
  get codecsOverflow(): number {
    return this.codecLogOverflow;
  }

  /**
   * The codec the i-th kept interval (as {@link RtpStreamStats.intervalMosAt}) was rated with:
   * the one that was in use for the longest part of its span (undefined when out of range or
   * before any audio packet).
   */
  intervalCodecAt(i: number): RtpCodecUse | undefined {
    const kept = this.intervalsKept;
    if (!(i >= 0 && i < kept)) return undefined;
    const slot = (this.intervalCount - kept + i) % this.intervalCapacity;
    const ring = this.ring ?? this.i32;
    const interval = ring[this.ringBase() + this.f64[this.o + S_RING_LENGTH]! * BUFFERS + slot]!;
    const ms = this.f64[this.o + S_INTERVAL_MS]!;
    const k = this.codecOver(interval * ms, (interval + 1) * ms);
    return k < 0 ? undefined : this.useAt(k);
  }

  /**
   * The payload type of the codec log in use for the longest part of [fromMs, toMs) (summed
   * over its entries; the first entry also covers the time before its first packet, the last
   * one the time after), as its first entry overlapping the span. A tie goes to the earlier.
   * At most RTP_CODEC_LOG_CAPACITY² steps, only when an interval closes or a MOS is read.
   */
  private codecOver(fromMs: number, toMs: number): number {
    const later = this.laterUses;
    if (later === null) return this.firstUse < 0 ? -1 : 0;
    const count = later.length + 1;
    let best = -1;
    let bestMs = -1;
    for (let k = 0; k < count; k++) {
      const pt = this.usePt(k);
      if (this.overlapMs(k, fromMs, toMs) <= 0) continue;
      let total = 0;
      let seen = false;
      for (let j = 0; j < count; j++) {
        if (this.usePt(j) !== pt) continue;
        const overlap = this.overlapMs(j, fromMs, toMs);
        if (overlap > 0) {
          if (j < k) seen = true;
          total += overlap;
        }
      }
      if (!seen && total > bestMs) {
        bestMs = total;
        best = k;
      }
    }
    return best;
  }

  /** Entry k of the codec log (k below its length), as an object. */
  private useAt(k: number): RtpCodecUse {
    return k === 0 ? Object.freeze({ pt: this.usePt(0), codec: this.useCodec(0), firstMs: this.firstUseMs }) : this.laterUses![k - 1]!;
  }
  private usePt(k: number): number {
    return k === 0 ? this.firstUse & 0x7f : this.laterUses![k - 1]!.pt;
  }
  private useCodec(k: number): Codec {
    return k === 0 ? ((this.firstUse >> 7) as Codec) : this.laterUses![k - 1]!.codec;
  }

  /** Overlap (ms, may be negative) of [fromMs, toMs) with the time of codec log entry k. */
  private overlapMs(k: number, fromMs: number, toMs: number): number {
    const count = this.laterUses === null ? 1 : this.laterUses.length + 1;
    const start = k === 0 ? -Infinity : this.laterUses![k - 1]!.firstMs;
    const end = k + 1 < count ? this.laterUses![k]!.firstMs : Infinity;
    return Math.min(end, toMs) - Math.max(start, fromMs);
  }

  /**
   * A packet whose payload type differs from the last one's, with its map lookup done: record
   * an audio codec change. Returns true when the jitter buffers must take a new timeline (an
   * audio payload type other than the last audio packet's; the first one needs none).
   */
  private noteCodec(pt: number, codec: Codec, arrivalMs: number): boolean {
    if (codec === Codec.TelephoneEvent || codec === Codec.CN) return false;
    const previous = this.audioPt;
    const later = this.laterUses;
    // Whole ms: a small integer field for the first codec.
    const firstMs = Math.floor(arrivalMs);
    if (pt === previous) {
      // Same payload type after an event or CN, or a map that now names it: keep the entry's codec current.
      if (this.codecLogOverflow === 0) {
        if (later === null) this.firstUse = pt | (codec << 7);
        else if (later[later.length - 1]!.codec !== codec) later[later.length - 1] = Object.freeze({ pt, codec, firstMs: later[later.length - 1]!.firstMs });
      }
      return false;
    }
    this.audioPt = pt;
    if (this.firstUse < 0) {
      this.firstUse = pt | (codec << 7);
      this.firstUseMs = firstMs;
      return false;
    }
    const use = Object.freeze({ pt, codec, firstMs });
    if (later === null) this.laterUses = [use];
    else if (later.length + 1 < RTP_CODEC_LOG_CAPACITY) later.push(use);
    else this.codecLogOverflow++;
    return previous >= 0;
  }

  private impairment(codec: Codec): CodecImpairment {
    return codec === Codec.PCMU || codec === Codec.PCMA ? (this.f64[this.o + S_G711_PLC] !== 0 ? codecImpairment(codec) : G711_NO_PLC) : codecImpairment(codec);
  }

  private views(): Facades {
    if (this.facades === null) {
      const f = this.f64;
      const o = this.o;
      const block = f.buffer;
      const i32Bytes = this.q * 4;
      this.facades = {
        wireshark: this.owned(new WiresharkRtpAnalysis(f, o + S_WIRESHARK)),
        buffers: [0, 1, 2].map((b) => this.owned(new PlayoutBuffer(f, o + S_BUFFERS, b))),
        lossBursts: this.owned(new Uint32Array(block, i32Bytes + I_LOSS_BURSTS * 4, LOSS_BURST_BUCKETS)),
        pdvBuckets: this.owned(new Uint32Array(block, i32Bytes + I_PDV * 4, PDV_BUCKETS)),
        minIntervalMos: this.owned(new Float64Array(block, (o + S_MIN_INTERVAL_MOS) * 8, BUFFERS)),
        intervalMos: null,
        intervalIndex: null,
      };
    }
    return this.facades;
  }

  /**
   * A view of this stream's block that keeps the stream reachable (a hidden property): the block
   * goes back to the slab when the stream is collected, so a view kept longer than its stream
   * must not see the block reused by another stream.
   */
  private owned<T extends object>(view: T): T {
    Object.defineProperty(view, OWNER, { value: this });
    return view;
  }

  private meanDepthMs(buffer: number): number {
    return playoutGroupMeanDepthMs(this.f64, this.o + S_BUFFERS, buffer);
  }

  /**
   * Loss-track counts of track `k` into `out` (see the C_* indices): the open interval's, plus
   * the closed intervals' totals when `withClosed`. The open interval keeps only a state
   * histogram and the ok/lost transitions; "transitions from ok" follow from the histogram: the
   * pairs' previous states are this interval's states minus its last, plus the state before it.
   */
  private trackCounts(k: number, withClosed: boolean, out: Float64Array): void {
    const f = this.f64;
    const o = this.o;
    const n = this.i32;
    const q = this.q;
    const m = f[o + S_CUR_EXPECTED]!;
    let lost = 0;
    let fromOk = 0;
    let okToLost = 0;
    let fromLost = 0;
    let lostToOk = 0;
    if (m > 0) {
      for (let j = 0; j < STATE_HISTOGRAM; j++) {
        const state = j === 0 ? 0 : 2 * j - 1;
        if (((state >> k) & 1) === 0) lost += n[q + I_HISTOGRAM + j]! >>> 0;
      }
      const before = f[o + S_CUR_START_PREV]!;
      const last = f[o + S_PREV_STATE]!;
      const pairs = before < 0 ? m - 1 : m;
      fromOk = m - lost - ((last >> k) & 1) + (before < 0 ? 0 : (before >> k) & 1);
      fromLost = pairs - fromOk;
      okToLost = n[q + I_OK_TO_LOST + k]! >>> 0;
      lostToOk = n[q + I_LOST_TO_OK + k]! >>> 0;
    }
    if (withClosed) {
      out[C_EXPECTED] = f[o + S_T_EXPECTED]! + m;
      out[C_LOST] = (n[q + I_T_LOST + k]! >>> 0) + lost;
      out[C_FROM_OK] = (n[q + I_T_FROM_OK + k]! >>> 0) + fromOk;
      out[C_OK_TO_LOST] = (n[q + I_T_OK_TO_LOST + k]! >>> 0) + okToLost;
      out[C_FROM_LOST] = (n[q + I_T_FROM_LOST + k]! >>> 0) + fromLost;
      out[C_LOST_TO_OK] = (n[q + I_T_LOST_TO_OK + k]! >>> 0) + lostToOk;
    } else {
      out[C_EXPECTED] = m;
      out[C_LOST] = lost;
      out[C_FROM_OK] = fromOk;
      out[C_OK_TO_LOST] = okToLost;
      out[C_FROM_LOST] = fromLost;
      out[C_LOST_TO_OK] = lostToOk;
    }
  }

  /**
   * E-model MOS behind one buffer, over the whole stream or the open interval only, with the
   * codec in use for the longest part of that span (the last audio codec when none is logged).
   */
  private rate(whole: boolean, buffer: number): number {
    this.trackCounts(buffer + 1, whole, scratch);
    const expected = scratch[C_EXPECTED]!;
    if (expected === 0) return Number.NaN;
    const loss = (scratch[C_LOST]! * 100) / expected;
    const f = this.f64;
    const o = this.o;
    let use: number;
    if (whole) {
      use = this.codecOver(0, (f[o + S_LAST_SEC]! - f[o + S_FIRST_SEC]!) * 1000 + (f[o + S_LAST_NSEC]! - f[o + S_FIRST_NSEC]!) / 1e6);
    } else {
      const ms = f[o + S_INTERVAL_MS]!;
      const interval = f[o + S_CURRENT_INTERVAL]!;
      use = this.codecOver(interval * ms, (interval + 1) * ms);
    }
    const imp = this.impairment(use < 0 ? this.codec : this.useCodec(use));
    const delay = this.networkDelayMs + this.meanDepthMs(buffer) + this.frameMs;
    return rToMos(eModelR(imp, loss, countsBurstRatio(scratch), delay));
  }

  /** RFC 3550 A.1 update_seq, without probation: returns the extended number, or -1 for a jump. */
  private extendSequence(seq: number, first: boolean): number {
    const f = this.f64;
    const o = this.o;
    if (first) {
      f[o + S_MAX_SEQ] = seq;
      f[o + S_CYCLES] = 0;
      f[o + S_BASE_EXT_SEQ] = seq;
      f[o + S_HIGHEST_EXT_SEQ] = seq;
      f[o + S_JUDGED_UP_TO] = seq - 1;
      return seq;
    }
    const maxSeq = f[o + S_MAX_SEQ]!;
    const udelta = (seq - maxSeq + SEQ_MOD) & 0xffff;
    if (udelta < MAX_DROPOUT) {
      if (seq < maxSeq) f[o + S_CYCLES]! += SEQ_MOD;
      f[o + S_MAX_SEQ] = seq;
      f[o + S_BAD_SEQ] = -1;
      return f[o + S_CYCLES]! + seq;
    }
    if (udelta <= SEQ_MOD - MAX_MISORDER) {
      f[o + S_SEQUENCE_JUMPS]!++;
      if (seq !== f[o + S_BAD_SEQ]) {
        f[o + S_BAD_SEQ] = (seq + 1) & 0xffff;
        f[o + S_UNPLACED]!++;
        return -1;
      }
      // Two sequential packets after a jump: the source restarted its numbering. Judge what is
      // pending, then continue the extended numbering right after the highest seen.
      this.judgeUpTo(f[o + S_HIGHEST_EXT_SEQ]!);
      const cycles = f[o + S_HIGHEST_EXT_SEQ]! + 1 - seq;
      f[o + S_CYCLES] = cycles;
      f[o + S_MAX_SEQ] = seq;
      f[o + S_BAD_SEQ] = -1;
      return cycles + seq;
    }
    // Duplicate or reordered within MAX_MISORDER behind maxSeq.
    let ext = f[o + S_CYCLES]! + seq;
    if (seq > maxSeq) ext -= SEQ_MOD;
    return ext;
  }

  /** Judge slots up to `upTo` inclusive, in sequence order. */
  private judgeUpTo(upTo: number): void {
    const f = this.f64;
    const o = this.o;
    const n = this.i32;
    const q = this.q;
    const judgedUpTo = f[o + S_JUDGED_UP_TO]!;
    // Only (judgedUpTo, judgedUpTo + WINDOW] can hold received packets; beyond is a plain gap.
    const ringEnd = Math.min(upTo, judgedUpTo + WINDOW);
    let s = judgedUpTo + 1;
    for (; s <= ringEnd; s++) {
      const idx = s & WINDOW_MASK;
      const word = q + I_SLOTS + (idx >> 1);
      const shift = (idx & 1) << 4;
      const w = n[word]!;
      const entry = (w >>> shift) & 0xffff;
      n[word] = w & ~(0xffff << shift);
      let interval = f[o + S_LAST_INTERVAL]!;
      if ((entry & RECEIVED_BIT) !== 0) {
        // Sign-extend the 12-bit interval field.
        interval = this.wideIntervals === null ? (entry << 16) >> 20 : this.wideIntervals[idx]!;
      }
      this.judgeSlot(entry & TRACK_MASK, interval);
    }
    for (; s <= upTo; s++) this.judgeSlot(0, f[o + S_LAST_INTERVAL]!);
    if (upTo > judgedUpTo) f[o + S_JUDGED_UP_TO] = upTo;
  }

  private judgeSlot(flags: number, interval: number): void {
    const f = this.f64;
    const o = this.o;
    const n = this.i32;
    const q = this.q;
    if (interval > f[o + S_CURRENT_INTERVAL]!) {
      this.closeInterval();
      f[o + S_CURRENT_INTERVAL] = interval;
    }
    f[o + S_LAST_INTERVAL] = interval;
    if ((flags & RECEIVED_BIT) === 0) {
      f[o + S_NET_RUN]!++;
    } else {
      const run = f[o + S_NET_RUN]!;
      if (run > 0) {
        n[q + I_LOSS_BURSTS + Math.min(run, LOSS_BURST_BUCKETS) - 1]!++;
        f[o + S_NET_RUN] = 0;
      }
    }
    const state = flags & TRACK_MASK;
    const prev = f[o + S_PREV_STATE]!;
    f[o + S_CUR_EXPECTED]!++;
    n[q + I_HISTOGRAM + ((state + 1) >> 1)]!++;
    if (prev !== state && prev >= 0) {
      // Rare (a loss, a late packet, the end of one): count each track's ok/lost transition.
      const wentLost = prev & ~state;
      const recovered = ~prev & state;
      for (let k = 0; k < TRACKS; k++) {
        n[q + I_OK_TO_LOST + k]! += (wentLost >> k) & 1;
        n[q + I_LOST_TO_OK + k]! += (recovered >> k) & 1;
      }
    }
    f[o + S_PREV_STATE] = state;
  }

  private closeInterval(): void {
    const f = this.f64;
    const o = this.o;
    const m = f[o + S_CUR_EXPECTED]!;
    if (m >= MIN_INTERVAL_SLOTS) {
      const count = f[o + S_INTERVAL_COUNT]!;
      const slot = count % this.intervalCapacity;
      if (slot >= f[o + S_RING_LENGTH]!) this.growRing();
      const ring = this.ring ?? this.i32;
      const base = this.ringBase();
      ring[base + f[o + S_RING_LENGTH]! * BUFFERS + slot] = f[o + S_CURRENT_INTERVAL]!;
      for (let b = 0; b < BUFFERS; b++) {
        const mos = this.rate(false, b);
        f32[0] = mos;
        ring[base + slot * BUFFERS + b] = f32Bits[0]!;
        const min = f[o + S_MIN_INTERVAL_MOS + b]!;
        if (Number.isNaN(min) || mos < min) f[o + S_MIN_INTERVAL_MOS + b] = mos;
      }
      f[o + S_INTERVAL_COUNT] = count + 1;
    }
    if (m > 0) {
      // Fold the interval's counts into the stream totals, then start the next one empty.
      const n = this.i32;
      const q = this.q;
      for (let k = 0; k < TRACKS; k++) {
        this.trackCounts(k, false, scratch);
        n[q + I_T_LOST + k]! += scratch[C_LOST]!;
        n[q + I_T_FROM_OK + k]! += scratch[C_FROM_OK]!;
        n[q + I_T_OK_TO_LOST + k]! += scratch[C_OK_TO_LOST]!;
        n[q + I_T_FROM_LOST + k]! += scratch[C_FROM_LOST]!;
        n[q + I_T_LOST_TO_OK + k]! += scratch[C_LOST_TO_OK]!;
      }
      f[o + S_T_EXPECTED]! += m;
      f[o + S_CUR_EXPECTED] = 0;
      this.i32.fill(0, this.q + I_HISTOGRAM, this.q + I_LOST_TO_OK + TRACKS);
    }
    f[o + S_CUR_START_PREV] = f[o + S_PREV_STATE]!;
  }

  /** Index of the interval ring's first value in `ring ?? i32`. */
  private ringBase(): number {
    return this.ring === null ? this.q + I_RING : 0;
  }

  /**
   * Double the interval ring (up to the capacity), moving it out of the state block the first
   * time. Called only while the ring has not wrapped (the next slot is its length), so growing
   * is a plain copy of both halves.
   */
  private growRing(): void {
    const f = this.f64;
    const o = this.o;
    const len = f[o + S_RING_LENGTH]!;
    const grown = Math.min(this.intervalCapacity, len * 2);
    const old = this.ring ?? this.i32;
    const base = this.ringBase();
    const ring = new Int32Array(grown * (BUFFERS + 1));
    ring.set(old.subarray(base, base + len * BUFFERS), 0);
    ring.set(old.subarray(base + len * BUFFERS, base + len * (BUFFERS + 1)), grown * BUFFERS);
    this.ring = ring;
    f[o + S_RING_LENGTH] = grown;
  }

  /**
   * The slot interval numbers as an Int32Array, created (from the 12-bit fields) the first time
   * one does not fit: from then on every slot's number lives there.
   */
  private widenIntervals(): Int32Array {
    if (this.wideIntervals === null) {
      const wide = new Int32Array(WINDOW);
      const n = this.i32;
      const q = this.q;
      for (let idx = 0; idx < WINDOW; idx++) {
        const entry = (n[q + I_SLOTS + (idx >> 1)]! >>> ((idx & 1) << 4)) & 0xffff;
        wide[idx] = (entry << 16) >> 20;
      }
      this.wideIntervals = wide;
      this.f64[this.o + S_WIDE] = 1;
    }
    return this.wideIntervals;
  }

  private countPdv(latenessMs: number): void {
    const edges = PDV_BUCKET_EDGES_MS;
    let i = 0;
    while (i < edges.length && latenessMs >= edges[i]!) i++;
    this.i32[this.q + I_PDV + i]!++;
  }
}

// Indices of a loss-track count vector (trackCounts).
const C_EXPECTED = 0;
const C_LOST = 1;
const C_FROM_OK = 2;
const C_OK_TO_LOST = 3;
const C_FROM_LOST = 4;
const C_LOST_TO_OK = 5;
const scratch = new Float64Array(6);

function countsBurstRatio(c: Float64Array): number {
  return burstRatio(c[C_OK_TO_LOST]!, c[C_FROM_OK]!, c[C_LOST_TO_OK]!, c[C_FROM_LOST]!);
}
