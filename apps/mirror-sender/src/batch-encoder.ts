import {
  Compression,
  FlowBlockEncoder,
  PacketList,
  encodeBatchFrameHeader,
  encodeFrame,
  rawPacketData,
  type FlowBlockEncoderStats,
  type Packet,
  type RawBatch,
} from '@callscope/mirror-protocol';
import { compressZstdSplit } from '@callscope/mirror-codec';
import type { BatchCompressor } from './compression.js';

/**
 * Encodes the window's raw batches as frames for ONE connection, when the connection writes them:
 * version 1 as a PacketList (compressed unless `none`), version 2 as a flow block against this
 * connection's flow context (compressed per `compression`, `none` included), version 3 the same
 * with a zstd block compressed as two frames (header sections, payload section at a faster level). {@link begin} at each
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
   * The complete frame (`u32 length | Envelope{batch}`) of `raw` under `sequence`, in one fresh
   * array (tests and tools; the connection uses {@link write}). Advances the flow context like it.
   * @throws RangeError when the frame exceeds the protocol's bound (the batcher keeps batches below it).
   */
  encode(sequence: number, raw: RawBatch): Uint8Array {
    const chunks: Uint8Array[] = [];
    const length = this.write(sequence, raw, { write: (chunk) => chunks.push(chunk) > 0 });
    if (chunks.length === 1) return chunks[0]!;
    const frame = new Uint8Array(length);
    let at = 0;
    for (const c of chunks) {
      frame.set(c, at);
      at += c.length;
    }
    return frame;
  }

  /**
   * Writes the frame of `raw` under `sequence` to `sink` and returns its bytes. A compressed body
   * (fresh from the compressor) goes out as it is, after a small header
   * (`encodeBatchFrameHeader`): no frame-sized allocation, no copy of the block; the bytes are
   * those of `encodeFrame` (tested). An uncompressed version 2 block aliases the flow encoder's
   * reused buffer, and a version 1 `none` batch is a PacketList, so those two are framed whole
   * (one copy). Every chunk given to `sink` is fresh (the socket keeps it until flushed); the
   * caller corks the socket around a run of writes so the chunks leave in one writev. Advances
   * the flow context: write every frame, in order.
   * @throws RangeError when the frame exceeds the protocol's bound (the batcher keeps batches below it).
   */
  write(sequence: number, raw: RawBatch, sink: FrameSink): number {
    const { compressor } = this;
    let body: Uint8Array;
    let field: 4 | 5;
    if (this.version >= 2) {
      const block = this.flow!.encode(raw);
      if (compressor.wire === Compression.COMPRESSION_NONE) {
        // The block aliases the encoder's buffer: encodeFrame copies it into the frame.
        return writeWhole(sink, encodeFrame({ batch: { sequence, compression: Compression.COMPRESSION_NONE, block } }));
      }
      if (this.version >= 3 && compressor.wire === Compression.COMPRESSION_ZSTD) {
        // Version 3: header sections and payload section as two zstd frames, the payload at a
        // faster level (mirror-codec `compressZstdSplit`); the receiver checks both frames' sizes.
        const parts = compressZstdSplit(block, this.flow!.payloadOffset);
        let length = 0;
        for (const p of parts) length += p.length;
        const header = encodeBatchFrameHeader(sequence, compressor.wire, 5, length);
        sink.write(header);
        for (const p of parts) sink.write(p);
        return header.length + length;
      }
      body = compressor.compress(block);
      field = 5;
    } else {
      const packets = packetsOf(raw);
      if (compressor.wire === Compression.COMPRESSION_NONE) {
        return writeWhole(sink, encodeFrame({ batch: { sequence, compression: Compression.COMPRESSION_NONE, packets } }));
      }
      body = compressor.compress(PacketList.encode({ packets }).finish());
      field = 4;
    }
    const header = encodeBatchFrameHeader(sequence, compressor.wire, field, body.length);
    sink.write(header);
    if (body.length > 0) sink.write(body);
    return header.length + body.length;
  }
}

/** Where {@link BatchFrameEncoder.write} puts a frame's chunks (a `net.Socket` fits). */
export interface FrameSink {
  write(chunk: Uint8Array): boolean;
}

function writeWhole(sink: FrameSink, frame: Uint8Array): number {
  sink.write(frame);
  return frame.length;
}

/** Version 1's per-packet messages over a raw batch (views of its buffer, no copy). */
function packetsOf(raw: RawBatch): Packet[] {
  const packets: Packet[] = new Array<Packet>(raw.count);
  for (let i = 0; i < raw.count; i++) {
    packets[i] = { linkType: raw.linkType[i]!, tsSec: raw.tsSec[i]!, tsNsec: raw.tsNsec[i]!, origLen: raw.origLen[i]!, data: rawPacketData(raw, i) };
  }
  return packets;
}
