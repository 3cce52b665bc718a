import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CaptureError, CaptureErrorCode, CaptureParser, MAX_INTERFACES, CaptureParseStatus, type CaptureErrorCode as Code } from '../src/index.js';
import { block, bytes, concat, epb, idb, option, pcapHeader, pcapRecord, shb, spb, tsresol, u16, u32 } from './build-capture.js';
import { parseBytes } from './collect.js';

const le = true;
const SHB = shb(le);
const IDB = idb(le, 1, 0);
const HEAD = concat(SHB, IDB); // 28 + 20 = 48 bytes
const EPB = epb(le, 0, 1_000_000n, bytes(10));

interface Case {
  name: string;
  input: Uint8Array;
  code: Code;
  offset: number;
  /** Complete packets delivered before the error. */
  packets?: number;
  maxBlockLength?: number;
  /** Damage after the file header: no error, a resync from there (`summary.firstDamage` has the code and offset). */
  resync?: boolean;
}

const cases: Case[] = [
  { name: 'empty input', input: new Uint8Array(0), code: CaptureErrorCode.TRUNCATED_FILE_HEADER, offset: 0 },
  { name: 'text file', input: new TextEncoder().encode('GIF89a, not a capture'), code: CaptureErrorCode.BAD_MAGIC, offset: 0 },
  { name: 'gzip fed to the synchronous parser', input: gzipSync(pcapHeader()), code: CaptureErrorCode.COMPRESSED_INPUT, offset: 0 },
  { name: 'modified-pcap (Kuznetzov) magic is not accepted', input: concat(u32(0xa1b2cd34, true), new Uint8Array(20)), code: CaptureErrorCode.BAD_MAGIC, offset: 0 },
  { name: 'pcap major version 3', input: pcapHeader({ major: 3 }), code: CaptureErrorCode.UNSUPPORTED_VERSION, offset: 0 },
  {
    name: 'pcap caplen 0x7fffffff in the 2nd record', resync: true,
    input: concat(pcapHeader(), pcapRecord(le, 1, 0, bytes(10)), pcapRecord(le, 1, 0, new Uint8Array(0), 0, 0x7fffffff)),
    code: CaptureErrorCode.CAPLEN_TOO_LARGE,
    offset: 24 + 26,
    packets: 1,
  },
  {
    name: 'pcap caplen 262145 (one past the bound), big-endian', resync: true,
    input: concat(pcapHeader({ le: false }), pcapRecord(false, 1, 0, new Uint8Array(0), 0, 262_145)),
    code: CaptureErrorCode.CAPLEN_TOO_LARGE,
    offset: 24,
  },
  { name: 'SHB byte-order magic wrong', input: concat(u32(0x0a0d0d0a, le), u32(28, le), u32(0x12345678, le), new Uint8Array(16)), code: CaptureErrorCode.BAD_BYTE_ORDER_MAGIC, offset: 0 },
  { name: 'SHB major version 2', input: shb(le, 2), code: CaptureErrorCode.UNSUPPORTED_VERSION, offset: 0 },
  { name: 'SHB length lies (24 < 28)', input: shb(le, 1, { length: 24 }), code: CaptureErrorCode.BLOCK_TOO_SHORT, offset: 0 },
  { name: 'second SHB with a bad version', input: concat(HEAD, EPB, shb(le, 9)), code: CaptureErrorCode.UNSUPPORTED_VERSION, offset: 48 + EPB.length, packets: 1 },
  { name: 'zero block length (would loop forever)', resync: true, input: concat(HEAD, u32(0x0bad, le), u32(0, le), u32(0, le)), code: CaptureErrorCode.BLOCK_TOO_SHORT, offset: 48 },
  { name: 'block length 8 (< 12)', resync: true, input: concat(HEAD, u32(0x0bad, le), u32(8, le), u32(8, le)), code: CaptureErrorCode.BLOCK_TOO_SHORT, offset: 48 },
  { name: 'block length 13 (unaligned)', resync: true, input: concat(HEAD, u32(0x0bad, le), u32(13, le), new Uint8Array(9)), code: CaptureErrorCode.BLOCK_LENGTH_UNALIGNED, offset: 48 },
  { name: 'EPB length 24 (< 32)', resync: true, input: concat(HEAD, block(6, new Uint8Array(12), le)), code: CaptureErrorCode.BLOCK_TOO_SHORT, offset: 48 },
  { name: 'IDB length 16 (< 20)', resync: true, input: concat(SHB, block(1, new Uint8Array(4), le)), code: CaptureErrorCode.BLOCK_TOO_SHORT, offset: 28 },
  { name: 'unknown block length 0xfffffffc', resync: true, input: concat(HEAD, u32(0x0bad, le), u32(0xfffffffc, le)), code: CaptureErrorCode.BLOCK_TOO_LARGE, offset: 48 },
  { name: 'EPB length above the packet bound', resync: true, input: concat(HEAD, u32(6, le), u32(400_000, le)), code: CaptureErrorCode.BLOCK_TOO_LARGE, offset: 48 },
  { name: 'unknown block above maxBlockLength', resync: true, input: concat(HEAD, block(0x0bad, bytes(200), le)), code: CaptureErrorCode.BLOCK_TOO_LARGE, offset: 48, maxBlockLength: 128 },
  { name: 'trailing length differs', resync: true, input: concat(HEAD, EPB, epb(le, 0, 1n, bytes(4), 4, { trailer: 40 })), code: CaptureErrorCode.BLOCK_LENGTH_MISMATCH, offset: 48 + EPB.length, packets: 1 },
  { name: 'EPB caplen larger than its block', resync: true, input: concat(HEAD, epb(le, 0, 1n, bytes(8), 8, { capLen: 9 })), code: CaptureErrorCode.CAPLEN_EXCEEDS_BLOCK, offset: 48 },
  { name: 'EPB caplen 300000 (> 256 KiB)', resync: true, input: concat(HEAD, epb(le, 0, 1n, bytes(300_000), 300_000, { capLen: 300_000, length: 300_032 })), code: CaptureErrorCode.CAPLEN_TOO_LARGE, offset: 48 },
  { name: 'EPB before any IDB', input: concat(SHB, EPB), code: CaptureErrorCode.UNKNOWN_INTERFACE, offset: 28 },
  { name: 'EPB names interface 1 of 1', input: concat(HEAD, epb(le, 1, 1n, bytes(4))), code: CaptureErrorCode.UNKNOWN_INTERFACE, offset: 48 },
  { name: 'interface of a previous section', input: concat(HEAD, shb(le), epb(le, 0, 1n, bytes(4))), code: CaptureErrorCode.UNKNOWN_INTERFACE, offset: 76 },
  { name: 'SPB before any IDB', input: concat(SHB, spb(le, 4, bytes(4))), code: CaptureErrorCode.UNKNOWN_INTERFACE, offset: 28 },
  { name: 'IDB option runs past the block', input: concat(SHB, block(1, concat(u16(1, le), u16(0, le), u32(0, le), u16(2, le), u16(200, le)), le)), code: CaptureErrorCode.OPTION_OVERRUN, offset: 28 },
  { name: 'if_tsresol 10^-19', input: concat(SHB, idb(le, 1, 0, [tsresol(19, le)])), code: CaptureErrorCode.UNSUPPORTED_TSRESOL, offset: 28 },
  { name: 'if_tsresol 2^-33', input: concat(SHB, idb(le, 1, 0, [tsresol(0x80 | 33, le)])), code: CaptureErrorCode.UNSUPPORTED_TSRESOL, offset: 28 },
  { name: 'if_tsresol of 2 bytes', input: concat(SHB, idb(le, 1, 0, [option(9, Uint8Array.of(6, 0), le)])), code: CaptureErrorCode.UNSUPPORTED_TSRESOL, offset: 28 },
  { name: 'if_tsoffset of 4 bytes', input: concat(SHB, idb(le, 1, 0, [option(14, u32(1, le), le)])), code: CaptureErrorCode.UNSUPPORTED_TSRESOL, offset: 28 },
  {
    name: 'more IDBs than MAX_INTERFACES',
    input: concat(SHB, ...Array.from({ length: MAX_INTERFACES + 1 }, () => IDB)),
    code: CaptureErrorCode.TOO_MANY_INTERFACES,
    offset: 28 + MAX_INTERFACES * 20,
  },
];

describe('malformed input table: exact code and offset, records before it delivered', () => {
  it.each(cases.filter((c) => c.resync !== true))('$name -> $code @ $offset', ({ input, code, offset, packets, maxBlockLength }) => {
    for (const chunkSize of [input.length || 1, 7]) {
      const out = parseBytes(input, chunkSize, maxBlockLength === undefined ? {} : { maxBlockLength });
      expect(out.status).toBe(CaptureParseStatus.Error);
      expect(out.error).toBeInstanceOf(CaptureError);
      expect(out.error).toMatchObject({ code, offset });
      expect(out.records).toHaveLength(packets ?? 0);
    }
  });

  it.each(cases.filter((c) => c.resync === true))('$name -> resync after $code @ $offset (no error)', ({ input, code, offset, packets, maxBlockLength }) => {
    for (const chunkSize of [input.length || 1, 7]) {
      const out = parseBytes(input, chunkSize, maxBlockLength === undefined ? {} : { maxBlockLength });
      expect(out.status).not.toBe(CaptureParseStatus.Error);
      expect(out.summary.firstDamage).toBeInstanceOf(CaptureError);
      expect(out.summary.firstDamage).toMatchObject({ code, offset });
      expect(out.summary.counters.resyncs).toBeGreaterThanOrEqual(1);
      expect(out.summary.counters.skippedBytes).toBe(input.length - offset);
      expect(out.records).toHaveLength(packets ?? 0);
    }
  });

  it('keeps the error sticky: more input after an error changes nothing', () => {
    const parser = new CaptureParser();
    expect(parser.feed(new TextEncoder().encode('nonsense'), () => undefined)).toBe(CaptureParseStatus.Error);
    expect(parser.feed(pcapHeader(), () => undefined)).toBe(CaptureParseStatus.Error);
    expect(parser.finish()).toBe(CaptureParseStatus.Error);
    expect(parser.error?.code).toBe(CaptureErrorCode.BAD_MAGIC);
  });
});

/** Expected outcome of cutting `file` after `cut` bytes, given its unit boundaries. */
function expectedCut(cut: number, headerEnd: number, units: number[], pcapNg: boolean): { code: Code | null; offset: number; packets: number } {
  if (cut < headerEnd) return { code: CaptureErrorCode.TRUNCATED_FILE_HEADER, offset: 0, packets: 0 };
  let start = headerEnd;
  let packets = 0;
  for (const len of units) {
    if (cut === start) return { code: null, offset: 0, packets };
    if (cut < start + len) {
      const code = pcapNg ? CaptureErrorCode.TRUNCATED_BLOCK : cut - start < 16 ? CaptureErrorCode.TRUNCATED_RECORD_HEADER : CaptureErrorCode.TRUNCATED_RECORD_DATA;
      return { code, offset: start, packets };
    }
    start += len;
    packets++;
  }
  return { code: null, offset: 0, packets };
}

describe('truncation at every byte (every header boundary included)', () => {
  it('classic pcap: file header is an error, later cuts are reported truncations after the complete records', () => {
    const recs = [pcapRecord(le, 1, 1, bytes(5)), pcapRecord(le, 2, 2, bytes(0)), pcapRecord(le, 3, 3, bytes(21))];
    const file = concat(pcapHeader(), ...recs);
    for (let cut = 0; cut <= file.length; cut++) {
      const want = expectedCut(cut, 24, recs.map((r) => r.length), false);
      const out = parseBytes(file.subarray(0, cut), 5);
      expect(out.records.length, `cut ${cut}`).toBe(want.packets);
      if (want.code === CaptureErrorCode.TRUNCATED_FILE_HEADER) {
        expect(out.status).toBe(CaptureParseStatus.Error);
        expect(out.error).toMatchObject({ code: want.code, offset: 0 });
      } else if (want.code === null) {
        expect(out.status, `cut ${cut}`).toBe(CaptureParseStatus.End);
      } else {
        expect(out.status, `cut ${cut}`).toBe(CaptureParseStatus.Truncated);
        expect(out.truncation, `cut ${cut}`).toMatchObject({ code: want.code, offset: want.offset });
        expect(out.summary.truncation).toBe(out.truncation);
      }
    }
  });

  it('pcapng: a cut SHB is an error, a cut later block a TRUNCATED_BLOCK at its start', () => {
    const units = [IDB, EPB, block(0x0bad, bytes(3), le), spb(le, 9, bytes(9)), EPB];
    const file = concat(SHB, ...units);
    const packetUnits = new Set([1, 3, 4]);
    for (let cut = 0; cut <= file.length; cut++) {
      const want = expectedCut(cut, 28, units.map((u) => u.length), true);
      const packets = units.slice(0, want.packets).filter((_, i) => packetUnits.has(i)).length;
      const out = parseBytes(file.subarray(0, cut), 3);
      expect(out.records.length, `cut ${cut}`).toBe(packets);
      if (want.code === CaptureErrorCode.TRUNCATED_FILE_HEADER) {
        expect(out.error).toMatchObject({ code: want.code, offset: 0 });
      } else if (want.code === null) {
        expect(out.status, `cut ${cut}`).toBe(CaptureParseStatus.End);
      } else {
        expect(out.truncation, `cut ${cut}`).toMatchObject({ code: want.code, offset: want.offset });
      }
    }
  });
});
