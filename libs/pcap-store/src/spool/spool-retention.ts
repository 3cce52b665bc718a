import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogCallback } from '@callscope/runtime';
import { parseSpoolMinuteDir } from './spool-path.js';

/** Options of {@link SpoolRetention}, validated once by its constructor. */
export interface SpoolRetentionOptions {
  /** Spool root. */
  spoolDir: string;
  /** Keep the spool at most this many bytes (files' sizes); undefined = no size limit. */
  maxBytes?: number;
  /** Delete minutes that ended more than this many days ago; undefined = no age limit. */
  maxAgeDays?: number;
  /**
   * Minute directories (`YYYY-MM-DD/HH/MM`) with calls still open, never deleted even when they are
   * the oldest: pass `() => writer.openMinuteDirectories()`.
   */
  openMinutes?: () => Iterable<string>;
  /**
   * Clock in epoch milliseconds for the age limit (default `Date.now`). For captured data pass the
   * capture's clock (newest packet time seen): minutes are named by packet time, and measuring
   * them against the wall clock deletes everything of an older capture as soon as it is written.
   */
  now?: () => number;
  /** Optional log callback. */
  logger?: LogCallback;
}

/** Counters of a {@link SpoolRetention} since it was created. */
export interface SpoolRetentionStats {
  /** Completed `run()` calls. */
  runs: number;
  /** Files removed. */
  filesDeleted: number;
  /** Bytes of the files removed (sizes measured just before removal). */
  bytesDeleted: number;
  /** Minute directories removed. */
  minutesDeleted: number;
  /** Times an over-limit minute was kept because a call in it was still open. */
  skippedOpen: number;
  /** Failed removals (the minute is left for a later run). */
  errors: number;
  /** Running size account of the spool (seeded by one scan, then kept by writes and deletions). */
  totalBytes: number;
  /** Minute directories in the account. */
  minutes: number;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const TWO_DIGITS_RE = /^\d{2}$/;

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/**
 * Keeps a spool within a total size and a maximum age, deleting whole minute directories oldest
 * first (then their hour and day directories once empty).
 *
 * Incremental: the first {@link SpoolRetention.run} scans the tree once to seed a per-minute size
 * account; afterwards the writer reports what it adds ({@link SpoolRetention.recordWrite}, wired
 * to `SpoolWriter`'s `onBytesWritten`) and deletions subtract what they remove, so later runs
 * touch only the directories they delete. Minutes holding open calls are skipped.
 */
export class SpoolRetention {
  private readonly spoolDir: string;
  private readonly maxBytes: number;
  private readonly maxAgeSec: number;
  private readonly openMinutes: () => Iterable<string>;
  private readonly now: () => number;
  private readonly logger: LogCallback | undefined;
  private readonly minutes = new Map<string, number>();
  private totalBytes = 0;
  private seeded = false;
  private running: Promise<void> | null = null;
  private readonly counters = { runs: 0, filesDeleted: 0, bytesDeleted: 0, minutesDeleted: 0, skippedOpen: 0, errors: 0 };

  /** @param options - see {@link SpoolRetentionOptions}; bad values throw `RangeError` */
  constructor(options: SpoolRetentionOptions) {
    if (typeof options.spoolDir !== 'string' || options.spoolDir.length === 0) {
      throw new TypeError('SpoolRetention option spoolDir must be a non-empty string');
    }
    const { maxBytes, maxAgeDays } = options;
    if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
      throw new RangeError(`SpoolRetention option maxBytes must be a non-negative integer, got ${maxBytes}`);
    }
    if (maxAgeDays !== undefined && !(Number.isFinite(maxAgeDays) && maxAgeDays > 0)) {
      throw new RangeError(`SpoolRetention option maxAgeDays must be > 0, got ${maxAgeDays}`);
    }
    this.spoolDir = options.spoolDir;
    this.maxBytes = maxBytes ?? Number.POSITIVE_INFINITY;
    this.maxAgeSec = maxAgeDays === undefined ? Number.POSITIVE_INFINITY : maxAgeDays * 86_400;
    this.openMinutes = options.openMinutes ?? (() => []);
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
  }

  /**
   * Adds bytes the writer put in a minute directory to the account (cheap, synchronous).
   *
   * @param minuteDir - `YYYY-MM-DD/HH/MM`
   * @param bytes - bytes written
   */
  recordWrite(minuteDir: string, bytes: number): void {
    this.minutes.set(minuteDir, (this.minutes.get(minuteDir) ?? 0) + bytes);
    this.totalBytes += bytes;
  }

  /** Counters and the current size account. */
  stats(): SpoolRetentionStats {
    return { ...this.counters, totalBytes: this.totalBytes, minutes: this.minutes.size };
  }

  /**
   * One retention pass: deletes minutes older than the age limit, then the oldest minutes while
   * the account exceeds the size limit, skipping minutes with open calls. Concurrent calls share
   * the pass in progress. Never rejects for file-system errors: they are counted and logged.
   */
  run(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    if (!this.seeded) {
      await this.seed();
      this.seeded = true;
    }
    const open = new Set(this.openMinutes());
    const cutoff = this.now() / 1000 - this.maxAgeSec;
    // Names sort chronologically (YYYY-MM-DD/HH/MM); sorting keys is cheap next to any I/O.
    const ordered = [...this.minutes.keys()].sort();
    for (const minute of ordered) {
      const start = parseSpoolMinuteDir(minute);
      const tooOld = start + 60 <= cutoff;
      if (!tooOld && this.totalBytes <= this.maxBytes) break;
      if (open.has(minute)) {
        this.counters.skippedOpen++;
        continue;
      }
      await this.deleteMinute(minute);
    }
    this.counters.runs++;
  }

  /** Sizes every minute directory once (the only full scan). */
  private async seed(): Promise<void> {
    for (const day of await this.list(this.spoolDir)) {
      if (!DAY_RE.test(day)) continue;
      for (const hour of await this.list(join(this.spoolDir, day))) {
        if (!TWO_DIGITS_RE.test(hour)) continue;
        for (const minute of await this.list(join(this.spoolDir, day, hour))) {
          const rel = `${day}/${hour}/${minute}`;
          if (!TWO_DIGITS_RE.test(minute) || Number.isNaN(parseSpoolMinuteDir(rel))) continue;
          let bytes = 0;
          const dir = join(this.spoolDir, day, hour, minute);
          for (const name of await this.list(dir)) {
            try {
              const s = await lstat(join(dir, name));
              if (s.isFile()) bytes += s.size;
            } catch (err) {
              if (errnoOf(err) !== 'ENOENT') throw err;
            }
          }
          // The scan supersedes writes recorded for this minute before it (they are on disk now);
          // only writes completing during this minute's own stats can be counted twice.
          this.totalBytes += bytes - (this.minutes.get(rel) ?? 0);
          this.minutes.set(rel, bytes);
        }
      }
    }
  }

  private async list(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return [];
      throw err;
    }
  }

  private async deleteMinute(minute: string): Promise<void> {
    const [day, hour, min] = minute.split('/') as [string, string, string];
    const dir = join(this.spoolDir, day, hour, min);
    try {
      for (const name of await this.list(dir)) {
        const path = join(dir, name);
        const s = await lstat(path);
        if (s.isDirectory()) continue; // not ours: left in place, the rmdir below then fails and is counted
        await unlink(path);
        this.counters.filesDeleted++;
        this.counters.bytesDeleted += s.size;
      }
      await rmdir(dir).catch((err: unknown) => {
        if (errnoOf(err) !== 'ENOENT') throw err;
      });
      this.counters.minutesDeleted++;
    } catch (err) {
      this.counters.errors++;
      this.logger?.('error', 'spool retention could not delete a minute directory', { dir, error: String(err) });
    }
    // The account forgets the minute either way: files that could not be removed are retried by
    // the next seed after a restart, not by every run.
    this.totalBytes -= this.minutes.get(minute) ?? 0;
    this.minutes.delete(minute);
    for (const parent of [join(this.spoolDir, day, hour), join(this.spoolDir, day)]) {
      try {
        await rmdir(parent);
      } catch (err) {
        const code = errnoOf(err);
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') break; // still in use: stop climbing
        this.counters.errors++;
        this.logger?.('warn', 'spool retention could not remove an empty directory', { dir: parent, error: String(err) });
        break;
      }
    }
  }
}
