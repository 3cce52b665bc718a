import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { formatIsoMicros, isIsoMicros } from './cdr-model.js';
import { toLogCallback } from './logger.js';

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

describe('toLogCallback', () => {
  it('routes levels to a pino-like object as (fields, msg)', () => {
    const seen: string[] = [];
    const log = toLogCallback({
      info: (f, m) => seen.push(`info ${m} ${JSON.stringify(f)}`),
      warn: (f, m) => seen.push(`warn ${m} ${JSON.stringify(f)}`),
      error: (f, m) => seen.push(`error ${m} ${JSON.stringify(f)}`),
    });
    log('debug', 'a', { x: 1 });
    log('warn', 'b', {});
    log('error', 'c', { y: 'z' });
    expect(seen).toEqual(['info a {"x":1}', 'warn b {}', 'error c {"y":"z"}']);
    expect(() => { toLogCallback(undefined)('error', 'ignored', {}); }).not.toThrow();
  });
});
