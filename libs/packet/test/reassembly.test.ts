import { describe, expect, it } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { createDecodedPacket, DecodeStatus, PacketDecoder, Transport, TunnelType, type PacketDecoderOptions } from '../src/index.js';
import { concat, ethernet, ipv4, ipv6, ipv6Fragment, udp } from './frame-builder.js';

const A = '192.0.2.10';
const B = '198.51.100.20';
const A6 = '2001:db8:a::10';
const B6 = '2001:db8:b::20';

function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

/** IPv4 fragment of `data` (an already built UDP datagram) covering [from, to). */
function frag4(data: Uint8Array, from: number, to: number, more: boolean, id = 1, src = A): Uint8Array {
  return ethernet(0x0800, ipv4(17, src, B, data.subarray(from, to), { id, fragOffset: from, more }));
}

function run(decoder: PacketDecoder, frames: Uint8Array[], t = 100): number[] {
  const out = createDecodedPacket();
  return frames.map((f) => decoder.decode(f, 0, f.length, 1, t, 0, out));
}

describe('IP reassembly', () => {
  const datagram = udp(5060, 5060, pattern(64));

  it('keeps the first copy of overlapping bytes and counts the overlap', () => {
    const d = new PacketDecoder();
    const out = createDecodedPacket();
    const altered = datagram.slice();
    altered.fill(0xee, 16, 24); // only the overlapped bytes differ
    const frames = [frag4(datagram, 0, 24, true), frag4(altered, 16, 40, true), frag4(datagram, 40, 72, false)];
    const st = frames.map((f) => d.decode(f, 0, f.length, 1, 5, 0, out));
    expect(st).toEqual([DecodeStatus.Fragment, DecodeStatus.Fragment, DecodeStatus.Ok]);
    expect(Array.from(out.payload.subarray(out.payloadOffset, out.payloadOffset + 64))).toEqual(Array.from(pattern(64)));
    expect(d.reassemblyCounters.overlaps).toBe(1);
    expect(d.reassemblyCounters.reassembled).toBe(1);
  });

  it('ignores duplicate fragments and counts them', () => {
    const d = new PacketDecoder();
    const st = run(d, [frag4(datagram, 0, 32, true), frag4(datagram, 0, 32, true), frag4(datagram, 32, 72, false)]);
    expect(st).toEqual([DecodeStatus.Fragment, DecodeStatus.Fragment, DecodeStatus.Ok]);
    expect(d.reassemblyCounters.duplicates).toBe(1);
  });

  it('drops an incomplete datagram after the timeout in packet time', () => {
    const d = new PacketDecoder({ reassemblyTimeoutSec: 30 });
    const out = createDecodedPacket();
    const a = frag4(datagram, 0, 32, true);
    const b = frag4(datagram, 32, 72, false);
    expect(d.decode(a, 0, a.length, 1, 1000, 0, out)).toBe(DecodeStatus.Fragment);
    expect(d.decode(b, 0, b.length, 1, 1031, 0, out)).toBe(DecodeStatus.Fragment);
    expect(d.reassemblyCounters.timedOut).toBe(1);
    d.expireFragments(1062);
    expect(d.reassemblyCounters.timedOut).toBe(2);
    expect(d.reassemblyUsage().datagrams).toBe(0);
  });

  it('completes within the timeout even across a wall-clock pause (time is packet time)', () => {
    const d = new PacketDecoder({ reassemblyTimeoutSec: 30 });
    const out = createDecodedPacket();
    const a = frag4(datagram, 0, 32, true);
    const b = frag4(datagram, 32, 72, false);
    expect(d.decode(a, 0, a.length, 1, 1000, 0, out)).toBe(DecodeStatus.Fragment);
    expect(d.decode(b, 0, b.length, 1, 1029, 999_999_999, out)).toBe(DecodeStatus.Ok);
  });

  it('a fragment flood evicts the oldest datagrams at the cap and memory stays bounded', () => {
    const opts: PacketDecoderOptions = { maxReassemblyDatagrams: 8, maxReassemblyBytes: 64 * 1024 };
    const d = new PacketDecoder(opts);
    const out = createDecodedPacket();
    for (let id = 0; id < 1000; id++) {
      const f = frag4(datagram, 0, 32, true, id);
      expect(d.decode(f, 0, f.length, 1, 100 + id * 0.001, 0, out)).toBe(DecodeStatus.Fragment);
    }
    expect(d.reassemblyUsage().datagrams).toBe(8);
    expect(d.reassemblyCounters.evicted).toBe(992);
    expect(d.reassemblyUsage().bytes).toBeLessThanOrEqual(64 * 1024);
    // The newest datagrams survived and complete; an evicted one does not.
    const last = frag4(datagram, 32, 72, false, 999);
    expect(d.decode(last, 0, last.length, 1, 101, 0, out)).toBe(DecodeStatus.Ok);
    const old = frag4(datagram, 32, 72, false, 0);
    expect(d.decode(old, 0, old.length, 1, 101, 0, out)).toBe(DecodeStatus.Fragment);
  });

  it('the byte cap evicts older datagrams when big ones arrive', () => {
    const d = new PacketDecoder({ maxReassemblyBytes: 100_000 });
    const out = createDecodedPacket();
    const big = udp(1, 2, pattern(60_000));
    for (let id = 0; id < 5; id++) {
      const f = frag4(big, 59_000, 60_008, false, id);
      expect(d.decode(f, 0, f.length, 1, 100 + id, 0, out)).toBe(DecodeStatus.Fragment);
      expect(d.reassemblyUsage().bytes).toBeLessThanOrEqual(100_000);
    }
    expect(d.reassemblyCounters.evicted).toBe(4);
  });

  it('too many fragments for one datagram discard it', () => {
    const d = new PacketDecoder({ maxFragmentsPerDatagram: 4 });
    const st = run(d, [0, 8, 16, 24, 32].map((o) => frag4(datagram, o, o + 8, true)));
    expect(st).toEqual([DecodeStatus.Fragment, DecodeStatus.Fragment, DecodeStatus.Fragment, DecodeStatus.Fragment, DecodeStatus.FragmentTooBig]);
    expect(d.reassemblyCounters.tooBig).toBe(1);
    expect(d.reassemblyUsage().datagrams).toBe(0);
  });

  it('a datagram growing past maxDatagramBytes is discarded', () => {
    const d = new PacketDecoder({ maxDatagramBytes: 1000 });
    const big = udp(1, 2, pattern(1200));
    expect(run(d, [frag4(big, 0, 800, true), frag4(big, 800, 1208, false)])).toEqual([DecodeStatus.Fragment, DecodeStatus.FragmentTooBig]);
    expect(d.reassemblyUsage().datagrams).toBe(0);
  });

  it('a second last fragment with another end is rejected', () => {
    const d = new PacketDecoder();
    expect(run(d, [frag4(datagram, 40, 72, false), frag4(datagram, 40, 64, false), frag4(datagram, 0, 40, true)])).toEqual([
      DecodeStatus.Fragment,
      DecodeStatus.BadFragment,
      DecodeStatus.Ok,
    ]);
  });

  it('datagrams with the same id from different sources stay apart', () => {
    const d = new PacketDecoder();
    const st = run(d, [frag4(datagram, 0, 32, true, 9, A), frag4(datagram, 32, 72, false, 9, '192.0.2.99'), frag4(datagram, 32, 72, false, 9, A)]);
    expect(st).toEqual([DecodeStatus.Fragment, DecodeStatus.Fragment, DecodeStatus.Ok]);
  });

  it('reassembles an inner fragmented datagram carried in a reassembled outer one (IP-in-IP)', () => {
    const inner = udp(5060, 5062, pattern(3000, 3));
    const innerF1 = ipv4(17, A, B, inner.subarray(0, 1480), { id: 77, more: true });
    const innerF2 = ipv4(17, A, B, inner.subarray(1480), { id: 77, fragOffset: 1480 });
    const outerA = ipv4(4, '203.0.113.1', '203.0.113.2', innerF1, { id: 5 }).subarray(20);
    const a1 = ethernet(0x0800, ipv4(4, '203.0.113.1', '203.0.113.2', outerA.subarray(0, 800), { id: 5, more: true }));
    const a2 = ethernet(0x0800, ipv4(4, '203.0.113.1', '203.0.113.2', outerA.subarray(800), { id: 5, fragOffset: 800 }));
    const b = ethernet(0x0800, ipv4(4, '203.0.113.1', '203.0.113.2', innerF2, { id: 6 }));
    for (const order of [[a1, a2, b], [b, a1, a2], [b, a2, a1]]) {
      const d = new PacketDecoder();
      const out = createDecodedPacket();
      const st = order.map((f) => d.decode(f, 0, f.length, 1, 1, 0, out));
      expect(st).toEqual([DecodeStatus.Fragment, DecodeStatus.Fragment, DecodeStatus.Ok]);
      expect([out.transport, out.srcPort, out.dstPort, out.payloadLength, out.tunnelTypes[0]]).toEqual([Transport.Udp, 5060, 5062, 3000, TunnelType.IpInIp]);
      expect(Array.from(out.payload.subarray(out.payloadOffset, out.payloadOffset + 3000))).toEqual(Array.from(pattern(3000, 3)));
      expect(d.reassemblyCounters.reassembled).toBe(2);
    }
  });

  fcTest.prop([
    fc.integer({ min: 1, max: 3000 }),
    fc.integer({ min: 1, max: 40 }),
    fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
    fc.boolean(),
  ])('any fragmentation, order and duplication of a datagram rebuilds the same bytes', (size, count, shuffle, v6) => {
    const payload = pattern(size, size);
    const dgram = udp(4000, 4002, payload);
    const step = Math.max(8, Math.ceil(dgram.length / count / 8) * 8);
    const pieces: Uint8Array[] = [];
    for (let off = 0; off < dgram.length; off += step) {
      const end = Math.min(dgram.length, off + step);
      const more = end < dgram.length;
      pieces.push(
        v6
          ? ethernet(0x86dd, ipv6(44, A6, B6, ipv6Fragment(17, off, more, 0xabcd, dgram.subarray(off, end))))
          : frag4(dgram, off, end, more, 0xabcd),
      );
    }
    // Random order plus duplicates: swap by the random numbers, then repeat a few pieces.
    const order = pieces.map((_, i) => i);
    shuffle.forEach((r, i) => {
      const a = i % order.length;
      const b = r % order.length;
      [order[a], order[b]] = [order[b]!, order[a]!];
    });
    const dups = shuffle.slice(0, 3).map((r) => r % pieces.length);
    const d = new PacketDecoder();
    const out = createDecodedPacket();
    const seen = new Set<number>();
    let done = 0;
    for (const i of [...dups, ...order]) {
      const f = pieces[i]!;
      seen.add(i);
      const st = d.decode(f, 0, f.length, 1, 1, 0, out);
      if (seen.size === pieces.length && done === 0) {
        expect(st).toBe(DecodeStatus.Ok);
        done++;
        expect(out.payloadLength).toBe(size);
        expect(Array.from(out.payload.subarray(out.payloadOffset, out.payloadOffset + size))).toEqual(Array.from(payload));
        if (pieces.length > 1) expect(out.reassembled).toBe(true);
      }
    }
    expect(done).toBe(1);
  });
});

describe('reassembly concatenates fragment payloads that start at the datagram start', () => {
  it('IPv6 fragments after a hop-by-hop header keep their addresses', () => {
    const dgram = udp(1, 2, pattern(40));
    const f1 = ethernet(0x86dd, ipv6(0, A6, B6, concat([44, 0, 1, 4, 0, 0, 0, 0], ipv6Fragment(17, 0, true, 3, dgram.subarray(0, 24)))));
    const f2 = ethernet(0x86dd, ipv6(44, A6, B6, ipv6Fragment(17, 24, false, 3, dgram.subarray(24))));
    const d = new PacketDecoder();
    expect(run(d, [f1, f2])).toEqual([DecodeStatus.Fragment, DecodeStatus.Ok]);
  });
});
