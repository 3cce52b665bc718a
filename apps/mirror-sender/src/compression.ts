import {
  DecompressStatus,
  MIRROR_COMPRESSIONS,
  compressBatch,
  compressionWire,
  createDecompressedBatch,
  decompressBatch,
} from '@callscope/mirror-codec';
import { Compression } from '@callscope/mirror-protocol';
import { MAX_BATCH_BYTES, type MirrorCompression } from './config.js';

/**
 * One batch compression, by config name. The codecs themselves live in `@callscope/mirror-codec`,
 * shared with the sniffer's mirror receiver, so both ends use the same implementation and levels.
 */
export interface BatchCompressor {
  /** Config name (`compression`). */
  readonly name: MirrorCompression;
  /** Wire value written into `PacketBatch.compression`. */
  readonly wire: Compression;
  /**
   * Compresses a serialized PacketList; never called for `none` (its packets travel in
   * `PacketBatch.packets`). Returns a fresh array.
   */
  compress(bytes: Uint8Array): Uint8Array;
  /**
   * The inverse, for tests and tools (bounded by {@link MAX_BATCH_BYTES}; `maxZstdFrameCount` as
   * mirror-codec's `maxZstdFrames` of the version, default 1). @throws Error when it fails.
   */
  decompress(bytes: Uint8Array, maxZstdFrameCount?: number): Uint8Array;
}

function compressor(name: MirrorCompression): BatchCompressor {
  const wire = compressionWire(name);
  if (wire === Compression.COMPRESSION_NONE) {
    return { name, wire, compress: (bytes) => bytes.slice(), decompress: (bytes) => bytes.slice() };
  }
  return {
    name,
    wire,
    compress: (bytes) => compressBatch(wire, bytes),
    decompress: (bytes, maxZstdFrameCount = 1) => {
      const out = createDecompressedBatch();
      const st = decompressBatch(wire, bytes, MAX_BATCH_BYTES, out, maxZstdFrameCount);
      if (st !== DecompressStatus.Ok) throw new Error(`${name}: batch does not decompress (status ${st}: ${out.detail})`);
      return out.bytes!;
    },
  };
}

/** Every compression the sender can use, by config name. */
export const BATCH_COMPRESSORS: Readonly<Record<MirrorCompression, BatchCompressor>> = Object.fromEntries(
  MIRROR_COMPRESSIONS.map((name) => [name, compressor(name)]),
) as Record<MirrorCompression, BatchCompressor>;

/** The compressor of a config name. */
export function batchCompressor(name: MirrorCompression): BatchCompressor {
  return BATCH_COMPRESSORS[name];
}
