import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { NumericKeyIndex } from './endpoint-index.js';

test('behaves like a Map under any sequence of sets and deletes', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 2 ** 48 - 1 }).map((k) => k % 5000 === 0 ? k : k % 3000), fc.nat()), { maxLength: 3000 }), (ops) => {
      const index = new NumericKeyIndex<number>(4);
      const model = new Map<number, number>();
      for (const [isSet, key, value] of ops) {
        if (isSet) {
          index.set(key, value);
          model.set(key, value);
        } else expect(index.delete(key)).toBe(model.delete(key));
      }
      expect(index.size).toBe(model.size);
      for (const [k, v] of model) expect(index.get(k)).toBe(v);
      for (const [, key] of ops) expect(index.get(key)).toBe(model.get(key));
    }),
    { numRuns: 50 },
  );
});

test('keys near 2^48 (IPv4 255.255.255.255:65535) are exact', () => {
  const index = new NumericKeyIndex<string>();
  const big = 0xffffffff * 65536 + 65535;
  index.set(big, 'max');
  index.set(big - 1, 'max-1');
  expect([index.get(big), index.get(big - 1), index.get(big - 65536)]).toEqual(['max', 'max-1', undefined]);
  expect(() => {
    index.set(-5, 'x');
  }).toThrow(RangeError);
});

test('a slot hint, its tag and the stamp belong to the value: kept when it is stored again, reset for a new one, moved on rehash', () => {
  const index = new NumericKeyIndex<string, string>(4);
  const a = { v: 'a' };
  index.set(1000, a.v);
  let slot = index.find(1000);
  expect(index.tagAt(slot)).toBe(-1);
  expect(index.ownerAt(slot)).toBe(-1);
  index.setHintAt(slot, 'stream-a', 77, 12);
  index.setStampAt(slot, 1.5e15);
  index.set(1000, a.v); // same value again (re-INVITE): state kept
  expect([index.hintAt(slot), index.tagAt(slot), index.stampAt(slot), index.ownerAt(slot)]).toEqual(['stream-a', 77, 1.5e15, 12]);
  for (let k = 0; k < 200; k++) index.set(2 ** 40 + k, `x${k}`); // several rehashes
  slot = index.find(1000);
  expect([index.valueAt(slot), index.hintAt(slot), index.tagAt(slot), index.stampAt(slot), index.ownerAt(slot)]).toEqual(['a', 'stream-a', 77, 1.5e15, 12]);
  index.set(1000, 'b'); // another value under the key: fresh state
  expect([index.hintAt(index.find(1000)), index.tagAt(index.find(1000)), index.stampAt(index.find(1000)), index.ownerAt(index.find(1000))]).toEqual([null, -1, 0, -1]);
  index.setHintAt(index.find(1000), 'stream-b', 5);
  index.setHintAt(index.find(1000), null); // a hint cleared clears its tag and owner
  expect([index.tagAt(index.find(1000)), index.ownerAt(index.find(1000))]).toEqual([-1, -1]);
  index.setHintAt(index.find(1000), 'stream-b', 5, 3);
  index.delete(1000);
  expect(index.find(1000)).toBe(-1);
  index.set(1000, 'c'); // a deleted slot reused: no stale hint
  expect([index.hintAt(index.find(1000)), index.tagAt(index.find(1000)), index.ownerAt(index.find(1000))]).toEqual([null, -1, -1]);
  expect(index.find(7)).toBe(-1);
});

test('key, tag and owner share a slot without touching each other, at the extremes of their ranges', () => {
  const index = new NumericKeyIndex<number, string>(4);
  const keys = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 48 - 1, 0xc0a80101 * 65536 + 65535];
  for (const [i, k] of keys.entries()) {
    index.set(k, i);
    index.setHintAt(index.find(k), `h${i}`, i % 2 === 0 ? 2 ** 31 - 1 - i : i, i % 2 === 0 ? i : 2 ** 31 - 1 - i);
  }
  for (let k = 0; k < 100; k++) index.set(2 ** 40 + k, -k); // rehashes move them
  for (const [i, k] of keys.entries()) {
    const slot = index.find(k);
    expect([index.valueAt(slot), index.hintAt(slot), index.tagAt(slot), index.ownerAt(slot)]).toEqual([i, `h${i}`, i % 2 === 0 ? 2 ** 31 - 1 - i : i, i % 2 === 0 ? i : 2 ** 31 - 1 - i]);
  }
});
