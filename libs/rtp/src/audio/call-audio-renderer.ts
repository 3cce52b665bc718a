import type { PayloadTypeMap } from '../codec.js';
import type { AudioPayloadDecoder } from './audio-payload-decoder.js';
import { AUDIO_SAMPLE_RATE, AudioStreamRenderer, US_PER_SAMPLE, type AudioRtpFields } from './stream-renderer.js';
import { WAV_PCM_HEADER_LENGTH, writeWavHeader } from './wav-header.js';

/** The two legs of a call: what the caller sent (left in stereo) and what the callee sent (right). */
export const AudioLeg = {
  Caller: 0,
  Callee: 1,
} as const;
/** One of the {@link AudioLeg} values. */
export type AudioLeg = (typeof AudioLeg)[keyof typeof AudioLeg];

/** Output layouts, named as in the manager-api `legs` query parameter. */
export const AudioLegsLayout = {
  /** Two channels, caller left, callee right. */
  Stereo: 'stereo',
  /** Mono, the caller's leg only. */
  Caller: 'caller',
  /** Mono, the callee's leg only. */
  Callee: 'callee',
  /** Mono, both legs summed with saturation at the 16-bit limits. */
  Mixed: 'mixed',
} as const;
/** One of the {@link AudioLegsLayout} values. */
export type AudioLegsLayout = (typeof AudioLegsLayout)[keyof typeof AudioLegsLayout];

/** Options of {@link CallAudioRenderer}. */
export interface CallAudioRendererOptions {
  /** Timeline origin, µs since the epoch: output sample 0 (e.g. the call's first RTP arrival). */
  originUs: number;
  /**
   * Timeline end, µs since the epoch (e.g. the last RTP arrival plus its packet time), or null
   * when unknown. When given, the output has exactly `round((endUs − originUs) / 125)` frames
   * (silence-padded, later samples dropped) and {@link CallAudioRenderer.wavHeader} is exact.
   */
  endUs?: number | null;
  /** Output layout. */
  layout: AudioLegsLayout;
  /** Payload types of the caller's leg (its SDP), e.g. telephone-event on 101. */
  callerPayloadTypes: PayloadTypeMap;
  /** Payload types of the callee's leg; the caller's map when omitted. */
  calleePayloadTypes?: PayloadTypeMap;
  /**
   * Opus decoders of the caller's and the callee's leg (`createOpusAudioDecoder`, one per leg:
   * they keep state). Without them Opus packets are skipped as `unsupported`.
   */
  opusDecoders?: { caller: AudioPayloadDecoder; callee: AudioPayloadDecoder } | null;
  /** Reorder window = playout delay, ms (default 500, 1..10000). */
  reorderWindowMs?: number;
  /** Frames per emitted chunk, at most (default 2000 = 250 ms). */
  chunkFrames?: number;
  /**
   * Receives the output as little-endian 16-bit PCM (interleaved L/R for stereo), in order, in
   * chunks the callee owns (a fresh buffer each time: push it to a stream as is).
   */
  onChunk: (pcm: Uint8Array) => void;
}

/**
 * Renders a call's G.711 and Opus audio onto its timeline, incrementally and in bounded memory (one
 * reorder ring per leg, see {@link AudioStreamRenderer} for the playout rule).
 *
 * Feed every RTP packet of both legs in arrival order (as a time-ordered pcap gives them) with
 * {@link push}; each arrival releases both legs up to (arrival − window) and emits the released
 * frames through `onChunk` in chunks of exactly `chunkFrames` (the last one shorter); {@link finish} emits the rest (up to
 * the timeline end when known, else up to the last sample written). Output: 8 kHz, 16-bit PCM.
 *
 * Pacing: an arrival after a long gap (media stopped for minutes, a capped 4-hour timeline)
 * releases that whole gap as silence, which `push` and `finish` emit at once. A consumer with
 * back-pressure calls {@link advanceTo} before `push` (and {@link finishStep} instead of
 * `finish`) until it returns true, waiting for its sink between calls: each call emits at most
 * one chunk, so no more than one chunk is produced ahead of the consumer. The output is the same
 * bytes either way (the playout rule releases exactly up to each arrival − window).
 */
export class CallAudioRenderer {
  /** Output channels: 2 for stereo, else 1. */
  readonly channels: 1 | 2;
  /** Timeline length in frames when `endUs` was given, else null. */
  readonly totalFrames: number | null;
  private readonly legs: readonly [AudioStreamRenderer, AudioStreamRenderer];
  private readonly window: number;
  private readonly chunkFrames: number;
  private readonly a: Int16Array;
  private readonly b: Int16Array;
  /** Frames handed to `onChunk`. */
  private emitted = 0;
  /** Frames released from the legs (emitted + pending). */
  private released = 0;
  /** Frames released but not yet emitted, at the start of `a` / `b`. */
  private pending = 0;
  private finished = false;
  /** Where {@link finishStep} releases to, fixed at its first call. */
  private endTarget = 0;

  /** @throws RangeError for invalid options (programmer errors) */
  constructor(private readonly options: CallAudioRendererOptions) {
    const { originUs, endUs = null, layout } = options;
    if (!Number.isFinite(originUs)) throw new RangeError(`originUs ${originUs} invalid`);
    if (endUs !== null && !(Number.isFinite(endUs) && endUs >= originUs)) throw new RangeError(`endUs ${endUs} before originUs ${originUs}`);
    if (!Object.values(AudioLegsLayout).includes(layout)) throw new RangeError(`layout ${layout} invalid`);
    const windowMs = options.reorderWindowMs ?? 500;
    if (!(Number.isFinite(windowMs) && windowMs >= 1 && windowMs <= 10_000)) throw new RangeError(`reorderWindowMs ${windowMs} outside 1..10000`);
    this.chunkFrames = options.chunkFrames ?? 2000;
    if (!Number.isInteger(this.chunkFrames) || this.chunkFrames < 1) throw new RangeError(`chunkFrames ${this.chunkFrames} invalid`);
    this.channels = layout === AudioLegsLayout.Stereo ? 2 : 1;
    this.totalFrames = endUs === null ? null : Math.round((endUs - originUs) / US_PER_SAMPLE);
    this.window = Math.round((windowMs * AUDIO_SAMPLE_RATE) / 1000);
    this.legs = [
      new AudioStreamRenderer(options.callerPayloadTypes, this.window, this.totalFrames, options.opusDecoders?.caller ?? null),
      new AudioStreamRenderer(options.calleePayloadTypes ?? options.callerPayloadTypes, this.window, this.totalFrames, options.opusDecoders?.callee ?? null),
    ];
    this.a = new Int16Array(this.chunkFrames);
    this.b = new Int16Array(this.chunkFrames);
  }

  /** A leg's renderer, for its counters (late, duplicates, restarts, skipped packets, ...). */
  leg(leg: AudioLeg): AudioStreamRenderer {
    return this.legs[leg];
  }

  /** Frames emitted so far. */
  get framesEmitted(): number {
    return this.emitted;
  }

  /**
   * The 44-byte WAV header for this output: exact data size when the timeline end is known,
   * else the streaming size (`WAV_STREAMING_DATA_BYTES`).
   */
  wavHeader(): Uint8Array {
    const out = new Uint8Array(WAV_PCM_HEADER_LENGTH);
    writeWavHeader(out, 0, this.totalFrames === null ? null : this.totalFrames * this.channels * 2, AUDIO_SAMPLE_RATE, this.channels);
    return out;
  }

  /**
   * One RTP packet of `leg` that arrived at `arrivalUs` (µs since the epoch); its payload is
   * `buf[h.payloadOffset .. + h.payloadLength)`. Packets must come in arrival order across both
   * legs (an earlier arrival than one already pushed releases nothing and may find its place
   * already played out: it counts as late).
   * @throws RangeError for a non-finite arrival or an unknown leg; Error after {@link finish}
   */
  push(leg: AudioLeg, h: AudioRtpFields, buf: Uint8Array, arrivalUs: number): void {
    if (this.finished) throw new Error('CallAudioRenderer: push after finish');
    if (!Number.isFinite(arrivalUs)) throw new RangeError(`arrivalUs ${arrivalUs} invalid`);
    // The type says 0 | 1; a plain-JS or cast caller may pass anything: a clear error, not a crash inside.
    const r = this.legs[leg] as AudioStreamRenderer | undefined;
    if (r === undefined) throw new RangeError(`leg ${String(leg)} is not 0 (caller) or 1 (callee)`);
    const arrivalPos = this.positionOf(arrivalUs);
    this.releaseTo(arrivalPos - this.window, false, Infinity);
    r.place(h, buf, arrivalPos);
  }

  /**
   * Paced release before a {@link push} of a packet that arrives at `arrivalUs`: emits at most one
   * chunk of what that arrival releases (both legs up to arrival − window). Call it until it
   * returns true, waiting for the sink between calls, then `push` the packet (which then has
   * nothing left to release). Memory stays one chunk ahead of the consumer whatever the gap.
   *
   * @returns true when everything the arrival releases has been released (the push emits nothing more)
   * @throws RangeError for a non-finite arrival; Error after {@link finish} / {@link finishStep}
   */
  advanceTo(arrivalUs: number): boolean {
    if (this.finished) throw new Error('CallAudioRenderer: advanceTo after finish');
    if (!Number.isFinite(arrivalUs)) throw new RangeError(`arrivalUs ${arrivalUs} invalid`);
    return this.releaseTo(this.positionOf(arrivalUs) - this.window, false, 1);
  }

  /** Emit everything left: up to the timeline end when known, else up to the last sample written. Idempotent. */
  finish(): void {
    while (!this.finishStep());
  }

  /**
   * Paced {@link finish}: emits at most one chunk of what is left (the last, partial chunk
   * included). No `push` or `advanceTo` after the first call.
   *
   * @returns true once everything has been emitted (then idempotent: emits nothing, returns true)
   */
  finishStep(): boolean {
    if (this.finished && this.released === this.endTarget && this.pending === 0) return true;
    if (!this.finished) {
      this.finished = true;
      // Fixed once: nothing is written after the first step, so the end cannot move.
      this.endTarget = this.totalFrames ?? Math.max(this.legs[0].writtenUpTo, this.legs[1].writtenUpTo, this.released);
    }
    return this.releaseTo(this.endTarget, true, 1) && this.pending === 0;
  }

  /** Output position (sample) of a time on the timeline. */
  private positionOf(us: number): number {
    return Math.round((us - this.options.originUs) / US_PER_SAMPLE);
  }

  /**
   * Release both legs exactly up to `to` (so the playout rule does not depend on chunking) into
   * the pending buffers; emit each full chunk, and the partial one too when `flush`, stopping
   * after `maxChunks` emissions. Returns true when nothing is left to release (and, with
   * `flush`, to emit) up to `to`.
   */
  private releaseTo(to: number, flush: boolean, maxChunks: number): boolean {
    const end = this.totalFrames === null ? to : Math.min(to, this.totalFrames);
    let chunks = 0;
    while (this.released < end) {
      if (chunks === maxChunks) return false;
      const n = Math.min(this.chunkFrames - this.pending, end - this.released);
      const upTo = this.released + n;
      this.legs[0].read(upTo, this.a, this.pending);
      this.legs[1].read(upTo, this.b, this.pending);
      this.released = upTo;
      this.pending += n;
      if (this.pending === this.chunkFrames) {
        this.emit();
        chunks++;
      }
    }
    if (flush && this.pending > 0) {
      if (chunks === maxChunks) return false;
      this.emit();
    }
    return true;
  }

  private emit(): void {
    const n = this.pending;
    this.pending = 0;
    this.emitted += n;
    this.options.onChunk(this.interleave(n));
  }

  private interleave(n: number): Uint8Array {
    const out = new Uint8Array(n * this.channels * 2);
    const a = this.a;
    const b = this.b;
    let o = 0;
    const put = (s: number): void => {
      out[o++] = s & 0xff;
      out[o++] = (s >> 8) & 0xff;
    };
    switch (this.options.layout) {
      case AudioLegsLayout.Stereo:
        for (let i = 0; i < n; i++) {
          put(a[i]!);
          put(b[i]!);
        }
        break;
      case AudioLegsLayout.Caller:
        for (let i = 0; i < n; i++) put(a[i]!);
        break;
      case AudioLegsLayout.Callee:
        for (let i = 0; i < n; i++) put(b[i]!);
        break;
      case AudioLegsLayout.Mixed:
        for (let i = 0; i < n; i++) put(mixSaturating(a[i]!, b[i]!));
        break;
    }
    return out;
  }
}

/** Sum of two 16-bit samples clipped to −32768..32767 (no wrap-around click). */
export function mixSaturating(x: number, y: number): number {
  const s = x + y;
  return s > 32767 ? 32767 : s < -32768 ? -32768 : s;
}
