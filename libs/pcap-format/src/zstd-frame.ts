/**
 * Zstandard frame inspection without decompressing (RFC 8878 §3.1.1), so the decompressed size of a
 * batch is known and bounded before the native decoder allocates anything.
 *
 * ```
 * Magic_Number (4, 0xFD2FB528 LE) | Frame_Header_Descriptor (1) | [Window_Descriptor (0-1)] |
 * [Dictionary_ID (0-4)] | [Frame_Content_Size (0-8)] | Block... | [Content_Checksum (4)]
 * Block_Header (3, LE): Last_Block (bit 0) | Block_Type (bits 1-2) | Block_Size (bits 3-23)
 * ```
 * https://www.rfc-editor.org/rfc/rfc8878#section-3.1.1
 */

/** `Magic_Number` of a Zstandard frame, read little-endian. */
export const ZSTD_MAGIC = 0xfd2fb528;

/** Outcome of {@link inspectZstdFrame}. */
export const ZstdFrameStatus = {
  /** Complete frames spanning the whole input, content sizes declared. */
  Ok: 0,
  /** Shorter than the header or than its blocks claim. */
  TooShort: 1,
  /** Not a Zstandard frame (magic number; skippable frames included). */
  BadMagic: 2,
  /** Reserved header bit set or reserved block type. */
  Reserved: 3,
  /** The frame does not declare its content size (streaming compressors may omit it). */
  UnknownSize: 4,
  /** The frame needs a dictionary; batches never use one. */
  Dictionary: 5,
  /**
   * Bytes after the end of the last frame allowed (one for {@link inspectZstdFrame}; `maxFrames`
   * for {@link inspectZstdFrames}): a further frame would add output beyond the checked size.
   */
  TrailingBytes: 6,
} as const;
/** A value of {@link ZstdFrameStatus}. */
export type ZstdFrameStatus = (typeof ZstdFrameStatus)[keyof typeof ZstdFrameStatus];

const FHD_FCS_FLAG_SHIFT = 6;
const FHD_SINGLE_SEGMENT = 0x20;
const FHD_RESERVED = 0x08;
const FHD_CHECKSUM = 0x04;
const FHD_DICT_ID_MASK = 0x03;
const BLOCK_HEADER_LENGTH = 3;
const BLOCK_TYPE_RLE = 1;
const BLOCK_TYPE_RESERVED = 3;
const CHECKSUM_LENGTH = 4;

/** Caller-owned result of {@link inspectZstdFrame}. */
export interface ZstdFrameInfo {
  /** Declared `Frame_Content_Size` (bytes after decompression; the sum over the frames) when Ok. */
  contentSize: number;
}

/**
 * Reads the frame header and walks the block headers of `buf[offset, offset + length)`: Ok only
 * when it is exactly one frame with a declared content size and no dictionary. Never throws on
 * input bytes; a range outside `buf` is a programmer error (RangeError).
 */
export function inspectZstdFrame(buf: Uint8Array, offset: number, length: number, out: ZstdFrameInfo): ZstdFrameStatus {
  return inspectZstdFrames(buf, offset, length, 1, out);
}

/**
 * {@link inspectZstdFrame} for a sequence of one to `maxFrames` frames back to back (what
 * `ZSTD_decompress` decodes as one output, the frames' contents concatenated): Ok only when the
 * input is exactly such a sequence, each frame declaring its content size, without a dictionary;
 * `out.contentSize` is then the sum of the declared sizes (the whole output, known before anything
 * is decompressed). More frames than `maxFrames` answer `TrailingBytes`. Never throws on input
 * bytes; a range outside `buf` or a `maxFrames` below 1 is a programmer error (RangeError).
 */
export function inspectZstdFrames(buf: Uint8Array, offset: number, length: number, maxFrames: number, out: ZstdFrameInfo): ZstdFrameStatus {
  if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= buf.length)) {
    throw new RangeError(`inspectZstdFrame: range ${offset}+${length} outside a buffer of ${buf.length} bytes`);
  }
  if (!(Number.isInteger(maxFrames) && maxFrames >= 1)) throw new RangeError(`inspectZstdFrames: maxFrames must be an integer >= 1, got ${maxFrames}`);
  out.contentSize = 0;
  const end = offset + length;
  let pos = offset;
  let total = 0;
  for (let frames = 0; frames < maxFrames; frames++) {
    const next = walkFrame(buf, pos, end, out);
    if (next < 0) {
      out.contentSize = 0;
      return -next as ZstdFrameStatus;
    }
    total += out.contentSize;
    pos = next;
    if (pos === end) {
      out.contentSize = total;
      return ZstdFrameStatus.Ok;
    }
  }
  out.contentSize = 0;
  return ZstdFrameStatus.TrailingBytes;
}

/**
 * Walks the frame at `buf[pos, end)`: its end position (the frame's declared content size in
 * `out.contentSize`), or minus a {@link ZstdFrameStatus} when it is not a complete frame of the
 * accepted kind.
 */
function walkFrame(buf: Uint8Array, start: number, end: number, out: ZstdFrameInfo): number {
  if (end - start < 5) return -ZstdFrameStatus.TooShort;
  const magic = (buf[start]! | (buf[start + 1]! << 8) | (buf[start + 2]! << 16) | (buf[start + 3]! << 24)) >>> 0;
  if (magic !== ZSTD_MAGIC) return -ZstdFrameStatus.BadMagic;
  const fhd = buf[start + 4]!;
  if ((fhd & FHD_RESERVED) !== 0) return -ZstdFrameStatus.Reserved;
  if ((fhd & FHD_DICT_ID_MASK) !== 0) return -ZstdFrameStatus.Dictionary;
  const singleSegment = (fhd & FHD_SINGLE_SEGMENT) !== 0;
  const fcsFlag = fhd >>> FHD_FCS_FLAG_SHIFT;
  const fcsLength = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
  if (fcsLength === 0) return -ZstdFrameStatus.UnknownSize;
  let pos = start + 5 + (singleSegment ? 0 : 1);
  if (pos + fcsLength > end) return -ZstdFrameStatus.TooShort;
  let size = 0;
  for (let i = fcsLength - 1; i >= 0; i--) size = size * 256 + buf[pos + i]!;
  if (fcsLength === 2) size += 256;
  pos += fcsLength;
  for (;;) {
    if (pos + BLOCK_HEADER_LENGTH > end) return -ZstdFrameStatus.TooShort;
    const header = buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16);
    pos += BLOCK_HEADER_LENGTH;
    const type = (header >>> 1) & 0x3;
    if (type === BLOCK_TYPE_RESERVED) return -ZstdFrameStatus.Reserved;
    const blockSize = header >>> 3;
    // Raw and compressed blocks carry Block_Size bytes; an RLE block carries one byte repeated Block_Size times.
    pos += type === BLOCK_TYPE_RLE ? 1 : blockSize;
    if (pos > end) return -ZstdFrameStatus.TooShort;
    if ((header & 1) !== 0) break;
  }
  if ((fhd & FHD_CHECKSUM) !== 0) pos += CHECKSUM_LENGTH;
  if (pos > end) return -ZstdFrameStatus.TooShort;
  out.contentSize = size;
  return pos;
}
