/**
 * The record format of the on-disk CDR queue, as pure functions over bytes (no I/O).
 *
 * Version 2 (written since issue 18): a 28-byte header that protects itself, then the payload.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     magic 0x43535132 ("CSQ2")                 |
 * |                   payload length (bytes, BE)                  |
 * |             records in the payload (CDRs, BE)                 |
 * |                  CRC-32 (ISO-HDLC) of payload                 |
 * |        queued at: ms since 1970 (IEEE 754 double, BE) ...     |
 * |                              ... (8 bytes)                    |
 * |                 CRC-32 of the 24 bytes above                  |
 * |                    payload (UTF-8 JSON) ...                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * The header's own CRC is what lets a reader trust a record count without reading the payload
 * (`sniffer queue status` walks headers only), skip exactly one record whose payload is damaged
 * (its length is trustworthy, and its count says how many CDRs went with it), and find the next
 * record after bytes that are not a record at all (torn by a crash, zeroed by a failing disk):
 * a random 28-byte window passes magic + CRC with odds of about 2^-64.
 *
 * Version 1 (`"CSDQ" | length | CRC | payload`, 12 bytes) is still read, so a queue left by an
 * older sniffer is replayed; its count and time come from the payload.
 *
 * @packageDocumentation
 */
import { crc32 } from 'node:zlib';

/** Magic of a version 2 record: "CSQ2". */
export const RECORD_MAGIC = 0x43535132;
/** Bytes of a version 2 header. */
export const RECORD_HEADER_BYTES = 28;
/** Magic of a version 1 record: "CSDQ" (read only). */
export const RECORD_MAGIC_V1 = 0x43534451;
/** Bytes of a version 1 header. */
export const RECORD_HEADER_BYTES_V1 = 12;

/** A version 2 header, checked. */
export interface RecordHeader {
  /** 1 or 2. */
  version: 1 | 2;
  /** Bytes of the header itself. */
  headerBytes: number;
  /** Payload bytes after the header. */
  length: number;
  /** CDRs in the payload; -1 for a version 1 record (only its payload says). */
  records: number;
  /** CRC-32 the payload must have. */
  crc: number;
  /** When the record was queued (ms since 1970); NaN for version 1. */
  queuedAt: number;
}

/** The header of a record holding `payload` with `records` CDRs, queued at `queuedAt`. */
export function encodeRecordHeader(payload: Buffer, records: number, queuedAt: number): Buffer {
  const h = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  h.writeUInt32BE(RECORD_MAGIC, 0);
  h.writeUInt32BE(payload.length, 4);
  h.writeUInt32BE(records, 8);
  h.writeUInt32BE(crc32(payload), 12);
  h.writeDoubleBE(queuedAt, 16);
  h.writeUInt32BE(crc32(h.subarray(0, 24)), 24);
  return h;
}

/**
 * Reads the header at `buf[at]` if it is a whole, self-consistent version 2 header whose payload
 * fits in `limit` bytes after it; `null` otherwise. A version 1 header (no self-check) is
 * accepted only with `v1`, and only when its payload is also in `buf` and matches its CRC.
 */
export function readRecordHeader(buf: Buffer, at: number, limit: number, v1 = true): RecordHeader | null {
  if (at + 4 > buf.length) return null;
  const magic = buf.readUInt32BE(at);
  if (magic === RECORD_MAGIC) {
    if (at + RECORD_HEADER_BYTES > buf.length) return null;
    if (crc32(buf.subarray(at, at + 24)) !== buf.readUInt32BE(at + 24)) return null;
    const length = buf.readUInt32BE(at + 4);
    if (length > limit - RECORD_HEADER_BYTES) return null;
    return { version: 2, headerBytes: RECORD_HEADER_BYTES, length, records: buf.readUInt32BE(at + 8), crc: buf.readUInt32BE(at + 12), queuedAt: buf.readDoubleBE(at + 16) };
  }
  if (magic === RECORD_MAGIC_V1 && v1) {
    if (at + RECORD_HEADER_BYTES_V1 > buf.length) return null;
    const length = buf.readUInt32BE(at + 4);
    if (length > limit - RECORD_HEADER_BYTES_V1) return null;
    const end = at + RECORD_HEADER_BYTES_V1 + length;
    if (end > buf.length) return null;
    const crc = buf.readUInt32BE(at + 8);
    if (crc32(buf.subarray(at + RECORD_HEADER_BYTES_V1, end)) !== crc) return null;
    return { version: 1, headerBytes: RECORD_HEADER_BYTES_V1, length, records: -1, crc, queuedAt: Number.NaN };
  }
  return null;
}

/**
 * Where the next record starts at or after `from` in `buf` (the rest of a segment, `buf[0]` being
 * at `base` in the file), or `buf.length` when none does: the resynchronisation after bytes that
 * are not a record. A candidate must be a valid header whose payload fits in the segment.
 */
export function findNextRecord(buf: Buffer, from: number): number {
  for (let at = from; at + 4 <= buf.length; at++) {
    // Cheap first test on the magic's first byte ("C" of both magics).
    if (buf[at] !== 0x43) continue;
    if (readRecordHeader(buf, at, buf.length - at) !== null) return at;
  }
  return buf.length;
}

/** CDRs in a batch payload (`{v, records: [...]}`), or null when it is not one. */
export function payloadRecordCount(payload: Buffer): number | null {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { records?: unknown };
    return Array.isArray(parsed.records) ? parsed.records.length : null;
  } catch {
    return null;
  }
}

/** One piece of a segment: a record, or bytes that are not one. */
export type SegmentPiece =
  | { kind: 'record'; offset: number; header: RecordHeader; payloadOk: boolean }
  | { kind: 'torn'; offset: number; bytes: number };

/**
 * Every record and torn region of a whole segment's bytes `buf`, from `from`, in order. A record
 * with a valid header but a damaged payload is a `record` with `payloadOk: false` (its length and
 * count are known); bytes that hold no valid header up to the next record are one `torn` piece.
 */
export function scanSegment(buf: Buffer, from = 0): SegmentPiece[] {
  const out: SegmentPiece[] = [];
  let at = from;
  while (at < buf.length) {
    const header = readRecordHeader(buf, at, buf.length - at);
    if (header === null) {
      const next = findNextRecord(buf, at + 1);
      out.push({ kind: 'torn', offset: at, bytes: next - at });
      at = next;
      continue;
    }
    const start = at + header.headerBytes;
    const payloadOk = header.version === 1 || crc32(buf.subarray(start, start + header.length)) === header.crc;
    out.push({ kind: 'record', offset: at, header, payloadOk });
    at = start + header.length;
  }
  return out;
}
