import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { IpBytesCache, ipFromBytes, ipToBytes } from './ip-address.js';

describe('ipToBytes / ipFromBytes', () => {
  it.each([
    ['10.0.0.1', '0a000001'],
    ['255.255.255.255', 'ffffffff'],
    ['::', '0'.repeat(32)],
    ['::1', `${'0'.repeat(31)}1`],
    ['2001:db8::5', '20010db8000000000000000000000005'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
  ])('%s', (text, hex) => {
    expect(ipToBytes(text)?.toString('hex')).toBe(hex);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-4', '01234.1.1.1', '1::2::3', '1:2:3:4:5:6:7:8:9', ':::', 'g::1', '12345::', '1:2:3:4:5:6:7', '1.2.3.4::'])(
    'rejects %j',
    (text) => {
      expect(ipToBytes(text)).toBeNull();
    },
  );

  it('formats RFC 5952 canonical text', () => {
    expect(ipFromBytes(Buffer.from('20010db8000000000001000000000001', 'hex'))).toBe('2001:db8::1:0:0:1');
    expect(ipFromBytes(Buffer.from('20010db8000100000000000000000000', 'hex'))).toBe('2001:db8:1::');
    expect(ipFromBytes(Buffer.from('20010db8000000010001000100010001', 'hex'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(() => ipFromBytes(Buffer.alloc(5))).toThrow(RangeError);
  });

  test.prop([fc.ipV4()])('IPv4 text round-trips', (ip) => {
    expect(ipFromBytes(ipToBytes(ip)!)).toBe(ip);
  });

  test.prop([fc.ipV6()])('IPv6 formats like the WHATWG URL serializer (RFC 5952 compression)', (ip) => {
    const bytes = ipToBytes(ip);
    expect(bytes).not.toBeNull();
    expect(`[${ipFromBytes(bytes!)}]`).toBe(new URL(`http://[${ip}]/`).hostname);
  });

  test.prop([fc.string({ maxLength: 50 })])('never throws on arbitrary text', (text) => {
    const bytes = ipToBytes(text);
    if (bytes !== null) expect([4, 16]).toContain(bytes.length);
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
