import { Codec, type PayloadTypeMap } from '../codec.js';
import { decodeAlawSample, decodeUlawSample } from '../g711.js';
import type { AudioPayloadDecoder } from './audio-payload-decoder.js';
import { opusPacketSamples } from './opus-packet.js';

/** Output sample rate of the renderer: G.711's 8 kHz, so one RTP timestamp unit is one sample. */
export const AUDIO_SAMPLE_RATE = 8000;
/** Microseconds per output sample at {@link AUDIO_SAMPLE_RATE}. */
export const US_PER_SAMPLE = 1_000_000 / AUDIO_SAMPLE_RATE;
/**
 * Largest payload placed, in samples (1 s of G.711). A UDP datagram cannot carry much more, and
 * the reorder ring is sized to hold one such packet beyond the window; larger ones are counted in
 * `oversize` and dropped.
 */
export const MAX_PACKET_SAMPLES = AUDIO_SAMPLE_RATE;

/**
 * The RTP fields the renderer reads: a subset of `RtpHeader` (pass the parser's `out` object
 * and the buffer it parsed), with the payload at `buf[payloadOffset .. + payloadLength)`.
 */
export interface AudioRtpFields {
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
  payloadType: number;
  marker: boolean;
  payloadOffset: number;
  payloadLength: number;
}

/**
 * Places the decoded samples of one leg's RTP packets (one stream, or consecutive streams when
 * the SSRC changes) on the call's timeline in a bounded ring, and hands them out in order.
 * Positions are output sample numbers: 0 = the timeline origin chosen by the owner
 * ({@link CallAudioRenderer}), one per 125 µs.
 *
 * Playout rule (a jitter buffer with a fixed depth = the reorder window, no time stretching):
 * - Mapping: the first packet's timestamp is placed at its own arrival position (or at the
 *   released point when that is later, e.g. a packet before the origin goes to 0); every later
 *   packet at `anchor + (timestamp − anchorTimestamp) / (clock / 8000)` (32-bit serial
 *   difference: wraps are fine; the ratio is 1 for G.711, 6 for Opus's 48 kHz clock). Network
 *   jitter therefore moves nothing; only the first packet's delay shifts the leg.
 * - Opus (with a decoder given) is decoded by libopus at 8 kHz in arrival order; its length
 *   comes from the packet's TOC (`opusPacketSamples`); a payload that does not parse counts as
 *   `undecodable`, one libopus refuses in the decoder's `errors`: both stay silence.
 * - Playout: the owner releases positions up to (latest arrival − window); a packet whose
 *   samples fall before that point missed its playout and counts as `late` (its samples stay
 *   silence). Reordered packets inside the window are placed.
 * - Duplicates (every sample position already written) are ignored; a sample position keeps the
 *   first packet's sample.
 * - Gaps and lost packets are silence (zeros), of exactly the length the timestamps leave.
 * - RFC 4733 telephone-event and RFC 3389 comfort-noise packets are skipped (counted); packets
 *   of codecs without a decoder are skipped and counted in `unsupported` (check the call's
 *   payload types up front with `assertAudioDecodable` to refuse such calls).
 * - Restart: an SSRC change, a change of RTP clock (e.g. G.711 to Opus), or a packet newer (by sequence number) than all before whose
 *   mapped position is before the released point (timestamp stepped back or clock drift beyond
 *   the window) or more than one window ahead of its arrival (timestamp jumped forward), maps
 *   afresh: that packet goes to max(its arrival position, released point).
 * - Samples before position 0 or at/after the timeline end are dropped (`clippedSamples`).
 */
export class AudioStreamRenderer {
  /** Packets offered. */
  packets = 0;
  /** Packets whose samples were (at least partly) written. */
  placed = 0;
  /** Packets whose every sample position was already written (ignored). */
  duplicates = 0;
  /** Packets older (sequence number) than one placed before them, still placed. */
  reordered = 0;
  /** Packets that arrived after their samples were played out (kept silent). */
  late = 0;
  /** RFC 4733 telephone-event packets skipped. */
  telephoneEvents = 0;
  /** Comfort-noise packets skipped (rendered as silence). */
  comfortNoise = 0;
  /** Packets of a codec without a decoder, skipped. */
  unsupported = 0;
  /** Last payload type counted in {@link unsupported}; -1 when none. */
  lastUnsupportedPayloadType = -1;
  /** Payloads larger than {@link MAX_PACKET_SAMPLES}, dropped. */
  oversize = 0;
  /** Opus payloads whose TOC gives no valid duration (empty, malformed, over 120 ms), or that did not decode: silence. */
  undecodable = 0;
  /** Re-mappings after the first packet (SSRC change, timestamp jump). */
  restarts = 0;
  /**
   * Samples of packets not late as a whole that fell outside the open range: before position 0
   * or the released point, at/after the timeline end, or past the ring.
   */
  clippedSamples = 0;

  private readonly ring: Int16Array;
  private readonly filled: Uint8Array;
  private readonly capacity: number;
  private readonly window: number;
  private readonly end: number;
  private released = 0;
  private highestEnd = 0;
  private anchored = false;
  private ssrc = 0;
  private anchorPos = 0;
  private anchorTs = 0;
  private highestSeq = 0;
  /** RTP clock units per output sample of the anchored packets (1 for G.711, 6 for Opus). */
  private anchorRatio = 1;
  /** Decoded samples of one packet for decoders that are not per-octet tables (Opus). */
  private readonly scratch = new Int16Array(MAX_PACKET_SAMPLES);

  /**
   * @param payloadTypes the leg's payload-type map (codec per PT, from its SDP)
   * @param windowSamples reorder window (playout delay) in samples
   * @param endSample timeline length in samples (positions ≥ it are dropped), or `null`
   * @param opus the leg's Opus decoder; without one, Opus packets count as `unsupported`
   * @throws RangeError for a window outside 1..10 s of samples or a negative end (programmer errors)
   */
  constructor(
    private readonly payloadTypes: PayloadTypeMap,
    windowSamples: number,
    endSample: number | null,
    private readonly opus: AudioPayloadDecoder | null = null,
  ) {
    if (!Number.isInteger(windowSamples) || windowSamples < 1 || windowSamples > 10 * AUDIO_SAMPLE_RATE) {
      throw new RangeError(`reorder window ${windowSamples} samples outside 1..${10 * AUDIO_SAMPLE_RATE}`);
    }
    if (endSample !== null && !(Number.isInteger(endSample) && endSample >= 0)) throw new RangeError(`end sample ${endSample} invalid`);
    this.window = windowSamples;
    // Room for positions up to one window ahead of the latest arrival (= two windows ahead of
    // the released point) plus one whole packet: see the restart rule.
    this.capacity = 2 * windowSamples + MAX_PACKET_SAMPLES;
    this.ring = new Int16Array(this.capacity);
    this.filled = new Uint8Array(this.capacity);
    this.end = endSample ?? Number.MAX_SAFE_INTEGER;
  }

  /** First position not yet handed out by {@link read}. */
  get releasedUpTo(): number {
    return this.released;
  }

  /** One past the last position written so far (0 before any sample). */
  get writtenUpTo(): number {
    return this.highestEnd;
  }

  /**
   * Place one packet that arrived at output position `arrivalPos` (arrival time on the
   * timeline, in samples). Never throws on packet content.
   */
  place(h: AudioRtpFields, buf: Uint8Array, arrivalPos: number): void {
    this.packets++;
    const codec = this.payloadTypes.codec[h.payloadType & 0x7f]!;
    if (codec === Codec.TelephoneEvent) {
      this.telephoneEvents++;
      return;
    }
    if (codec === Codec.CN) {
      this.comfortNoise++;
      return;
    }
    const isOpus = codec === Codec.Opus && this.opus !== null;
    if (codec !== Codec.PCMU && codec !== Codec.PCMA && !isOpus) {
      this.unsupported++;
      this.lastUnsupportedPayloadType = h.payloadType & 0x7f;
      return;
    }
    let n: number;
    let ratio = 1;
    if (isOpus) {
      n = opusPacketSamples(buf, h.payloadOffset, h.payloadLength, AUDIO_SAMPLE_RATE);
      if (n === 0) {
        this.undecodable++;
        return;
      }
      // RFC 7587 §4.1: the RTP clock of Opus is 48 kHz whatever the audio bandwidth.
      ratio = (this.payloadTypes.clockRate[h.payloadType & 0x7f]! || 48_000) / AUDIO_SAMPLE_RATE;
    } else {
      n = h.payloadLength;
      if (n === 0) return;
      if (n > MAX_PACKET_SAMPLES) {
        this.oversize++;
        return;
      }
    }
    const seq = h.sequenceNumber & 0xffff;
    const ts = h.timestamp >>> 0;
    const ssrc = h.ssrc >>> 0;
    let newest: boolean;
    if (!this.anchored || ssrc !== this.ssrc || ratio !== this.anchorRatio) {
      if (this.anchored) this.restarts++;
      this.anchor(ssrc, ts, arrivalPos, ratio);
      newest = true;
    } else {
      const d = (seq - this.highestSeq) & 0xffff;
      newest = d !== 0 && d < 0x8000;
    }
    let pos = this.anchorPos + (ratio === 1 ? (ts - this.anchorTs) | 0 : Math.round(((ts - this.anchorTs) | 0) / ratio));
    if (newest && (pos < this.released || pos - arrivalPos > this.window)) {
      this.restarts++;
      this.anchor(ssrc, ts, arrivalPos, ratio);
      pos = this.anchorPos;
    }
    if (newest) this.highestSeq = seq;
    if (pos + n <= this.released) {
      this.late++;
      return;
    }
    const lo = Math.max(pos, this.released, 0);
    const hi = Math.min(pos + n, this.released + this.capacity, this.end);
    let written = 0;
    let skipped = 0;
    if (isOpus) {
      // Decoded in arrival order (the decoder is stateful), the samples then placed like G.711's.
      const m = this.opus.decode(buf, h.payloadOffset, h.payloadLength, this.scratch, 0);
      if (m === 0) {
        this.undecodable++;
        return;
      }
      const top = Math.min(hi, pos + m);
      for (let p = lo; p < top; p++) {
        const i = p % this.capacity;
        if (this.filled[i] !== 0) {
          skipped++;
          continue;
        }
        this.ring[i] = this.scratch[p - pos]!;
        this.filled[i] = 1;
        written++;
      }
    } else {
      const decodeAlaw = codec === Codec.PCMA;
      const base = h.payloadOffset - pos;
      for (let p = lo; p < hi; p++) {
        const i = p % this.capacity;
        if (this.filled[i] !== 0) {
          skipped++;
          continue;
        }
        const octet = buf[base + p]!;
        this.ring[i] = decodeAlaw ? decodeAlawSample(octet) : decodeUlawSample(octet);
        this.filled[i] = 1;
        written++;
      }
    }
    this.clippedSamples += n - Math.max(0, hi - lo);
    if (written === 0 && skipped > 0) {
      this.duplicates++;
      return;
    }
    if (written === 0) return;
    this.placed++;
    if (!newest) this.reordered++;
    if (hi > this.highestEnd) this.highestEnd = hi;
  }

  /**
   * Hand out positions `[releasedUpTo, to)` into `out[outOffset ..]` (silence where nothing was
   * placed) and free them; later packets for them count as late.
   * @throws RangeError when `to` is before {@link releasedUpTo} or `out` lacks room (programmer error)
   */
  read(to: number, out: Int16Array, outOffset: number): void {
    const n = to - this.released;
    if (!(Number.isInteger(to) && n >= 0 && outOffset >= 0 && outOffset + n <= out.length)) {
      throw new RangeError(`read: positions ${this.released}..${to} into ${out.length - outOffset} samples of room`);
    }
    const cap = this.capacity;
    for (let k = 0; k < n; k++) {
      const i = (this.released + k) % cap;
      out[outOffset + k] = this.ring[i]!;
      this.ring[i] = 0;
      this.filled[i] = 0;
    }
    this.released = to;
  }

  private anchor(ssrc: number, ts: number, arrivalPos: number, ratio: number): void {
    this.anchored = true;
    this.ssrc = ssrc;
    this.anchorTs = ts;
    this.anchorRatio = ratio;
    this.anchorPos = Math.max(arrivalPos, this.released);
  }
}
