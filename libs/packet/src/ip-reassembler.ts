import type { ResolvedPacketDecoderOptions } from './decoder-options.js';

/** Result of {@link IpReassembler.add} when the datagram is still incomplete. */
export const REASM_HELD = -1;
/** Result of {@link IpReassembler.add} when the fragment was invalid (ignored, datagram kept). */
export const REASM_BAD = -2;
/** Result of {@link IpReassembler.add} when the datagram was discarded as too big / too many fragments. */
export const REASM_TOO_BIG = -3;

/** Free slots keep a buffer up to this size for reuse; bigger ones go back to the GC. */
const KEEP_FREE_BUFFER = 4096;
const EMPTY = new Uint8Array(0);

/**
 * Reassembly counters. Plain numbers: cheap to bump, copied by {@link PacketDecoder.snapshotCounters}.
 */
export class ReassemblyCounters {
  /** Fragments stored (including the last one of a datagram). */
  fragments = 0;
  /** Datagrams completed. */
  reassembled = 0;
  /** Incomplete datagrams dropped because `reassemblyTimeoutSec` of packet time passed. */
  timedOut = 0;
  /** Incomplete datagrams dropped to make room (datagram cap or byte cap). */
  evicted = 0;
  /** Fragments that partly overlapped data already held (first-received bytes are kept). */
  overlaps = 0;
  /** Fragments whose bytes were all held already (retransmission, SPAN duplicates). */
  duplicates = 0;
  /** Datagrams discarded for exceeding `maxDatagramBytes`, the byte cap or `maxFragmentsPerDatagram`. */
  tooBig = 0;
  /** Fragments rejected as inconsistent (see `DecodeStatus.BadFragment`). */
  bad = 0;
}

/** One datagram under reassembly. Key words: IPv4 [src, dst, proto, id]; IPv6 [src x4, dst x4, id]. */
class FragmentSlot {
  used = false;
  family = 0;
  readonly key = new Uint32Array(9);
  firstTs = 0;
  /** Payload length once the last fragment was seen, else -1. */
  total = -1;
  /** Protocol of the reassembled payload (IPv6: next header of the offset-0 fragment). */
  proto = -1;
  buf: Uint8Array = EMPTY;
  /** Received byte ranges [start, end) sorted and coalesced. */
  readonly ranges: Int32Array;
  rangeCount = 0;
  fragCount = 0;

  constructor(maxFragments: number) {
    this.ranges = new Int32Array(2 * (maxFragments + 1));
  }
}

/**
 * IPv4 (RFC 791 section 3.2) and IPv6 (RFC 8200 section 4.5) fragment reassembly with bounded
 * memory. Time is packet time, so replaying a file behaves like the live capture did.
 *
 * Invariants: at most `maxReassemblyDatagrams` datagrams and about `maxReassemblyBytes` of buffer
 * capacity are held; a datagram never grows past `maxDatagramBytes`; overlapping bytes keep the
 * first copy received (as Wireshark does), and the overlap is counted. Lookup is a linear scan of
 * the slots: fragments are rare on VoIP links, and the slot cap bounds the cost under a flood.
 */
export class IpReassembler {
  readonly counters = new ReassemblyCounters();
  /** Buffer holding the last completed datagram's payload from offset 0. */
  output: Uint8Array = new Uint8Array(2048);
  /** Protocol (IPv4 protocol / IPv6 next header) of the last completed datagram. */
  outputProto = 0;
  private readonly slots: FragmentSlot[] = [];
  private bytesHeld = 0;
  private usedCount = 0;
  private readonly opts: ResolvedPacketDecoderOptions;

  constructor(opts: ResolvedPacketDecoderOptions) {
    this.opts = opts;
    for (let i = 0; i < opts.maxReassemblyDatagrams; i++) this.slots.push(new FragmentSlot(opts.maxFragmentsPerDatagram));
  }

  /** Datagrams currently held. */
  get pending(): number {
    return this.usedCount;
  }

  /** Bytes of buffer capacity currently held by pending datagrams. */
  get pendingBytes(): number {
    return this.bytesHeld;
  }

  /**
   * Add one fragment. `key` holds 4 (IPv4) or 9 (IPv6) words; `fragOffset` is in bytes.
   * Returns the completed payload length (payload in `output`, protocol in `outputProto`), or
   * {@link REASM_HELD}, {@link REASM_BAD}, {@link REASM_TOO_BIG}.
   */
  add(
    family: number,
    key: Uint32Array,
    proto: number,
    fragOffset: number,
    more: boolean,
    buf: Uint8Array,
    off: number,
    len: number,
    now: number,
  ): number {
    const c = this.counters;
    const keyLen = family === 4 ? 4 : 9;
    const end = fragOffset + len;
    // RFC 791/8200: every fragment but the last carries a multiple of 8 bytes, and is not empty.
    if ((more && (len === 0 || (len & 7) !== 0)) || (len === 0 && fragOffset === 0)) {
      c.bad++;
      return REASM_BAD;
    }
    // One pass: expire old datagrams and look for ours.
    let slot: FragmentSlot | undefined;
    const timeout = this.opts.reassemblyTimeoutSec;
    for (const s of this.slots) {
      if (!s.used) continue;
      if (now - s.firstTs > timeout) {
        c.timedOut++;
        this.release(s);
        continue;
      }
      if (slot === undefined && s.family === family && sameKey(s.key, key, keyLen)) slot = s;
    }
    if (end > this.opts.maxDatagramBytes) {
      if (slot !== undefined) this.release(slot);
      c.tooBig++;
      return REASM_TOO_BIG;
    }
    if (slot === undefined) {
      slot = this.acquire(family, key, keyLen, now);
    }
    if (fragOffset === 0) slot.proto = proto;
    if (!more) {
      const lastRange = slot.rangeCount > 0 ? slot.ranges[2 * slot.rangeCount - 1]! : 0;
      if ((slot.total >= 0 && slot.total !== end) || lastRange > end) {
        c.bad++;
        return REASM_BAD;
      }
      slot.total = end;
    } else if (slot.total >= 0 && end > slot.total) {
      c.bad++;
      return REASM_BAD;
    }
    if (++slot.fragCount > this.opts.maxFragmentsPerDatagram) {
      this.release(slot);
      c.tooBig++;
      return REASM_TOO_BIG;
    }
    if (slot.buf.length < end && !this.grow(slot, end)) {
      c.tooBig++;
      return REASM_TOO_BIG;
    }
    c.fragments++;
    const copied = this.store(slot, buf, off, fragOffset, end);
    if (copied === 0 && len > 0) c.duplicates++;
    else if (copied < len) c.overlaps++;
    if (slot.total >= 0 && slot.rangeCount === 1 && slot.ranges[0] === 0 && slot.ranges[1] === slot.total) {
      const total = slot.total;
      this.outputProto = slot.proto < 0 ? proto : slot.proto;
      // Hand the slot's buffer out and give the slot the previous output buffer: a nested tunnel
      // fragment decoded from `output` can then be stored without overwriting what it reads.
      const done = slot.buf;
      this.bytesHeld -= done.length;
      slot.buf = this.output;
      this.bytesHeld += slot.buf.length;
      this.output = done;
      this.release(slot);
      c.reassembled++;
      return total;
    }
    return REASM_HELD;
  }

  /** Drop datagrams older than the timeout at packet time `now` (seconds); call when idle. */
  expire(now: number): void {
    for (const s of this.slots) {
      if (s.used && now - s.firstTs > this.opts.reassemblyTimeoutSec) {
        this.counters.timedOut++;
        this.release(s);
      }
    }
  }

  private acquire(family: number, key: Uint32Array, keyLen: number, now: number): FragmentSlot {
    let free: FragmentSlot | undefined;
    let oldest: FragmentSlot | undefined;
    for (const s of this.slots) {
      if (!s.used) {
        free = s;
        break;
      }
      if (oldest === undefined || s.firstTs < oldest.firstTs) oldest = s;
    }
    if (free === undefined) {
      // Every slot busy: the oldest datagram is the least likely to complete.
      free = oldest!;
      this.counters.evicted++;
      this.release(free);
    }
    free.used = true;
    free.family = family;
    for (let i = 0; i < keyLen; i++) free.key[i] = key[i]!;
    free.firstTs = now;
    free.total = -1;
    free.proto = -1;
    free.rangeCount = 0;
    free.fragCount = 0;
    this.bytesHeld += free.buf.length;
    this.usedCount++;
    return free;
  }

  private release(s: FragmentSlot): void {
    if (!s.used) return;
    s.used = false;
    this.usedCount--;
    this.bytesHeld -= s.buf.length;
    if (s.buf.length > KEEP_FREE_BUFFER) s.buf = EMPTY;
  }

  /** Grow `s.buf` to hold `end` bytes within the byte cap, evicting older datagrams if needed. */
  private grow(s: FragmentSlot, end: number): boolean {
    const max = this.opts.maxDatagramBytes;
    let size = Math.max(2048, s.buf.length * 2);
    while (size < end) size *= 2;
    if (size > max) size = max;
    const delta = size - s.buf.length;
    while (this.bytesHeld + delta > this.opts.maxReassemblyBytes) {
      let oldest: FragmentSlot | undefined;
      for (const o of this.slots) {
        if (o.used && o !== s && (oldest === undefined || o.firstTs < oldest.firstTs)) oldest = o;
      }
      if (oldest === undefined) {
        this.release(s);
        return false;
      }
      this.counters.evicted++;
      this.release(oldest);
    }
    const next = new Uint8Array(size);
    next.set(s.buf.subarray(0, s.rangeCount > 0 ? s.ranges[2 * s.rangeCount - 1]! : 0));
    this.bytesHeld += delta;
    s.buf = next;
    return true;
  }

  /** Copy the bytes of [start, end) not yet held (first copy wins) and merge the range; returns bytes copied. */
  private store(s: FragmentSlot, src: Uint8Array, off: number, start: number, end: number): number {
    const r = s.ranges;
    let pos = start;
    let copied = 0;
    let insertAt = s.rangeCount;
    for (let i = 0; i < s.rangeCount; i++) {
      const a = r[2 * i]!;
      const b = r[2 * i + 1]!;
      if (b < start) continue;
      if (insertAt === s.rangeCount) insertAt = i;
      if (a > end) break;
      if (a > pos) {
        s.buf.set(src.subarray(off + pos - start, off + a - start), pos);
        copied += a - pos;
      }
      if (b > pos) pos = b;
    }
    if (pos < end) {
      s.buf.set(src.subarray(off + pos - start, off + end - start), pos);
      copied += end - pos;
    }
    // Merge [start, end) with every range it touches, starting at insertAt.
    let lo = start;
    let hi = end;
    let j = insertAt;
    while (j < s.rangeCount && r[2 * j]! <= hi) {
      if (r[2 * j]! < lo) lo = r[2 * j]!;
      if (r[2 * j + 1]! > hi) hi = r[2 * j + 1]!;
      j++;
    }
    const removed = j - insertAt;
    const shift = 1 - removed;
    if (shift !== 0) r.copyWithin(2 * (insertAt + 1), 2 * j, 2 * s.rangeCount);
    s.rangeCount += shift;
    r[2 * insertAt] = lo;
    r[2 * insertAt + 1] = hi;
    return copied;
  }
}

function sameKey(a: Uint32Array, b: Uint32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
