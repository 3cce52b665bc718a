import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants, deflateSync, inflateSync } from 'node:zlib';
import { compress as zstdCompress, decompress as zstdDecompress } from '@cloudpss/zstd';
import { compressSync as lz4Compress, uncompressSync as lz4Uncompress } from 'lz4-napi';
import { Compression } from '@callscope/mirror-protocol';
import { ZstdFrameStatus, inspectZstdFrame, type ZstdFrameInfo } from './zstd-frame.js';

/** Config names of the batch compressions, fastest first (see the README for the measurements). */
export const MIRROR_COMPRESSIONS = ['zstd', 'lz4', 'deflate', 'brotli', 'none'] as const;
/** One of {@link MIRROR_COMPRESSIONS}. */
export type MirrorCompression = (typeof MIRROR_COMPRESSIONS)[number];

const WIRE: Readonly<Record<MirrorCompression, Compression>> = {
  zstd: Compression.COMPRESSION_ZSTD,
  lz4: Compression.COMPRESSION_LZ4,
  deflate: Compression.COMPRESSION_DEFLATE,
  brotli: Compression.COMPRESSION_BROTLI,
  none: Compression.COMPRESSION_NONE,
};

/** The `PacketBatch.compression` wire value of a config name. */
export function compressionWire(name: MirrorCompression): Compression {
  return WIRE[name];
}

/** The config name of a wire value, or undefined for a value this version does not know. */
export function compressionName(wire: Compression): MirrorCompression | undefined {
  return MIRROR_COMPRESSIONS.find((n) => WIRE[n] === wire);
}

/**
 * zstd level 1: on RTP batches it compresses like level 3 within 1 % (the payloads hardly
 * compress, the headers compress at any level) at about twice the speed.
 */
export const ZSTD_LEVEL = 1;
/** zlib level 1: the headers compress nearly as well as at level 6 at a fraction of the CPU. */
export const DEFLATE_LEVEL = 1;
/** Brotli quality 4: streaming-speed Brotli; 11 (the default) costs seconds per MiB. */
export const BROTLI_QUALITY = 4;
/** lz4-napi's block format prefixes the block with its decompressed length, u32 little-endian. */
export const LZ4_SIZE_PREFIX_LENGTH = 4;

/** A Buffer view of `bytes` without copying (the native bindings take Buffers). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Compresses a serialized PacketList for `PacketBatch.compressedPackets`. Returns a fresh array.
 * @throws TypeError for `COMPRESSION_NONE` (its packets travel uncompressed in `PacketBatch.packets`)
 *   or a value this version does not know: both are programmer errors.
 */
export function compressBatch(wire: Compression, bytes: Uint8Array): Uint8Array {
  switch (wire) {
    case Compression.COMPRESSION_ZSTD:
      return zstdCompress(bytes, ZSTD_LEVEL);
    case Compression.COMPRESSION_LZ4:
      return lz4Compress(asBuffer(bytes));
    case Compression.COMPRESSION_DEFLATE:
      return deflateSync(bytes, { level: DEFLATE_LEVEL });
    case Compression.COMPRESSION_BROTLI:
      return brotliCompressSync(bytes, {
        params: { [zlibConstants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
      });
    default:
      throw new TypeError(`compressBatch: compression ${wire} has no compressed form`);
  }
}

/** Outcome of {@link decompressBatch}. */
export const DecompressStatus = {
  /** `out.bytes` holds the decompressed PacketList bytes. */
  Ok: 0,
  /** The input is not a valid stream of that compression (`out.detail` says why). */
  Corrupt: 1,
  /** It would decompress to more than the bound (a decompression bomb, or a too large batch). */
  TooLarge: 2,
  /** `COMPRESSION_NONE` or a value this version does not know. */
  Unsupported: 3,
} as const;
/** A value of {@link DecompressStatus}. */
export type DecompressStatus = (typeof DecompressStatus)[keyof typeof DecompressStatus];

/** Caller-owned result of {@link decompressBatch}, reused. */
export interface DecompressedBatch {
  /** The decompressed bytes when Ok, else null. */
  bytes: Uint8Array | null;
  /** Why it failed (for logs), '' when Ok. */
  detail: string;
}

/** Creates an empty {@link DecompressedBatch} for reuse. */
export function createDecompressedBatch(): DecompressedBatch {
  return { bytes: null, detail: '' };
}

const zstdInfo: ZstdFrameInfo = { contentSize: 0 };

/**
 * Decompresses `PacketBatch.compressedPackets` into `out.bytes`, never producing more than
 * `maxBytes` bytes, whatever the input claims. Never throws on wire input.
 *
 * The bound holds before the decoder allocates: zlib and Brotli stop at `maxOutputLength`; a zstd
 * frame must declare its content size (checked with {@link inspectZstdFrame}: one frame, no
 * dictionary, size <= maxBytes; zstd then fails a frame whose output differs from it); lz4-napi
 * allocates the u32 size its prefix claims (up to 4 GiB: measured, it zero-fills 3 GiB for a
 * 400-byte input), so the prefix is checked first and the output length after.
 *
 * @throws RangeError when `maxBytes` is not a positive safe integer (programmer error).
 */
export function decompressBatch(wire: Compression, input: Uint8Array, maxBytes: number, out: DecompressedBatch): DecompressStatus {
  if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 1)) throw new RangeError(`decompressBatch: maxBytes must be an integer >= 1, got ${maxBytes}`);
  out.bytes = null;
  out.detail = '';
  switch (wire) {
    case Compression.COMPRESSION_ZSTD: {
      const st = inspectZstdFrame(input, 0, input.length, zstdInfo);
      if (st !== ZstdFrameStatus.Ok) return fail(out, DecompressStatus.Corrupt, `zstd frame: ${zstdStatusName(st)}`);
      if (zstdInfo.contentSize > maxBytes) return fail(out, DecompressStatus.TooLarge, `zstd frame declares ${zstdInfo.contentSize} bytes`);
      return finish(out, () => zstdDecompress(input), zstdInfo.contentSize);
    }
    case Compression.COMPRESSION_LZ4: {
      if (input.length < LZ4_SIZE_PREFIX_LENGTH) return fail(out, DecompressStatus.Corrupt, `lz4 block: ${input.length} bytes, shorter than its size prefix`);
      const declared = (input[0]! | (input[1]! << 8) | (input[2]! << 16) | (input[3]! << 24)) >>> 0;
      if (declared > maxBytes) return fail(out, DecompressStatus.TooLarge, `lz4 block declares ${declared} bytes`);
      return finish(out, () => lz4Uncompress(asBuffer(input)), declared);
    }
    case Compression.COMPRESSION_DEFLATE:
      return finish(out, () => inflateSync(input, { maxOutputLength: maxBytes }), -1);
    case Compression.COMPRESSION_BROTLI:
      return finish(out, () => brotliDecompressSync(input, { maxOutputLength: maxBytes }), -1);
    default:
      return fail(out, DecompressStatus.Unsupported, `compression ${wire} is not a compressed form`);
  }
}

/** Runs a decoder; its exceptions become statuses. `expected` >= 0 is the exact output length. */
function finish(out: DecompressedBatch, run: () => Uint8Array, expected: number): DecompressStatus {
  let bytes: Uint8Array;
  try {
    bytes = run();
  } catch (err) {
    // zlib throws ERR_BUFFER_TOO_LARGE (a RangeError) when the output passes maxOutputLength.
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      return fail(out, DecompressStatus.TooLarge, (err as Error).message);
    }
    return fail(out, DecompressStatus.Corrupt, err instanceof Error ? err.message : String(err));
  }
  if (expected >= 0 && bytes.length !== expected) {
    return fail(out, DecompressStatus.Corrupt, `decompressed to ${bytes.length} bytes, the stream declares ${expected}`);
  }
  out.bytes = bytes;
  return DecompressStatus.Ok;
}

function fail(out: DecompressedBatch, status: DecompressStatus, detail: string): DecompressStatus {
  out.bytes = null;
  out.detail = detail;
  return status;
}

function zstdStatusName(st: ZstdFrameStatus): string {
  return Object.entries(ZstdFrameStatus).find(([, v]) => v === st)?.[0] ?? String(st);
}
