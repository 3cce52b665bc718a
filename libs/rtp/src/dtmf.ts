import { checkRange } from './buffer-range.js';

/** RFC 4733 §3.2 event payload: event(8) E(1) R(1) volume(6) duration(16). */
const EVENT_PAYLOAD_LENGTH = 4;
const END_BIT = 0x80;
/** Events kept per stream (a ring of the most recent); more are counted in `dropped`. */
export const MAX_DTMF_EVENTS = 64;
/** Event code meaning "no event in progress". */
const NONE = -1;

/** Characters for RFC 4733 §3.2 DTMF event codes 0..16 (16 = flash, shown as '!'). */
const DTMF_CHARS = '0123456789*#ABCD!';

/** Character of an RFC 4733 DTMF event code (0-9, *, #, A-D, ! for flash), '?' for other events. */
export function dtmfDigit(event: number): string {
  return event >= 0 && event < DTMF_CHARS.length ? DTMF_CHARS[event]! : '?';
}

/**
 * RFC 4733 telephone-event (DTMF) detector for one RTP stream. Feed it every packet of the
 * telephone-event payload type; each event is reported once:
 *
 * - a new event starts when the RTP timestamp differs from the current event's (§2.5.1.2: all
 *   packets of one event carry the timestamp of its start) — the marker bit is not required,
 *   since the first packet may be lost;
 * - its start is the arrival time of its first packet, its duration the duration field of the
 *   end packet (E bit) converted with the clock rate;
 * - end-packet repeats (usually three, §2.5.1.4) carry the same timestamp and are ignored;
 * - an event whose end packets were all lost is closed, with the last duration seen, when the
 *   next event starts or at {@link DtmfDetector.finish}.
 *
 * Events go to fixed typed arrays (a ring of the last {@link MAX_DTMF_EVENTS}).
 *
 * @see https://www.rfc-editor.org/rfc/rfc4733#section-2.5
 */
export class DtmfDetector {
  /** Events detected so far (the ring keeps the last {@link MAX_DTMF_EVENTS}). */
  count = 0;
  /** Event packets too short to hold an event (counted, ignored). */
  malformed = 0;
  /** Event code per ring slot (0-15 DTMF, 16 flash, others per RFC 4734). */
  readonly event = new Uint8Array(MAX_DTMF_EVENTS);
  /** Start arrival time, seconds, per ring slot. */
  readonly startSec = new Float64Array(MAX_DTMF_EVENTS);
  /** Start arrival time, nanoseconds part, per ring slot. */
  readonly startNsec = new Uint32Array(MAX_DTMF_EVENTS);
  /** Duration in ms per ring slot. */
  readonly durationMs = new Float64Array(MAX_DTMF_EVENTS);
  /** Volume (dBm0 below 0, 0..63) per ring slot. */
  readonly volume = new Uint8Array(MAX_DTMF_EVENTS);
  /** True when the end packet was seen, per ring slot. */
  readonly ended = new Uint8Array(MAX_DTMF_EVENTS);

  private curEvent = NONE;
  private curTimestamp = 0;
  private curSec = 0;
  private curNsec = 0;
  private curDuration = 0;
  private curVolume = 0;
  private curEnded = false;

  /** @param clockRate RTP clock of the telephone-event payload (rtpmap, usually 8000). */
  constructor(readonly clockRate = 8000) {
    if (!(clockRate > 0)) throw new RangeError(`clock rate ${clockRate} must be > 0`);
  }

  /**
   * Account one telephone-event packet: its RTP timestamp, arrival time, and the payload at
   * `buf[offset .. offset + length)`. A payload shorter than the 4-byte event is counted in
   * {@link DtmfDetector.malformed}.
   *
   * @throws RangeError when offset/length lie outside `buf` (a programmer error, not wire input).
   */
  update(timestamp: number, tsSec: number, tsNsec: number, buf: Uint8Array, offset: number, length: number): void {
    checkRange('DtmfDetector.update', buf.length, offset, length);
    if (length < EVENT_PAYLOAD_LENGTH) {
      this.malformed++;
      return;
    }
    const event = buf[offset]!;
    const flags = buf[offset + 1]!;
    const duration = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    const ts = timestamp >>> 0;
    if (this.curEvent === NONE || ts !== this.curTimestamp) {
      if (this.curEvent !== NONE && !this.curEnded) this.emit(false);
      this.curEvent = event;
      this.curTimestamp = ts;
      this.curSec = tsSec;
      this.curNsec = tsNsec;
      this.curEnded = false;
      this.curDuration = 0;
    }
    if (this.curEnded) return; // end-packet repeat
    if (duration > this.curDuration) this.curDuration = duration;
    this.curVolume = flags & 0x3f;
    if ((flags & END_BIT) !== 0) {
      this.curEnded = true;
      this.emit(true);
    }
  }

  /**
   * A copy with the same events and the same event in progress: a live view can `finish` the
   * copy without closing the event this detector is still receiving.
   */
  clone(): DtmfDetector {
    const c = new DtmfDetector(this.clockRate);
    c.count = this.count;
    c.malformed = this.malformed;
    c.event.set(this.event);
    c.startSec.set(this.startSec);
    c.startNsec.set(this.startNsec);
    c.durationMs.set(this.durationMs);
    c.volume.set(this.volume);
    c.ended.set(this.ended);
    c.curEvent = this.curEvent;
    c.curTimestamp = this.curTimestamp;
    c.curSec = this.curSec;
    c.curNsec = this.curNsec;
    c.curDuration = this.curDuration;
    c.curVolume = this.curVolume;
    c.curEnded = this.curEnded;
    return c;
  }

  /** Close an event whose end packet never came (stream end). */
  finish(): void {
    if (this.curEvent !== NONE && !this.curEnded) {
      this.curEnded = true;
      this.emit(false);
    }
  }

  /** Number of events held in the ring. */
  get kept(): number {
    return Math.min(this.count, MAX_DTMF_EVENTS);
  }

  /** Ring slot of the i-th kept event (0 = oldest kept). */
  slot(i: number): number {
    return (this.count - this.kept + i) % MAX_DTMF_EVENTS;
  }

  /** The kept events as strings, oldest first — for reports, not the hot path (allocates). */
  digits(): string {
    let s = '';
    for (let i = 0; i < this.kept; i++) s += dtmfDigit(this.event[this.slot(i)]!);
    return s;
  }

  private emit(ended: boolean): void {
    const slot = this.count % MAX_DTMF_EVENTS;
    this.event[slot] = this.curEvent;
    this.startSec[slot] = this.curSec;
    this.startNsec[slot] = this.curNsec;
    this.durationMs[slot] = (this.curDuration * 1000) / this.clockRate;
    this.volume[slot] = this.curVolume;
    this.ended[slot] = ended ? 1 : 0;
    this.count++;
  }
}
