import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { MAX_PLACEHOLDERS, PreparedInsert, chunkSizes } from './prepared-insert.js';

describe('chunkSizes', () => {
  it.each([
    [0, 500, []],
    [500, 500, [500]],
    [1000, 500, [500, 500]],
    [499, 500, [256, 128, 64, 32, 16, 2, 1]],
    [1003, 500, [500, 500, 2, 1]],
    [7, 4, [4, 2, 1]],
  ])('%i rows, at most %i per statement -> %j', (rows, max, expected) => {
    expect(chunkSizes(rows, max)).toEqual(expected);
  });

  it.each([
    [-1, 10],
    [1.5, 10],
    [10, 0],
    [10, 2.5],
  ])('rejects rows %d / maxRows %d', (rows, max) => {
    expect(() => chunkSizes(rows, max)).toThrow(RangeError);
  });

  test.prop([fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 1, max: 5000 })])(
    'sums to the row count, never exceeds maxRows, and uses few statements',
    (rows, max) => {
      const sizes = chunkSizes(rows, max);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(rows);
      expect(sizes.every((size) => size > 0 && size <= max)).toBe(true);
      expect(sizes.length).toBeLessThanOrEqual(Math.floor(rows / max) + Math.floor(Math.log2(max)) + 1);
    },
  );

  test.prop([fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 1000 })])(
    'whatever the batch sizes, one table needs at most log2(maxRows) + 2 statement shapes',
    (batches, max) => {
      const shapes = new Set(batches.flatMap((n) => chunkSizes(n, max)));
      expect(shapes.size).toBeLessThanOrEqual(Math.floor(Math.log2(max)) + 2);
    },
  );
});

describe('PreparedInsert', () => {
  it('builds one tuple of placeholders per row and caches the text', () => {
    const insert = new PreparedInsert('INSERT INTO t (a,b) VALUES', 2, 'ON DUPLICATE KEY UPDATE a = a', 10);
    expect(insert.sql(2)).toBe('INSERT INTO t (a,b) VALUES (?,?),(?,?) ON DUPLICATE KEY UPDATE a = a');
    expect(insert.sql(2)).toBe(insert.sql(2));
  });

  it('cuts rows into statements with flat values in row order', () => {
    const insert = new PreparedInsert('INSERT INTO t (a,b) VALUES', 2, '', 2);
    const rows = [[1, 'a'], [2, 'b'], [3, 'c']];
    const statements = [...insert.statements(rows)];
    expect(statements.map(([sql, values]) => [(sql.match(/\?/g) ?? []).length, values])).toEqual([
      [4, [1, 'a', 2, 'b']],
      [2, [3, 'c']],
    ]);
    expect([...insert.statements([])]).toEqual([]);
  });

  it('cuts flat values into the same statement shapes, passing a one-statement batch on uncopied', () => {
    const insert = new PreparedInsert('INSERT INTO t (a,b) VALUES', 2, '', 4);
    const full = [1, 'a', 2, 'b', 3, 'c', 4, 'd'];
    const [only, ...rest] = [...insert.flatStatements(full)];
    expect(rest).toEqual([]);
    expect(only?.[1]).toBe(full);
    expect(only?.[0]).toBe(insert.sql(4));
    // 7 rows = 4 + 2 + 1, exactly as statements() cuts the row arrays.
    const rows = Array.from({ length: 7 }, (_, i) => [i, `r${i}`]);
    const flat = [...insert.flatStatements(rows.flat())];
    expect(flat).toEqual([...insert.statements(rows)]);
    expect(flat.map(([, values]) => values.length)).toEqual([8, 4, 2]);
    expect([...insert.flatStatements([])]).toEqual([]);
    expect(() => [...insert.flatStatements([1, 2, 3])]).toThrow(/not a whole number of 2-value rows/);
  });

  it('lowers maxRows so a statement stays within the placeholder limit', () => {
    const insert = new PreparedInsert('INSERT INTO t VALUES', 53, '', 5000);
    expect(insert.maxRows).toBe(Math.floor(MAX_PLACEHOLDERS / 53));
    expect(insert.maxRows * 53).toBeLessThanOrEqual(MAX_PLACEHOLDERS);
  });

  it('refuses a row of the wrong width and a zero column count', () => {
    const insert = new PreparedInsert('INSERT INTO t (a,b) VALUES', 2, '', 10);
    expect(() => [...insert.statements([[1, 2], [3]])]).toThrow(/row 1 has 1 values, expected 2/);
    expect(() => new PreparedInsert('INSERT INTO t VALUES', 0, '', 10)).toThrow(RangeError);
  });
});
