import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LinkType } from '@callscope/pcap-format';
import { corpusCaptures, corpusPath, parseCapinfosTime, readCaptureRecords, readCorpusRecords } from '../src/index.js';

const LINK_TYPE: Record<string, number> = { ether: LinkType.Ethernet, 'linux-sll': LinkType.LinuxSll };

describe('readCaptureRecords against capinfos (the truth files)', () => {
  it.each(corpusCaptures())('$name: packet count, link type, first and last time', ({ name, truth }) => {
    const records = readCorpusRecords(name);
    expect(records).toHaveLength(truth.capture.packets);
    expect(new Set(records.map((r) => r.linkType))).toEqual(new Set([LINK_TYPE[truth.capture.encapsulation]]));
    expect(records.every((r, i) => r.index === i && r.data.length === r.capLen)).toBe(true);
    const [first, last] = [records[0]!, records[records.length - 1]!];
    expect({ sec: first.tsSec, nsec: first.tsNsec }).toEqual(parseCapinfosTime(truth.capture.first_packet_time));
    expect({ sec: last.tsSec, nsec: last.tsNsec }).toEqual(parseCapinfosTime(truth.capture.last_packet_time));
  });

  it('gives each record its own object and its own copy of the bytes', () => {
    const bytes = new Uint8Array(readFileSync(corpusPath('cancel-487.pcap')));
    const records = readCaptureRecords(bytes);
    expect(new Set(records).size).toBe(records.length);
    const first = records[0]!;
    // The first record's bytes start right after the 24-byte global and 16-byte record headers.
    expect(first.fileOffset).toBe(24);
    expect(Buffer.from(first.data).equals(Buffer.from(bytes.subarray(40, 40 + first.capLen)))).toBe(true);
    expect(first.data.buffer).not.toBe(bytes.buffer);
    const before = first.data[0];
    bytes.fill(0);
    expect(first.data[0]).toBe(before);
    expect(records[1]!.data.buffer).not.toBe(first.data.buffer);
  });

  it('throws on bytes that are not a whole capture, naming the parser error', () => {
    const bytes = readFileSync(corpusPath('cancel-487.pcap'));
    expect(() => readCaptureRecords(bytes.subarray(0, bytes.length - 1))).toThrow(/after 15 records/);
    expect(() => readCaptureRecords(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24))).toThrow(/after 0 records/);
    expect(() => readCorpusRecords('missing.pcap')).toThrow(/missing\.pcap is not in/);
  });
});
