import {
  Compression,
  FlowBlockEncoder,
  PacketList,
  encodeFrame,
  rawPacketData,
  type FlowBlockEncoderStats,
  type Packet,
  type RawBatch,
} from '@callscope/mirror-protocol';
import type { BatchCompressor } from './compression.js';

/**
 * Encodes the window's raw batches as frames for ONE connection, when the connection writes them:
 * version 1 as a PacketList (compressed unless `none`), version 2 as a flow block against this
 * connection's flow context (compressed per `compression`, `none` included). {@link begin} at each
 * successful handshake resets the context, so a batch resent on a new connection is re-encoded
 * against the context the receiver starts with; the receiver decodes the frames of a connection
 * in the order they are written (TCP), so both contexts stay in step by construction.
 */
export class BatchFrameEncoder {
  private version = 1;
  private flow: FlowBlockEncoder | null = null;

  constructor(private readonly compressor: BatchCompressor) {}

  /** The negotiated version of the connection being written. */
  get protocolVersion(): number {
    return this.version;
  }

  /** Flow-block counters (cumulative), or null before the first version 2 connection. */
  get flowStats(): FlowBlockEncoderStats | null {
    return this.flow?.stats ?? null;
  }

  /** A connection's handshake succeeded with `version`: start from an empty flow context. */
  begin(version: number): void {
    this.version = version;
    if (version >= 2) {
      this.flow ??= new FlowBlockEncoder();
      this.flow.reset();
    }
  }

  /**
   * The complete frame (`u32 length | Envelope{batch}`) of `raw` under `sequence`; fresh (the
   * socket keeps it until flushed). Advances the flow context: write every frame it returns, in order.
   * @throws RangeError when the frame exceeds the protocol's bound (the batcher keeps batches below it).
   */
  encode(sequence: number, raw: RawBatch): Uint8Array {
    const { compressor } = this;
    if (this.version >= 2) {
      const block = this.flow!.encode(raw);
      // The block aliases the encoder's buffer; encodeFrame copies it into the frame.
      const bytes = compressor.wire === Compression.COMPRESSION_NONE ? block : compressor.compress(block);
      return encodeFrame({ batch: { sequence, compression: compressor.wire, block: bytes } });
    }
    const packets = packetsOf(raw);
    if (compressor.wire === Compression.COMPRESSION_NONE) {
      return encodeFrame({ batch: { sequence, compression: Compression.COMPRESSION_NONE, packets } });
    }
    const list = PacketList.encode({ packets }).finish();
    return encodeFrame({ batch: { sequence, compression: compressor.wire, compressedPackets: compressor.compress(list) } });
  }
}

/** Version 1's per-packet messages over a raw batch (views of its buffer, no copy). */
function packetsOf(raw: RawBatch): Packet[] {
  const packets: Packet[] = new Array<Packet>(raw.count);
  for (let i = 0; i < raw.count; i++) {
    packets[i] = { linkType: raw.linkType[i]!, tsSec: raw.tsSec[i]!, tsNsec: raw.tsNsec[i]!, origLen: raw.origLen[i]!, data: rawPacketData(raw, i) };
  }
  return packets;
}
