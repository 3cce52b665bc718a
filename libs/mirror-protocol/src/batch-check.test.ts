import { describe, expect, it } from 'vitest';
import { BatchStatus, PacketStatus, checkBatch, checkPacket } from './batch-check.js';
import { FrameStatus, FrameDecoder, createDecodedFrame } from './frame-decoder.js';
import { Compression, type Packet, type PacketBatch } from './messages.js';

/** Decodes PacketBatch bytes the way the receiver does: inside an Envelope frame (field 5). */
function fromWire(batch: number[]): PacketBatch {
  const decoder = new FrameDecoder();
  decoder.push(Uint8Array.from([0, 0, 0, batch.length + 2, 0x2a, batch.length, ...batch]));
  const out = createDecodedFrame();
  expect(decoder.next(out)).toBe(FrameStatus.Frame);
  return out.envelope!.batch!;
}

const PKT: Packet = { linkType: 1, tsSec: 1, tsNsec: 2, origLen: 60, data: new Uint8Array(60) };

describe('checkBatch', () => {
  const rows: [string, PacketBatch, number][] = [
    ['raw packets', { sequence: 1, packets: [PKT] }, BatchStatus.Ok],
    ['empty raw flush', { sequence: 1 }, BatchStatus.Ok],
    ['deflate payload', { sequence: 2, compression: Compression.COMPRESSION_DEFLATE, compressedPackets: Uint8Array.of(1) }, BatchStatus.Ok],
    ['brotli payload', { sequence: 2, compression: Compression.COMPRESSION_BROTLI, compressedPackets: Uint8Array.of(1) }, BatchStatus.Ok],
    ['zstd payload', { sequence: 2, compression: Compression.COMPRESSION_ZSTD, compressedPackets: Uint8Array.of(1) }, BatchStatus.Ok],
    ['lz4 payload', { sequence: 2, compression: Compression.COMPRESSION_LZ4, compressedPackets: Uint8Array.of(1) }, BatchStatus.Ok],
    ['sequence 0', { sequence: 0, packets: [PKT] }, BatchStatus.BadSequence],
    ['sequence 2^53', { sequence: 2 ** 53, packets: [PKT] }, BatchStatus.BadSequence],
    // As it arrives from a newer peer: sequence 1, compression 5 (unknown), compressed_packets [1].
    ['unknown compression 5 (from the wire)', fromWire([0x08, 0x01, 0x10, 0x05, 0x22, 0x01, 0x01]), BatchStatus.UnknownCompression],
    ['none with compressed bytes', { sequence: 1, compressedPackets: Uint8Array.of(1) }, BatchStatus.MixedPayload],
    ['deflate with raw packets', { sequence: 1, compression: Compression.COMPRESSION_DEFLATE, packets: [PKT], compressedPackets: Uint8Array.of(1) }, BatchStatus.MixedPayload],
    ['deflate with nothing', { sequence: 1, compression: Compression.COMPRESSION_DEFLATE }, BatchStatus.EmptyCompressed],
  ];
  it.each(rows)('%s', (_name, batch, status) => {
    expect(checkBatch(batch)).toBe(status);
  });
  it('version 1 refuses a flow block', () => {
    expect(checkBatch({ sequence: 1, compression: Compression.COMPRESSION_ZSTD, block: Uint8Array.of(1) })).toBe(BatchStatus.WrongVersion);
  });
});

describe('checkBatch, version 2', () => {
  const rows: [string, PacketBatch, number][] = [
    ['zstd block', { sequence: 3, compression: Compression.COMPRESSION_ZSTD, block: Uint8Array.of(1) }, BatchStatus.Ok],
    ['uncompressed block', { sequence: 3, block: Uint8Array.of(1) }, BatchStatus.Ok],
    ['no block', { sequence: 3, compression: Compression.COMPRESSION_LZ4 }, BatchStatus.EmptyCompressed],
    ['a version 1 PacketList', { sequence: 3, compression: Compression.COMPRESSION_ZSTD, compressedPackets: Uint8Array.of(1) }, BatchStatus.WrongVersion],
    ['version 1 packets', { sequence: 3, packets: [PKT], block: Uint8Array.of(1) }, BatchStatus.WrongVersion],
    // sequence 3, compression 9 (unknown), block [1]
    ['unknown compression (from the wire)', fromWire([0x08, 0x03, 0x10, 0x09, 0x2a, 0x01, 0x01]), BatchStatus.UnknownCompression],
    ['sequence 0', { sequence: 0, block: Uint8Array.of(1) }, BatchStatus.BadSequence],
  ];
  it.each(rows)('%s', (_name, batch, status) => {
    expect(checkBatch(batch, 2)).toBe(status);
  });
});

describe('checkPacket', () => {
  const rows: [string, Packet, number][] = [
    ['full capture', PKT, PacketStatus.Ok],
    ['snapped capture', { ...PKT, data: new Uint8Array(10) }, PacketStatus.Ok],
    ['origLen 0 means as captured', { ...PKT, origLen: 0 }, PacketStatus.Ok],
    ['no data', { ...PKT, data: new Uint8Array(0) }, PacketStatus.Empty],
    ['data longer than origLen', { ...PKT, origLen: 59 }, PacketStatus.LongerThanOriginal],
    ['nsec 1e9', { ...PKT, tsNsec: 1e9 }, PacketStatus.BadTimestamp],
  ];
  it.each(rows)('%s', (_name, packet, status) => {
    expect(checkPacket(packet)).toBe(status);
  });
});
