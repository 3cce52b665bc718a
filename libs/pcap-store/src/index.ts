/**
 * @callscope/pcap-store: capture files on disk (reading pcap, pcapng and gzip files through `@callscope/pcap-format`, writing pcap files) and the
 * spool (segment writer, retrieval, index rebuild, retention).
 * This file is the package's only public surface.
 */
export { PcapWriter } from './pcap-writer.js';
export type { PcapWriterOptions } from './pcap-writer.js';
export { DEFAULT_CHUNK_SIZE, readCaptureFile, readCaptureStream } from './read-capture.js';
export type { PacketCallback, ReadCaptureOptions } from './read-capture.js';
export { locateCallFiles } from './spool/locate-call.js';
export type { SpoolCallFile, SpoolCallLocation } from './spool/locate-call.js';
export { MergedCaptureFormat } from './spool/merged-capture-output.js';
export { openCallPcap, readCallPcap, writeCallPcap } from './spool/read-call-pcap.js';
export type { CallPcapOpenOptions, CallPcapQuery, CallPcapSink, CallPcapStream, CallPcapSummary } from './spool/read-call-pcap.js';
export { SpoolError, SpoolErrorCode } from './spool/spool-error.js';
export { DEFAULT_SPOOL_WRITER_OPTIONS, resolveSpoolWriterOptions, SpoolMode } from './spool/spool-options.js';
export type { ResolvedSpoolWriterOptions, SpoolWriterOptions } from './spool/spool-options.js';
/** The spool's `logger` option: @callscope/runtime's `LogCallback`, under the name the sniffer imports. */
export {
  CALL_HASH_HEX_LENGTH,
  MAX_FILE_VARIANTS,
  MAX_SANITISED_CALL_ID_LENGTH,
  parseSpoolMinuteDir,
  spoolCallName,
  spoolFileName,
  spoolFilePath,
  SpoolGroup,
  spoolMinuteDir,
} from './spool/spool-path.js';
export { SpoolRetention } from './spool/spool-retention.js';
export { rebuildSpoolIndex } from './spool/rebuild-index.js';
export type { RebuildSpoolIndexOptions, RebuildSpoolIndexReport } from './spool/rebuild-index.js';
export {
  ChunkCompression,
  INDEX_ENTRY_BYTES,
  memberName,
  parseMemberName,
  parseTarHeader,
  readIndexEntry,
  segmentFileNames,
  sensorHashOf,
  sensorTag,
  TAR_BLOCK,
  TarHeaderProblem,
  TarHeaderTemplate,
  writeIndexEntry,
  writeTarHeader,
} from './spool/segment-format.js';
export type { IndexEntry, MemberName, TarMember } from './spool/segment-format.js';
export { listSegments, scanArchive, scanSegment } from './spool/segment-reader.js';
export type { SegmentFile, SegmentScan } from './spool/segment-reader.js';
export type { SpoolRetentionOptions, SpoolRetentionStats } from './spool/spool-retention.js';
export { SpoolDropReason } from './spool/spool-stats.js';
export type { SpoolWriterStats } from './spool/spool-stats.js';
export { SpoolWriter } from './spool/spool-writer.js';
export type { SpoolSink } from './spool/spool-sink.js';
export { DEFAULT_SPOOL_RING_BYTES, ThreadedSpoolWriter } from './spool/threaded-spool-writer.js';
export type { ThreadedSpoolWriterOptions } from './spool/threaded-spool-writer.js';
export { runSpoolWorker } from './spool/spool-worker.js';
export type { SpoolCallRef, SpoolCallState, SpoolPacketKind } from './spool/spool-writer.js';
