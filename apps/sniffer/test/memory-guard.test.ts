import { describe, expect, it } from 'vitest';
import { MemoryGuard } from '../src/daemon/memory-guard.js';

const MB = 1024 * 1024;

describe('memory guard', () => {
  it('rises at 85 % and 100 % of the limit at once, falls only under 70 %, and counts the seconds spent shedding', () => {
    let rss = 100 * MB;
    const levels: number[] = [];
    const guard = new MemoryGuard({ limitBytes: 1000 * MB, rss: () => rss, onLevel: (l) => levels.push(l) });
    const at = (mb: number) => {
      rss = mb * MB;
      guard.check();
      return guard.stats().level;
    };
    expect(at(100)).toBe(0);
    expect(at(849)).toBe(0);
    expect(at(850)).toBe(1);
    expect(at(1000)).toBe(2);
    expect(at(900)).toBe(2); // still near the limit: no flapping back to tracking new calls
    expect(at(800)).toBe(1);
    expect(at(710)).toBe(1);
    expect(at(699)).toBe(0);
    expect(at(1200)).toBe(2);
    expect(levels).toEqual([1, 2, 1, 0, 2]);
    expect(guard.stats()).toMatchObject({ rss_mb: 1200, limit_mb: 1000, level: 2, shed_seconds: 6 });
  });
});
