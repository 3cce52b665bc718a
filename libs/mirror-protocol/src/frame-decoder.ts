import type protobuf from 'protobufjs/minimal.js';
import { Envelope } from './messages.js';
import { createNumberReader } from './number-reader.js';
import { DEFAULT_MAX_FRAME_LENGTH, FRAME_HEADER_LENGTH } from './protocol-constants.js';

/** Outcome of {@link FrameDecoder.next}. */
export const FrameStatus = {
  /** No complete frame buffered yet: push more bytes. */
  NeedMore: 0,
  /** A frame was decoded into `out.envelope`. */
  Frame: 1,
  /** The length prefix exceeds the bound: the stream is unusable, close the connection. Sticky. */
  TooLarge: 2,
  /** The frame was consumed but its content is not a usable envelope (`out.reason` says why). */
  Malformed: 3,
} as const;
/** A value of {@link FrameStatus}. */
export type FrameStatus = (typeof FrameStatus)[keyof typeof FrameStatus];

/** Why a frame was {@link FrameStatus.Malformed}; also the index into the malformed counters. */
export const MalformedReason = {
  /** Not malformed. */
  None: 0,
  /** Length prefix 0: an envelope always carries one message, so it is never empty. */
  EmptyFrame: 1,
  /** The protobuf bytes do not parse (truncated field, bad wire type, bad varint, too deep). */
  Protobuf: 2,
} as const;
/** A value of {@link MalformedReason}. */
export type MalformedReason = (typeof MalformedReason)[keyof typeof MalformedReason];

/** Caller-owned result of {@link FrameDecoder.next}, reused across calls. */
export interface DecodedFrame {
  /**
   * The decoded envelope when the status is `Frame`, else null. Its `body` is undefined when the
   * peer sent a message kind this version does not know (a newer peer): count it, do not drop the
   * connection. Its `bytes` fields alias the decoder's buffer: valid until the next `push()`, so
   * copy what you keep.
   */
  envelope: Envelope | null;
  /** Length of the envelope bytes (prefix excluded) of the last consumed frame. */
  length: number;
  /** Why the last frame was malformed, {@link MalformedReason.None} otherwise. */
  reason: MalformedReason;
}

/** Creates an empty {@link DecodedFrame} for reuse. */
export function createDecodedFrame(): DecodedFrame {
  return { envelope: null, length: 0, reason: MalformedReason.None };
}

/** Counters of a {@link FrameDecoder}; every rejected frame is counted by reason. */
export interface FrameDecoderStats {
  /** Frames decoded. */
  frames: number;
  /** Bytes pushed in total. */
  bytes: number;
  /** Malformed frames by {@link MalformedReason} (index 0 unused). */
  malformed: number[];
  /** Length prefixes above the bound (at most 1: the state is sticky). */
  tooLarge: number;
  /** Bytes pushed after a TooLarge and discarded. */
  discardedBytes: number;
}

/** Options of a {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest accepted envelope length in bytes; default {@link DEFAULT_MAX_FRAME_LENGTH}. */
  maxFrameLength?: number;
  /** Initial buffer capacity in bytes (it grows by doubling up to the frame bound); default 64 KiB. */
  initialCapacity?: number;
}

/**
 * Streaming decoder of `u32 big-endian length | Envelope` frames from a TCP byte stream.
 *
 * TCP delivers arbitrary chunks, so a frame may arrive in pieces or several frames in one chunk.
 * Chunks are appended to one growable buffer (compacted in place, doubled when a frame does not
 * fit), so steady-state decoding allocates only what protobufjs allocates for the message itself.
 * Wire input never throws: protobufjs errors become {@link FrameStatus.Malformed}. The buffer is
 * bounded by the frame bound: a length prefix above it is refused before any of it is buffered.
 *
 * Usage: after each `push(chunk)`, call `next(out)` until it answers `NeedMore` or `TooLarge`.
 */
export class FrameDecoder {
  /** Counters, by reason. */
  readonly stats: FrameDecoderStats = { frames: 0, bytes: 0, malformed: [0, 0, 0], tooLarge: 0, discardedBytes: 0 };
  private readonly maxFrameLength: number;
  private buf: Uint8Array;
  private view: DataView;
  /** Start of unread bytes in `buf`. */
  private start = 0;
  /** End of buffered bytes in `buf`. */
  private end = 0;
  private broken = false;
  /** One reader re-pointed at each frame (no Reader per frame), uint64 as numbers (no Long per field). */
  private readonly reader: protobuf.Reader;

  /**
   * @param options - frame bound and initial capacity.
   * @throws RangeError on a bound outside 1..2^32-1.
   */
  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    if (!Number.isInteger(this.maxFrameLength) || this.maxFrameLength < 1 || this.maxFrameLength > 0xffff_ffff) {
      throw new RangeError(`maxFrameLength must be an integer in 1..4294967295, got ${this.maxFrameLength}`);
    }
    this.buf = new Uint8Array(Math.max(FRAME_HEADER_LENGTH, options.initialCapacity ?? 64 * 1024));
    this.view = new DataView(this.buf.buffer);
    this.reader = createNumberReader(this.buf);
  }

  /** Bytes buffered but not yet consumed as a frame (non-zero at end of stream = truncated frame). */
  get pendingBytes(): number {
    return this.end - this.start;
  }

  /** Appends a chunk read from the socket. The chunk is copied; the caller may reuse it. */
  push(chunk: Uint8Array): void {
    this.stats.bytes += chunk.length;
    if (this.broken) {
      // After a TooLarge the framing is lost; keep memory bounded and count what is thrown away.
      this.stats.discardedBytes += chunk.length;
      return;
    }
    this.reserve(chunk.length);
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /**
   * Decodes the next buffered frame into `out`.
   *
   * @param out - caller-owned result, reused.
   * @returns `Frame` (out.envelope set), `NeedMore`, `Malformed` (frame consumed, out.reason set),
   *   or `TooLarge` (sticky: close the connection).
   */
  next(out: DecodedFrame): FrameStatus {
    out.envelope = null;
    out.reason = MalformedReason.None;
    if (this.broken) return FrameStatus.TooLarge;
    const available = this.end - this.start;
    if (available < FRAME_HEADER_LENGTH) return FrameStatus.NeedMore;
    const length = this.view.getUint32(this.start, false);
    if (length > this.maxFrameLength) {
      this.broken = true;
      this.stats.tooLarge++;
      this.stats.discardedBytes += available;
      this.start = this.end = 0;
      out.length = length;
      return FrameStatus.TooLarge;
    }
    if (available - FRAME_HEADER_LENGTH < length) return FrameStatus.NeedMore;
    const bodyStart = this.start + FRAME_HEADER_LENGTH;
    // The frame is consumed whatever its content: the length prefix keeps the stream in sync.
    this.start = bodyStart + length;
    if (this.start === this.end) this.start = this.end = 0;
    out.length = length;
    if (length === 0) return this.malformed(out, MalformedReason.EmptyFrame);
    const reader = this.reader;
    reader.buf = this.buf;
    reader.pos = bodyStart;
    reader.len = bodyStart + length;
    try {
      out.envelope = Envelope.decode(reader, length);
    } catch {
      // protobufjs reports bad input by throwing (RangeError "index out of range", Error "invalid
      // wire type ..."); that is wire input, so it becomes a counted status, never an exception.
      return this.malformed(out, MalformedReason.Protobuf);
    }
    this.stats.frames++;
    return FrameStatus.Frame;
  }

  private malformed(out: DecodedFrame, reason: MalformedReason): FrameStatus {
    out.envelope = null;
    out.reason = reason;
    this.stats.malformed[reason] = (this.stats.malformed[reason] ?? 0) + 1;
    return FrameStatus.Malformed;
  }

  /** Makes room for `extra` bytes after `end`: compact first, grow (doubling) only if needed. */
  private reserve(extra: number): void {
    if (this.end + extra <= this.buf.length) return;
    const pending = this.end - this.start;
    if (pending + extra <= this.buf.length) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      let capacity = this.buf.length;
      while (capacity < pending + extra) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.buf.subarray(this.start, this.end));
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    }
    this.start = 0;
    this.end = pending;
  }
}
