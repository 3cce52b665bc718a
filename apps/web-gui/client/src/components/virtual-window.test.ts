import { describe, expect, it } from 'vitest';
import { computeWindow, needsMore, scrollToReveal } from './virtual-window.ts';

describe('virtual window', () => {
  it('renders the visible rows plus the overscan, placed at the first one', () => {
    // 24 px rows, 480 px tall: rows 100..120 visible at scrollTop 2400.
    expect(computeWindow({ scrollTop: 2400, height: 480, rowHeight: 24, rowCount: 10_000, overscan: 5 })).toEqual({
      first: 95,
      end: 125,
      offset: 95 * 24,
      totalHeight: 240_000,
    });
  });

  it('counts a partly visible row at either edge', () => {
    const w = computeWindow({ scrollTop: 12, height: 48, rowHeight: 24, rowCount: 100, overscan: 0 });
    // rows 0 (half), 1, 2 (half)
    expect([w.first, w.end]).toEqual([0, 3]);
  });

  it('clamps at the ends of the list', () => {
    expect(computeWindow({ scrollTop: 0, height: 480, rowHeight: 24, rowCount: 3, overscan: 8 })).toEqual({ first: 0, end: 3, offset: 0, totalHeight: 72 });
    expect(computeWindow({ scrollTop: 0, height: 480, rowHeight: 24, rowCount: 0 })).toEqual({ first: 0, end: 0, offset: 0, totalHeight: 0 });
  });

  it('shows the last screen when the list shrank under a scrolled view', () => {
    const w = computeWindow({ scrollTop: 1_000_000, height: 240, rowHeight: 24, rowCount: 50, overscan: 0 });
    expect([w.first, w.end]).toEqual([40, 50]);
  });

  it('never renders more than a screen plus overscan, however long the list', () => {
    const w = computeWindow({ scrollTop: 5_000_000, height: 768, rowHeight: 24, rowCount: 1_000_000, overscan: 8 });
    expect(w.end - w.first).toBeLessThanOrEqual(768 / 24 + 1 + 16);
    expect(w.offset).toBe(w.first * 24);
  });

  it('refuses a row height of zero (a programmer error, it would divide by zero)', () => {
    expect(() => computeWindow({ scrollTop: 0, height: 10, rowHeight: 0, rowCount: 1 })).toThrow(RangeError);
  });
});

describe('infinite scroll trigger', () => {
  it('asks for more within the margin of the last loaded row only', () => {
    const view = { height: 480, rowHeight: 24, rowCount: 200 };
    expect(needsMore({ ...view, scrollTop: 0 }, 40)).toBe(false);
    // last visible row 160 + 40 >= 200
    expect(needsMore({ ...view, scrollTop: 160 * 24 - 480 }, 40)).toBe(true);
    expect(needsMore({ ...view, scrollTop: 159 * 24 - 480 }, 40)).toBe(false);
    expect(needsMore({ ...view, rowCount: 0, scrollTop: 0 }, 40)).toBe(true);
  });
});

describe('scroll to reveal', () => {
  it('moves only when the row would leave the view, by as little as needed', () => {
    expect(scrollToReveal(5, 0, 240, 24)).toBe(0);
    expect(scrollToReveal(10, 0, 240, 24)).toBe(24);
    expect(scrollToReveal(2, 240, 240, 24)).toBe(48);
    expect(scrollToReveal(12, 240, 240, 24)).toBe(240);
  });

  it('centres a row a screen or more away', () => {
    // 10 rows to a screen; row 100 from the top: centred (rows 95..105 around it).
    expect(scrollToReveal(100, 0, 240, 24)).toBe(100 * 24 - 108);
    expect(scrollToReveal(3, 2400, 240, 24)).toBe(0);
    expect(scrollToReveal(50, 2400, 240, 24)).toBe(50 * 24 - 108);
    // Just past one screen below: still the minimal step.
    expect(scrollToReveal(15, 0, 240, 24)).toBe(16 * 24 - 240);
  });
});
