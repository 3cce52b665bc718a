import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import type { PartitionBound, PartitionSplit } from './partition-plan.js';
import {
  PARTITION_MAX,
  PARTITION_OLD,
  dailyPartitionName,
  hasOwnPartition,
  isoDateOfDays,
  partitionsToDrop,
  planAhead,
  planPartitionSplit,
  renderSplit,
  toDaysOfIso,
} from './partition-plan.js';

const D = toDaysOfIso('2026-11-29');
const apply = (parts: PartitionBound[], split: PartitionSplit | null): PartitionBound[] => {
  if (split === null) return parts;
  const i = parts.findIndex((p) => p.name === split.from);
  return [...parts.slice(0, i), ...split.into, ...parts.slice(i + 1)];
};
const names = (parts: PartitionBound[]) => parts.map((p) => p.name);

describe('partition day numbers', () => {
  it('matches MariaDB TO_DAYS', () => {
    // SELECT TO_DAYS('2026-11-29') on MariaDB 10.11 answers 740314.
    expect(D).toBe(740_314);
    expect(toDaysOfIso('1970-01-01T00:00:00.000000Z')).toBe(719_528);
    expect(isoDateOfDays(D)).toBe('2026-11-29');
    expect(dailyPartitionName(D)).toBe('p20261129');
  });
});

describe('planAhead / planPartitionSplit', () => {
  it('splits a fresh pmax into p_old, today..today+ahead, pmax', () => {
    const parts = apply([{ name: PARTITION_MAX, bound: null }], planAhead([{ name: PARTITION_MAX, bound: null }], D, 2));
    expect(parts).toEqual([
      { name: PARTITION_OLD, bound: D },
      { name: 'p20261129', bound: D + 1 },
      { name: 'p20261130', bound: D + 2 },
      { name: 'p20261201', bound: D + 3 },
      { name: PARTITION_MAX, bound: null },
    ]);
    expect(planAhead(parts, D, 2)).toBeNull();
    expect(planPartitionSplit(parts, D + 1, D, 2)).toBeNull();
  });

  it('extends ahead from the old top, leaving one gap partition for days without traffic', () => {
    let parts = apply([{ name: PARTITION_MAX, bound: null }], planAhead([{ name: PARTITION_MAX, bound: null }], D, 1));
    parts = apply(parts, planAhead(parts, D + 10, 1));
    expect(names(parts)).toEqual([PARTITION_OLD, 'p20261129', 'p20261130', 'p20261208', 'p20261209', 'p20261210', PARTITION_MAX]);
    expect(parts[3]).toEqual({ name: 'p20261208', bound: D + 10 }); // covers Dec 1..8
    // A late call from Dec 4 splits the (empty) gap.
    parts = apply(parts, planPartitionSplit(parts, D + 5, D + 10, 1));
    expect(names(parts)).toEqual([PARTITION_OLD, 'p20261129', 'p20261130', 'p20261203', 'p20261204', 'p20261208', 'p20261209', 'p20261210', PARTITION_MAX]);
    expect(hasOwnPartition(parts, D + 5)).toBe(true);
    expect(hasOwnPartition(parts, D + 6)).toBe(false);
  });

  it('splits p_old for a past day and keeps p_old lowest', () => {
    let parts = apply([{ name: PARTITION_MAX, bound: null }], planAhead([{ name: PARTITION_MAX, bound: null }], D, 0));
    parts = apply(parts, planPartitionSplit(parts, D - 30, D, 0));
    expect(parts).toEqual([
      { name: PARTITION_OLD, bound: D - 30 },
      { name: dailyPartitionName(D - 30), bound: D - 29 },
      { name: dailyPartitionName(D - 1), bound: D },
      { name: 'p20261129', bound: D + 1 },
      { name: PARTITION_MAX, bound: null },
    ]);
  });

  it('renders REORGANIZE PARTITION', () => {
    const split = planAhead([{ name: PARTITION_MAX, bound: null }], D, 0)!;
    expect(renderSplit('cdr', split)).toBe(
      `ALTER TABLE \`cdr\` REORGANIZE PARTITION pmax INTO (PARTITION p_old VALUES LESS THAN (${D}), PARTITION p20261129 VALUES LESS THAN (${D + 1}), PARTITION pmax VALUES LESS THAN (MAXVALUE))`,
    );
  });

  it('retention drops partitions whose bound is at or below the cutoff, never the catch-alls', () => {
    const parts: PartitionBound[] = [
      { name: PARTITION_OLD, bound: D - 5 },
      { name: 'a', bound: D - 4 },
      { name: 'b', bound: D - 1 },
      { name: 'c', bound: D },
      { name: PARTITION_MAX, bound: null },
    ];
    expect(partitionsToDrop(parts, D - 1)).toEqual(['a', 'b']);
    expect(partitionsToDrop(parts, D - 10)).toEqual([]);
  });

  test.prop([fc.array(fc.integer({ min: -400, max: 400 }), { maxLength: 40 }), fc.integer({ min: 0, max: 10 })])(
    'any sequence of days keeps bounds strictly increasing, pmax last, and gives each day its own partition',
    (offsets, ahead) => {
      let parts: PartitionBound[] = [{ name: PARTITION_MAX, bound: null }];
      parts = apply(parts, planAhead(parts, D, ahead));
      for (const off of offsets) {
        parts = apply(parts, planPartitionSplit(parts, D + off, D, ahead));
        expect(hasOwnPartition(parts, D + off)).toBe(true);
      }
      for (let i = 1; i < parts.length - 1; i++) expect(parts[i]!.bound!).toBeGreaterThan(parts[i - 1]!.bound!);
      expect(parts.at(-1)).toEqual({ name: PARTITION_MAX, bound: null });
      expect(parts[0]!.name).toBe(PARTITION_OLD);
      expect(new Set(names(parts)).size).toBe(parts.length);
      for (const off of offsets) expect(planPartitionSplit(parts, D + off, D, ahead)).toBeNull();
    },
  );
});
