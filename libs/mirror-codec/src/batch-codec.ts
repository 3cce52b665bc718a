import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants, deflateSync, inflateSync } from 'node:zlib';
import { compress as zstdCompress, decompress as zstdDecompress } from '@cloudpss/zstd';
import { compressSync as lz4Compress, uncompressSync as lz4Uncompress } from 'lz4-napi';
import { Compression } from '@callscope/mirror-protocol';
import { ZstdFrameStatus, inspectZstdFrames, type ZstdFrameInfo } from '@callscope/pcap-format';

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
/**
 * zstd level of a version 3 flow block's payload section (the RTP payloads; {@link compressZstdSplit}).
 * Negative levels skip the entropy coding of literals: on real G.711 payloads level 1 makes
 * 77.5 bytes of 160, -5 85.7, in under half the time (0.15 against 0.31-0.35 us per packet,
 * node 20, batches of 1000); header sections and synthetic or SIP-heavy payloads are unchanged
 * in size. Beyond -5 the size grows faster than the time falls (-8: 87.8 B, 0.13 us).
 */
export const ZSTD_PAYLOAD_LEVEL = -5;
/** Most zstd frames a version 3 batch may carry (header sections, then the payload section). */
export const MAX_ZSTD_FRAMES_V3 = 2;

/**
 * How many concatenated zstd frames a batch of protocol `version` may carry: 1 up to version 2
 * (a receiver of those versions refuses bytes after the first frame), {@link MAX_ZSTD_FRAMES_V3}
 * from version 3.
 */
export function maxZstdFrames(version: number): number {
  return version >= 3 ? MAX_ZSTD_FRAMES_V3 : 1;
}
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

/**
 * Compresses a flow block (protocol version 3) as two zstd frames: `bytes[0, split)` (the block's
 * counts and header sections) at {@link ZSTD_LEVEL}, then `bytes[split, end)` (its payload
 * section) at {@link ZSTD_PAYLOAD_LEVEL}; the second is left out when the payload section is
 * empty. Their concatenation is `PacketBatch.block`'s compressed form: zstd decompresses it to
 * `bytes`. Returns fresh arrays.
 * @throws RangeError when `split` is not an offset inside `bytes` (programmer error).
 */
export function compressZstdSplit(bytes: Uint8Array, split: number): Uint8Array[] {
  if (!(Number.isInteger(split) && split >= 0 && split <= bytes.length)) {
    throw new RangeError(`compressZstdSplit: split ${split} outside a block of ${bytes.length} bytes`);
  }
  const first = zstdCompress(bytes.subarray(0, split), ZSTD_LEVEL);
  if (split === bytes.length) return [first];
  return [first, zstdCompress(bytes.subarray(split), ZSTD_PAYLOAD_LEVEL)];
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
 * The bound holds before the decoder allocates: zlib and Brotli stop at `maxOutputLength`; zstd
 * frames must declare their content size (checked with `inspectZstdFrames`: one frame, or up to
 * `maxZstdFrames` back to back (version 3, {@link maxZstdFrames}), no dictionary, the sum of the
 * sizes <= maxBytes; the output must then be exactly that sum); lz4-napi
 * allocates the u32 size its prefix claims (up to 4 GiB: measured, it zero-fills 3 GiB for a
 * 400-byte input), so the prefix is checked first and the output length after.
 *
 * @param maxZstdFrameCount - how many zstd frames may follow each other (default 1; the connection's
 *   {@link maxZstdFrames}); ignored for the other compressions.
 * @throws RangeError when `maxBytes` is not a positive safe integer or `maxZstdFrameCount` not an
 *   integer >= 1 (programmer errors).
 */
export function decompressBatch(wire: Compression, input: Uint8Array, maxBytes: number, out: DecompressedBatch, maxZstdFrameCount = 1): DecompressStatus {
  if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 1)) throw new RangeError(`decompressBatch: maxBytes must be an integer >= 1, got ${maxBytes}`);
  if (!(Number.isInteger(maxZstdFrameCount) && maxZstdFrameCount >= 1)) {
    throw new RangeError(`decompressBatch: maxZstdFrameCount must be an integer >= 1, got ${maxZstdFrameCount}`);
  }
  out.bytes = null;
  out.detail = '';
  switch (wire) {
    case Compression.COMPRESSION_ZSTD: {
      const st = inspectZstdFrames(input, 0, input.length, maxZstdFrameCount, zstdInfo);
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
