import { describe, expect, it } from 'vitest';
import { formatIp, formatIpv4, formatIpv6, ipv4PortKey, ipv6PortHash, ipv6PortKey } from '../src/index.js';

const words = (a: number, b: number, c: number, d: number) => Uint32Array.of(a, b, c, d);

describe('address helpers', () => {
  it('formats IPv4 numbers', () => {
    expect(formatIpv4(0xc000020a)).toBe('192.0.2.10');
    expect(formatIpv4(0)).toBe('0.0.0.0');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
  });

  it('formats IPv6 words per RFC 5952', () => {
    expect(formatIpv6(words(0, 0, 0, 0))).toBe('::');
    expect(formatIpv6(words(0, 0, 0, 1))).toBe('::1');
    expect(formatIpv6(words(0x20010db8, 0, 0, 0))).toBe('2001:db8::');
    expect(formatIpv6(words(0x20010db8, 0x000a0000, 0, 0x10))).toBe('2001:db8:a::10');
    // Longest run wins; a single zero group is not compressed; the first of equal runs wins.
    expect(formatIpv6(words(0x00010000, 0x00000002, 0, 0x00000003))).toBe('1:0:0:2::3');
    expect(formatIpv6(words(0x20010db8, 0x00010001, 0x00010001, 0x00000001))).toBe('2001:db8:1:1:1:1:0:1');
    expect(formatIpv6(words(0x00010000, 0x00000001, 0x00010000, 0x00000001))).toBe('1::1:1:0:0:1');
    expect(formatIpv6(words(0xfe800000, 0, 0x00ff, 0xfe0b0020))).toBe('fe80::ff:fe0b:20');
  });

  it('formats either family', () => {
    expect(formatIp(4, 0x7f000001, words(0, 0, 0, 0))).toBe('127.0.0.1');
    expect(formatIp(6, 0, words(0, 0, 0, 1))).toBe('::1');
    expect(formatIp(0, 0, words(0, 0, 0, 1))).toBe('');
  });

  it('builds exact IPv4 endpoint keys', () => {
    expect(ipv4PortKey(0xc000020a, 5060)).toBe(0xc000020a * 65536 + 5060);
    expect(ipv4PortKey(0xffffffff, 65535)).toBe(2 ** 48 - 1);
    expect(ipv4PortKey(1, 0)).not.toBe(ipv4PortKey(0, 65535));
  });

  it('builds IPv6 keys: exact strings and a numeric hash that separates near neighbours', () => {
    const a = words(0x20010db8, 0, 0, 1);
    const b = words(0x20010db8, 0, 0, 2);
    expect(ipv6PortKey(a, 5060)).toBe('20010db8000000000000000000000001/5060');
    expect(ipv6PortHash(a, 5060)).not.toBe(ipv6PortHash(b, 5060));
    expect(ipv6PortHash(a, 5060)).not.toBe(ipv6PortHash(a, 5061));
    expect(ipv6PortHash(a, 5060)).toBe(ipv6PortHash(Uint32Array.from(a), 5060));
    expect(Number.isSafeInteger(ipv6PortHash(b, 65535))).toBe(true);
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) seen.add(ipv6PortHash(words(0x20010db8, 0, i >> 4, i), 4000 + (i & 15)));
    expect(seen.size).toBe(5000);
  });
});
