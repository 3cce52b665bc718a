import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { formatIpBytes, parseIpText, parseIpv4, parseIpv4Text, parseIpv6, parseIpv6Text } from '../src/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'));

describe('parseIpv4 / parseIpv6 over bytes', () => {
  it('reads dotted quads in place, inside a larger buffer', () => {
    const b = enc('c=IN IP4 192.0.2.10/127');
    expect(parseIpv4(b, 9, 19)).toBe(0xc000020a);
    expect(parseIpv4(enc('255.255.255.255'), 0, 15)).toBe(0xffffffff);
    for (const s of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-4', '01234.1.1.1', '1..2.3', '1.2.3.4 ']) {
      expect(parseIpv4(enc(s), 0, s.length)).toBe(-1);
    }
  });

  it('parses IPv6 text forms', () => {
    const out = new Uint16Array(8);
    const ok = (s: string): boolean => parseIpv6(enc(s), 0, s.length, out);
    expect(ok('::1') && out[7] === 1).toBe(true);
    expect(ok('::')).toBe(true);
    expect(ok('[2001:db8::ffff:192.0.2.1]') && out[6] === 0xc000 && out[7] === 0x0201).toBe(true);
    expect(ok('1:2:3:4:5:6:7:8') && out[0] === 1 && out[7] === 8).toBe(true);
    expect(ok('1::2::3')).toBe(false);
    expect(ok('1:2:3:4:5:6:7:8:9')).toBe(false);
    expect(ok('12345::')).toBe(false);
    expect(ok('fe80::1:')).toBe(false);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('throws RangeError for a range outside the buffer (programmer error)', () => {
    expect(() => parseIpv4(enc('1.2.3.4'), 0, 8)).toThrow(RangeError);
    expect(() => parseIpv6(enc('::1'), 2, 1, new Uint16Array(8))).toThrow(RangeError);
  });

  test.prop([fc.uint8Array({ maxLength: 60 })])('never throws on arbitrary bytes', (b) => {
    const out = new Uint16Array(8);
    expect(parseIpv4(b, 0, b.length)).toBeGreaterThanOrEqual(-1);
    expect(typeof parseIpv6(b, 0, b.length, out)).toBe('boolean');
  });
});

describe('parseIpv4Text / parseIpv6Text', () => {
  it('answer like the byte parsers, and refuse non-ASCII or overlong text', () => {
    expect(parseIpv4Text('10.0.0.1')).toBe(0x0a000001);
    expect(parseIpv4Text('10.0.0.1\u0100')).toBe(-1);
    const out = new Uint16Array(8);
    expect(parseIpv6Text('[::1]', out) && out[7] === 1).toBe(true);
    expect(parseIpv6Text('::\u00ff1', out)).toBe(false);
    expect(parseIpv6Text(`${'0:'.repeat(40)}1`, out)).toBe(false);
  });
});

describe('parseIpText / formatIpBytes', () => {
  it.each([
    ['10.0.0.1', '0a000001'],
    ['255.255.255.255', 'ffffffff'],
    ['::', '0'.repeat(32)],
    ['::1', `${'0'.repeat(31)}1`],
    ['2001:db8::5', '20010db8000000000000000000000005'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
    [`fe80::1%${'x'.repeat(100)}`, 'fe800000000000000000000000000001'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
  ])('%s', (text, bytes) => {
    expect(hex(parseIpText(text))).toBe(bytes);
  });

  it.each([
    '', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-4', '01234.1.1.1', '1::2::3', '1:2:3:4:5:6:7:8:9', ':::', 'g::1', '12345::',
    '1:2:3:4:5:6:7', '1.2.3.4::', '[::1]', '1.2.3.4%eth0',
  ])('rejects %j', (text) => {
    expect(parseIpText(text)).toBeNull();
  });

  it('formats RFC 5952 canonical text', () => {
    expect(formatIpBytes(Buffer.from('20010db8000000000001000000000001', 'hex'))).toBe('2001:db8::1:0:0:1');
    expect(formatIpBytes(Buffer.from('20010db8000100000000000000000000', 'hex'))).toBe('2001:db8:1::');
    expect(formatIpBytes(Buffer.from('20010db8000000010001000100010001', 'hex'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIpBytes(Uint8Array.of(192, 0, 2, 1))).toBe('192.0.2.1');
    expect(() => formatIpBytes(new Uint8Array(5))).toThrow(RangeError);
  });

  test.prop([fc.ipV4()])('IPv4 text round-trips', (ip) => {
    expect(formatIpBytes(parseIpText(ip)!)).toBe(ip);
  });

  test.prop([fc.ipV6()])('IPv6 formats like the WHATWG URL serializer (RFC 5952 compression)', (ip) => {
    const bytes = parseIpText(ip);
    expect(bytes).not.toBeNull();
    expect(`[${formatIpBytes(bytes!)}]`).toBe(new URL(`http://[${ip}]/`).hostname);
  });

  test.prop([fc.string({ maxLength: 50 })])('never throws on arbitrary text', (text) => {
    const bytes = parseIpText(text);
    if (bytes !== null) expect([4, 16]).toContain(bytes.length);
  });
});
