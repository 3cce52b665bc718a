import { describe, expect, it } from 'vitest';
import { CaptureFormat, CaptureParser, CaptureParseStatus, type PacketRecord, LinkType } from '../src/index.js';
import { block, bytes, concat, epb, idb, opb, pcapHeader, pcapRecord, shb, spb, tsoffset, tsresol } from './build-capture.js';
import { parseBytes } from './collect.js';

/** Reference conversion with BigInt: ticks of base^-exp seconds to (sec, nsec), truncating. */
function reference(ticks: bigint, base: number, exp: number): { sec: number; nsec: number } {
  const perSec = BigInt(base) ** BigInt(exp);
  const sec = ticks / perSec;
  const nsec = ((ticks % perSec) * 1_000_000_000n) / perSec;
  return { sec: Number(sec), nsec: Number(nsec) };
}

describe('classic pcap', () => {
  it.each([
    { le: false, ns: false, format: CaptureFormat.PCAP },
    { le: false, ns: true, format: CaptureFormat.PCAP_NSEC },
    { le: true, ns: false, format: CaptureFormat.PCAP },
    { le: true, ns: true, format: CaptureFormat.PCAP_NSEC },
  ])('reads le=$le ns=$ns exactly', ({ le, ns, format }) => {
    const a = bytes(60, 1);
    const b = bytes(1514, 2);
    const file = concat(
      pcapHeader({ le, ns, linkType: LinkType.Raw, snaplen: 262144 }),
      pcapRecord(le, 1_795_976_244, ns ? 194_584_589 : 194_584, a),
      pcapRecord(le, 4_294_967_295, ns ? 999_999_999 : 999_999, b, 4000),
    );
    const out = parseBytes(file);
    expect(out.status).toBe(CaptureParseStatus.End);
    expect(out.summary.format).toBe(format);
    expect(out.records).toEqual([
      { linkType: LinkType.Raw, tsSec: 1_795_976_244, tsNsec: ns ? 194_584_589 : 194_584_000, capLen: 60, origLen: 60, data: a, interfaceId: 0, index: 0, fileOffset: 24 },
      { linkType: LinkType.Raw, tsSec: 4_294_967_295, tsNsec: 999_999_999 - (ns ? 0 : 999), capLen: 1514, origLen: 4000, data: b, interfaceId: 0, index: 1, fileOffset: 24 + 16 + 60 },
    ]);
    expect(out.summary.capturedBytes).toBe(1574);
    expect(out.summary.originalBytes).toBe(4060);
    expect(out.summary.bytes).toBe(file.length);
  });

  it('masks the FCS flags out of the link type and counts anomalies per reason', () => {
    const le = true;
    const file = concat(
      pcapHeader({ le, linkType: 0x1000_0000 | LinkType.Ethernet, snaplen: 64 }),
      pcapRecord(le, 10, 1_000_000, bytes(10)), // usec == 1e6: carried into the seconds
      pcapRecord(le, 10, 0, bytes(100)), // capLen 100 > snaplen 64
      pcapRecord(le, 10, 0, bytes(20), 5), // origLen < capLen
    );
    const out = parseBytes(file);
    expect(out.records.map((r) => [r.linkType, r.tsSec, r.tsNsec])).toEqual([
      [LinkType.Ethernet, 11, 0],
      [LinkType.Ethernet, 10, 0],
      [LinkType.Ethernet, 10, 0],
    ]);
    expect(out.summary.counters).toEqual({ capLenOverSnaplen: 1, origLenBelowCapLen: 1, fractionOverflow: 1, skippedBlocks: 0, resyncs: 0, skippedBytes: 0 });
  });

  it('reads a zero-length record (header only) and moves on', () => {
    const file = concat(pcapHeader(), pcapRecord(true, 1, 2, new Uint8Array(0)), pcapRecord(true, 3, 4, bytes(3)));
    const out = parseBytes(file);
    expect(out.records.map((r) => r.capLen)).toEqual([0, 3]);
  });
});

describe('pcapng', () => {
  const le = true;
  // Interface 0: Ethernet, default resolution (µs). Interface 1: Linux SLL, ns, offset +100 s.
  // Interface 2: raw IP, 2^-20 s. Interface 3: SLL2, 10^-12 s (ps, truncated to ns), offset -5 s.
  const ifaces = [
    idb(le, LinkType.Ethernet, 65535),
    idb(le, LinkType.LinuxSll, 262144, [tsresol(9, le), tsoffset(100n, le)]),
    idb(le, LinkType.Raw, 0, [tsresol(0x80 | 20, le)]),
    idb(le, LinkType.LinuxSll2, 1500, [tsresol(12, le), tsoffset(-5n, le)]),
  ];
  const ticks = [
    1_795_976_230_340_286n, // µs
    1_795_976_230_340_286_255n, // ns: above 2^53, must stay exact
    (1_795_976_230n << 20n) + 777_777n, // 2^-20
    12_345_678_901_234_567_891n, // ps: 2^64 ps is only 213 days, hence if_tsoffset in real files
  ];

  it('reads several interfaces with their own link type, tsresol and tsoffset', () => {
    const data = [bytes(42, 1), bytes(43, 2), bytes(44, 3), bytes(45, 4)];
    const file = concat(shb(le), ...ifaces, ...data.map((d, i) => epb(le, i, ticks[i]!, d, d.length + i)));
    const out = parseBytes(file);
    expect(out.status).toBe(CaptureParseStatus.End);
    const expected = [
      reference(ticks[0]!, 10, 6),
      { ...reference(ticks[1]!, 10, 9), sec: reference(ticks[1]!, 10, 9).sec + 100 },
      reference(ticks[2]!, 2, 20),
      { ...reference(ticks[3]!, 10, 12), sec: reference(ticks[3]!, 10, 12).sec - 5 },
    ];
    expect(out.records.map((r) => ({ sec: r.tsSec, nsec: r.tsNsec }))).toEqual(expected);
    expect(expected[1]).toEqual({ sec: 1_795_976_330, nsec: 340_286_255 });
    expect(out.records.map((r) => [r.linkType, r.interfaceId, r.capLen, r.origLen])).toEqual([
      [LinkType.Ethernet, 0, 42, 42],
      [LinkType.LinuxSll, 1, 43, 44],
      [LinkType.Raw, 2, 44, 46],
      [LinkType.LinuxSll2, 3, 45, 48],
    ]);
    expect(out.records.map((r) => r.data)).toEqual(data);
    expect(out.summary.linkTypes).toEqual([LinkType.Ethernet, LinkType.LinuxSll, LinkType.Raw, LinkType.LinuxSll2]);
    expect(out.summary.interfaces.map((i) => [i.tsBase, i.tsExponent, i.tsOffsetSec])).toEqual([
      [10, 6, 0],
      [10, 9, 100],
      [2, 20, 0],
      [10, 12, -5],
    ]);
  });

  it('converts power-of-2 and power-of-10 resolutions exactly over many tick values', () => {
    const cases: Array<[number, number, number]> = [[0, 10, 0], [3, 10, 3], [6, 10, 6], [9, 10, 9], [15, 10, 15], [18, 10, 18], [0x80, 2, 0], [0x80 | 1, 2, 1], [0x80 | 10, 2, 10], [0x80 | 30, 2, 30], [0x80 | 32, 2, 32]];
    for (const [raw, base, exp] of cases) {
      const tickValues = [0n, 1n, 999_999_999n, 0xffff_ffffn, 0x1_0000_0000n, 0xffff_ffff_ffff_ffffn, 0x1234_5678_9abc_def0n];
      const file = concat(shb(le), idb(le, 1, 0, [tsresol(raw, le)]), ...tickValues.map((t) => epb(le, 0, t, bytes(1))));
      const out = parseBytes(file);
      const expected = tickValues.map((t) => reference(t, base, exp));
      // Beyond 2^53 s the seconds are not representable; real captures never get there.
      const got = out.records.map((r, i) => (expected[i]!.sec > Number.MAX_SAFE_INTEGER ? { sec: expected[i]!.sec, nsec: r.tsNsec } : { sec: r.tsSec, nsec: r.tsNsec }));
      expect(got, `if_tsresol ${raw}`).toEqual(expected);
    }
  });

  it('reads SPB (interface 0, length from snaplen and original length) and OPB', () => {
    const file = concat(
      shb(le),
      idb(le, LinkType.Raw, 64),
      spb(le, 100, bytes(64, 5)), // cut by snaplen
      spb(le, 10, bytes(10, 6)), // padded to 12 in the block
      opb(le, 0, 1_000_000n, bytes(7, 7)),
    );
    const out = parseBytes(file);
    expect(out.records.map((r) => [r.linkType, r.interfaceId, r.capLen, r.origLen, r.tsSec, r.tsNsec])).toEqual([
      [LinkType.Raw, 0, 64, 100, 0, 0],
      [LinkType.Raw, 0, 10, 10, 0, 0],
      [LinkType.Raw, 0, 7, 7, 1, 0],
    ]);
    expect(out.records[0]!.data).toEqual(bytes(64, 5));
    expect(out.records[1]!.data).toEqual(bytes(10, 6));
  });

  it('skips unknown, NRB, ISB and custom blocks by their length, counting them', () => {
    const file = concat(
      shb(le),
      block(0x0bad, bytes(13), le),
      idb(le, 1, 0),
      block(4, bytes(20), le), // Name Resolution Block
      epb(le, 0, 5_000_000n, bytes(30)),
      block(5, bytes(24), le), // Interface Statistics Block
      block(0x40000bad, new Uint8Array(0), le), // custom block, empty body
      epb(le, 0, 6_000_000n, bytes(31)),
    );
    const out = parseBytes(file);
    expect(out.status).toBe(CaptureParseStatus.End);
    expect(out.records.map((r) => r.tsSec)).toEqual([5, 6]);
    expect(out.summary.counters.skippedBlocks).toBe(4);
  });

  it('handles several sections with different byte orders; interface ids restart per section', () => {
    const file = concat(
      shb(true),
      idb(true, LinkType.Ethernet, 0),
      idb(true, LinkType.Raw, 0),
      epb(true, 1, 1_000_000n, bytes(5)),
      shb(false),
      idb(false, LinkType.LinuxSll, 0, [tsresol(9, false)]),
      epb(false, 0, 2_000_000_001n, bytes(6)),
    );
    const out = parseBytes(file);
    expect(out.status).toBe(CaptureParseStatus.End);
    expect(out.records.map((r) => [r.linkType, r.interfaceId, r.tsSec, r.tsNsec, r.index])).toEqual([
      [LinkType.Raw, 1, 1, 0, 0],
      [LinkType.LinuxSll, 0, 2, 1, 1],
    ]);
    expect(out.summary.sections).toBe(2);
    expect(out.summary.interfaces.map((i) => [i.section, i.interfaceId, i.linkType])).toEqual([
      [0, 0, LinkType.Ethernet],
      [0, 1, LinkType.Raw],
      [1, 0, LinkType.LinuxSll],
    ]);
  });

  it('reads a big-endian section byte by byte like in one piece', () => {
    const be = false;
    const file = concat(shb(be), idb(be, LinkType.Ethernet, 0, [tsresol(9, be)]), epb(be, 0, 123_456_789_012n, bytes(61)), epb(be, 0, 223_456_789_012n, bytes(3)));
    const whole = parseBytes(file);
    const bytewise = parseBytes(file, 1);
    expect(whole.records).toHaveLength(2);
    expect(bytewise.records).toEqual(whole.records);
    expect(whole.records[0]).toMatchObject({ tsSec: 123, tsNsec: 456_789_012, fileOffset: 28 + 32 });
  });

  it('feed() delivers synchronously and the record object is reused', () => {
    const file = concat(shb(le), idb(le, 1, 0), epb(le, 0, 1n, bytes(4)), epb(le, 0, 2n, bytes(4)));
    const parser = new CaptureParser();
    const seen: PacketRecord[] = [];
    expect(parser.feed(file, (r) => seen.push(r))).toBe(CaptureParseStatus.NeedMore);
    expect(parser.finish()).toBe(CaptureParseStatus.End);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]).toBe(parser.record);
    expect(() => {
      const p = new CaptureParser();
      p.push(file);
      p.push(file); // previous chunk not consumed: programmer error
    }).toThrow(RangeError);
  });

  it('rejects programmer errors in options with RangeError', () => {
    expect(() => new CaptureParser({ maxBlockLength: 4 })).toThrow(RangeError);
  });
});
