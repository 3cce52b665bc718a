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
