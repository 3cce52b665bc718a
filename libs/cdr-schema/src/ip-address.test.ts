import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { formatIpBytes, parseIpText } from '@callscope/packet';
import { IpBytesCache, ipToBytes } from './ip-address.js';

// The address grammar itself is tested where it lives (@callscope/packet `parseIpText`); here only
// what the MySQL side adds: a Buffer for VARBINARY(16), and the memo.
describe('ipToBytes', () => {
  it.each([
    ['10.0.0.1', '0a000001'],
    ['2001:db8::5', '20010db8000000000000000000000005'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
  ])('%s is a Buffer of the column bytes', (text, hex) => {
    const bytes = ipToBytes(text);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes?.toString('hex')).toBe(hex);
  });

  test.prop([fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 50 }))])('holds the bytes of parseIpText, null alike', (text) => {
    const bytes = ipToBytes(text);
    const parsed = parseIpText(text);
    expect(bytes === null ? null : formatIpBytes(bytes)).toBe(parsed === null ? null : formatIpBytes(parsed));
  });
});

describe('IpBytesCache', () => {
  it('answers like ipToBytes, including null for a non-address, and stays bounded', () => {
    const cache = new IpBytesCache(3);
    for (const text of ['10.0.0.1', '2001:db8::5', 'nonsense', '10.0.0.1']) expect(cache.bytes(text)).toEqual(ipToBytes(text));
    expect(cache.size).toBe(3);
    expect(cache.bytes('192.0.2.1')?.toString('hex')).toBe('c0000201');
    expect(cache.size).toBe(1); // full: started over
    expect(() => new IpBytesCache(0)).toThrow(RangeError);
  });

  test.prop([fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), { maxLength: 50 })])('never disagrees with ipToBytes', (texts) => {
    const cache = new IpBytesCache(8);
    for (const text of [...texts, ...texts]) expect(cache.bytes(text)).toEqual(ipToBytes(text));
    expect(cache.size).toBeLessThanOrEqual(8);
  });
});
