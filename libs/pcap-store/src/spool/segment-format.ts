import { createHash } from 'node:crypto';
import { CALL_HASH_HEX_LENGTH, SpoolGroup } from './spool-path.js';

/**
 * The segment layout of the spool (README "Spool"): per minute directory of the call start,
 * `seg.<n>.tar` archives whose members are small complete pcaps ("chunks": a run of one call's
 * records of one group on one link type), and `seg.<n>.idx`, the index of those members.
 *
 * Everything here is pure byte work (no I/O): tar header building and parsing (POSIX ustar,
 * `tar tf`/`tar xf` open a segment), member names, index entries. Parsers take hostile bytes and
 * answer `null` / a reason, never throw.
 *
 * @see https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06 (ustar)
 */

/** A tar block. */
export const TAR_BLOCK = 512;
/** Segment file name pattern: `seg.<n>.tar` (n = 0.., the writer takes the first free one). */
export const SEGMENT_RE = /^seg\.(\d{1,6})\.tar$/;
/** Magic at the start of an index file (8 bytes): `CSIDX`, NUL, format version 1, NUL. */
export const INDEX_MAGIC = Buffer.from('CSIDX\u0000\u0001\u0000', 'latin1');
/** Bytes per index entry. */
export const INDEX_ENTRY_BYTES = 32;
/** Longest sanitised sensor name kept in a member name (the hash keeps names distinct). */
export const MAX_SANITISED_SENSOR_LENGTH = 40;
/** Largest member a reader accepts (a chunk is at most `flushBytes` + one record, ≤ 16 MiB + 256 KiB). */
export const MAX_MEMBER_BYTES = 32 * 1024 * 1024;
/** Flag bit of an index entry: the member is gzip-compressed (`.pcap.gz`). */
export const FLAG_GZIP = 1;
/** Flag bit of an index entry: the member is one Zstandard frame (`.pcap.zst`). */
export const FLAG_ZSTD = 2;

/**
 * How a chunk's member is compressed (the `compression` option of the spool writer): its name's
 * suffix and its index entry's flag say the same.
 */
export const ChunkCompression = {
  NONE: 'none',
  GZIP: 'gzip',
  ZSTD: 'zstd',
} as const;
/** A value of {@link ChunkCompression}. */
export type ChunkCompression = (typeof ChunkCompression)[keyof typeof ChunkCompression];

/**
 * A `.pcap.zst` member is its chunk as one Zstandard frame, then a skippable frame (RFC 8878
 * §3.1.2, magic 0x184D2A50, 4 bytes of content) holding the CRC-32 of the uncompressed chunk,
 * little-endian: zstd tools skip it, the spool reader checks it. Why: `@cloudpss/zstd` writes no
 * content checksum, and without one a damaged frame that still decodes to its declared size would
 * come back as packets nobody captured (gzip members carry their CRC in the gzip trailer).
 */
export const ZSTD_CRC_TRAILER_BYTES = 12;
const ZSTD_SKIPPABLE_MAGIC = 0x184d2a50;

/** The skippable frame carrying `crc` (see {@link ZSTD_CRC_TRAILER_BYTES}). */
export function zstdCrcTrailer(crc: number): Buffer {
  const b = Buffer.allocUnsafe(ZSTD_CRC_TRAILER_BYTES);
  b.writeUInt32LE(ZSTD_SKIPPABLE_MAGIC, 0);
  b.writeUInt32LE(4, 4);
  b.writeUInt32LE(crc >>> 0, 8);
  return b;
}

/** The CRC-32 a member's trailing skippable frame carries, or -1 when `data` does not end with one. */
export function readZstdCrcTrailer(data: Uint8Array): number {
  const n = data.length;
  if (n < ZSTD_CRC_TRAILER_BYTES) return -1;
  const at = n - ZSTD_CRC_TRAILER_BYTES;
  const u32 = (i: number): number => (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
  return u32(at) === ZSTD_SKIPPABLE_MAGIC && u32(at + 4) === 4 ? u32(at + 8) : -1;
}

const SUFFIX: Record<ChunkCompression, string> = { none: '', gzip: '.gz', zstd: '.zst' };
const FLAG: Record<ChunkCompression, number> = { none: 0, gzip: FLAG_GZIP, zstd: FLAG_ZSTD };

/** Segment and index file names of segment `n`. */
export function segmentFileNames(n: number): { tar: string; idx: string } {
  return { tar: `seg.${n}.tar`, idx: `seg.${n}.idx` };
}

const SAFE = /[^A-Za-z0-9._-]/g;

/**
 * Tag of a sensor in member names: the sanitised name (for people, cut to
 * {@link MAX_SANITISED_SENSOR_LENGTH}), `-`, and 8 hex characters of SHA-256 over its UTF-16 code
 * units (what the index stores, {@link sensorHashOf}). An empty name is the hash alone.
 */
export function sensorTag(sensor: string): string {
  let safe = sensor.length > MAX_SANITISED_SENSOR_LENGTH * 2 ? sensor.slice(0, MAX_SANITISED_SENSOR_LENGTH * 2) : sensor;
  safe = safe.replace(SAFE, '_').slice(0, MAX_SANITISED_SENSOR_LENGTH);
  if (safe.startsWith('.')) safe = `_${safe.slice(1)}`;
  const hash = createHash('sha256').update(sensor, 'utf16le').digest('hex').slice(0, 8);
  return safe.length > 0 ? `${safe}-${hash}` : hash;
}

/** The 32-bit sensor hash the index stores (the last 8 hex characters of {@link sensorTag}). */
export function sensorHashOf(sensor: string): number {
  return Number.parseInt(createHash('sha256').update(sensor, 'utf16le').digest('hex').slice(0, 8), 16) >>> 0;
}

/** The 64-bit call hash of a `spoolCallName` (its last 16 hex characters), as two u32. */
export function callHashOf(callName: string): { hi: number; lo: number } {
  const hex = callName.slice(-CALL_HASH_HEX_LENGTH);
  return { hi: Number.parseInt(hex.slice(0, 8), 16) >>> 0, lo: Number.parseInt(hex.slice(8), 16) >>> 0 };
}

/** What a member name says (see {@link memberName}). */
export interface MemberName {
  callHi: number;
  callLo: number;
  sensorHash: number;
  group: SpoolGroup;
  chunkNo: number;
  linkType: number;
  compression: ChunkCompression;
}

/**
 * Member path of a chunk: `<callName>/<sensorTag>.<sip|rtp>.<chunkNo>.<linkType>.pcap[.gz|.zst]`.
 * The call name (≤ 117 characters) goes in the ustar `prefix` field, the rest (≤ 77) in `name`,
 * so `tar xf` gives one directory per call holding its chunk pcaps (`mergecap` joins them).
 */
export function memberName(sensorTagText: string, group: SpoolGroup, chunkNo: number, linkType: number, compression: ChunkCompression): string {
  return `${sensorTagText}.${group}.${chunkNo}.${linkType}.pcap${SUFFIX[compression]}`;
}

const PREFIX_RE = /^(?:[A-Za-z0-9._-]{1,100}-)?([0-9a-f]{16})$/;
const NAME_RE = /^(?:[A-Za-z0-9._-]{1,40}-)?([0-9a-f]{8})\.(sip|rtp)\.(\d{1,9})\.(\d{1,5})\.pcap(\.gz|\.zst)?$/;

/** Parses a member's prefix + name; null when they are not a chunk's. */
export function parseMemberName(prefix: string, name: string): MemberName | null {
  const p = PREFIX_RE.exec(prefix);
  const n = NAME_RE.exec(name);
  if (p === null || n === null) return null;
  const linkType = Number(n[4]);
  if (linkType > 0xffff) return null;
  return {
    callHi: Number.parseInt(p[1]!.slice(0, 8), 16) >>> 0,
    callLo: Number.parseInt(p[1]!.slice(8), 16) >>> 0,
    sensorHash: Number.parseInt(n[1]!, 16) >>> 0,
    group: n[2] === 'sip' ? SpoolGroup.SIP : SpoolGroup.RTP,
    chunkNo: Number(n[3]),
    linkType,
    compression: n[5] === '.gz' ? ChunkCompression.GZIP : n[5] === '.zst' ? ChunkCompression.ZSTD : ChunkCompression.NONE,
  };
}

function writeOctal(buf: Buffer, at: number, width: number, value: number): void {
  // width-1 octal digits, then NUL (the ustar numeric field convention).
  buf.write(value.toString(8).padStart(width - 1, '0'), at, width - 1, 'latin1');
  buf[at + width - 1] = 0;
}

/**
 * Writes a ustar header for a regular-file member into `buf` at `at` (512 bytes, zero-filled
 * first). `prefix` ≤ 155 and `name` ≤ 100 ASCII characters (the writer's names always are).
 *
 * @param size - member data bytes (< 8 GiB)
 * @param mtimeSec - the chunk's first packet time (capture clock)
 */
export function writeTarHeader(buf: Buffer, at: number, prefix: string, name: string, size: number, mtimeSec: number): void {
  buf.fill(0, at, at + TAR_BLOCK);
  buf.write(name, at, 100, 'latin1');
  buf.write('0000644', at + 100, 'latin1');
  buf.write('0000000', at + 108, 'latin1');
  buf.write('0000000', at + 116, 'latin1');
  writeOctal(buf, at + 124, 12, size);
  writeOctal(buf, at + 136, 12, mtimeSec);
  buf[at + 156] = 0x30; // '0': regular file
  buf.write('ustar\u000000', at + 257, 'latin1');
  buf.write('callscope', at + 265, 'latin1');
  buf.write('callscope', at + 297, 'latin1');
  buf.write(prefix, at + 345, 155, 'latin1');
  buf.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + TAR_BLOCK; i++) sum += buf[i]!;
  buf.write(sum.toString(8).padStart(6, '0'), at + 148, 6, 'latin1');
  buf[at + 154] = 0;
  buf[at + 155] = 0x20;
}

/**
 * {@link writeTarHeader} for the many members of one call (same prefix): the fixed fields are laid
 * out once with their checksum share, so a member header costs a 512-byte copy, its name, size
 * and mtime, and the sum of those three fields. Same bytes as `writeTarHeader` (property-tested).
 */
export class TarHeaderTemplate {
  private readonly base = Buffer.alloc(TAR_BLOCK);
  private readonly baseSum: number;

  /** @param prefix - the ustar prefix field (the call name), ≤ 155 ASCII characters */
  constructor(prefix: string) {
    writeTarHeader(this.base, 0, prefix, '', 0, 0);
    // Clear the variable fields; the checksum field counts as 8 spaces.
    this.base.fill(0, 0, 100);
    this.base.fill(0, 124, 148);
    this.base.fill(0x20, 148, 156);
    let sum = 0;
    for (const c of this.base) sum += c;
    this.baseSum = sum;
  }

  /** Writes the header of member `name` (≤ 100 ASCII characters) with `size` data bytes at `at`. */
  write(buf: Buffer, at: number, name: string, size: number, mtimeSec: number): void {
    this.base.copy(buf, at);
    buf.write(name, at, 100, 'latin1');
    writeOctal(buf, at + 124, 12, size);
    writeOctal(buf, at + 136, 12, mtimeSec);
    let sum = this.baseSum;
    for (let i = at; i < at + 100; i++) sum += buf[i]!;
    for (let i = at + 124; i < at + 148; i++) sum += buf[i]!;
    buf.write(sum.toString(8).padStart(6, '0'), at + 148, 6, 'latin1');
    buf[at + 154] = 0;
    buf[at + 155] = 0x20;
  }
}

/** Why a header was not accepted (the fsck report and the malformed-input tests name them). */
export const TarHeaderProblem = {
  /** Fewer than 512 bytes left (a torn tail). */
  SHORT: 'short',
  /** An all-zero block: the end of the archive. */
  END: 'end',
  /** Stored checksum differs from the bytes. */
  CHECKSUM: 'checksum',
  /** No `ustar` magic, a size that is not octal, a non-regular member, a name not a chunk's. */
  FORMAT: 'format',
  /** Larger than {@link MAX_MEMBER_BYTES}. */
  TOO_LARGE: 'too_large',
} as const;

/** One of the {@link TarHeaderProblem} values. */
export type TarHeaderProblem = (typeof TarHeaderProblem)[keyof typeof TarHeaderProblem];

/** A parsed chunk member header. */
export interface TarMember extends MemberName {
  /** Member data bytes. */
  size: number;
  /** Bytes the member occupies: header + data padded to 512. */
  span: number;
}

function readOctal(buf: Uint8Array, at: number, width: number): number {
  let value = 0;
  let digits = 0;
  let i = at;
  const end = at + width;
  while (i < end && buf[i] === 0x20) i++;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) return -1;
    value = value * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? -1 : value;
}

function readString(buf: Uint8Array, at: number, width: number): string {
  let end = at;
  while (end < at + width && buf[end] !== 0) end++;
  return Buffer.from(buf.buffer, buf.byteOffset + at, end - at).toString('latin1');
}

/**
 * Parses the 512-byte header at `at` of a segment's bytes. Accepts only what the writer produces
 * (ustar, regular file, a chunk's member name, size ≤ {@link MAX_MEMBER_BYTES}); anything else
 * is a {@link TarHeaderProblem}. Never throws.
 */
export function parseTarHeader(buf: Uint8Array, at: number): TarMember | TarHeaderProblem {
  if (at < 0 || buf.length - at < TAR_BLOCK) return TarHeaderProblem.SHORT;
  let sum = 0;
  let zero = true;
  for (let i = at; i < at + TAR_BLOCK; i++) {
    const c = buf[i]!;
    if (c !== 0) zero = false;
    sum += i >= at + 148 && i < at + 156 ? 0x20 : c;
  }
  if (zero) return TarHeaderProblem.END;
  if (readOctal(buf, at + 148, 8) !== sum) return TarHeaderProblem.CHECKSUM;
  if (readString(buf, at + 257, 6) !== 'ustar' || (buf[at + 156] !== 0x30 && buf[at + 156] !== 0)) return TarHeaderProblem.FORMAT;
  const size = readOctal(buf, at + 124, 12);
  if (size < 0) return TarHeaderProblem.FORMAT;
  if (size > MAX_MEMBER_BYTES) return TarHeaderProblem.TOO_LARGE;
  const name = parseMemberName(readString(buf, at + 345, 155), readString(buf, at, 100));
  if (name === null) return TarHeaderProblem.FORMAT;
  return { ...name, size, span: TAR_BLOCK + paddedSize(size) };
}

/** `size` rounded up to whole tar blocks. */
export function paddedSize(size: number): number {
  return Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
}

/** One index entry: where a chunk lies in its segment. */
export interface IndexEntry extends MemberName {
  /** Offset of the member's header in the segment. */
  offset: number;
  /** Member data bytes. */
  size: number;
}

/**
 * Writes an index entry (32 bytes, little-endian): call hash hi, lo, sensor hash, chunk number,
 * header offset lo, hi, data size (u32 each), link type (u16), group (u8: 0 sip, 1 rtp), flags
 * (u8: {@link FLAG_GZIP} or {@link FLAG_ZSTD}).
 */
export function writeIndexEntry(buf: Buffer, at: number, e: IndexEntry): void {
  buf.writeUInt32LE(e.callHi, at);
  buf.writeUInt32LE(e.callLo, at + 4);
  buf.writeUInt32LE(e.sensorHash, at + 8);
  buf.writeUInt32LE(e.chunkNo, at + 12);
  buf.writeUInt32LE(e.offset % 0x1_0000_0000, at + 16);
  buf.writeUInt32LE(Math.floor(e.offset / 0x1_0000_0000), at + 20);
  buf.writeUInt32LE(e.size, at + 24);
  buf.writeUInt16LE(e.linkType, at + 28);
  buf[at + 30] = e.group === SpoolGroup.SIP ? 0 : 1;
  buf[at + 31] = FLAG[e.compression];
}

/**
 * Reads the entry at `at`; null when its fields cannot be one the writer made (group or flags out
 * of range, member larger than {@link MAX_MEMBER_BYTES}). Whether it points at a real member is
 * checked when the member is read (its header must say the same).
 */
export function readIndexEntry(buf: Buffer, at: number): IndexEntry | null {
  const group = buf[at + 30]!;
  const flags = buf[at + 31]!;
  const size = buf.readUInt32LE(at + 24);
  const hi = buf.readUInt32LE(at + 20);
  if (group > 1 || (flags !== 0 && flags !== FLAG_GZIP && flags !== FLAG_ZSTD) || size > MAX_MEMBER_BYTES || hi > 0x1f_ffff) return null;
  return {
    callHi: buf.readUInt32LE(at),
    callLo: buf.readUInt32LE(at + 4),
    sensorHash: buf.readUInt32LE(at + 8),
    chunkNo: buf.readUInt32LE(at + 12),
    offset: hi * 0x1_0000_0000 + buf.readUInt32LE(at + 16),
    size,
    linkType: buf.readUInt16LE(at + 28),
    group: group === 0 ? SpoolGroup.SIP : SpoolGroup.RTP,
    compression: flags === FLAG_GZIP ? ChunkCompression.GZIP : flags === FLAG_ZSTD ? ChunkCompression.ZSTD : ChunkCompression.NONE,
  };
}

/** True when a member header describes the same chunk as an index entry. */
export function sameChunk(e: IndexEntry, m: TarMember): boolean {
  return (
    e.callHi === m.callHi &&
    e.callLo === m.callLo &&
    e.sensorHash === m.sensorHash &&
    e.chunkNo === m.chunkNo &&
    e.group === m.group &&
    e.linkType === m.linkType &&
    e.compression === m.compression &&
    e.size === m.size
  );
}
