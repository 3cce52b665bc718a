import { describe, expect, it } from 'vitest';
import {
  BatchStatus,
  Compression,
  FlowBlockDecoder,
  FlowBlockStatus,
  FrameDecoder,
  FrameStatus,
  PacketListDecoder,
  PacketListStatus,
  checkBatch,
  createDecodedFrame,
  createRawBatch,
  rawPacketData,
  type DecodedPacketList,
  type Packet,
} from '@callscope/mirror-protocol';
import { DecompressStatus, ZstdFrameStatus, createDecompressedBatch, decompressBatch, inspectZstdFrames, maxZstdFrames } from '@callscope/mirror-codec';
import { PacketBatcher } from './batcher.js';
import { BatchFrameEncoder } from './batch-encoder.js';
import { BATCH_COMPRESSORS } from './compression.js';
import { MIRROR_COMPRESSIONS } from './config.js';

/** 200 RTP-like frames: same headers, counters moving, random payloads. */
function rtpLikePackets(): Uint8Array[] {
  const out: Uint8Array[] = [];
  let seed = 1;
  for (let i = 0; i < 200; i++) {
    const p = new Uint8Array(214);
    p.fill(0x45, 0, 42);
    p[42] = 0x80;
    p[43] = 8;
    p[44] = i >> 8;
    p[45] = i & 0xff;
    for (let j = 54; j < p.length; j++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      p[j] = seed >>> 24;
    }
    out.push(p);
  }
  return out;
}

describe.each(MIRROR_COMPRESSIONS.flatMap((name) => [1, 2, 3].map((version) => [name, version] as const)))('batch compression %s, protocol version %d', (name, version) => {
  it('round-trips through the protocol decoders: every packet, timestamp (ns), link type and length', () => {
    const data = rtpLikePackets();
    const batcher = new PacketBatcher({ maxPackets: 1000, maxBytes: 1 << 20 });
    data.forEach((d, i) => batcher.add({ linkType: i % 2 === 0 ? 1 : 113, tsSec: 1_764_000_000 + i, tsNsec: 999_999_999 - i, origLen: d.length + (i % 3), data: d }));
    const batch = batcher.flush()!;
    const compressor = BATCH_COMPRESSORS[name];
    const frames = new BatchFrameEncoder(compressor);
    frames.begin(version);
    const frame = frames.encode(42, batch.raw);

    const decoder = new FrameDecoder();
    decoder.push(frame);
    const out = createDecodedFrame();
    expect(decoder.next(out)).toBe(FrameStatus.Frame);
    const wire = out.envelope!.batch!;
    expect(checkBatch(wire, version)).toBe(BatchStatus.Ok);
    expect(wire.sequence).toBe(42);
    expect(wire.compression).toBe(compressor.wire);
    let packets: Packet[] = wire.packets ?? [];
    if (version >= 2) {
      const block = compressor.wire === Compression.COMPRESSION_NONE ? wire.block! : compressor.decompress(wire.block!, maxZstdFrames(version));
      const raw = createRawBatch(1, 0);
      expect(new FlowBlockDecoder().decode(block, 1 << 24, raw)).toBe(FlowBlockStatus.Ok);
      packets = Array.from({ length: raw.count }, (_, i) => ({ linkType: raw.linkType[i], tsSec: raw.tsSec[i], tsNsec: raw.tsNsec[i], origLen: raw.origLen[i], data: rawPacketData(raw, i) }));
    } else if (wire.compression !== Compression.COMPRESSION_NONE) {
      const list: DecodedPacketList = { list: null };
      expect(new PacketListDecoder().decode(compressor.decompress(wire.compressedPackets!), list)).toBe(PacketListStatus.Ok);
      packets = list.list!.packets ?? [];
    }
    expect(packets).toHaveLength(200);
    packets.forEach((p, i) => {
      expect(p.linkType).toBe(i % 2 === 0 ? 1 : 113);
      expect(p.tsSec).toBe(1_764_000_000 + i);
      expect(p.tsNsec).toBe(999_999_999 - i);
      expect(p.origLen).toBe(214 + (i % 3));
      expect(Buffer.from(p.data!).equals(Buffer.from(data[i]!))).toBe(true);
    });
    if (name !== 'none') {
      // Headers compress even when payloads do not: the frame must be smaller than the packets.
      expect(frame.length).toBeLessThan(batch.dataBytes);
    }
  });
});

/** Ethernet/IPv4/UDP/RTP packets of one flow (PCMA, 160-byte payloads of pseudo-random bytes), `n` of them. */
function rtpFlowPackets(n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let seed = 3;
  for (let i = 0; i < n; i++) {
    const p = new Uint8Array(214);
    const v = new DataView(p.buffer);
    v.setUint16(12, 0x0800);
    p.set([0x45, 0, 0, 200, i >> 8, i & 0xff, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
    v.setUint16(34, 4000);
    v.setUint16(36, 5000);
    v.setUint16(38, 180);
    p[42] = 0x80;
    p[43] = 8;
    v.setUint16(44, i);
    v.setUint32(46, i * 160);
    v.setUint32(50, 0x1234abcd);
    for (let j = 54; j < p.length; j++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      p[j] = 0xd5 ^ ((seed >>> 24) & 0x0f);
    }
    out.push(p);
  }
  return out;
}

describe('version 3: a zstd flow block travels as two frames', () => {
  function zstdBlock(version: number): { compressed: Uint8Array; blockLength: number } {
    const batcher = new PacketBatcher({ maxPackets: 1000, maxBytes: 1 << 20 });
    const sent = rtpFlowPackets(200);
    sent.forEach((d, i) => batcher.add({ linkType: 1, tsSec: 1_764_000_000, tsNsec: i * 20_000_000, origLen: d.length, data: d }));
    const frames = new BatchFrameEncoder(BATCH_COMPRESSORS.zstd);
    frames.begin(version);
    const decoder = new FrameDecoder();
    decoder.push(frames.encode(7, batcher.flush()!.raw));
    const out = createDecodedFrame();
    expect(decoder.next(out)).toBe(FrameStatus.Frame);
    const compressed = out.envelope!.batch!.block!;
    const whole = createDecompressedBatch();
    expect(decompressBatch(Compression.COMPRESSION_ZSTD, compressed, 1 << 24, whole, 2)).toBe(DecompressStatus.Ok);
    const raw = createRawBatch(1, 0);
    expect(new FlowBlockDecoder().decode(whole.bytes!, 1 << 24, raw)).toBe(FlowBlockStatus.Ok);
    expect(raw.count).toBe(200);
    expect(Buffer.from(raw.data.subarray(0, 200 * 214)).equals(Buffer.concat(sent))).toBe(true);
    return { compressed, blockLength: whole.bytes!.length };
  }

  it('version 3: header sections and payload section in two frames whose declared sizes add up to the block', () => {
    const { compressed, blockLength } = zstdBlock(3);
    expect(blockLength).toBeGreaterThan(200 * 160);
    const info = { contentSize: 0 };
    expect(inspectZstdFrames(compressed, 0, compressed.length, 1, info)).toBe(ZstdFrameStatus.TrailingBytes);
    expect(inspectZstdFrames(compressed, 0, compressed.length, 2, info)).toBe(ZstdFrameStatus.Ok);
    expect(info.contentSize).toBe(blockLength);
    // A version 2 receiver (one frame) refuses it: why the sender splits only when version 3 was negotiated.
    expect(decompressBatch(Compression.COMPRESSION_ZSTD, compressed, 1 << 24, createDecompressedBatch(), maxZstdFrames(2))).toBe(DecompressStatus.Corrupt);
  });

  it('version 2: still one frame (an older sniffer decodes it)', () => {
    const { compressed, blockLength } = zstdBlock(2);
    const info = { contentSize: 0 };
    expect(inspectZstdFrames(compressed, 0, compressed.length, 1, info)).toBe(ZstdFrameStatus.Ok);
    expect(info.contentSize).toBe(blockLength);
  });
});
