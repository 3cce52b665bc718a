import { open, readdir, rename, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { INDEX_ENTRY_BYTES, INDEX_MAGIC, writeIndexEntry } from './segment-format.js';
import { listSegments, scanArchive, scanSegment } from './segment-reader.js';
import { parseSpoolMinuteDir } from './spool-path.js';

/** Options of {@link rebuildSpoolIndex}. */
export interface RebuildSpoolIndexOptions {
  /**
   * Repair: cut torn archive tails off and rewrite every index from the archives. Default true; false only reports.
   */
  repair?: boolean;
  /** Called once per minute directory processed (progress for a CLI). */
  onMinute?: (minuteDir: string) => void;
}

/** What {@link rebuildSpoolIndex} found and did. */
export interface RebuildSpoolIndexReport {
  /** Minute directories visited. */
  minutes: number;
  /** Segment archives read. */
  segments: number;
  /** Complete members (chunks) found in the archives: what the rebuilt indexes hold. */
  chunks: number;
  /** Entries the indexes held before that passed their checks. */
  indexedBefore: number;
  /** Index entries that were impossible or pointed past their archive (dropped by the rebuild). */
  badIndexEntries: number;
  /** Bytes of torn index appends (a partial entry at the end). */
  tornIndexBytes: number;
  /** Archives that ended inside a member or in bytes that are not a member header (torn tails). */
  tornSegments: number;
  /** Bytes of those torn tails (cut off when repairing). */
  tornTarBytes: number;
  /** Index files written (repair). */
  indexesWritten: number;
  /** Archives whose torn tail was cut off (repair). */
  archivesCut: number;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const TWO_DIGITS_RE = /^\d{2}$/;

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/**
 * Rebuilds every segment index of a spool from the archives themselves (`spool fsck`): after a
 * writer was killed, an index may lag its archive and the archive may end in a torn member. The
 * tar headers make each archive self-describing: every complete member becomes an index entry
 * again; a torn tail is cut off (with `repair`), so every complete chunk is retrievable and
 * `tar tf` reads every archive without complaint. Run it on a spool no writer is writing to.
 *
 * @param spoolDir - spool root
 * @param options - see {@link RebuildSpoolIndexOptions}
 */
export async function rebuildSpoolIndex(spoolDir: string, options: RebuildSpoolIndexOptions = {}): Promise<RebuildSpoolIndexReport> {
  const repair = options.repair ?? true;
  const report: RebuildSpoolIndexReport = {
    minutes: 0,
    segments: 0,
    chunks: 0,
    indexedBefore: 0,
    badIndexEntries: 0,
    tornIndexBytes: 0,
    tornSegments: 0,
    tornTarBytes: 0,
    indexesWritten: 0,
    archivesCut: 0,
  };
  for (const day of await list(spoolDir)) {
    if (!DAY_RE.test(day)) continue;
    for (const hour of await list(join(spoolDir, day))) {
      if (!TWO_DIGITS_RE.test(hour)) continue;
      for (const minute of await list(join(spoolDir, day, hour))) {
        const rel = `${day}/${hour}/${minute}`;
        if (!TWO_DIGITS_RE.test(minute) || Number.isNaN(parseSpoolMinuteDir(rel))) continue;
        report.minutes++;
        options.onMinute?.(rel);
        for (const segment of await listSegments(join(spoolDir, day, hour, minute))) {
          report.segments++;
          const before = await scanSegment(segment, () => false);
          report.badIndexEntries += before.badEntries;
          report.tornIndexBytes += before.tornIndexBytes;
          const scan = await scanArchive(segment.tarPath);
          report.chunks += scan.entries.length;
          const end = scan.tarSize - scan.tornTarBytes;
          // Entries the old index held = chunks the archive has, minus those found only in its tail.
          report.indexedBefore += before.indexedEntries;
          if (scan.tornTarBytes > 0) {
            report.tornSegments++;
            report.tornTarBytes += scan.tornTarBytes;
          }
          if (!repair) continue;
          // Cut the torn tail: the archive then ends at a member boundary, which tar readers accept
          // (no writer appends to it again: a new run opens seg.<n+1>).
          if (scan.tornTarBytes > 0) {
            await truncate(segment.tarPath, end);
            report.archivesCut++;
          }
          const idx = Buffer.alloc(INDEX_MAGIC.length + scan.entries.length * INDEX_ENTRY_BYTES);
          INDEX_MAGIC.copy(idx, 0);
          scan.entries.forEach((e, i) => {
            writeIndexEntry(idx, INDEX_MAGIC.length + i * INDEX_ENTRY_BYTES, e);
          });
          const tmp = `${segment.idxPath}.rebuild`;
          const h = await open(tmp, 'w');
          try {
            await h.write(idx);
            await h.sync();
          } finally {
            await h.close();
          }
          await rename(tmp, segment.idxPath);
          report.indexesWritten++;
        }
      }
    }
  }
  return report;
}

