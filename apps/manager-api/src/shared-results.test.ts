import { describe, expect, it } from 'vitest';
import { SharedResults } from './shared-results.js';

describe('SharedResults', () => {
  it('computes once for concurrent callers and within the TTL, again after a failure, and keeps at most maxEntries', async () => {
    const cache = new SharedResults<number>(60_000, 2);
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const compute = async () => {
      runs++;
      await gate;
      return 42;
    };
    const a = cache.get('k', compute);
    const b = cache.get('k', compute);
    release();
    expect(await Promise.all([a, b])).toEqual([42, 42]);
    expect(await cache.get('k', compute)).toBe(42);
    expect(runs).toBe(1);

    let fails = 0;
    const failing = () => {
      fails++;
      return Promise.reject(new Error('spool gone'));
    };
    await expect(cache.get('f', failing)).rejects.toThrow('spool gone');
    await expect(cache.get('f', failing)).rejects.toThrow('spool gone');
    expect(fails).toBe(2);

    await cache.get('x', () => Promise.resolve(1));
    await cache.get('y', () => Promise.resolve(2));
    // 'k' was the oldest of three: gone, computed again.
    await cache.get('k', compute);
    expect(runs).toBe(2);
  });

  it('computes again once the TTL has passed', async () => {
    const cache = new SharedResults<number>(1, 8);
    let runs = 0;
    await cache.get('k', () => Promise.resolve(++runs));
    await new Promise((r) => setTimeout(r, 10));
    expect(await cache.get('k', () => Promise.resolve(++runs))).toBe(2);
  });
});
