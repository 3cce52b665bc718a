import { Compression, type Packet, type PacketBatch } from './messages.js';

/** Outcome of {@link checkBatch}, by rejection reason. */
export const BATCH_STATUS = {
  Ok: 0,
  /** `sequence` is 0 (sequences start at 1) or not a safe integer. */
  BadSequence: 1,
  /** A `compression` value this version does not know. */
  UnknownCompression: 2,
  /** `COMPRESSION_NONE` with `compressedPackets` set, or compressed with `packets` set. */
  MixedPayload: 3,
  /** Compressed, but `compressedPackets` is empty. */
  EmptyCompressed: 4,
} as const;
/** A value of {@link BATCH_STATUS}. */
export type BatchStatus = (typeof BATCH_STATUS)[keyof typeof BATCH_STATUS];

/**
 * Checks the shape of a received PacketBatch before it is decompressed or its packets are used:
 * uncompressed batches carry `packets`, compressed ones carry only `compressedPackets`
 * (a serialized PacketList). An uncompressed batch with no packets is valid (an empty flush).
 */
export function checkBatch(batch: PacketBatch): BatchStatus {
  const sequence = batch.sequence ?? 0;
  if (sequence < 1 || !Number.isSafeInteger(sequence)) return BATCH_STATUS.BadSequence;
  const compression = batch.compression ?? Compression.COMPRESSION_NONE;
  const packets = batch.packets?.length ?? 0;
  const compressed = batch.compressedPackets?.length ?? 0;
  switch (compression) {
    case Compression.COMPRESSION_NONE:
      return compressed === 0 ? BATCH_STATUS.Ok : BATCH_STATUS.MixedPayload;
    case Compression.COMPRESSION_DEFLATE:
    case Compression.COMPRESSION_BROTLI:
      if (packets !== 0) return BATCH_STATUS.MixedPayload;
      return compressed === 0 ? BATCH_STATUS.EmptyCompressed : BATCH_STATUS.Ok;
    default:
      return BATCH_STATUS.UnknownCompression;
  }
}

/** Outcome of {@link checkPacket}, by rejection reason. */
export const PACKET_STATUS = {
  Ok: 0,
  /** `data` is empty. */
  Empty: 1,
  /** `data` is longer than `origLen` (a capture is never longer than the wire packet). */
  LongerThanOriginal: 2,
  /** `tsNsec` is 1e9 or more. */
  BadTimestamp: 3,
} as const;
/** A value of {@link PACKET_STATUS}. */
export type PacketStatus = (typeof PACKET_STATUS)[keyof typeof PACKET_STATUS];

/**
 * Checks one received packet before it enters the decode pipeline (as pcap would: caplen <=
 * origlen, nanoseconds below one second). An `origLen` of 0 means "same as captured".
 */
export function checkPacket(packet: Packet): PacketStatus {
  const length = packet.data?.length ?? 0;
  if (length === 0) return PACKET_STATUS.Empty;
  const origLen = packet.origLen ?? 0;
  if (origLen !== 0 && length > origLen) return PACKET_STATUS.LongerThanOriginal;
  if ((packet.tsNsec ?? 0) >= 1e9) return PACKET_STATUS.BadTimestamp;
  return PACKET_STATUS.Ok;
}
