/**
 * Daily RANGE partitions, planned as pure functions so the rules are testable without a database.
 *
 * Every partitioned table is `PARTITION BY RANGE (TO_DAYS(<time column>))`. A partition is named
 * after the last day it covers (`p20261129` holds rows with `TO_DAYS(start) < TO_DAYS('2026-11-30')`,
 * and everything above the previous partition's bound), plus two catch-alls that make an insert
 * for a not-yet-created day impossible to fail: `p_old` (lowest, below the first daily partition)
 * and `pmax` (`VALUES LESS THAN MAXVALUE`). A day with traffic gets its own partition before its
 * first insert; only partitions spanning several days (the catch-alls, and gaps left for days
 * without traffic) are ever split, and those are empty or nearly so, so creating a partition never
 * copies a day's worth of rows. Retention drops a
 * partition once its upper bound is at or below the cutoff day, which is exact whether it covers one
 * day or a gap of several: every row in it is older than the bound.
 *
 * Day numbers are MariaDB `TO_DAYS()` values (days since year 0).
 *
 * @packageDocumentation
 */

/** `TO_DAYS('1970-01-01')` in MariaDB: the offset between Unix days and `TO_DAYS` days. */
export const TO_DAYS_UNIX_EPOCH = 719_528;

/** Name of the catch-all partition below every daily partition. */
export const PARTITION_OLD = 'p_old';
/** Name of the `MAXVALUE` catch-all partition. */
export const PARTITION_MAX = 'pmax';

const MS_PER_DAY = 86_400_000;

/** One RANGE partition: `bound` is the exclusive upper `TO_DAYS` value, `null` for `MAXVALUE`. */
export interface PartitionBound {
  /** Partition name. */
  name: string;
  /** Exclusive upper bound in `TO_DAYS` days; `null` means `MAXVALUE`. */
  bound: number | null;
}

/** A `REORGANIZE PARTITION <from> INTO (<into>)` step. */
export interface PartitionSplit {
  /** The partition to reorganise (always a catch-all). */
  from: string;
  /** The partitions replacing it, in ascending order, covering exactly the same range. */
  into: PartitionBound[];
}

/** `TO_DAYS` day number of a UTC `YYYY-MM-DD...` or ISO timestamp string (first 10 chars used). */
export function toDaysOfIso(iso: string): number {
  return TO_DAYS_UNIX_EPOCH + Math.floor(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / MS_PER_DAY);
}

/** `TO_DAYS` day number of a JS time in ms. */
export function toDaysOfMs(ms: number): number {
  return TO_DAYS_UNIX_EPOCH + Math.floor(ms / MS_PER_DAY);
}

/** `YYYY-MM-DD` of a `TO_DAYS` day number. */
export function isoDateOfDays(days: number): string {
  return new Date((days - TO_DAYS_UNIX_EPOCH) * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Name of the daily partition whose last covered day is `day` (`p20261129`). */
export function dailyPartitionName(day: number): string {
  return `p${isoDateOfDays(day).replaceAll('-', '')}`;
}

/** Whether partition `p` covers exactly one day, `day`, given the sorted partition list. */
export function hasOwnPartition(parts: readonly PartitionBound[], day: number): boolean {
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.bound !== null && day < p.bound) {
      const lower = i === 0 ? null : parts[i - 1]!.bound;
      return p.bound === day + 1 && lower === day;
    }
  }
  return false;
}

/**
 * Plans the split that gives `day` a partition of its own, or `null` when it already has one.
 *
 * - `day` in `pmax`: split `pmax` into daily partitions from the current top up to
 *   `max(day, today) + aheadDays`; a gap between the old top and `day` becomes one partition.
 * - `day` in `p_old` or in a multi-day gap partition `[lo, hi)`: split it into `[lo, day)`,
 *   `[day, day+1)`, `[day+1, hi)` (empty pieces left out).
 *
 * @param parts current partitions in ascending bound order (`pmax` last)
 */
export function planPartitionSplit(
  parts: readonly PartitionBound[],
  day: number,
  today: number,
  aheadDays: number,
): PartitionSplit | null {
  const index = parts.findIndex((p) => p.bound === null || day < p.bound);
  const target = parts[index];
  if (target === undefined) return null;
  if (hasOwnPartition(parts, day)) return null;
  const lower = index === 0 ? null : parts[index - 1]!.bound;
  if (target.bound === null) {
    const into: PartitionBound[] = [];
    const top = Math.max(day, today) + aheadDays;
    let from = lower ?? day;
    if (lower === null) into.push({ name: PARTITION_OLD, bound: day });
    if (from < day) {
      // Days between the old top and `day` had no rows: one partition spans them.
      into.push({ name: dailyPartitionName(day - 1), bound: day });
      from = day;
    }
    for (let d = from; d <= top; d++) into.push({ name: dailyPartitionName(d), bound: d + 1 });
    into.push({ name: PARTITION_MAX, bound: null });
    return { from: target.name, into };
  }
  // A partition covering several days is a catch-all or a gap left for days without traffic; it
  // holds (almost) no rows, so splitting it is cheap.
  const into: PartitionBound[] = [];
  if (lower === null) into.push({ name: PARTITION_OLD, bound: day });
  else if (lower < day) into.push({ name: dailyPartitionName(day - 1), bound: day });
  into.push({ name: dailyPartitionName(day), bound: day + 1 });
  if (day + 1 < target.bound) into.push({ name: dailyPartitionName(target.bound - 1), bound: target.bound });
  return { from: target.name, into };
}

/**
 * Plans the split of `pmax` that keeps daily partitions ready through `today + aheadDays`, or
 * `null` when they already exist. Creating them ahead keeps `pmax` empty, so splitting it is cheap.
 */
export function planAhead(parts: readonly PartitionBound[], today: number, aheadDays: number): PartitionSplit | null {
  const top = parts.length >= 2 ? parts[parts.length - 2]!.bound : null;
  if (top !== null && top > today + aheadDays) return null;
  return planPartitionSplit(parts, Math.max(top ?? today, today), today, aheadDays);
}

/** Renders a split as the partition list of `ALTER TABLE ... REORGANIZE PARTITION`. */
export function renderSplit(table: string, split: PartitionSplit): string {
  const defs = split.into
    .map((p) => `PARTITION ${p.name} VALUES LESS THAN (${p.bound === null ? 'MAXVALUE' : String(p.bound)})`)
    .join(', ');
  return `ALTER TABLE \`${table}\` REORGANIZE PARTITION ${split.from} INTO (${defs})`;
}

/**
 * Partitions retention may drop: daily partitions whose exclusive upper bound is at or below
 * `cutoffDay` (all their rows are older than the cutoff). Catch-alls are never dropped.
 */
export function partitionsToDrop(parts: readonly PartitionBound[], cutoffDay: number): string[] {
  return parts
    .filter((p) => p.name !== PARTITION_OLD && p.name !== PARTITION_MAX && p.bound !== null && p.bound <= cutoffDay)
    .map((p) => p.name);
}
