import { HEP3_MAGIC } from '@callscope/packet';
import { readU16BE, readU32BE } from '@callscope/pcap-format';

/**
 * What {@link HepStreamFramer.push} found. Anything but `Ok` ends the stream: past a header that
 * cannot be framed there is no telling where the next message starts.
 */
export const HepFramingStatus = {
  Ok: 0,
  /** Neither "HEP3" nor a HEP v1/v2 version byte where a message starts. */
  NotHep: 1,
  /** HEP v1/v2 (first byte 1 or 2): no length field, so a stream of them cannot be framed. */
  HepV2: 2,
  /** A HEP3 length field below the 6-byte header. */
  BadLength: 3,
  /** A HEP3 length field above the framer's maximum message size. */
  Oversize: 4,
  /** {@link HepStreamFramer.stop} was called (by the message callback or after an error). */
  Stopped: 5,
} as const;
export type HepFramingStatus = (typeof HepFramingStatus)[keyof typeof HepFramingStatus];

/** HEP3 header: "HEP3" (4) + total length including the header (2). */
export const HEP3_HEADER_LENGTH = 6;
const MAGIC = [0x48, 0x45, 0x50, 0x33] as const;
const MAX_U16 = 0xffff;
/** First size of the buffer for a message cut by a chunk's end; it grows to the message in hand and is kept. */
const INITIAL_BUFFER = 2048;

/** Receives one framed message: `buf[off, off+len)`, valid only during the call. */
export type HepMessageCallback = (buf: Uint8Array, off: number, len: number) => void;

/**
 * Frames a HEP3 byte stream (HEP over TCP): messages back to back, each
 * ```
 *  "HEP3" | total length (16, big-endian, includes these 6 bytes) | chunks...
 * ```
 * (HEP3 spec rev. 36, https://github.com/sipcapture/HEP/blob/master/docs/HEP3_Network_Protocol_Specification_REV_36.pdf).
 * Every complete message of a chunk is handed over straight from the chunk (no copy); a message
 * cut by the chunk's end is gathered in one buffer owned by the framer (at most the largest
 * message seen, never above `maxMessageBytes`) and handed over when its last byte arrives. The
 * chunks' contents are not checked past the header: the HEP decoder judges the chunks.
 *
 * A bad magic is caught as soon as the bytes that differ arrive (a client sending garbage one byte
 * at a time is refused at once, not at the idle timeout). One framer per connection; no I/O.
 */
export class HepStreamFramer {
  private buf: Uint8Array | null = null;
  private have = 0;
  /** Total length of the message being gathered, once its header is complete; else 0. */
  private need = 0;
  private stopped = false;
  /** Why the stream failed (Stopped until it does). */
  private failure: HepFramingStatus = HepFramingStatus.Stopped;
  /** The length field that made the stream fail (BadLength, Oversize), for the log. */
  badLengthField = 0;

  /**
   * @param maxMessageBytes - largest message accepted (6..65535)
   * @param onMessage - called for each complete message, in order
   * @throws RangeError when `maxMessageBytes` is out of range
   */
  constructor(
    private readonly maxMessageBytes: number,
    private readonly onMessage: HepMessageCallback,
  ) {
    if (!(Number.isInteger(maxMessageBytes) && maxMessageBytes >= HEP3_HEADER_LENGTH && maxMessageBytes <= MAX_U16)) {
      throw new RangeError(`HepStreamFramer: maxMessageBytes must be 6..65535, not ${maxMessageBytes}`);
    }
  }

  /** Bytes of an incomplete message held (lost if the stream ends now). */
  get pending(): number {
    return this.have;
  }

  /** Read through a call: the compiler would assume the message callback leaves `stopped` as it was. */
  private isStopped(): boolean {
    return this.stopped;
  }

  /** No more messages: the current `push` returns after the message being delivered. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.have = 0;
    this.need = 0;
    this.buf = null;
  }

  /**
   * Frames `chunk[0, chunk.length)` after what earlier chunks left. Returns Ok, Stopped, or the
   * reason the stream cannot be framed (the framer is then stopped; messages before the fault
   * were delivered).
   */
  push(chunk: Uint8Array): HepFramingStatus {
    if (this.stopped) return HepFramingStatus.Stopped;
    const end = chunk.length;
    let off = 0;
    if (this.have > 0) {
      off = this.continueMessage(chunk);
      if (off < 0) return this.isStopped() ? this.failure : HepFramingStatus.Ok;
    }
    while (off < end) {
      const avail = end - off;
      if (avail < HEP3_HEADER_LENGTH) {
        const st = checkMagicPrefix(chunk, off, avail);
        if (st !== HepFramingStatus.Ok) return this.fail(st);
        this.keep(chunk, off, avail, 0);
        return HepFramingStatus.Ok;
      }
      const total = this.checkHeader(chunk, off);
      if (total === 0) return this.failure;
      if (avail < total) {
        this.keep(chunk, off, avail, total);
        return HepFramingStatus.Ok;
      }
      this.onMessage(chunk, off, total);
      if (this.isStopped()) return HepFramingStatus.Stopped;
      off += total;
    }
    return HepFramingStatus.Ok;
  }

  private fail(status: HepFramingStatus): HepFramingStatus {
    this.stop();
    this.failure = status;
    return status;
  }

  /** Total length of the message whose header is at `buf[off]`, or 0 after failing the stream. */
  private checkHeader(buf: Uint8Array, off: number): number {
    if (readU32BE(buf, off) !== HEP3_MAGIC) {
      this.fail(buf[off] === 1 || buf[off] === 2 ? HepFramingStatus.HepV2 : HepFramingStatus.NotHep);
      return 0;
    }
    const total = readU16BE(buf, off + 4);
    if (total < HEP3_HEADER_LENGTH || total > this.maxMessageBytes) {
      this.badLengthField = total;
      this.fail(total < HEP3_HEADER_LENGTH ? HepFramingStatus.BadLength : HepFramingStatus.Oversize);
      return 0;
    }
    return total;
  }

  /** Keeps `chunk[off, off+n)`, the start of a message of `total` bytes (0: header incomplete). */
  private keep(chunk: Uint8Array, off: number, n: number, total: number): void {
    const size = Math.max(INITIAL_BUFFER, total);
    if (this.buf === null || this.buf.length < size) this.buf = new Uint8Array(size);
    this.buf.set(chunk.subarray(off, off + n), 0);
    this.have = n;
    this.need = total;
  }

  /**
   * Adds the chunk's first bytes to the message being gathered; returns the chunk offset after
   * it, or -1 when the chunk is used up or the stream failed or stopped.
   */
  private continueMessage(chunk: Uint8Array): number {
    let buf = this.buf!;
    let off = 0;
    if (this.need === 0) {
      const take = Math.min(HEP3_HEADER_LENGTH - this.have, chunk.length);
      buf.set(chunk.subarray(0, take), this.have);
      this.have += take;
      off = take;
      if (this.have < HEP3_HEADER_LENGTH) {
        const st = checkMagicPrefix(buf, 0, this.have);
        if (st !== HepFramingStatus.Ok) this.fail(st);
        return -1;
      }
      const total = this.checkHeader(buf, 0);
      if (total === 0) return -1;
      this.need = total;
      if (buf.length < total) {
        const grown = new Uint8Array(total);
        grown.set(buf.subarray(0, this.have));
        this.buf = buf = grown;
      }
    }
    const take = Math.min(this.need - this.have, chunk.length - off);
    buf.set(chunk.subarray(off, off + take), this.have);
    this.have += take;
    off += take;
    if (this.have < this.need) return -1;
    const total = this.need;
    this.have = 0;
    this.need = 0;
    this.onMessage(buf, 0, total);
    return this.isStopped() || off >= chunk.length ? -1 : off;
  }
}

/** Ok while the first `n` (< 6) bytes at `off` can still start "HEP3"; else why not. */
function checkMagicPrefix(buf: Uint8Array, off: number, n: number): HepFramingStatus {
  for (let i = 0; i < n && i < 4; i++) {
    if (buf[off + i] !== MAGIC[i]) return i === 0 && (buf[off] === 1 || buf[off] === 2) ? HepFramingStatus.HepV2 : HepFramingStatus.NotHep;
  }
  return HepFramingStatus.Ok;
}
