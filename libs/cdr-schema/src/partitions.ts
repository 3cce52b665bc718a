/**
 * Daily partition maintenance against the database: read the current layout from
 * `information_schema.PARTITIONS`, split catch-alls ahead of time or on demand, and drop whole
 * partitions for retention. The rules live in partition-plan.ts.
 *
 * @packageDocumentation
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { isRetryableDbError, errorText } from './db-errors.js';
import type { LogCallback } from '@callscope/runtime';
import {
  PARTITION_OLD,
  isoDateOfDays,
  partitionsToDrop,
  planAhead,
  planPartitionSplit,
  renderSplit,
  toDaysOfMs,
} from './partition-plan.js';
import type { PartitionBound, PartitionSplit } from './partition-plan.js';
import { PARTITIONED_TABLES } from './schema-sql.js';

interface PartitionRow extends RowDataPacket {
  TABLE_NAME: string;
  PARTITION_NAME: string | null;
  PARTITION_DESCRIPTION: string | null;
}

/** Reads the RANGE partitions of every partitioned table, each list in ascending bound order. */
export async function readPartitions(pool: Pool): Promise<Map<string, PartitionBound[]>> {
  const [rows] = await pool.query<PartitionRow[]>(
    `SELECT TABLE_NAME, PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema.PARTITIONS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?) ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION`,
    [PARTITIONED_TABLES.map((t) => t.table)],
  );
  const out = new Map<string, PartitionBound[]>();
  for (const row of rows) {
    if (row.PARTITION_NAME === null) continue; // table exists but is not partitioned
    const list = out.get(row.TABLE_NAME) ?? [];
    const desc = row.PARTITION_DESCRIPTION;
    list.push({ name: row.PARTITION_NAME, bound: desc === null || desc === 'MAXVALUE' ? null : Number(desc) });
    out.set(row.TABLE_NAME, list);
  }
  return out;
}

/** Applies a split to an in-memory layout, mirroring what the ALTER did. */
function applySplit(parts: PartitionBound[], split: PartitionSplit): PartitionBound[] {
  const index = parts.findIndex((p) => p.name === split.from);
  return [...parts.slice(0, index), ...split.into, ...parts.slice(index + 1)];
}

/** Days further back than this from today get no partition of their own (see {@link EnsurePartitionsOptions.maxPastDays}). */
export const DEFAULT_MAX_PAST_DAYS = 400;

/** Options of {@link ensurePartitions}. */
export interface EnsurePartitionsOptions {
  /** Daily partitions kept ready beyond today (default 7). */
  aheadDays?: number;
  /** Days older than `today - maxPastDays` get no own partition and stay in `p_old` (default 400). */
  maxPastDays?: number;
  /** Clock in ms (default `Date.now`), for tests. */
  now?: () => number;
  /** Where failures to split are reported. */
  log?: LogCallback;
}

/**
 * Makes sure every partitioned table has daily partitions through `today + aheadDays` and one of
 * its own for each of `days` (`TO_DAYS` numbers) within `maxPastDays`. Returns the number of
 * `ALTER TABLE` statements run.
 *
 * A split that fails for a non-connection reason (another writer split first, a table not yet
 * created) is logged and skipped: inserts still succeed because the catch-all partitions cover
 * every date. Connection errors are rethrown so the caller can queue its batch.
 */
export async function ensurePartitions(
  pool: Pool,
  days: Iterable<number>,
  options: EnsurePartitionsOptions = {},
): Promise<number> {
  const aheadDays = options.aheadDays ?? 7;
  const today = toDaysOfMs((options.now ?? Date.now)());
  const oldest = today - (options.maxPastDays ?? DEFAULT_MAX_PAST_DAYS);
  const wanted = [...new Set(days)].filter((d) => d >= oldest).sort((a, b) => a - b);
  const layouts = await readPartitions(pool);
  let alters = 0;
  for (const { table } of PARTITIONED_TABLES) {
    let parts = layouts.get(table);
    if (parts === undefined) continue;
    const plans = [() => planAhead(parts!, today, aheadDays), ...wanted.map((d) => () => planPartitionSplit(parts!, d, today, aheadDays))];
    for (const plan of plans) {
      const split = plan();
      if (split === null) continue;
      try {
        await pool.query(renderSplit(table, split));
        alters++;
        parts = applySplit(parts, split);
      } catch (err) {
        if (isRetryableDbError(err)) throw err;
        parts = (await readPartitions(pool)).get(table) ?? parts;
        // Another writer (a second sensor, a parallel run) may have made the same split first:
        // then nothing is missing and nothing is said. Only a split still wanted is a failure.
        if (plan() === null) continue;
        options.log?.('warn', 'partition split failed; rows stay in the catch-all partition', {
          table,
          from: split.from,
          error: errorText(err),
        });
      }
    }
  }
  return alters;
}

/** What {@link applyRetention} removed. */
export interface RetentionResult {
  /** Partitions dropped, as `table.partition`. */
  dropped: string[];
  /** Rows deleted one by one from the `p_old` catch-all (dates too old for their own partition). */
  deletedRows: number;
  /** First kept day (`YYYY-MM-DD`): everything before it is gone. */
  cutoff: string;
}

/**
 * Retention: keeps today and the `keepDays` days before it, drops every daily partition entirely
 * older than that, and deletes older stragglers from the `p_old` catch-all.
 *
 * @throws RangeError if `keepDays` is not a non-negative integer.
 */
export async function applyRetention(
  pool: Pool,
  keepDays: number,
  options: { now?: () => number; log?: LogCallback } = {},
): Promise<RetentionResult> {
  if (!Number.isInteger(keepDays) || keepDays < 0) throw new RangeError(`keepDays must be an integer >= 0, got ${keepDays}`);
  const cutoffDay = toDaysOfMs((options.now ?? Date.now)()) - keepDays;
  const cutoff = isoDateOfDays(cutoffDay);
  const layouts = await readPartitions(pool);
  const dropped: string[] = [];
  let deletedRows = 0;
  for (const { table, column } of PARTITIONED_TABLES) {
    const parts = layouts.get(table) ?? [];
    const names = partitionsToDrop(parts, cutoffDay);
    if (names.length > 0) {
      await pool.query(`ALTER TABLE \`${table}\` DROP PARTITION ${names.join(', ')}`);
      dropped.push(...names.map((n) => `${table}.${n}`));
    }
    if (parts.some((p) => p.name === PARTITION_OLD)) {
      const [result] = await pool.query(
        `DELETE FROM \`${table}\` PARTITION (${PARTITION_OLD}) WHERE \`${column}\` < ?`,
        [cutoff],
      );
      deletedRows += (result as { affectedRows: number }).affectedRows;
    }
  }
  options.log?.('info', 'retention applied', { cutoff, dropped: dropped.length, deletedRows });
  return { dropped, deletedRows, cutoff };
}
