import { describe, expect, it } from 'vitest';
import { BatchStatus, Compression, FrameDecoder, FrameStatus, PacketListDecoder, PacketListStatus, checkBatch, createDecodedFrame, type DecodedPacketList } from '@callscope/mirror-protocol';
import { PacketBatcher } from './batcher.js';
import { encodeBatch } from './batch-encoder.js';
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

describe.each(MIRROR_COMPRESSIONS)('batch compression %s', (name) => {
  it('round-trips through the protocol decoders: every packet, timestamp (ns), link type and length', () => {
    const data = rtpLikePackets();
    const batcher = new PacketBatcher({ maxPackets: 1000, maxBytes: 1 << 20 });
    data.forEach((d, i) => batcher.add({ linkType: i % 2 === 0 ? 1 : 113, tsSec: 1_764_000_000 + i, tsNsec: 999_999_999 - i, origLen: d.length + (i % 3), data: d }));
    const batch = batcher.flush()!;
    const compressor = BATCH_COMPRESSORS[name];
    const encoded = encodeBatch(42, batch.packets, batch.dataBytes, compressor);

    const decoder = new FrameDecoder();
    decoder.push(encoded.frame);
    const out = createDecodedFrame();
    expect(decoder.next(out)).toBe(FrameStatus.Frame);
    const wire = out.envelope!.batch!;
    expect(checkBatch(wire)).toBe(BatchStatus.Ok);
    expect(wire.sequence).toBe(42);
    expect(wire.compression).toBe(compressor.wire);
    let packets = wire.packets ?? [];
    if (wire.compression !== Compression.COMPRESSION_NONE) {
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
      expect(encoded.frame.length).toBeLessThan(batch.dataBytes);
    }
  });
});
