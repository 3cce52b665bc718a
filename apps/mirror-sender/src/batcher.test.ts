import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rawPacketData, type RawBatch } from '@callscope/mirror-protocol';
import { PACKET_OVERHEAD_BYTES, PacketBatcher, RECYCLED_BATCHES_MAX, type CapturedPacket, type PendingBatch } from './batcher.js';

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

  describe('recycle', () => {
    it('refills a released batch in its own buffers; the released object is emptied, never showing the new packets', () => {
      const bb = new PacketBatcher({ maxPackets: 4, maxBytes: 1 << 20 });
      /** Adds packets from..from+3 (1000 bytes each) and returns the batch they close. */
      const fill = (from: number) => {
        let out: PendingBatch | null = null;
        for (let i = from; i < from + 4 && out === null; i++) out = bb.add(packet(i, 1000));
        if (out === null) throw new Error('no batch closed');
        return out;
      };
      const old = fill(1).raw;
      const oldData = old.data;
      const oldEnd = old.end;
      bb.recycle(old);
      expect(old.count).toBe(0);
      expect(old.data.length).toBe(0);
      expect(() => rawPacketData(old, 0)).toThrow(RangeError);
      expect(bb.recycledPending).toBe(1);
      // Batch 2 was opened before the recycle (fresh buffers); batch 3 reuses batch 1's.
      const second = fill(11);
      expect(second.raw.data).not.toBe(oldData);
      expect(bb.reused).toBe(0);
      const third = fill(21);
      expect(third.raw.data).toBe(oldData);
      expect(third.raw.end).toBe(oldEnd);
      expect(bb.reused).toBe(1);
      expect(bb.recycledPending).toBe(0);
      expect(packetsOf(third.raw).map((p) => [p.tsSec - 1_700_000_000, p.data[0], p.data.length])).toEqual([
        [21, 21, 1000],
        [22, 22, 1000],
        [23, 23, 1000],
        [24, 24, 1000],
      ]);
      // Batch 2 (not recycled) is untouched by batch 3's packets.
      expect(packetsOf(second.raw).map((p) => p.data[0])).toEqual([11, 12, 13, 14]);
      // The emptied object recycled again is refused (nothing to reuse), as is the open batch's.
      bb.recycle(old);
      expect(bb.recycledPending).toBe(0);
    });

    it('keeps at most RECYCLED_BATCHES_MAX released batches', () => {
      const b = new PacketBatcher({ maxPackets: 1, maxBytes: 1 << 20 });
      const batches = Array.from({ length: RECYCLED_BATCHES_MAX + 3 }, (_, i) => b.add(packet(i))!);
      for (const batch of batches) b.recycle(batch.raw);
      expect(b.recycledPending).toBe(RECYCLED_BATCHES_MAX);
    });

    it('replaces recycled buffers that are far too small or too large for the next batch (no doubling, no trim copy)', () => {
      const b = new PacketBatcher({ maxPackets: 2, maxBytes: 1 << 20 });
      const small = b.add(packet(1, 10)) ?? b.add(packet(2, 10))!;
      // The open batch was sized from the 20-byte batch; the next one from a batch of 2 x 3000 bytes.
      b.recycle(small.raw);
      const big = b.add(packet(3, 3000)) ?? b.add(packet(4, 3000))!;
      expect(packetsOf(big.raw).map((p) => p.data.length)).toEqual([3000, 3000]);
      const next = b.add(packet(5, 3000)) ?? b.add(packet(6, 3000))!;
      expect(b.reused).toBe(1);
      expect(next.raw.data.length).toBeGreaterThanOrEqual(6000);
      expect(next.raw.data.length).toBeLessThanOrEqual(6000 + 6000 / 4);
      expect(packetsOf(next.raw).map((p) => [p.tsSec - 1_700_000_000, p.data[0]])).toEqual([
        [5, 5],
        [6, 6],
      ]);
    });
  });
});

describe('PacketBatcher.addCaptured (a live capture batch at a time)', () => {
  /** A capture batch as @callscope/live-capture hands it over: 5 u32 per packet, bytes back to back. */
  function captureBatch(sizes: readonly number[], first: number, gapAt: number): { headers: Uint32Array; data: Uint8Array } {
    const headers = new Uint32Array(sizes.length * 5);
    const total = sizes.reduce((a, b) => a + b, 0) + 16;
    const data = new Uint8Array(total);
    let off = 0;
    sizes.forEach((size, i) => {
      // One gap (as a batch consumer must not assume) where asked: the run breaks there.
      if (i === gapAt) off += 16;
      headers.set([1_700_000_000 + first + i, (first + i) * 1000, size, size + 4, off], i * 5);
      for (let k = 0; k < size; k++) data[off + k] = (first + i + k) & 0xff;
      off += size;
    });
    return { headers, data };
  }

  it('closes the same batches with the same packets as add() packet by packet (random sizes, limits, batch splits)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 1500 }), { minLength: 0, maxLength: 30 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 8000 }),
        fc.integer({ min: -1, max: 40 }),
        (captureBatches, maxPackets, maxBytes, gapAt) => {
          const byPacket = new PacketBatcher({ maxPackets, maxBytes });
          const byBatch = new PacketBatcher({ maxPackets, maxBytes });
          const expected: string[][] = [];
          const got: string[][] = [];
          const show = (raw: RawBatch): string[] => packetsOf(raw).map((p) => `${p.linkType} ${p.tsSec}.${p.tsNsec} ${p.origLen} ${Buffer.from(p.data).toString('base64')}`);
          let first = 0;
          for (const sizes of captureBatches) {
            const { headers, data } = captureBatch(sizes, first, gapAt);
            for (let i = 0; i < sizes.length; i++) {
              const h = headers.subarray(i * 5, i * 5 + 5);
              const closed = byPacket.add({ linkType: 1, tsSec: h[0]!, tsNsec: h[1]!, origLen: h[3]!, data: data.subarray(h[4], h[4]! + h[2]!) });
              if (closed !== null) expected.push(show(closed.raw));
            }
            const closed: PendingBatch[] = [];
            byBatch.addCaptured(1, headers, 5, data, sizes.length, closed);
            // The capture reuses its buffers after the call: what was batched must not change.
            data.fill(0xee);
            for (const c of closed) got.push(show(c.raw));
            expect(byBatch.pending).toBe(byPacket.pending);
            first += sizes.length;
          }
          const restA = byPacket.flush();
          const restB = byBatch.flush();
          if (restA !== null) expected.push(show(restA.raw));
          if (restB !== null) got.push(show(restB.raw));
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
