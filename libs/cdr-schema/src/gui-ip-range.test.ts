import { describe, expect, it } from 'vitest';
import { parseIpRange } from './gui-ip-range.js';

const hex = (text: string): { lo: string; hi: string } | null => {
  const r = parseIpRange(text);
  return r === null ? null : { lo: r.lo.toString('hex'), hi: r.hi.toString('hex') };
};

describe('parseIpRange', () => {
  it.each([
    ['10.0.0.1', '0a000001', '0a000001'],
    ['10.1.0.0/16', '0a010000', '0a01ffff'],
    ['10.1.2.3/16', '0a010000', '0a01ffff'], // host bits below the prefix are ignored
    ['192.168.1.128/25', 'c0a80180', 'c0a801ff'],
    ['10.0.0.7/31', '0a000006', '0a000007'],
    ['0.0.0.0/0', '00000000', 'ffffffff'],
    ['1.2.3.4/32', '01020304', '01020304'],
    ['2001:db8::1', '20010db8000000000000000000000001', '20010db8000000000000000000000001'],
    ['2001:db8::/32', '20010db8000000000000000000000000', '20010db8ffffffffffffffffffffffff'],
    ['2001:db8:abcd:12::/60', '20010db8abcd00100000000000000000', '20010db8abcd001fffffffffffffffff'],
    ['::/0', '00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff'],
  ])('%s -> %s..%s', (text, lo, hi) => {
    expect(hex(text)).toEqual({ lo, hi });
  });

  it.each(['', '10.0.0', '10.0.0.256', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/1a', '10.0.0.0/0008', '2001:db8::/129', 'fe80::1%eth0', 'pbx.example.com', '10.0.0.0/8/8'])(
    'refuses %j',
    (text) => {
      expect(parseIpRange(text)).toBeNull();
    },
  );
});
