import { describe, expect, it } from 'vitest';
import { rawPacketData, type RawBatch } from '@callscope/mirror-protocol';
import { PACKET_OVERHEAD_BYTES, PacketBatcher, type CapturedPacket } from './batcher.js';

/** The packets of a batch as plain objects. */
function packetsOf(raw: RawBatch | undefined): CapturedPacket[] {
  if (raw === undefined) return [];
  return Array.from({ length: raw.count }, (_, i) => ({ linkType: raw.linkType[i]!, tsSec: raw.tsSec[i]!, tsNsec: raw.tsNsec[i]!, origLen: raw.origLen[i]!, data: rawPacketData(raw, i) }));
}

const packet = (n: number, size = 100): CapturedPacket => ({
  linkType: 1,
  tsSec: 1_700_000_000 + n,
  tsNsec: 123_456_789,
  origLen: size + 4,
  data: new Uint8Array(size).fill(n & 0xff),
});

describe('PacketBatcher', () => {
  it('closes a batch at maxPackets, keeping order, timestamps, link type and original length', () => {
    const b = new PacketBatcher({ maxPackets: 3, maxBytes: 1 << 20 });
    expect(b.add(packet(1))).toBeNull();
    expect(b.add(packet(2))).toBeNull();
    const batch = b.add(packet(3));
    expect(packetsOf(batch?.raw).map((p) => p.tsSec)).toEqual([1_700_000_001, 1_700_000_002, 1_700_000_003]);
    expect(packetsOf(batch?.raw)[0]).toMatchObject({ linkType: 1, tsNsec: 123_456_789, origLen: 104 });
    expect(batch?.dataBytes).toBe(300);
    expect(b.pending).toBe(0);
    expect(b.flush()).toBeNull();
  });

  it('copies the bytes: a reused capture buffer does not change a batched packet', () => {
    const b = new PacketBatcher({ maxPackets: 10, maxBytes: 1 << 20 });
    const p = packet(7, 4);
    b.add(p);
    p.data.fill(0xee);
    expect(Array.from(packetsOf(b.flush()!.raw)[0]!.data)).toEqual([7, 7, 7, 7]);
  });

  it('closes the open batch before a packet that would exceed maxBytes; a big packet travels alone', () => {
    const per = 100 + PACKET_OVERHEAD_BYTES;
    const b = new PacketBatcher({ maxPackets: 1000, maxBytes: per * 2 + 10 });
    expect(b.add(packet(1))).toBeNull();
    expect(b.add(packet(2))).toBeNull();
    const first = b.add(packet(3));
    expect(first?.raw.count).toBe(2);
    const beforeBig = b.add(packet(4, 5000));
    expect(packetsOf(beforeBig?.raw).map((p) => p.tsSec)).toEqual([1_700_000_003]);
    const big = b.add(packet(5));
    expect(packetsOf(big?.raw).map((p) => p.data.length)).toEqual([5000]);
    expect(packetsOf(b.flush()?.raw).map((p) => p.tsSec)).toEqual([1_700_000_005]);
  });

  it('closes at exactly maxBytes', () => {
    const per = 100 + PACKET_OVERHEAD_BYTES;
    const b = new PacketBatcher({ maxPackets: 1000, maxBytes: per * 2 });
    expect(b.add(packet(1))).toBeNull();
    expect(b.add(packet(2))?.raw.count).toBe(2);
  });

  it('keeps many batches apart: each has its own buffer, grown when a batch outgrows the last one', () => {
    const b = new PacketBatcher({ maxPackets: 4, maxBytes: 1 << 20 });
    const batches = [];
    for (let n = 0; n < 40; n++) {
      const closed = b.add(packet(n, 10 + n * 100));
      if (closed !== null) batches.push(closed);
    }
    expect(batches).toHaveLength(10);
    batches.forEach((batch, k) => {
      expect(packetsOf(batch.raw).map((p) => [p.tsSec - 1_700_000_000, p.data.length, p.data[0]])).toEqual(
        [0, 1, 2, 3].map((j) => [4 * k + j, 10 + (4 * k + j) * 100, (4 * k + j) & 0xff]),
      );
    });
  });

  it('refuses a packet a capture never produces (seconds not an integer)', () => {
    expect(() => new PacketBatcher({ maxPackets: 4, maxBytes: 1 << 20 }).add({ ...packet(1), tsSec: 1.5 })).toThrow(RangeError);
  });

  it('refuses nonsense limits', () => {
    expect(() => new PacketBatcher({ maxPackets: 0, maxBytes: 100 })).toThrow(RangeError);
    expect(() => new PacketBatcher({ maxPackets: 1, maxBytes: 0.5 })).toThrow(RangeError);
  });
});
