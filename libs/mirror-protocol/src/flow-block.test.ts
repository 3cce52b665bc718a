import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { corpusCaptures, readCorpusRecords } from '@callscope/testing';
import { FLOW_TABLE_SIZE, FlowBlockDecoder, FlowBlockEncoder, FlowBlockStatus, MAX_BLOCK_PACKETS, createFlowLayout, parseFlowLayout } from './flow-block.js';
import { appendRawPacket, createRawBatch, rawPacketData, type RawBatch } from './raw-batch.js';

interface Pkt {
  linkType: number;
  tsSec: number;
  tsNsec: number;
  origLen: number;
  data: Uint8Array;
}

function batchOf(packets: Pkt[]): RawBatch {
  const b = createRawBatch(4, 64);
  for (const p of packets) appendRawPacket(b, p.linkType, p.tsSec, p.tsNsec, p.origLen, p.data);
  return b;
}

function unpack(b: RawBatch): Pkt[] {
  return Array.from({ length: b.count }, (_, i) => ({
    linkType: b.linkType[i]!,
    tsSec: b.tsSec[i]!,
    tsNsec: b.tsNsec[i]!,
    origLen: b.origLen[i]!,
    data: rawPacketData(b, i).slice(),
  }));
}

/** Encodes every batch on one encoder and decodes in order on one decoder; returns the decoded packets per batch. */
function roundTrip(batches: Pkt[][], maxBytes = 64 << 20): { decoded: Pkt[][]; encoder: FlowBlockEncoder; sizes: number[] } {
  const encoder = new FlowBlockEncoder();
  const decoder = new FlowBlockDecoder();
  const out = createRawBatch(1, 0);
  const decoded: Pkt[][] = [];
  const sizes: number[] = [];
  for (const packets of batches) {
    const block = encoder.encode(batchOf(packets)).slice();
    sizes.push(block.length);
    const st = decoder.decode(block, maxBytes, out);
    expect(st).toBe(FlowBlockStatus.Ok);
    decoded.push(unpack(out));
  }
  return { decoded, encoder, sizes };
}

/** The block of `second` on a connection that sent `first` before. */
function blockOf(first: Pkt[], second: Pkt[]): Uint8Array {
  const enc = new FlowBlockEncoder();
  enc.encode(batchOf(first));
  return enc.encode(batchOf(second)).slice();
}

/** The IPv4 header checksum over `h` (RFC 1071), for building valid packets. */
function ipChecksum(h: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < h.length; i += 2) if (i !== 10) s += (h[i]! << 8) | h[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

interface RtpSpec {
  vlan: number;
  v6: boolean;
  ipOptions: number;
  csrc: number;
  ext: number;
  payload: number;
  seq: number;
  ts: number;
  id: number;
  ssrc: number;
  port: number;
  ipSum: 'valid' | 'zero' | 'garbage';
  udpSum: 'valid' | 'zero' | 'garbage';
  garbage: number;
}

/** An Ethernet(+VLAN)/IPv4|IPv6/UDP/RTP frame built from `s`. */
function rtpFrame(s: RtpSpec): Uint8Array {
  const rtpLen = 12 + s.csrc * 4 + (s.ext > 0 ? 4 + s.ext * 4 : 0) + s.payload;
  const ipLen = s.v6 ? 40 : 20 + s.ipOptions * 4;
  const l2 = 14 + 4 * s.vlan;
  const d = new Uint8Array(l2 + ipLen + 8 + rtpLen);
  const v = new DataView(d.buffer);
  d.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
  let at = 12;
  for (let k = 0; k < s.vlan; k++) {
    v.setUint16(at, k === 0 && s.vlan === 2 ? 0x88a8 : 0x8100);
    v.setUint16(at + 2, 100 + k);
    at += 4;
  }
  v.setUint16(at, s.v6 ? 0x86dd : 0x0800);
  const ip = l2;
  if (s.v6) {
    d[ip] = 0x60;
    v.setUint16(ip + 4, 8 + rtpLen);
    d[ip + 6] = 17;
    d[ip + 7] = 64;
    d[ip + 23] = 1 + (s.port & 7);
    d[ip + 39] = 2;
  } else {
    d[ip] = 0x40 | (5 + s.ipOptions);
    v.setUint16(ip + 2, ipLen + 8 + rtpLen);
    v.setUint16(ip + 4, s.id);
    d[ip + 8] = 64;
    d[ip + 9] = 17;
    d.set([10, 0, 0, 1 + (s.port & 7), 10, 0, 0, 2], ip + 12);
    for (let k = 0; k < s.ipOptions * 4; k++) d[ip + 20 + k] = 1; // NOP options
    const sum = s.ipSum === 'valid' ? ipChecksum(d.subarray(ip, ip + ipLen)) : s.ipSum === 'zero' ? 0 : s.garbage;
    v.setUint16(ip + 10, sum);
  }
  const udp = ip + ipLen;
  v.setUint16(udp, 10000 + s.port);
  v.setUint16(udp + 2, 20000 + s.port);
  v.setUint16(udp + 4, 8 + rtpLen);
  const r = udp + 8;
  d[r] = 0x80 | (s.ext > 0 ? 0x10 : 0) | s.csrc;
  d[r + 1] = 8;
  v.setUint16(r + 2, s.seq & 0xffff);
  v.setUint32(r + 4, s.ts >>> 0);
  v.setUint32(r + 8, s.ssrc >>> 0);
  let p = r + 12 + s.csrc * 4;
  if (s.ext > 0) {
    v.setUint16(p, 0xbede);
    v.setUint16(p + 2, s.ext);
    p += 4 + s.ext * 4;
  }
  for (let k = p; k < d.length; k++) d[k] = (k * 31 + s.seq) & 0xff;
  if (s.udpSum !== 'zero') {
    let sum = 0;
    const word = (x: number): void => {
      sum += x;
    };
    if (s.v6) for (let k = ip + 8; k < ip + 40; k += 2) word(v.getUint16(k));
    else for (let k = ip + 12; k < ip + 20; k += 2) word(v.getUint16(k));
    word(17);
    word(8 + rtpLen);
    for (let k = udp; k < d.length; k += 2) if (k !== udp + 6) word((d[k]! << 8) | (k + 1 < d.length ? d[k + 1]! : 0));
    while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
    const c = ~sum & 0xffff;
    v.setUint16(udp + 6, s.udpSum === 'valid' ? (c === 0 ? 0xffff : c) : s.garbage);
  }
  return d;
}

const specArb = fc.record({
  vlan: fc.integer({ min: 0, max: 2 }),
  v6: fc.boolean(),
  ipOptions: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 })),
  csrc: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 15 })),
  ext: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 6 })),
  payload: fc.integer({ min: 0, max: 200 }),
  seq: fc.integer({ min: 0, max: 0xffff }),
  ts: fc.integer({ min: 0, max: 0xffffffff }),
  id: fc.integer({ min: 0, max: 0xffff }),
  ssrc: fc.integer({ min: 0, max: 3 }),
  port: fc.integer({ min: 0, max: 5 }),
  ipSum: fc.constantFrom('valid', 'zero', 'garbage'),
  udpSum: fc.constantFrom('valid', 'zero', 'garbage'),
  garbage: fc.integer({ min: 0, max: 0xffff }),
}) as fc.Arbitrary<RtpSpec>;

/** A packet: mostly RTP flows that advance, sometimes mutated, truncated or random bytes. */
interface PktItem {
  spec: RtpSpec;
  /** 0-5: the next packet of its flow; 6: the spec as drawn; 7: truncated; 8: one byte flipped; 9: random bytes. */
  kind: number;
  cut: number;
  flip: number;
  random: Uint8Array;
  dt: number;
  linkType: number;
  origExtra: number;
}

const pktArb: fc.Arbitrary<PktItem> = fc.record({
  spec: specArb,
  kind: fc.integer({ min: 0, max: 9 }),
  cut: fc.integer({ min: 0, max: 120 }),
  flip: fc.integer({ min: 0, max: 400 }),
  random: fc.uint8Array({ minLength: 0, maxLength: 90 }),
  dt: fc.oneof(fc.integer({ min: 0, max: 40_000_000 }), fc.integer({ min: -5_000_000_000, max: 5_000_000_000 }), fc.constant(3e15)),
  linkType: fc.constantFrom(1, 1, 1, 113, 0, 101),
  origExtra: fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 100 })),
});

function buildStream(items: PktItem[]): Pkt[] {
  const flows = new Map<number, { seq: number; ts: number; id: number }>();
  let ns = 1_764_000_000n * 1_000_000_000n;
  return items.map((it) => {
    const key = it.spec.port * 8 + it.spec.ssrc;
    const f = flows.get(key) ?? { seq: it.spec.seq, ts: it.spec.ts, id: it.spec.id };
    f.seq = (f.seq + 1) & 0xffff;
    f.ts = (f.ts + 160) >>> 0;
    f.id = (f.id + 1) & 0xffff;
    flows.set(key, f);
    const spec = it.kind < 6 ? { ...it.spec, seq: f.seq, ts: f.ts, id: f.id } : it.spec;
    let data: Uint8Array;
    if (it.kind === 9) data = it.random;
    else {
      data = rtpFrame(spec);
      if (it.kind === 7) data = data.subarray(0, Math.min(data.length, it.cut));
      if (it.kind === 8 && data.length > 0) data[it.flip % data.length] = data[it.flip % data.length]! ^ 0x5a;
    }
    ns += BigInt(it.dt);
    if (ns < 0n) ns = 0n;
    const tsSec = Number(ns / 1_000_000_000n);
    const tsNsec = Number(ns % 1_000_000_000n);
    const origLen = Math.max(0, data.length + it.origExtra);
    return { linkType: it.kind === 9 ? it.linkType : 1, tsSec, tsNsec, origLen, data };
  });
}

describe('flow block round trip', () => {
  fcTest.prop([fc.array(fc.array(pktArb, { minLength: 0, maxLength: 40 }), { minLength: 1, maxLength: 8 })], { numRuns: 150 })(
    'random and mutated packets (VLAN, IPv4 options, IPv6, CSRC, extension, checksums 0/garbage, truncated, random) are byte-exact across batches',
    (batches) => {
      const packets = batches.map(buildStream);
      // Each batch's clock starts again at the same second: time also goes backwards between batches.
      const { decoded } = roundTrip(packets);
      expect(decoded).toEqual(packets.map((b) => b.map((p) => ({ ...p, data: p.data.slice() }))));
    },
  );

  it('an RTP flow of valid checksums costs a few bytes per packet once its context exists', () => {
    const spec: RtpSpec = { vlan: 1, v6: false, ipOptions: 0, csrc: 0, ext: 0, payload: 160, seq: 100, ts: 8000, id: 7, ssrc: 1, port: 1, ipSum: 'valid', udpSum: 'valid', garbage: 0 };
    const batches: Pkt[][] = [];
    for (let b = 0; b < 3; b++) {
      batches.push(
        Array.from({ length: 50 }, (_, i) => {
          const n = b * 50 + i;
          return { linkType: 1, tsSec: 1_764_000_000, tsNsec: n * 20_000_000 % 1e9, origLen: 0, data: rtpFrame({ ...spec, seq: 100 + n, ts: 8000 + 160 * n, id: 7 + n }) };
        }),
      );
    }
    for (const b of batches) b.forEach((p) => (p.origLen = p.data.length));
    const { decoded, encoder, sizes } = roundTrip(batches);
    expect(decoded[2]).toEqual(batches[2]);
    expect(encoder.stats).toEqual({ literal: 0, newFlow: 1, delta: 149 });
    // The second batch sends no header whole: besides the payloads, its block holds the varints (link
    // type, lengths, time, flow index, deltas: under 14 bytes a packet) and XORs that are all zero.
    const nonZero = (b: Uint8Array): number => b.reduce((n, x) => n + (x === 0 ? 0 : 1), 0);
    const payloadNonZero = batches[1]!.reduce((n, p) => n + nonZero(p.data.subarray(p.data.length - 160)), 0);
    expect(sizes[1]).toBe(blockOf(batches[0]!, batches[1]!).length);
    expect(nonZero(blockOf(batches[0]!, batches[1]!)) - payloadNonZero).toBeLessThan(50 * 14);
  });

  it.each([
    ['IPv4 with a VLAN tag', false, 1],
    ['IPv6', true, 0],
  ])('valid IPv4 and UDP checksums travel as zeros (%s): the recomputed values match real ones', (_name, v6, vlan) => {
    const spec: RtpSpec = { vlan, v6, ipOptions: 0, csrc: 1, ext: 1, payload: 33, seq: 9, ts: 90, id: 3, ssrc: 5, port: 2, ipSum: 'valid', udpSum: 'valid', garbage: 0 };
    const frames = (from: number) => Array.from({ length: 20 }, (_, i) => ({ linkType: 1, tsSec: 7, tsNsec: from + i, origLen: 0, data: rtpFrame({ ...spec, seq: 9 + from + i, ts: 90 + 160 * (from + i), id: 3 + from + i }) }));
    const block = blockOf(frames(0), frames(20));
    // Header varints: count and the five section lengths, then meta | time | flow | head.
    let at = 0;
    const next = (): number => {
      let v = 0;
      let scale = 1;
      for (;;) {
        const b = block[at++]!;
        v += (b & 0x7f) * scale;
        scale *= 128;
        if (b < 0x80) return v;
      }
    };
    const [, meta, time, flow, head] = [next(), next(), next(), next(), next(), next()];
    const headStart = at + meta + time + flow;
    // All deltas, no header whole: the XORs (ids, seqs, timestamps as deltas; checksums against
    // the recomputed values) are zeros only if both checksum computations are right.
    expect(Array.from(block.subarray(headStart, headStart + head)).every((b) => b === 0)).toBe(true);
    expect(head).toBe(20 * (frames(0)[0]!.data.length - 33));
  });

  it('each connection starts from an empty context: a decoder that missed a block is out of step', () => {
    const spec: RtpSpec = { vlan: 0, v6: false, ipOptions: 0, csrc: 0, ext: 0, payload: 20, seq: 1, ts: 1, id: 1, ssrc: 1, port: 1, ipSum: 'valid', udpSum: 'zero', garbage: 0 };
    const b1 = batchOf([{ linkType: 1, tsSec: 5, tsNsec: 0, origLen: 0, data: rtpFrame(spec) }]);
    const b2 = batchOf([{ linkType: 1, tsSec: 5, tsNsec: 20, origLen: 0, data: rtpFrame({ ...spec, seq: 2 }) }]);
    const enc = new FlowBlockEncoder();
    enc.encode(b1);
    const second = enc.encode(b2).slice();
    const dec = new FlowBlockDecoder();
    const out = createRawBatch(1, 0);
    // Its time is a delta and its flow a delta: neither exists on a fresh decoder.
    expect(dec.decode(second, 1 << 20, out)).toBe(FlowBlockStatus.BadTime);
    expect(dec.decode(second, 1 << 20, out)).toBe(FlowBlockStatus.Broken);
    dec.reset();
    enc.reset();
    expect(dec.decode(enc.encode(b2), 1 << 20, out)).toBe(FlowBlockStatus.Ok);
    expect(Array.from(rawPacketData(out, 0))).toEqual(Array.from(rawPacketData(b2, 0)));
  });

  it('a flow table collision replaces the entry and stays exact', () => {
    // More flows than table entries: many indexes are shared.
    const packets: Pkt[] = [];
    for (let round = 0; round < 3; round++) {
      for (let f = 0; f < FLOW_TABLE_SIZE + 500; f++) {
        const spec: RtpSpec = { vlan: 0, v6: false, ipOptions: 0, csrc: 0, ext: 0, payload: 4, seq: round, ts: round * 160, id: round, ssrc: f, port: 1, ipSum: 'valid', udpSum: 'valid', garbage: 0 };
        packets.push({ linkType: 1, tsSec: 10, tsNsec: round, origLen: 0, data: rtpFrame(spec) });
      }
    }
    const { decoded } = roundTrip([packets.slice(0, 5000), packets.slice(5000)]);
    expect(decoded.flat()).toEqual(packets);
  });
});

describe('flow block UDP checksum at the datagram edges', () => {
  // The encoder sums 4 bytes at a time (payload summed while copied), the decoder byte by byte:
  // a byte-exact round trip of a valid checksum needs both to agree at every edge.
  const cases: [string, Partial<RtpSpec>, (d: Uint8Array) => Uint8Array][] = [];
  for (const v6 of [false, true]) {
    for (let payload = 0; payload < 8; payload++) cases.push([`${v6 ? 'IPv6' : 'IPv4'} payload of ${payload} bytes`, { v6, payload }, (d) => d]);
    for (let trailer = 1; trailer < 8; trailer++) {
      cases.push([`${v6 ? 'IPv6' : 'IPv4'} Ethernet trailer of ${trailer} bytes after the datagram`, { v6, payload: 21 }, (d) => {
        const e = new Uint8Array(d.length + trailer).fill(0xa5);
        e.set(d);
        return e;
      }]);
    }
    for (const udpLen of [8, 9, 13, 19, 20, 21]) {
      cases.push([`${v6 ? 'IPv6' : 'IPv4'} UDP length ${udpLen} (the datagram ends in the RTP header or just after it)`, { v6, payload: 40 }, (d) => {
        const e = d.slice();
        const udp = 14 + (v6 ? 40 : 20);
        new DataView(e.buffer).setUint16(udp + 4, udpLen);
        return e;
      }]);
    }
  }
  it.each(cases)('%s: byte-exact', (_name, over, edit) => {
    const spec: RtpSpec = { vlan: 0, v6: false, ipOptions: 0, csrc: 0, ext: 0, payload: 0, seq: 1, ts: 1, id: 1, ssrc: 9, port: 3, ipSum: 'valid', udpSum: 'valid', garbage: 0, ...over };
    const packets: Pkt[] = Array.from({ length: 6 }, (_, i) => {
      const data = edit(rtpFrame({ ...spec, seq: 1 + i, ts: 1 + 160 * i, id: 1 + i }));
      return { linkType: 1, tsSec: 5, tsNsec: i, origLen: data.length, data };
    });
    const { decoded, encoder } = roundTrip([packets.slice(0, 3), packets.slice(3)]);
    expect(decoded.flat()).toEqual(packets);
    expect(encoder.stats).toEqual({ literal: 0, newFlow: 1, delta: 5 });
  });
});

describe('flow layout', () => {
  const base: RtpSpec = { vlan: 0, v6: false, ipOptions: 0, csrc: 0, ext: 0, payload: 10, seq: 1, ts: 1, id: 1, ssrc: 1, port: 1, ipSum: 'valid', udpSum: 'valid', garbage: 0 };
  it.each([
    ['IPv4', base, 14 + 20 + 8 + 12],
    ['two VLAN tags, IPv4 options, CSRCs and an extension', { ...base, vlan: 2, ipOptions: 3, csrc: 2, ext: 2 }, 22 + 32 + 8 + 12 + 8 + 12],
    ['IPv6', { ...base, v6: true }, 14 + 40 + 8 + 12],
  ])('%s', (_name, spec, hlen) => {
    const l = createFlowLayout();
    const d = rtpFrame(spec);
    expect(parseFlowLayout(d, 0, d.length, l)).toBe(true);
    expect(l.hlen).toBe(hlen);
  });

  it.each([
    ['a fragment', (d: Uint8Array) => { d.set([0x20], 14 + 6); }],
    ['RTCP (payload type 72)', (d: Uint8Array) => { d.set([200], 14 + 20 + 8 + 1); }],
    ['RTP version 1', (d: Uint8Array) => { d.set([0x40], 14 + 20 + 8); }],
    ['TCP', (d: Uint8Array) => { d.set([6], 14 + 9); }],
    ['ARP', (d: Uint8Array) => { d.set([0x08, 0x06], 12); }],
  ])('not a flow packet: %s', (_name, mutate) => {
    const d = rtpFrame(base);
    mutate(d);
    expect(parseFlowLayout(d, 0, d.length, createFlowLayout())).toBe(false);
  });
});

describe('flow block decoder on hostile input', () => {
  const out = createRawBatch(1, 0);
  it.each([
    ['empty', [], FlowBlockStatus.Truncated],
    ['too many packets', [0x80, 0x80, 0x10, 0, 0, 0, 0, 0], FlowBlockStatus.TooManyPackets],
    ['sections longer than the block', [1, 5, 0, 0, 0, 0], FlowBlockStatus.BadSections],
    ['a varint of 9 bytes', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], FlowBlockStatus.BadVarint],
    ['a literal shorter than its caplen', [1, 3, 3, 1, 0, 1, 1, 4, 0, 1, 5, 0, 0, 0xaa], FlowBlockStatus.Truncated],
    ['a flow delta on an empty table', [1, 3, 4, 1, 0, 0, 1, 60, 0, 1, 0, 0, 0, 4 * 3 + 2, 0, 0, 0], FlowBlockStatus.UnknownFlow],
    ['a flow tag on a Linux-cooked packet', [1, 3, 4, 1, 0, 0, 113, 60, 0, 1, 0, 0, 0, 4 * 3 + 1, 0, 0, 0], FlowBlockStatus.BadTag],
    ['a time delta with no time base', [1, 3, 1, 1, 0, 0, 1, 1, 0, 2, 0, 0xaa], FlowBlockStatus.BadTime],
    ['bytes left in a section', [1, 4, 4, 1, 0, 1, 1, 1, 0, 9, 1, 5, 0, 0, 0, 0xaa], FlowBlockStatus.Trailing],
  ])('%s', (_name, bytes, status) => {
    const dec = new FlowBlockDecoder();
    expect(dec.decode(Uint8Array.from(bytes), 1 << 20, out)).toBe(status);
    expect(dec.isBroken).toBe(true);
  });

  it('a block declaring more bytes than the bound is refused before it is allocated', () => {
    // 1 packet, caplen 2 MiB against a 1 MiB bound: refused, never allocated.
    const bytes = [1, 6, 3, 1, 0, 0, 1, 0x80, 0x80, 0x80, 0x01, 0, 1, 5, 0, 0];
    expect(new FlowBlockDecoder().decode(Uint8Array.from(bytes), 1 << 20, out)).toBe(FlowBlockStatus.TooLarge);
  });

  const corpus = corpusCaptures()
    .filter((c) => c.name.endsWith('.pcap'))
    .slice(0, 6)
    .map((c) => readCorpusRecords(c.name).slice(0, 300));
  fcTest.prop([fc.integer({ min: 0, max: corpus.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 6 })], { numRuns: 300 })(
    'mutated blocks of real captures never throw and never exceed the bound',
    (which, edits) => {
      const recs = corpus[which]!;
      const enc = new FlowBlockEncoder();
      const half = Math.floor(recs.length / 2);
      const first = enc.encode(batchOf(recs.slice(0, half))).slice();
      const block = Array.from(enc.encode(batchOf(recs.slice(half))));
      for (const [at, value, op] of edits) {
        const i = at % Math.max(1, block.length);
        if (op === 0) block[i] = value;
        else if (op === 1) block.splice(i, 1);
        else if (op === 2) block.splice(i, 0, value);
        else block.length = i;
      }
      const dec = new FlowBlockDecoder();
      expect(dec.decode(first, 1 << 20, out)).toBe(FlowBlockStatus.Ok);
      const st = dec.decode(Uint8Array.from(block), 1 << 20, out);
      expect(Object.values(FlowBlockStatus)).toContain(st);
      if (st === FlowBlockStatus.Ok) expect(out.data.length).toBeLessThanOrEqual(1 << 20);
    },
  );

  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const st = new FlowBlockDecoder().decode(bytes, 1 << 16, out);
        expect(Object.values(FlowBlockStatus)).toContain(st);
      }),
      { numRuns: 2000 },
    );
  });

  it('MAX_BLOCK_PACKETS covers the largest batch the sender builds (batch.maxPackets <= 100,000)', () => {
    expect(MAX_BLOCK_PACKETS).toBeGreaterThanOrEqual(100_000);
  });
});

describe.each(corpusCaptures().map((c) => c.name))('real capture %s', (file) => {
  it('round-trips byte-exactly in batches of 100 on one connection', () => {
    const recs: Pkt[] = readCorpusRecords(file).map((r) => ({ linkType: r.linkType, tsSec: r.tsSec, tsNsec: r.tsNsec, origLen: r.origLen, data: r.data.slice() }));
    const encoder = new FlowBlockEncoder();
    const decoder = new FlowBlockDecoder();
    const out = createRawBatch(1, 0);
    let differ = 0;
    for (let i = 0; i < recs.length; i += 100) {
      const batch = recs.slice(i, i + 100);
      expect(decoder.decode(encoder.encode(batchOf(batch)).slice(), 64 << 20, out)).toBe(FlowBlockStatus.Ok);
      expect(out.count).toBe(batch.length);
      batch.forEach((p, k) => {
        const same = p.linkType === out.linkType[k] && p.tsSec === out.tsSec[k] && p.tsNsec === out.tsNsec[k] && p.origLen === out.origLen[k] && Buffer.from(p.data).equals(rawPacketData(out, k));
        if (!same) differ++;
      });
    }
    expect(differ).toBe(0);
    expect(encoder.stats.literal + encoder.stats.newFlow + encoder.stats.delta).toBe(recs.length);
  });
});
