import { describe, expect, it } from 'vitest';
import { PACKET_OVERHEAD_BYTES, PacketBatcher, type CapturedPacket } from './batcher.js';

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
    expect(batch?.packets.map((p) => p.tsSec)).toEqual([1_700_000_001, 1_700_000_002, 1_700_000_003]);
    expect(batch?.packets[0]).toMatchObject({ linkType: 1, tsNsec: 123_456_789, origLen: 104 });
    expect(batch?.dataBytes).toBe(300);
    expect(b.pending).toBe(0);
    expect(b.flush()).toBeNull();
  });

  it('copies the bytes: a reused capture buffer does not change a batched packet', () => {
    const b = new PacketBatcher({ maxPackets: 10, maxBytes: 1 << 20 });
    const p = packet(7, 4);
    b.add(p);
    p.data.fill(0xee);
    expect(Array.from(b.flush()!.packets[0]!.data!)).toEqual([7, 7, 7, 7]);
  });

  it('closes the open batch before a packet that would exceed maxBytes; a big packet travels alone', () => {
    const per = 100 + PACKET_OVERHEAD_BYTES;
    const b = new PacketBatcher({ maxPackets: 1000, maxBytes: per * 2 + 10 });
    expect(b.add(packet(1))).toBeNull();
    expect(b.add(packet(2))).toBeNull();
    const first = b.add(packet(3));
    expect(first?.packets).toHaveLength(2);
    const beforeBig = b.add(packet(4, 5000));
    expect(beforeBig?.packets.map((p) => p.tsSec)).toEqual([1_700_000_003]);
    const big = b.add(packet(5));
    expect(big?.packets.map((p) => p.data!.length)).toEqual([5000]);
    expect(b.flush()?.packets.map((p) => p.tsSec)).toEqual([1_700_000_005]);
  });

  it('closes at exactly maxBytes', () => {
    const per = 100 + PACKET_OVERHEAD_BYTES;
    const b = new PacketBatcher({ maxPackets: 1000, maxBytes: per * 2 });
    expect(b.add(packet(1))).toBeNull();
    expect(b.add(packet(2))?.packets).toHaveLength(2);
  });

  it('refuses nonsense limits', () => {
    expect(() => new PacketBatcher({ maxPackets: 0, maxBytes: 100 })).toThrow(RangeError);
    expect(() => new PacketBatcher({ maxPackets: 1, maxBytes: 0.5 })).toThrow(RangeError);
  });
});
