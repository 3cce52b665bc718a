import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, jitterBand, lossBand } from '../lib/quality.ts';
import { checkThresholdPair, parseThresholds, serializeThresholds } from './quality-thresholds.ts';

describe('quality thresholds', () => {
  it('reads back what it stored, and the bands follow them', () => {
    const t = { lossPct: { warn: 0.5, bad: 2 }, jitterMs: { warn: 20, bad: 40 } };
    const back = parseThresholds(serializeThresholds(t));
    expect(back).toEqual(t);
    expect(lossBand(1, back)).toBe('mid');
    expect(lossBand(1, DEFAULT_THRESHOLDS)).toBe('mid');
    expect(lossBand(0.7, back)).toBe('mid');
    expect(lossBand(0.7)).toBe('good');
    expect(jitterBand(45, back)).toBe('bad');
    expect(jitterBand(45)).toBe('mid');
  });

  it('falls back per pair, so one bad pair keeps the other', () => {
    expect(parseThresholds(null)).toBe(DEFAULT_THRESHOLDS);
    expect(parseThresholds('not json')).toBe(DEFAULT_THRESHOLDS);
    expect(parseThresholds('[1,2]')).toEqual(DEFAULT_THRESHOLDS);
    const mixed = parseThresholds('{"lossPct":{"warn":3,"bad":2},"jitterMs":{"warn":10,"bad":20}}');
    expect(mixed).toEqual({ lossPct: DEFAULT_THRESHOLDS.lossPct, jitterMs: { warn: 10, bad: 20 } });
    expect(parseThresholds('{"lossPct":{"warn":-1,"bad":2}}').lossPct).toEqual(DEFAULT_THRESHOLDS.lossPct);
    expect(parseThresholds('{"lossPct":{"warn":"1","bad":2}}').lossPct).toEqual(DEFAULT_THRESHOLDS.lossPct);
  });

  it('says why a typed pair is refused', () => {
    expect(checkThresholdPair(1, 5)).toBeNull();
    expect(checkThresholdPair(5, 5)).toBe('warn must be below bad');
    expect(checkThresholdPair(Number.NaN, 5)).toBe('numbers >= 0');
    expect(checkThresholdPair(-1, 5)).toBe('numbers >= 0');
  });
});
