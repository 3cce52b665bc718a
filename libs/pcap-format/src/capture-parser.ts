import { readU16 as readU16Of, readU32 as readU32Of } from './byte-order.js';
import { CaptureError, CaptureErrorCode } from './capture-error.js';
import type { CaptureCounters, CaptureInterface, CaptureSummary } from './capture-summary.js';
import { CaptureFormat } from './capture-summary.js';
import { createPacketRecord } from './packet-record.js';
import type { PacketRecord } from './packet-record.js';
import {
  MAX_CAPTURE_LENGTH,
  PCAP_GLOBAL_HEADER_LENGTH,
  PCAP_MAGIC_MICROSECONDS,
  PCAP_MAGIC_NANOSECONDS,
  PCAP_RECORD_HEADER_LENGTH,
  PCAP_VERSION_MAJOR,
} from './pcap-format.js';
import {
  PCAPNG_BLOCK_EPB,
  PCAPNG_BLOCK_IDB,
  PCAPNG_BLOCK_OPB,
  PCAPNG_BLOCK_SHB,
  PCAPNG_BLOCK_SPB,
  PCAPNG_BYTE_ORDER_MAGIC,
  PCAPNG_MIN_BLOCK_LENGTH,
  PCAPNG_MIN_EPB_LENGTH,
  PCAPNG_MIN_IDB_LENGTH,
  PCAPNG_MIN_SHB_LENGTH,
  PCAPNG_MIN_SPB_LENGTH,
  PCAPNG_OPT_ENDOFOPT,
  PCAPNG_OPT_IF_TSOFFSET,
  PCAPNG_OPT_IF_TSRESOL,
  PCAPNG_VERSION_MAJOR,
} from './pcapng-format.js';
import { TimestampResolution } from './timestamp-resolution.js';

/** Result of {@link CaptureParser.next} and {@link CaptureParser.finish}. */
export const CaptureParseStatus = {
  /** A packet is in {@link CaptureParser.record}. */
  Record: 1,
  /** The pushed chunk is used up (its tail, if any, was copied to the carry): push more. */
  NeedMore: 2,
  /** `finish()`: the stream ended on a record boundary. */
  End: 3,
  /** `finish()`: the stream ended inside a record/block; see {@link CaptureParser.truncation}. */
  Truncated: 4,
  /** Unreadable input; see {@link CaptureParser.error}. Sticky: later calls return it again. */
  Error: 5,
} as const;

/** One of the {@link CaptureParseStatus} values. */
export type CaptureParseStatus = (typeof CaptureParseStatus)[keyof typeof CaptureParseStatus];

/** Options of {@link CaptureParser}. */
export interface CaptureParserOptions {
  /**
   * Largest pcapng non-packet block buffered whole (default 16 MiB). Packet blocks are bounded by
   * `MAX_CAPTURE_LENGTH` plus 64 KiB of options regardless.
   */
  maxBlockLength?: number;
}

/** Default {@link CaptureParserOptions.maxBlockLength}. */
export const DEFAULT_MAX_BLOCK_LENGTH = 16 * 1024 * 1024;
/** Most IDBs accepted in one pcapng section (bounds the per-section interface table). */
export const MAX_INTERFACES = 4096;
/** Room for EPB options on top of the fixed part and the largest packet. */
const MAX_PACKET_OPTIONS_LENGTH = 65_536;
const MAX_PACKET_BLOCK_LENGTH = PCAPNG_MIN_EPB_LENGTH + MAX_CAPTURE_LENGTH + MAX_PACKET_OPTIONS_LENGTH;
const TWO_POW_32 = 4_294_967_296;

/** Local bindings: under module runners that turn imports into getters (vitest) each call would pay one. */
const readU16 = readU16Of;
const readU32 = readU32Of;

/** What the parser expects next (`Resync`: scanning for a plausible unit after a damaged one). */
const Phase = { FileHeader: 0, PcapRecord: 1, PcapngBlock: 2, Resync: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** `parseUnit` results besides a positive consumed length. */
const UNIT_NEED_MORE = 0;
const UNIT_ERROR = -1;

/*
 * Resynchronisation (what pcapfix does; tshark and libpcap stop at the first bad header).
 *
 * A classic pcap record header is IMPLAUSIBLE, and resync starts, when its captured length is
 * above MAX_CAPTURE_LENGTH (256 KiB), or when it shows two of these anomalies at once: µs/ns field
 * >= 1 s, original length < captured length, captured length > snaplen (snaplen != 0), original
 * length > RESYNC_MAX_ORIGINAL_LENGTH, seconds more than RESYNC_CLOCK_WINDOW away from the last
 * CLEAN record (delivered with none of these anomalies; the last record when none was clean yet). One anomaly alone is tolerated and
 * counted as before (writers that round µs up to 1e6, clocks set from 1970 to today mid-capture).
 *
 * The scan then moves one byte at a time from the byte after the damaged header and stops at the
 * first position where a header is PLAUSIBLE: captured length <= 256 KiB, captured length <=
 * original length <= RESYNC_MAX_ORIGINAL_LENGTH, µs/ns field < 1 s, seconds within
 * RESYNC_CLOCK_WINDOW of the last clean record (no check before the first one, nor after
 * RESYNC_CLOCK_SCAN_LIMIT bytes of fruitless scan: that record's clock may be wrong); AND the
 * RESYNC_PCAP_FOLLOWERS headers that follow it (after its data) are plausible too, each within the
 * window of the one before, or the stream ends right after a complete candidate record.
 *
 * pcapng: a block with a bad total length (below its type's fixed part, unaligned, above the
 * bound, trailing copy different) or a packet block whose captured length does not fit starts a
 * resync. A PLAUSIBLE block has a known type, a total length that is aligned, within the type's
 * fixed part and RESYNC_MAX_BLOCK_LENGTH, the same trailing length, and for an EPB/OPB a known
 * interface and a fitting captured length; the block after it must be plausible too (or the
 * stream ends right after it).
 *
 * Each position costs O(1) (at most three headers read), the lookahead is bounded (three headers
 * and two 256 KiB records, or two 320 KiB blocks) and a rejected position is never looked at again,
 * so the scan is linear in the bytes skipped. Skipped bytes and resyncs are counted.
 */
/** Largest clock step between neighbouring records the scan accepts (and beyond which a jump is an anomaly). */
const RESYNC_CLOCK_WINDOW = 86_400;
/** Bytes scanned with the clock check before it is dropped (the last clean record may have lied). */
const RESYNC_CLOCK_SCAN_LIMIT = 256 * 1024;
/** Largest original length a resync candidate may claim (jumbo, GSO and TSO frames included). */
const RESYNC_MAX_ORIGINAL_LENGTH = 16 * 1024 * 1024;
/** Record headers after the candidate that must be plausible too. */
const RESYNC_PCAP_FOLLOWERS = 2;
/** Known pcapng block types a resync may land on: SHB, IDB, OPB, SPB, NRB, ISB, EPB, DSB, custom. */
const RESYNC_BLOCK_TYPES = new Set<number>([PCAPNG_BLOCK_SHB, PCAPNG_BLOCK_IDB, PCAPNG_BLOCK_OPB, PCAPNG_BLOCK_SPB, 4, 5, PCAPNG_BLOCK_EPB, 0x0a, 0x0bad, 0x40000bad]);
/** Blocks larger than this are not resync candidates (bounds the lookahead). */
const RESYNC_MAX_BLOCK_LENGTH = MAX_PACKET_BLOCK_LENGTH;
/** Bytes at least moved into the carry per step while scanning (keeps the scan O(1) per byte). */
const RESYNC_APPEND = 65_536;
/** `chainPcap`/`chainPcapng` verdicts. */
const CHAIN_BAD = 0;
const CHAIN_OK = 1;
const CHAIN_NEED = 2;

/**
 * Synchronous, push-style reader of classic pcap and pcapng byte streams. Feed it chunks of any
 * size (file reads, socket data); it delivers packets one at a time in a reused
 * {@link PacketRecord} whose `data` aliases the chunk (or, for a record split across chunks, the
 * internal carry buffer). It never throws on input bytes: failures are statuses with a
 * {@link CaptureError} in {@link CaptureParser.error}.
 *
 * Pull protocol: `push(chunk)`, then call `next()` until it returns `NeedMore` (chunk consumed,
 * may be reused) or `Error`; at end of input call `finish()`. `feed(chunk, onRecord)` wraps that.
 *
 * Memory is bounded: only an incomplete record/block is copied (the carry), and its size is
 * validated first (256 KiB per packet, `maxBlockLength` per other block).
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/
 */
export class CaptureParser {
  /** The reused packet record filled by `next()` when it returns `Record`. */
  readonly record: PacketRecord = createPacketRecord();
  /** The error behind an `Error` status (null otherwise). */
  error: CaptureError | null = null;
  /** Set by `finish()` when the stream ended inside a record or block. */
  truncation: CaptureError | null = null;

  private readonly maxBlockLength: number;
  private phase: Phase = Phase.FileHeader;
  private format: CaptureFormat | null = null;
  private littleEndian = true;
  private nanoseconds = false;
  private pcapLinkType = 0;
  private pcapSnaplen = 0;

  // pcapng interface table of the current section (reset by every SHB).
  private ifCount = 0;
  private readonly ifLinkType: number[] = [];
  private readonly ifSnaplen: number[] = [];
  private readonly ifTs: TimestampResolution[] = [];
  private section = -1;
  private readonly interfaces: CaptureInterface[] = [];

  private chunk: Uint8Array = new Uint8Array(0);
  private chunkPos = 0;
  private carry: Uint8Array = new Uint8Array(0);
  /** Pending carry bytes are `carry[carryStart..carryLen)` (after a resync it may hold several units). */
  private carryStart = 0;
  private carryLen = 0;
  /** The phase a resync returns to. */
  private resumePhase: Phase = Phase.PcapRecord;
  /** Set by `finish()`: a resync may accept a candidate that the stream's end cuts short of followers. */
  private atEof = false;
  /** First damaged record header / block (where the first resync started). */
  private firstDamage: CaptureError | null = null;
  /** Byte order of the block a pcapng plausibility check looked at (an SHB carries its own). */
  private scanLe = true;
  /** Seconds of the last classic pcap record delivered without any anomaly: the resync clock. */
  private refSec = 0;
  private hasRef = false;
  /** Whether the previous classic pcap record was clean. */
  private lastClean = true;
  /** Stream offset where the current resync started. */
  private resyncFrom = 0;
  /** Total bytes `parseUnit` says the pending unit needs (set with UNIT_NEED_MORE). */
  private needed = 0;
  /** True when the last `parseUnit` delivered a packet into `record`. */
  private produced = false;
  /** Stream offset of the next unit (record, block or file header). */
  private unitOffset = 0;
  private bytesPushed = 0;

  private packets = 0;
  private capturedBytes = 0;
  private originalBytes = 0;
  private firstSec = 0;
  private firstNsec = 0;
  private lastSec = 0;
  private lastNsec = 0;
  private readonly linkTypes: number[] = [];
  private lastLinkType = -1;
  private readonly counters: CaptureCounters = {
    capLenOverSnaplen: 0,
    origLenBelowCapLen: 0,
    fractionOverflow: 0,
    skippedBlocks: 0,
    resyncs: 0,
    skippedBytes: 0,
  };

  /** @param options - bounds; see {@link CaptureParserOptions} */
  constructor(options: CaptureParserOptions = {}) {
    const max = options.maxBlockLength ?? DEFAULT_MAX_BLOCK_LENGTH;
    if (!Number.isInteger(max) || max < PCAPNG_MIN_SHB_LENGTH) {
      throw new RangeError(`maxBlockLength ${max} must be an integer >= ${PCAPNG_MIN_SHB_LENGTH}`);
    }
    this.maxBlockLength = max;
  }

  /**
   * Hands the parser the next chunk of the stream. The previous chunk must have been consumed
   * (`next()` returned `NeedMore`); after that the caller may overwrite it.
   */
  push(chunk: Uint8Array): void {
    if (this.chunkPos < this.chunk.length && this.error === null) {
      throw new RangeError(`push() with ${this.chunk.length - this.chunkPos} bytes of the previous chunk unread`);
    }
    this.chunk = chunk;
    this.chunkPos = 0;
    this.bytesPushed += chunk.length;
  }

  /**
   * Parses up to the next packet.
   * @returns `Record` (packet in `record`), `NeedMore` (push another chunk) or `Error` (see `error`)
   */
  next(): CaptureParseStatus {
    if (this.error !== null) return CaptureParseStatus.Error;
    const chunk = this.chunk;
    const end = chunk.length;
    for (;;) {
      const start = this.carryStart;
      if (this.carryLen > start) {
        const r = this.parseUnit(this.carry, start, this.carryLen);
        if (r === UNIT_ERROR) return this.fail();
        if (r === UNIT_NEED_MORE) {
          let want = this.needed - (this.carryLen - start);
          // A scan asks for a few bytes at a time: hand it a block, not byte by byte.
          if (this.phase === Phase.Resync && want < RESYNC_APPEND) want = RESYNC_APPEND;
          const take = Math.min(want, end - this.chunkPos);
          if (take <= 0) return CaptureParseStatus.NeedMore;
          this.appendToCarry(chunk, this.chunkPos, take);
          this.chunkPos += take;
          continue;
        }
        // The carry receives only bytes the pending unit asked for, so r is all of it, except
        // after a resync, whose lookahead may hold several units.
        this.unitOffset += r;
        if (start + r >= this.carryLen) {
          this.carryStart = 0;
          this.carryLen = 0;
        } else {
          this.carryStart = start + r;
        }
        if (this.produced) return CaptureParseStatus.Record;
        continue;
      }
      if (this.chunkPos >= end) return CaptureParseStatus.NeedMore;
      const r = this.parseUnit(chunk, this.chunkPos, end);
      if (r === UNIT_ERROR) return this.fail();
      if (r === UNIT_NEED_MORE) {
        this.appendToCarry(chunk, this.chunkPos, end - this.chunkPos);
        this.chunkPos = end;
        return CaptureParseStatus.NeedMore;
      }
      this.chunkPos += r;
      this.unitOffset += r;
      if (this.produced) return CaptureParseStatus.Record;
    }
  }

  /**
   * Convenience push loop: pushes `chunk` and calls `onRecord` for each packet, synchronously.
   * @returns `NeedMore` when the chunk is consumed, `Error` when the stream is unreadable
   */
  feed(chunk: Uint8Array, onRecord: (record: PacketRecord) => void): CaptureParseStatus {
    this.push(chunk);
    for (;;) {
      const status = this.next();
      if (status !== CaptureParseStatus.Record) return status;
      onRecord(this.record);
    }
  }

  /**
   * Declares the end of the stream (call after `next()` returned `NeedMore`).
   *
   * Only when a resync was under way at the end of the stream, records may still be waiting (a
   * candidate that only the end of the stream confirms): then `finish()` returns `Record` with the
   * packet in `record`; call it again until it returns something else.
   * @returns `End`, `Truncated` (tail in `truncation`, everything before was delivered), `Record`
   *   (see above), or `Error` (an earlier error, or the stream ended inside the file header)
   */
  finish(): CaptureParseStatus {
    if (this.error !== null) return CaptureParseStatus.Error;
    if (this.atEof || this.phase === Phase.Resync) {
      this.atEof = true;
      const status = this.next();
      if (status !== CaptureParseStatus.NeedMore) return status;
      if (this.phase === Phase.Resync) {
        // No plausible unit before the end: the rest was skipped.
        this.counters.skippedBytes += this.carryLen - this.carryStart;
        this.carryStart = 0;
        this.carryLen = 0;
        return CaptureParseStatus.End;
      }
    }
    if (this.phase === Phase.FileHeader) {
      this.error = new CaptureError(
        CaptureErrorCode.TRUNCATED_FILE_HEADER,
        0,
        `stream ended after ${this.carryLen} bytes, inside the file header`,
      );
      return CaptureParseStatus.Error;
    }
    const pending = this.carryLen - this.carryStart;
    if (pending === 0) return CaptureParseStatus.End;
    let code: CaptureErrorCode = CaptureErrorCode.TRUNCATED_BLOCK;
    if (this.phase === Phase.PcapRecord) {
      code =
        pending < PCAP_RECORD_HEADER_LENGTH
          ? CaptureErrorCode.TRUNCATED_RECORD_HEADER
          : CaptureErrorCode.TRUNCATED_RECORD_DATA;
    }
    this.truncation = new CaptureError(
      code,
      this.unitOffset,
      `stream ended ${pending} bytes into a unit that needs ${this.needed}`,
    );
    return CaptureParseStatus.Truncated;
  }

  /**
   * A snapshot of what was read so far (call after `finish()` for the final figures). Before a
   * file header was parsed, `format` reads as pcap and every count is 0.
   */
  summary(compressed = false): CaptureSummary {
    const hasPackets = this.packets > 0;
    return {
      format: this.format ?? CaptureFormat.PCAP,
      compressed,
      gzip: null,
      sections: Math.max(this.section + 1, this.format === null ? 0 : 1),
      interfaces: this.interfaces.map((i) => ({ ...i })),
      linkTypes: [...this.linkTypes],
      packets: this.packets,
      first: hasPackets ? { sec: this.firstSec, nsec: this.firstNsec } : null,
      last: hasPackets ? { sec: this.lastSec, nsec: this.lastNsec } : null,
      bytes: this.bytesPushed,
      capturedBytes: this.capturedBytes,
      originalBytes: this.originalBytes,
      counters: { ...this.counters },
      truncation: this.truncation,
      firstDamage: this.firstDamage,
    };
  }

  private fail(): CaptureParseStatus {
    this.chunkPos = this.chunk.length; // nothing more will be read from it
    return CaptureParseStatus.Error;
  }

  private appendToCarry(src: Uint8Array, from: number, length: number): void {
    if (this.carryLen + length > this.carry.length) {
      const start = this.carryStart;
      const pending = this.carryLen - start;
      // Compact only when that frees half the buffer, else grow: amortised O(1) per byte.
      if (start > 0 && pending + length <= this.carry.length >>> 1) {
        this.carry.copyWithin(0, start, this.carryLen);
      } else {
        const grown = new Uint8Array(Math.max(pending + length, this.carry.length * 2, 4096));
        grown.set(this.carry.subarray(start, this.carryLen));
        this.carry = grown;
      }
      this.carryStart = 0;
      this.carryLen = pending;
    }
    this.carry.set(src.subarray(from, from + length), this.carryLen);
    this.carryLen += length;
  }

  /**
   * A damaged record header or block: before the first unit it is an error; after it, a resync
   * starts (see the comment on RESYNC_CLOCK_WINDOW), skipping the unit's first byte.
   */
  private damaged(code: CaptureErrorCode, detail: string): number {
    if (this.phase === Phase.FileHeader) return this.setError(code, detail);
    this.firstDamage ??= new CaptureError(code, this.unitOffset, detail);
    this.resyncFrom = this.unitOffset;
    this.counters.resyncs++;
    this.counters.skippedBytes++;
    this.resumePhase = this.phase;
    this.phase = Phase.Resync;
    return 1;
  }

  /** Scans `b[off..end)` for the next plausible unit: bytes skipped, the unit itself, or UNIT_NEED_MORE. */
  private parseResync(b: Uint8Array, off: number, end: number): number {
    const pcap = this.resumePhase === Phase.PcapRecord;
    // Past RESYNC_CLOCK_SCAN_LIMIT bytes the reference clock itself may be wrong: scan without it.
    const clockEnd = this.hasRef ? this.resyncFrom + RESYNC_CLOCK_SCAN_LIMIT - (this.unitOffset - off) : 0;
    let p = off;
    for (; p < end; p++) {
      const verdict = pcap ? this.chainPcap(b, p, end, p < clockEnd) : this.chainPcapng(b, p, end);
      if (verdict === CHAIN_BAD) continue;
      if (verdict === CHAIN_OK) {
        this.phase = this.resumePhase;
        if (p === off) return this.parseUnit(b, off, end);
        break;
      }
      // CHAIN_NEED: keep the bytes from p on (this.needed counts from p).
      if (p === off) return UNIT_NEED_MORE;
      break;
    }
    this.counters.skippedBytes += p - off;
    return p - off;
  }

  /** Whether a classic pcap record header at `at` is plausible after a record of second `refSec`. */
  private pcapHeaderPlausible(b: Uint8Array, at: number, hasRef: boolean, refSec: number): boolean {
    const le = this.littleEndian;
    const capLen = readU32(b, at + 8, le);
    if (capLen > MAX_CAPTURE_LENGTH) return false;
    const origLen = readU32(b, at + 12, le);
    if (origLen < capLen || origLen > RESYNC_MAX_ORIGINAL_LENGTH) return false;
    if (readU32(b, at + 4, le) >= (this.nanoseconds ? 1_000_000_000 : 1_000_000)) return false;
    if (!hasRef) return true;
    const sec = readU32(b, at, le);
    return sec <= refSec + RESYNC_CLOCK_WINDOW && sec + RESYNC_CLOCK_WINDOW >= refSec;
  }

  /** Candidate record at `p` and its followers: CHAIN_OK, CHAIN_BAD or CHAIN_NEED (`needed` from p). */
  private chainPcap(b: Uint8Array, p: number, end: number, useClock: boolean): number {
    const le = this.littleEndian;
    let hasRef = useClock;
    let refSec = this.refSec;
    let at = p;
    for (let k = 0; k <= RESYNC_PCAP_FOLLOWERS; k++) {
      if (at + PCAP_RECORD_HEADER_LENGTH > end) {
        if (!this.atEof) {
          this.needed = at + PCAP_RECORD_HEADER_LENGTH - p;
          return CHAIN_NEED;
        }
        // The stream ends here: fine after a complete candidate record.
        return k > 0 && at <= end ? CHAIN_OK : CHAIN_BAD;
      }
      if (!this.pcapHeaderPlausible(b, at, hasRef, refSec)) return CHAIN_BAD;
      hasRef = true;
      refSec = readU32(b, at, le);
      at += PCAP_RECORD_HEADER_LENGTH + readU32(b, at + 8, le);
    }
    return CHAIN_OK;
  }

  /**
   * Length of a plausible, complete pcapng block at `at` (its byte order left in `scanLe`),
   * CHAIN_BAD (0) when it is not one, or -1 when more bytes are needed (`needed` from `from`).
   */
  private pcapngBlockPlausible(b: Uint8Array, at: number, end: number, from: number): number {
    if (at + 12 > end) {
      this.needed = at + 12 - from;
      return -1;
    }
    let le = this.littleEndian;
    const type = readU32(b, at, le);
    if (!RESYNC_BLOCK_TYPES.has(type)) return CHAIN_BAD;
    let min = PCAPNG_MIN_BLOCK_LENGTH;
    if (type === PCAPNG_BLOCK_SHB) {
      if (readU32(b, at + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else if (readU32(b, at + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) le = false;
      else return CHAIN_BAD;
      min = PCAPNG_MIN_SHB_LENGTH;
    } else if (type === PCAPNG_BLOCK_EPB || type === PCAPNG_BLOCK_OPB) {
      min = PCAPNG_MIN_EPB_LENGTH;
    } else if (type === PCAPNG_BLOCK_IDB) {
      min = PCAPNG_MIN_IDB_LENGTH;
    } else if (type === PCAPNG_BLOCK_SPB) {
      min = PCAPNG_MIN_SPB_LENGTH;
    }
    const length = readU32(b, at + 4, le);
    if (length < min || (length & 3) !== 0 || length > RESYNC_MAX_BLOCK_LENGTH || length > this.maxBlockLength) return CHAIN_BAD;
    if (at + length > end) {
      this.needed = at + length - from;
      return -1;
    }
    if (readU32(b, at + length - 4, le) !== length) return CHAIN_BAD;
    if (type === PCAPNG_BLOCK_EPB || type === PCAPNG_BLOCK_OPB) {
      const ifId = type === PCAPNG_BLOCK_EPB ? readU32(b, at + 8, le) : readU16(b, at + 8, le);
      const capLen = readU32(b, at + 20, le);
      if (ifId >= this.ifCount || capLen > MAX_CAPTURE_LENGTH || 28 + capLen + 4 > length) return CHAIN_BAD;
    } else if (type === PCAPNG_BLOCK_SPB && this.ifCount === 0) {
      return CHAIN_BAD;
    }
    this.scanLe = le;
    return length;
  }

  /** Candidate block at `p` and the block after it: CHAIN_OK, CHAIN_BAD or CHAIN_NEED (`needed` from p). */
  private chainPcapng(b: Uint8Array, p: number, end: number): number {
    const saved = this.littleEndian;
    const first = this.pcapngBlockPlausible(b, p, end, p);
    if (first <= 0) return first === CHAIN_BAD || this.atEof ? CHAIN_BAD : CHAIN_NEED;
    const at = p + first;
    if (at + 12 > end && this.atEof) return CHAIN_OK; // the stream ends right after (or inside) the next block
    this.littleEndian = this.scanLe; // the follower is in the candidate's byte order
    const second = this.pcapngBlockPlausible(b, at, end, p);
    this.littleEndian = saved;
    if (second > 0) return CHAIN_OK;
    if (second === CHAIN_BAD) return CHAIN_BAD;
    return this.atEof ? CHAIN_OK : CHAIN_NEED;
  }

  private setError(code: CaptureErrorCode, detail: string): number {
    this.error = new CaptureError(code, this.unitOffset, detail);
    return UNIT_ERROR;
  }

  private needMore(total: number): number {
    this.needed = total;
    return UNIT_NEED_MORE;
  }

  /** Parses one unit at `b[off..end)`: >0 bytes consumed, UNIT_NEED_MORE or UNIT_ERROR. */
  private parseUnit(b: Uint8Array, off: number, end: number): number {
    this.produced = false;
    switch (this.phase) {
      case Phase.PcapRecord:
        return this.parsePcapRecord(b, off, end);
      case Phase.PcapngBlock:
        return this.parsePcapngBlock(b, off, end);
      case Phase.Resync:
        return this.parseResync(b, off, end);
      default:
        return this.parseFileHeader(b, off, end);
    }
  }

  private parseFileHeader(b: Uint8Array, off: number, end: number): number {
    const avail = end - off;
    if (avail < 4) return this.needMore(4);
    if (b[off] === 0x1f && b[off + 1] === 0x8b) {
      return this.setError(CaptureErrorCode.COMPRESSED_INPUT, 'gzip magic 1f 8b: decompress before parsing');
    }
    const magic = readU32(b, off, false);
    if (magic === PCAPNG_BLOCK_SHB) return this.parsePcapngBlock(b, off, end);
    let le: boolean;
    let ns: boolean;
    if (magic === PCAP_MAGIC_MICROSECONDS || magic === PCAP_MAGIC_NANOSECONDS) {
      le = false;
      ns = magic === PCAP_MAGIC_NANOSECONDS;
    } else {
      const swapped = readU32(b, off, true);
      if (swapped !== PCAP_MAGIC_MICROSECONDS && swapped !== PCAP_MAGIC_NANOSECONDS) {
        return this.setError(CaptureErrorCode.BAD_MAGIC, `magic 0x${magic.toString(16).padStart(8, '0')} is not pcap or pcapng`);
      }
      le = true;
      ns = swapped === PCAP_MAGIC_NANOSECONDS;
    }
    if (avail < PCAP_GLOBAL_HEADER_LENGTH) return this.needMore(PCAP_GLOBAL_HEADER_LENGTH);
    const major = readU16(b, off + 4, le);
    if (major !== PCAP_VERSION_MAJOR) {
      return this.setError(CaptureErrorCode.UNSUPPORTED_VERSION, `pcap version ${major}, expected ${PCAP_VERSION_MAJOR}`);
    }
    this.littleEndian = le;
    this.nanoseconds = ns;
    this.pcapSnaplen = readU32(b, off + 16, le);
    // Upper 16 bits carry FCS length flags (pcap draft section 4); the link type is the low half.
    this.pcapLinkType = readU32(b, off + 20, le) & 0xffff;
    this.format = ns ? CaptureFormat.PCAP_NSEC : CaptureFormat.PCAP;
    this.section = 0;
    this.interfaces.push({
      section: 0,
      interfaceId: 0,
      linkType: this.pcapLinkType,
      snaplen: this.pcapSnaplen,
      tsBase: 10,
      tsExponent: ns ? 9 : 6,
      tsOffsetSec: 0,
    });
    this.phase = Phase.PcapRecord;
    return PCAP_GLOBAL_HEADER_LENGTH;
  }

  private parsePcapRecord(b: Uint8Array, off: number, end: number): number {
    const avail = end - off;
    if (avail < PCAP_RECORD_HEADER_LENGTH) return this.needMore(PCAP_RECORD_HEADER_LENGTH);
    const le = this.littleEndian;
    const capLen = readU32(b, off + 8, le);
    if (capLen > MAX_CAPTURE_LENGTH) {
      return this.damaged(CaptureErrorCode.CAPLEN_TOO_LARGE, `captured length ${capLen} > ${MAX_CAPTURE_LENGTH}`);
    }
    let sec = readU32(b, off, le);
    let frac = readU32(b, off + 4, le);
    const origLen = readU32(b, off + 12, le);
    const perSecond = this.nanoseconds ? 1_000_000_000 : 1_000_000;
    const snaplen = this.pcapSnaplen;
    const refSec = this.refSec;
    let clean = true;
    if (
      frac >= perSecond ||
      origLen < capLen ||
      (capLen > snaplen && snaplen !== 0) ||
      origLen > RESYNC_MAX_ORIGINAL_LENGTH ||
      (this.hasRef && (sec > refSec + RESYNC_CLOCK_WINDOW || sec + RESYNC_CLOCK_WINDOW < refSec))
    ) {
      // Rare path. One anomaly is a writer's quirk (counted below); two at once is not a header.
      // A jump is a step away from both the last clean record and the record just before.
      const ref = this.hasRef ? refSec : this.lastSec;
      const last = this.lastSec;
      const jump =
        this.packets > 0 &&
        (sec > ref + RESYNC_CLOCK_WINDOW || sec + RESYNC_CLOCK_WINDOW < ref) &&
        (sec > last + RESYNC_CLOCK_WINDOW || sec + RESYNC_CLOCK_WINDOW < last);
      const structural =
        (frac >= perSecond ? 1 : 0) +
        (origLen < capLen ? 1 : 0) +
        (capLen > snaplen && snaplen !== 0 ? 1 : 0) +
        (origLen > RESYNC_MAX_ORIGINAL_LENGTH ? 1 : 0);
      const anomalies = structural + (jump ? 1 : 0);
      if (anomalies >= 2) {
        return this.damaged(
          CaptureErrorCode.IMPLAUSIBLE_RECORD_HEADER,
          `seconds ${sec}, fraction ${frac}, captured length ${capLen}, original length ${origLen} (snaplen ${snaplen}): ${anomalies} anomalies`,
        );
      }
      // A clock that jumped is believed once a second record agrees with the first one after it.
      clean = structural === 0 && !this.lastClean && this.packets > 0 && sec <= this.lastSec + RESYNC_CLOCK_WINDOW && sec + RESYNC_CLOCK_WINDOW >= this.lastSec;
    }
    const total = PCAP_RECORD_HEADER_LENGTH + capLen;
    if (avail < total) return this.needMore(total);
    if (frac >= perSecond) {
      // Some writers emit usec == 1000000 after rounding: carry it rather than break the invariant.
      this.counters.fractionOverflow++;
      sec += Math.floor(frac / perSecond);
      frac %= perSecond;
    }
    if (capLen > snaplen && snaplen !== 0) this.counters.capLenOverSnaplen++;
    if (clean) {
      this.refSec = sec;
      this.hasRef = true;
    }
    this.lastClean = clean;
    this.emit(b, off + PCAP_RECORD_HEADER_LENGTH, capLen, origLen, this.pcapLinkType, 0, sec, this.nanoseconds ? frac : frac * 1000);
    return total;
  }

  private parsePcapngBlock(b: Uint8Array, off: number, end: number): number {
    const avail = end - off;
    if (avail < 8) return this.needMore(8);
    let le = this.littleEndian;
    const type = readU32(b, off, le);
    if (type === PCAPNG_BLOCK_SHB) {
      if (avail < 12) return this.needMore(12);
      if (readU32(b, off + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else if (readU32(b, off + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) le = false;
      else return this.setError(CaptureErrorCode.BAD_BYTE_ORDER_MAGIC, 'section header byte-order magic is not 0x1a2b3c4d');
    }
    const length = readU32(b, off + 4, le);
    let min = PCAPNG_MIN_BLOCK_LENGTH;
    let max = this.maxBlockLength;
    switch (type) {
      case PCAPNG_BLOCK_SHB:
        min = PCAPNG_MIN_SHB_LENGTH;
        break;
      case PCAPNG_BLOCK_IDB:
        min = PCAPNG_MIN_IDB_LENGTH;
        break;
      case PCAPNG_BLOCK_EPB:
      case PCAPNG_BLOCK_OPB:
        min = PCAPNG_MIN_EPB_LENGTH;
        max = MAX_PACKET_BLOCK_LENGTH;
        break;
      case PCAPNG_BLOCK_SPB:
        min = PCAPNG_MIN_SPB_LENGTH;
        max = MAX_PACKET_BLOCK_LENGTH;
        break;
      default:
        break;
    }
    if (length < min) return this.damaged(CaptureErrorCode.BLOCK_TOO_SHORT, `block type 0x${type.toString(16)} length ${length} < ${min}`);
    if ((length & 3) !== 0) return this.damaged(CaptureErrorCode.BLOCK_LENGTH_UNALIGNED, `block length ${length} is not a multiple of 4`);
    if (length > max) return this.damaged(CaptureErrorCode.BLOCK_TOO_LARGE, `block type 0x${type.toString(16)} length ${length} > ${max}`);
    if (avail < length) return this.needMore(length);
    const trailer = readU32(b, off + length - 4, le);
    if (trailer !== length) {
      return this.damaged(CaptureErrorCode.BLOCK_LENGTH_MISMATCH, `leading length ${length}, trailing length ${trailer}`);
    }
    switch (type) {
      case PCAPNG_BLOCK_SHB:
        return this.parseShb(b, off, length, le);
      case PCAPNG_BLOCK_IDB:
        return this.parseIdb(b, off, length, le);
      case PCAPNG_BLOCK_EPB:
        return this.parseEpb(b, off, length, le, readU32(b, off + 8, le));
      case PCAPNG_BLOCK_OPB:
        return this.parseEpb(b, off, length, le, readU16(b, off + 8, le));
      case PCAPNG_BLOCK_SPB:
        return this.parseSpb(b, off, length, le);
      default:
        this.counters.skippedBlocks++;
        return length;
    }
  }

  private parseShb(b: Uint8Array, off: number, length: number, le: boolean): number {
    const major = readU16(b, off + 12, le);
    if (major !== PCAPNG_VERSION_MAJOR) {
      return this.setError(CaptureErrorCode.UNSUPPORTED_VERSION, `pcapng version ${major}, expected ${PCAPNG_VERSION_MAJOR}`);
    }
    this.littleEndian = le;
    this.format ??= CaptureFormat.PCAPNG;
    this.phase = Phase.PcapngBlock;
    this.section++;
    this.ifCount = 0; // interface ids are per section (pcapng section 4.2)
    return length;
  }

  private parseIdb(b: Uint8Array, off: number, length: number, le: boolean): number {
    if (this.ifCount >= MAX_INTERFACES) {
      return this.setError(CaptureErrorCode.TOO_MANY_INTERFACES, `more than ${MAX_INTERFACES} interfaces in one section`);
    }
    const id = this.ifCount;
    const ts = this.ifTs[id] ?? new TimestampResolution();
    ts.base = 10;
    ts.exponent = 6; // default if_tsresol: microseconds
    ts.offsetSec = 0;
    const optEnd = off + length - 4;
    let p = off + 16;
    while (p + 4 <= optEnd) {
      const code = readU16(b, p, le);
      const len = readU16(b, p + 2, le);
      if (code === PCAPNG_OPT_ENDOFOPT) break;
      const value = p + 4;
      if (value + len > optEnd) {
        return this.setError(CaptureErrorCode.OPTION_OVERRUN, `IDB option ${code} length ${len} runs past the block`);
      }
      if (code === PCAPNG_OPT_IF_TSRESOL) {
        if (len !== 1 || !ts.setFromOption(b[value]!)) {
          return this.setError(CaptureErrorCode.UNSUPPORTED_TSRESOL, `if_tsresol length ${len} value ${b[value] ?? 0}`);
        }
      } else if (code === PCAPNG_OPT_IF_TSOFFSET) {
        if (len !== 8) return this.setError(CaptureErrorCode.UNSUPPORTED_TSRESOL, `if_tsoffset length ${len}`);
        const lo = readU32(b, value + (le ? 0 : 4), le);
        const hi = readU32(b, value + (le ? 4 : 0), le) | 0; // signed: offsets may be negative
        ts.offsetSec = hi * TWO_POW_32 + lo;
      }
      p = value + ((len + 3) & ~3);
    }
    const linkType = readU16(b, off + 8, le);
    const snaplen = readU32(b, off + 12, le);
    this.ifLinkType[id] = linkType;
    this.ifSnaplen[id] = snaplen;
    this.ifTs[id] = ts;
    this.ifCount = id + 1;
    this.interfaces.push({
      section: this.section,
      interfaceId: id,
      linkType,
      snaplen,
      tsBase: ts.base,
      tsExponent: ts.exponent,
      tsOffsetSec: ts.offsetSec,
    });
    return length;
  }

  private parseEpb(b: Uint8Array, off: number, length: number, le: boolean, ifId: number): number {
    if (ifId >= this.ifCount) {
      return this.setError(CaptureErrorCode.UNKNOWN_INTERFACE, `interface ${ifId}, section has ${this.ifCount}`);
    }
    const capLen = readU32(b, off + 20, le);
    if (capLen > MAX_CAPTURE_LENGTH) {
      return this.damaged(CaptureErrorCode.CAPLEN_TOO_LARGE, `captured length ${capLen} > ${MAX_CAPTURE_LENGTH}`);
    }
    if (28 + capLen + 4 > length) {
      return this.damaged(CaptureErrorCode.CAPLEN_EXCEEDS_BLOCK, `captured length ${capLen} does not fit a ${length}-byte block`);
    }
    const origLen = readU32(b, off + 24, le);
    const ts = this.ifTs[ifId]!;
    ts.convert(readU32(b, off + 12, le), readU32(b, off + 16, le));
    const snaplen = this.ifSnaplen[ifId]!;
    if (capLen > snaplen && snaplen !== 0) this.counters.capLenOverSnaplen++;
    this.emit(b, off + 28, capLen, origLen, this.ifLinkType[ifId]!, ifId, ts.sec, ts.nsec);
    return length;
  }

  private parseSpb(b: Uint8Array, off: number, length: number, le: boolean): number {
    if (this.ifCount === 0) {
      return this.setError(CaptureErrorCode.UNKNOWN_INTERFACE, 'simple packet block before any interface');
    }
    const origLen = readU32(b, off + 8, le);
    const snaplen = this.ifSnaplen[0]!;
    // SPB carries no captured length (pcapng section 4.4): it is min(original, snaplen, room).
    let capLen = Math.min(origLen, length - PCAPNG_MIN_SPB_LENGTH);
    if (snaplen !== 0 && snaplen < capLen) capLen = snaplen;
    this.emit(b, off + 12, capLen, origLen, this.ifLinkType[0]!, 0, 0, 0);
    return length;
  }

  private emit(
    b: Uint8Array,
    dataOffset: number,
    capLen: number,
    origLen: number,
    linkType: number,
    interfaceId: number,
    sec: number,
    nsec: number,
  ): void {
    const rec = this.record;
    rec.linkType = linkType;
    rec.tsSec = sec;
    rec.tsNsec = nsec;
    rec.capLen = capLen;
    rec.origLen = origLen;
    rec.data = b.subarray(dataOffset, dataOffset + capLen);
    rec.interfaceId = interfaceId;
    rec.index = this.packets;
    rec.fileOffset = this.unitOffset;
    if (origLen < capLen) this.counters.origLenBelowCapLen++;
    if (this.packets === 0) {
      this.firstSec = sec;
      this.firstNsec = nsec;
    }
    this.lastSec = sec;
    this.lastNsec = nsec;
    this.packets++;
    this.capturedBytes += capLen;
    this.originalBytes += origLen;
    if (linkType !== this.lastLinkType) {
      this.lastLinkType = linkType;
      if (!this.linkTypes.includes(linkType)) this.linkTypes.push(linkType);
    }
    this.produced = true;
  }
}
