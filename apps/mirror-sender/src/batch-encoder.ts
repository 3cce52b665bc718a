import { Compression, PacketList, encodeFrame, type Packet } from '@callscope/mirror-protocol';
import type { BatchCompressor } from './compression.js';

/** One batch ready for the wire. */
export interface EncodedBatch {
  sequence: number;
  /** The complete frame (`u32 length | Envelope{batch}`), kept for resend until acknowledged. */
  frame: Uint8Array;
  packets: number;
  /** Captured bytes of its packets. */
  dataBytes: number;
}

/**
 * Encodes one batch as a frame: with a compressor, its packets are serialized as a PacketList and
 * compressed into `compressedPackets`; with `none`, they travel in `packets` as they are.
 *
 * One protobuf writer per batch (not per packet), so the app needs no direct protobufjs import.
 * @throws RangeError when the frame exceeds the protocol's bound (the batcher keeps batches below it).
 */
export function encodeBatch(sequence: number, packets: Packet[], dataBytes: number, compressor: BatchCompressor): EncodedBatch {
  let frame: Uint8Array;
  if (compressor.wire === Compression.COMPRESSION_NONE) {
    frame = encodeFrame({ batch: { sequence, compression: Compression.COMPRESSION_NONE, packets } });
  } else {
    const list = PacketList.encode({ packets }).finish();
    const compressedPackets = compressor.compress(list);
    frame = encodeFrame({ batch: { sequence, compression: compressor.wire, compressedPackets } });
  }
  return { sequence, frame, packets: packets.length, dataBytes };
}
