import { describe, expect, it } from 'vitest';
import { LinkType, PcapResolution, serializePcapGlobalHeader, serializePcapRecordHeader } from '../src/index.js';

describe('pure serializers', () => {
  it('write the exact little-endian bytes of the pcap draft', () => {
    const out = new Uint8Array(44).fill(0xee);
    expect(serializePcapGlobalHeader(out, 2, LinkType.LinuxSll, 262144, PcapResolution.MICROSECONDS)).toBe(24);
    expect(Buffer.from(out.subarray(0, 26)).toString('hex')).toBe('eeee' + 'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '71000000');
    serializePcapGlobalHeader(out, 0, 1, 65535, PcapResolution.NANOSECONDS);
    expect(Buffer.from(out.subarray(0, 4)).toString('hex')).toBe('4d3cb2a1');
    expect(serializePcapRecordHeader(out, 24, 0x01020304, 123_456_789, 60, 1514, PcapResolution.MICROSECONDS)).toBe(16);
    expect(Buffer.from(out.subarray(24, 40)).toString('hex')).toBe('04030201' + '40e20100' + '3c000000' + 'ea050000');
    serializePcapRecordHeader(out, 24, 0, 123_456_789, 0, 0, PcapResolution.NANOSECONDS);
    expect(Buffer.from(out.subarray(28, 32)).toString('hex')).toBe('15cd5b07');
    expect(Buffer.from(out.subarray(40, 44)).toString('hex')).toBe('eeeeeeee'); // nothing past the header
  });

  it.each([
    ['no room', () => serializePcapGlobalHeader(new Uint8Array(23), 0, 1, 100, 'us')],
    ['offset past the end', () => serializePcapRecordHeader(new Uint8Array(20), 5, 0, 0, 0, 0, 'us')],
    ['link type > 65535', () => serializePcapGlobalHeader(new Uint8Array(24), 0, 70000, 100, 'us')],
    ['snaplen 0', () => serializePcapGlobalHeader(new Uint8Array(24), 0, 1, 0, 'us')],
    ['tsNsec 1e9', () => serializePcapRecordHeader(new Uint8Array(16), 0, 0, 1e9, 0, 0, 'ns')],
    ['tsSec 2^32', () => serializePcapRecordHeader(new Uint8Array(16), 0, 2 ** 32, 0, 0, 0, 'ns')],
    ['negative capLen', () => serializePcapRecordHeader(new Uint8Array(16), 0, 0, 0, -1, 0, 'ns')],
  ])('throw RangeError on programmer error: %s', (_name, call) => {
    expect(call).toThrow(RangeError);
  });
});
