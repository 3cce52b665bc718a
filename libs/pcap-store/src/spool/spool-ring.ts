/**
 * The ring between the sniffer's packet thread and the spool's writer thread: one producer, one
 * consumer, on a SharedArrayBuffer.
 *
 * Why a ring and not postMessage: at 10,000 open calls the spool's cost is the copy of each packet
 * into its call's buffer (20,000 buffers, a working set far larger than the caches: ~290 ns per
 * packet of cache and TLB misses, more than the rest of the spool together). Moved to a worker, the
 * packet thread keeps one sequential copy into this ring (cheap: the next bytes of a streamed
 * region) and the scattered copy runs on the other core. postMessage would allocate and clone per
 * packet or per batch; the ring allocates nothing.
 *
 * Layout: `data` is `size` bytes (a power of two); positions count bytes modulo `2 * size`, so a
 * full ring (write - read = size) differs from an empty one (write = read). Records are 8-byte
 * aligned and never wrap: one that does not fit before the end is preceded by a pad record filling
 * the rest. Each record starts with two u32: its total length (a multiple of 8) and its type.
 *
 * | type | words after the two | then |
 * |---|---|---|
 * | packet | slot, group (0 SIP, 1 RTP/RTCP), tsSec, tsNsec, origLen, linkType, capLen, skew (0..7) | skew bytes, the frame's 16-byte ns pcap record header, capLen bytes of frame |
 * | open | slot, startSec, startUsec, callId bytes, sensor bytes (0xffffffff: the writer's own) | UTF-8 of Call-ID then of sensor |
 * | end | slot | |
 * | flush | token | |
 * | close | | |
 *
 * The control words (write position, read position, the consumer's "sleeping" flag and the
 * producer's "waiting for room" flag) sit 64 bytes apart so the two cores do not share a cache line
 * for them.
 */

/** `Atomics.waitAsync` (Node ≥ 16; ES2024 in the type library, which this project does not target). */
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: (a: Int32Array, index: number, value: number, timeoutMs: number) => WaitAsyncResult }).waitAsync;

/** Record types. */
export const RingRecord = {
  PAD: 0,
  PACKET: 1,
  OPEN: 2,
  END: 3,
  FLUSH: 4,
  CLOSE: 5,
} as const;

/** Bytes of a packet record's control words (then skew, pcap record header, frame). */
export const PACKET_HEADER_BYTES = 40;
/** Bytes of a packet record before its frame, skew aside: control words + pcap record header. */
export const PACKET_FRAME_OFFSET = PACKET_HEADER_BYTES + 16;
/** Bytes of an open record before its strings. */
export const OPEN_HEADER_BYTES = 28;
/** Sensor length meaning "the writer's own sensor" (the call named none). */
export const NO_SENSOR = 0xffffffff;

/** Int32 indexes of the control words. */
export const CTRL_WRITE = 0;
export const CTRL_READ = 16;
export const CTRL_CONSUMER_SLEEPING = 32;
export const CTRL_PRODUCER_WAITING = 48;
/** Int32 words of the control buffer. */
export const CTRL_WORDS = 64;

/**
 * The producer publishes its position at least every this many bytes (see RingProducer.commit).
 * Each publish may wake a sleeping consumer (a futex system call, 20-30 us on this VM): at 64 KiB
 * that was 16,000 wakes and 0.5 s of the packet thread per 4 million packets.
 */
export const PUBLISH_EVERY_BYTES = 1024 * 1024;

/**
 * Most ring bytes the consumer takes per batch, by default: a quarter of the default ring, ~70,000
 * packets of 214 bytes, 7 per call at 10,000 open calls.
 */
export const DEFAULT_BATCH_BYTES = 16 * 1024 * 1024;
/**
 * Smallest batch: the largest record fits (a frame of MAX_CAPTURE_LENGTH, 262,144 bytes, with its
 * control words, skew and pcap record header: 262,208 bytes), so every batch takes at least one.
 */
export const MIN_BATCH_BYTES = 512 * 1024;

/** Smallest and largest ring: room for the largest record several times over; positions fit an int32. */
export const MIN_RING_BYTES = 4 * 1024 * 1024;
export const MAX_RING_BYTES = 512 * 1024 * 1024;

/** Total bytes of a record with `payload` bytes after a header of `header` bytes, 8-aligned. */
export const recordBytes = (header: number, payload: number): number => (header + payload + 7) & ~7;

/** The two shared buffers of a ring, as handed to the worker. */
export interface RingBuffers {
  data: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

/** Creates a ring of `size` bytes (a power of two in MIN_RING_BYTES..MAX_RING_BYTES). */
export function createRing(size: number): RingBuffers {
  if (!Number.isInteger(size) || size < MIN_RING_BYTES || size > MAX_RING_BYTES || (size & (size - 1)) !== 0) {
    throw new RangeError(`spool ring size must be a power of two in [${MIN_RING_BYTES}, ${MAX_RING_BYTES}], got ${size}`);
  }
  return { data: new SharedArrayBuffer(size), control: new SharedArrayBuffer(CTRL_WORDS * 4) };
}

/** What both sides see of a ring: its bytes, as bytes and as 32-bit words, and the control words. */
abstract class RingSide {
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  protected readonly control: Int32Array;
  /** Positions count modulo this (twice the size: full and empty differ). */
  protected readonly span: number;

  constructor(ring: RingBuffers) {
    this.bytes = new Uint8Array(ring.data);
    this.words = new Int32Array(ring.data);
    this.control = new Int32Array(ring.control);
    this.size = ring.data.byteLength;
    this.span = 2 * this.size;
  }
}

/**
 * The producer's side: reserves room for a record, the caller fills it through `words` / `bytes`
 * at the returned offset, then `commit` publishes it. Not thread-safe beyond one producer.
 */
export class RingProducer extends RingSide {
  /** Our write position (also in control[CTRL_WRITE] once committed). */
  private write = 0;
  /** Room known to be free without reading the consumer's position (refreshed when short). */
  private room: number;
  private pending = 0;
  /** Bytes committed and not yet published. */
  private unpublished = 0;
  private scheduled = false;

  constructor(ring: RingBuffers) {
    super(ring);
    this.room = this.size;
  }

  /** Bytes in the ring not yet consumed. */
  used(): number {
    return (this.write - Atomics.load(this.control, CTRL_READ) + this.span) % this.span;
  }

  /**
   * Room for a record of `total` bytes (from {@link recordBytes}): its byte offset in `bytes`, or -1
   * when the ring is full. A record that would cross the end gets a pad record before it.
   */
  reserve(total: number): number {
    const off = this.write & (this.size - 1);
    const tail = this.size - off;
    const need = total > tail ? tail + total : total;
    if (need > this.room) {
      this.room = this.size - this.used();
      if (need > this.room) return -1;
    }
    if (total > tail) {
      const w = off >> 2;
      this.words[w] = tail;
      this.words[w + 1] = RingRecord.PAD;
      this.write = (this.write + tail) % this.span;
      this.room -= tail;
      this.pending = total;
      return 0;
    }
    this.pending = total;
    return off;
  }

  /**
   * Ends the record reserved last. It becomes visible to the consumer in a batch: every
   * PUBLISH_EVERY_BYTES, else at the end of this turn of the event loop. Publishing each record
   * made both cores trade the control word's cache line per packet and, with a consumer faster
   * than the producer (asleep between packets), a futex wake per packet: 1.8 s of 17 in a
   * 4-million-packet run, and most of the process's system time.
   */
  commit(): void {
    this.write = (this.write + this.pending) % this.span;
    this.room -= this.pending;
    this.unpublished += this.pending;
    this.pending = 0;
    if (this.unpublished >= PUBLISH_EVERY_BYTES) this.publish();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.publishLater);
    }
  }

  /** Makes every committed record visible now; wakes the consumer when it sleeps. */
  publish(): void {
    this.unpublished = 0;
    Atomics.store(this.control, CTRL_WRITE, this.write);
    if (Atomics.load(this.control, CTRL_CONSUMER_SLEEPING) !== 0) Atomics.notify(this.control, CTRL_WRITE);
  }

  private readonly publishLater = (): void => {
    this.scheduled = false;
    if (this.unpublished > 0) this.publish();
  };

  /**
   * Resolves once at most `target` bytes are unconsumed, or after `timeoutMs` (the caller loops:
   * the consumer may have stopped).
   */
  async waitForRoom(target: number, timeoutMs: number): Promise<void> {
    if (this.unpublished > 0) this.publish();
    const c = this.control;
    Atomics.store(c, CTRL_PRODUCER_WAITING, 1);
    try {
      const read = Atomics.load(c, CTRL_READ);
      if ((this.write - read + this.span) % this.span <= target) return;
      const w = waitAsync(c, CTRL_READ, read, timeoutMs);
      if (w.async) await w.value;
    } finally {
      Atomics.store(c, CTRL_PRODUCER_WAITING, 0);
    }
  }
}

/**
 * The consumer's side: `contiguous()` tells how many published bytes follow the read position
 * (`readOffset`) before the ring's end, the consumer copies them out and parses whole records
 * (pads included), and `consume` moves past what it parsed.
 */
export class RingConsumer extends RingSide {
  private read = 0;

  /** Byte offset in `bytes` of the next unread record. */
  get readOffset(): number {
    return this.read & (this.size - 1);
  }

  /**
   * Published bytes from `readOffset` on, up to the ring's end and at most `max`: whole records,
   * but the last may be cut by `max` (a record never crosses the ring's end).
   */
  contiguous(max: number): number {
    const avail = (Atomics.load(this.control, CTRL_WRITE) - this.read + this.span) % this.span;
    return Math.min(avail, this.size - this.readOffset, max);
  }

  /** Consumes `bytes` from the read position (whole records); the producer sees the room at `publish()`. */
  consume(bytes: number): void {
    this.read = (this.read + bytes) % this.span;
  }

  /** Makes consumed room visible to the producer, waking it when it waits for room. */
  publish(): void {
    Atomics.store(this.control, CTRL_READ, this.read);
    if (Atomics.load(this.control, CTRL_PRODUCER_WAITING) !== 0) Atomics.notify(this.control, CTRL_READ);
  }

  /** Resolves when the producer commits a record, or after `timeoutMs`. */
  async waitForData(timeoutMs: number): Promise<void> {
    const c = this.control;
    Atomics.store(c, CTRL_CONSUMER_SLEEPING, 1);
    try {
      if (Atomics.load(c, CTRL_WRITE) !== this.read) return;
      const w = waitAsync(c, CTRL_WRITE, this.read, timeoutMs);
      if (w.async) await w.value;
    } finally {
      Atomics.store(c, CTRL_CONSUMER_SLEEPING, 0);
    }
  }
}
