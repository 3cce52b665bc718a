import { Compression, type Packet, type PacketBatch } from './messages.js';

/** Outcome of {@link checkBatch}, by rejection reason. */
export const BatchStatus = {
  Ok: 0,
  /** `sequence` is 0 (sequences start at 1) or not a safe integer. */
  BadSequence: 1,
  /** A `compression` value this version does not know. */
  UnknownCompression: 2,
  /** `COMPRESSION_NONE` with `compressedPackets` set, or compressed with `packets` set. */
  MixedPayload: 3,
  /** Compressed, but `compressedPackets` is empty; version 2 with an empty `block`. */
  EmptyCompressed: 4,
  /** Version 2 with `packets` or `compressedPackets` set, or version 1 with `block` set. */
  WrongVersion: 5,
} as const;
/** A value of {@link BatchStatus}. */
export type BatchStatus = (typeof BatchStatus)[keyof typeof BatchStatus];

/**
 * Checks the shape of a received PacketBatch before it is decompressed or its packets are used.
 * Version 1: uncompressed batches carry `packets`, compressed ones carry only `compressedPackets`
 * (a serialized PacketList); an uncompressed batch with no packets is valid (an empty flush).
 * Version 2: only `block` (a flow block, compressed per `compression`), never empty.
 *
 * @param version - the connection's negotiated protocol version (default 1).
 */
export function checkBatch(batch: PacketBatch, version = 1): BatchStatus {
  const sequence = batch.sequence ?? 0;
  if (sequence < 1 || !Number.isSafeInteger(sequence)) return BatchStatus.BadSequence;
  const compression = batch.compression ?? Compression.COMPRESSION_NONE;
  const packets = batch.packets?.length ?? 0;
  const compressed = batch.compressedPackets?.length ?? 0;
  const block = batch.block?.length ?? 0;
  if (version >= 2) {
    if (packets !== 0 || compressed !== 0) return BatchStatus.WrongVersion;
    if (!isKnownCompression(compression)) return BatchStatus.UnknownCompression;
    return block === 0 ? BatchStatus.EmptyCompressed : BatchStatus.Ok;
  }
  if (block !== 0) return BatchStatus.WrongVersion;
  switch (compression) {
    case Compression.COMPRESSION_NONE:
      return compressed === 0 ? BatchStatus.Ok : BatchStatus.MixedPayload;
    case Compression.COMPRESSION_DEFLATE:
    case Compression.COMPRESSION_BROTLI:
    case Compression.COMPRESSION_ZSTD:
    case Compression.COMPRESSION_LZ4:
      if (packets !== 0) return BatchStatus.MixedPayload;
      return compressed === 0 ? BatchStatus.EmptyCompressed : BatchStatus.Ok;
    default:
      return BatchStatus.UnknownCompression;
  }
}

function isKnownCompression(c: Compression): boolean {
  switch (c) {
    case Compression.COMPRESSION_NONE:
    case Compression.COMPRESSION_DEFLATE:
    case Compression.COMPRESSION_BROTLI:
    case Compression.COMPRESSION_ZSTD:
    case Compression.COMPRESSION_LZ4:
      return true;
    default:
      return false;
  }
}

/** Outcome of {@link checkPacket}, by rejection reason. */
export const PacketStatus = {
  Ok: 0,
  /** `data` is empty. */
  Empty: 1,
  /** `data` is longer than `origLen` (a capture is never longer than the wire packet). */
  LongerThanOriginal: 2,
  /** `tsNsec` is 1e9 or more. */
  BadTimestamp: 3,
} as const;
/** A value of {@link PacketStatus}. */
export type PacketStatus = (typeof PacketStatus)[keyof typeof PacketStatus];

/**
 * Checks one received packet before it enters the decode pipeline (as pcap would: caplen <=
 * origlen, nanoseconds below one second). An `origLen` of 0 means "same as captured".
 */
export function checkPacket(packet: Packet): PacketStatus {
  const length = packet.data?.length ?? 0;
  if (length === 0) return PacketStatus.Empty;
  const origLen = packet.origLen ?? 0;
  if (origLen !== 0 && length > origLen) return PacketStatus.LongerThanOriginal;
  if ((packet.tsNsec ?? 0) >= 1e9) return PacketStatus.BadTimestamp;
  return PacketStatus.Ok;
}
