import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { formatIsoMicros, isIsoMicros, isoFromMicros, parseIsoMicros, toMicros } from './iso-micros.js';

describe('IsoMicros', () => {
  it('formats pcap seconds + microseconds exactly', () => {
    expect(formatIsoMicros(1_795_971_600, 123_456)).toBe('2026-11-29T17:00:00.123456Z');
    expect(formatIsoMicros(0, 7)).toBe('1970-01-01T00:00:00.000007Z');
    expect(() => formatIsoMicros(0, 1_000_000)).toThrow(RangeError);
    expect(() => formatIsoMicros(0, 1.5)).toThrow(RangeError);
  });

  it.each(['2026-11-29T17:00:00.123Z', '2026-11-29 17:00:00.123456', '2026-11-29T17:00:00.123456+00:00', ''])('rejects %j', (text) => {
    expect(isIsoMicros(text)).toBe(false);
  });

  test.prop([fc.integer({ min: 0, max: 4_102_444_799 }), fc.integer({ min: 0, max: 999_999 })])(
    'agrees with Date to the millisecond and keeps the microseconds',
    (sec, usec) => {
      const iso = formatIsoMicros(sec, usec);
      expect(isIsoMicros(iso)).toBe(true);
      expect(Date.parse(iso)).toBe(sec * 1000 + Math.floor(usec / 1000));
      expect(Number(iso.slice(20, 26))).toBe(usec);
    },
  );
});

describe('microsecond helpers', () => {
  it('rounds nanosecond capture times to the nearest microsecond', () => {
    expect(toMicros(10, 1_499)).toBe(10_000_001);
    expect(toMicros(10, 1_500)).toBe(10_000_002);
    expect(isoFromMicros(1_795_971_600_123_456)).toBe('2026-11-29T17:00:00.123456Z');
  });

  it.each([
    ['2026-11-29T17:00:00.123456Z', { sec: 1_795_971_600, usec: 123_456 }],
    ['2026-11-29T17:00:00.1Z', { sec: 1_795_971_600, usec: 100_000 }],
    ['2026-11-29T17:00:00Z', { sec: 1_795_971_600, usec: 0 }],
    ['2026-11-29T17:00:00.123456', null],
    ['2026-11-29T17:00:00.1234567Z', null],
    ['2026-13-29T17:00:00Z', null],
  ])('parses %j', (text, expected) => {
    expect(parseIsoMicros(text)).toEqual(expected);
  });

  test.prop([fc.integer({ min: 0, max: 4_102_444_799 }), fc.integer({ min: 0, max: 999_999 })])('parse inverts format', (sec, usec) => {
    expect(parseIsoMicros(formatIsoMicros(sec, usec))).toEqual({ sec, usec });
  });
});
