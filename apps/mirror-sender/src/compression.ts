import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants, deflateSync, inflateSync } from 'node:zlib';
import { Compression } from '@callscope/mirror-protocol';
import type { MirrorCompression } from './config.js';

/**
 * One batch compression. Pluggable on purpose: zstd and lz4 (native packages) are being measured
 * against deflate; a new codec is one more entry in {@link BATCH_COMPRESSORS} plus its wire value in
 * `mirror.proto`.
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
  /** The inverse, for tests and tools. */
  decompress(bytes: Uint8Array): Uint8Array;
}

/**
 * zlib level 1: on RTP traffic the headers compress nearly as well as at level 6 (payloads hardly
 * compress at any level) at a fraction of the CPU, and the sender must keep up with the PBX.
 */
export const DEFLATE_LEVEL = 1;
/** Brotli quality 4: streaming-speed Brotli; 11 (the default) costs seconds per MiB. */
export const BROTLI_QUALITY = 4;

const identity: BatchCompressor = {
  name: 'none',
  wire: Compression.COMPRESSION_NONE,
  compress: (bytes) => bytes.slice(),
  decompress: (bytes) => bytes.slice(),
};

const deflate: BatchCompressor = {
  name: 'deflate',
  wire: Compression.COMPRESSION_DEFLATE,
  compress: (bytes) => deflateSync(bytes, { level: DEFLATE_LEVEL }),
  decompress: (bytes) => inflateSync(bytes),
};

const brotli: BatchCompressor = {
  name: 'brotli',
  wire: Compression.COMPRESSION_BROTLI,
  compress: (bytes) =>
    brotliCompressSync(bytes, {
      params: {
        [zlibConstants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }),
  decompress: (bytes) => brotliDecompressSync(bytes),
};

/** Every compression the sender can use, by config name. */
export const BATCH_COMPRESSORS: Readonly<Record<MirrorCompression, BatchCompressor>> = { none: identity, deflate, brotli };

/** The compressor of a config name. */
export function batchCompressor(name: MirrorCompression): BatchCompressor {
  return BATCH_COMPRESSORS[name];
}
