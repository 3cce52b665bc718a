/**
 * @callscope/mirror-codec — compression of mirror-stream batches (zstd, lz4, deflate, brotli), one
 * implementation for the mirror-sender and the sniffer's mirror receiver, with a hard bound on
 * the decompressed size. See README.md.
 */
export {
  BROTLI_QUALITY,
  DEFLATE_LEVEL,
  DecompressStatus,
  LZ4_SIZE_PREFIX_LENGTH,
  MAX_ZSTD_FRAMES_V3,
  MIRROR_COMPRESSIONS,
  ZSTD_LEVEL,
  ZSTD_PAYLOAD_LEVEL,
  compressBatch,
  compressionName,
  compressionWire,
  createDecompressedBatch,
  compressZstdSplit,
  decompressBatch,
  maxZstdFrames,
} from './batch-codec.js';
export type { DecompressedBatch, MirrorCompression } from './batch-codec.js';
// The frame inspection lives in @callscope/pcap-format (pure, shared with the spool's zstd members).
export { ZSTD_MAGIC, ZstdFrameStatus, inspectZstdFrame, inspectZstdFrames } from '@callscope/pcap-format';
export type { ZstdFrameInfo } from '@callscope/pcap-format';
