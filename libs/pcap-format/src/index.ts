/**
 * @callscope/pcap-format: pure parsing and writing of capture formats over buffers: classic pcap
 * (µs and ns, both byte orders), pcapng (sections, interfaces, resolutions), the one link-type
 * table, the byte-order readers every parser of the workspace shares (`readU16BE`...), and the
 * Zstandard frame inspection that bounds a zstd spool member or mirror batch before it is unpacked
 * (the spool and the mirror codec share it). No file system: `@callscope/pcap-store` reads files
 * (and gunzips) on top of it.
 * This file is the package's only public surface.
 */
export { readU16, readU16BE, readU16LE, readU32, readU32BE, readU32LE } from './byte-order.js';
export { CaptureError, CaptureErrorCode } from './capture-error.js';
export { CaptureParser, DEFAULT_MAX_BLOCK_LENGTH, MAX_INTERFACES, CaptureParseStatus } from './capture-parser.js';
export type { CaptureParserOptions } from './capture-parser.js';
export { CaptureFormat } from './capture-summary.js';
export type { CaptureCounters, CaptureInterface, CaptureSummary, CaptureTimestamp, GzipSummary } from './capture-summary.js';
export { LinkType } from './link-type.js';
export { createPacketRecord } from './packet-record.js';
export type { PacketRecord } from './packet-record.js';
export {
  MAX_CAPTURE_LENGTH,
  PCAP_GLOBAL_HEADER_LENGTH,
  PCAP_MAGIC_MICROSECONDS,
  PCAP_MAGIC_NANOSECONDS,
  PCAP_RECORD_HEADER_LENGTH,
  PcapResolution,
  serializePcapGlobalHeader,
  serializePcapRecordHeader,
} from './pcap-format.js';
export { ZSTD_MAGIC, ZstdFrameStatus, inspectZstdFrame, inspectZstdFrames } from './zstd-frame.js';
export type { ZstdFrameInfo } from './zstd-frame.js';
