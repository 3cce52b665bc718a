import { describe, expect, it } from 'vitest';
import { isoFromEpoch, isoToMicros, parseCapinfosTime } from '../src/index.js';

describe('isoFromEpoch', () => {
  it.each([
    [1795976015.973372, '2026-11-29T18:13:35.973372Z'],
    // Six decimals that float multiplication would move: 1795976230.3403263 * 1e6 is not exact.
    [1795976230.3403263, '2026-11-29T18:17:10.340326Z'],
    [1795976230.3403265, '2026-11-29T18:17:10.340327Z'],
    [1795976015, '2026-11-29T18:13:35.000000Z'],
    // Rounding up into the next second carries.
    [1795976015.9999995, '2026-11-29T18:13:36.000000Z'],
  ])('%s -> %s', (epoch, iso) => {
    expect(isoFromEpoch(epoch)).toBe(iso);
  });
});

describe('isoToMicros', () => {
  it('reads the six decimals as integer microseconds and inverts isoFromEpoch', () => {
    expect(isoToMicros('2026-11-29T18:13:35.973372Z')).toBe(1795976015973372);
    expect(isoToMicros(isoFromEpoch(1795976230.3403263))).toBe(1795976230340326);
  });
});

describe('parseCapinfosTime', () => {
  it('reads microsecond and nanosecond fractions exactly (UTC)', () => {
    expect(parseCapinfosTime('2026-11-29 18:13:34.862604')).toEqual({ sec: 1795976014, nsec: 862604000 });
    expect(parseCapinfosTime('2026-11-29 18:17:24.194584589')).toEqual({ sec: 1795976244, nsec: 194584589 });
  });

  it.each(['2026-11-29T18:13:34.862604', '2026-11-29 18:13:34', '2026-11-29 18:13:34.1234567890', ''])('throws on %j', (text) => {
    expect(() => parseCapinfosTime(text)).toThrow(/not a capinfos time/);
  });
});
