import { describe, expect, it } from 'vitest';
import { formatDuration, formatOffset, formatTime, isoToMicros } from './format.ts';
import { mosBand } from './quality.ts';

describe('format', () => {
  it('keeps the microseconds of the string (a Date would round them away)', () => {
    expect(formatTime('2026-11-29T17:00:00.123456Z', 6)).toBe('2026-11-29 17:00:00.123456');
    expect(formatTime('2026-11-29T17:00:00.123456Z')).toBe('2026-11-29 17:00:00.123');
    expect(isoToMicros('1970-01-01T00:00:01.000001Z')).toBe(1_000_001);
    expect(formatOffset('2026-11-29T17:00:00.999999Z', '2026-11-29T17:00:01.000500Z')).toBe('+0.001 s');
  });
  it('writes durations as h:mm:ss', () => {
    expect(formatDuration(7)).toBe('0:07');
    expect(formatDuration(3723.4)).toBe('1:02:03');
    expect(formatDuration(null)).toBe('');
  });
  it('puts MOS in the G.107 bands', () => {
    expect([4.4, 4.0, 3.99, 3.6, 3.1, 2.6, 2.59, null].map(mosBand)).toEqual(['good', 'good', 'fair', 'fair', 'mid', 'poor', 'bad', 'none']);
  });
});
