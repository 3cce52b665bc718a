import { open, readdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  INDEX_ENTRY_BYTES,
  INDEX_MAGIC,
  parseTarHeader,
  readIndexEntry,
  SEGMENT_RE,
  segmentFileNames,
  TAR_BLOCK,
  paddedSize,
} from './segment-format.js';
import type { IndexEntry, TarHeaderProblem, TarMember } from './segment-format.js';

/** A segment of a minute directory and where its index stops covering it. */
export interface SegmentFile {
  /** Segment number n of `seg.<n>.tar`. */
  n: number;
  /** Absolute path of the archive. */
  tarPath: string;
  /** Absolute path of the index. */
  idxPath: string;
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** The segments of a minute directory, by number; none when the directory does not exist. */
export async function listSegments(minuteAbsDir: string): Promise<SegmentFile[]> {
  let names: string[];
  try {
    names = await readdir(minuteAbsDir);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return [];
    throw err;
  }
  const out: SegmentFile[] = [];
  for (const name of names) {
    const m = SEGMENT_RE.exec(name);
    if (m === null) continue;
    const n = Number(m[1]);
    out.push({ n, tarPath: join(minuteAbsDir, name), idxPath: join(minuteAbsDir, segmentFileNames(n).idx) });
  }
  return out.sort((a, b) => a.n - b.n);
}

/** What reading one segment's index (and the tail it does not cover) found. */
export interface SegmentScan {
  /** Entries that passed the field checks, in file order (index first, then the scanned tail). */
  entries: IndexEntry[];
  /** Index entries that passed the checks (matching the filter or not). */
  indexedEntries: number;
  /** Index entries whose fields are impossible, or that point past the archive. */
  badEntries: number;
  /** Of those, entries that point past the archive and match the filter (the call had a chunk there). */
  badMatching: number;
  /** Bytes at the end of the index that are not a whole entry (a torn append). */
  tornIndexBytes: number;
  /** Bytes of the archive after its last complete member (a torn tail), end-of-archive blocks excluded. */
  tornTarBytes: number;
  /** Why the archive scan stopped before its end, when it did. */
  stop: TarHeaderProblem | null;
  /** Archive size. */
  tarSize: number;
}

/**
 * Reads a segment's index file whole, then scans the archive's tar headers from where the index
 * stops covering it (a writer still running, or killed before it indexed its last writes). With
 * `filter`, only matching entries are kept (the call's), but every entry counts for coverage.
 * Bad bytes are counted, never thrown; I/O errors other than a missing index are thrown.
 */
export async function scanSegment(segment: SegmentFile, filter?: (e: IndexEntry) => boolean): Promise<SegmentScan> {
  const scan: SegmentScan = { entries: [], indexedEntries: 0, badEntries: 0, badMatching: 0, tornIndexBytes: 0, tornTarBytes: 0, stop: null, tarSize: 0 };
  let tar: FileHandle;
  try {
    tar = await open(segment.tarPath, 'r');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return scan;
    throw err;
  }
  try {
    scan.tarSize = (await tar.stat()).size;
    let covered = 0;
    let idx: Buffer | null = null;
    try {
      const h = await open(segment.idxPath, 'r');
      try {
        idx = await h.readFile();
      } finally {
        await h.close();
      }
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
    }
    if (idx !== null && idx.length >= INDEX_MAGIC.length && idx.subarray(0, INDEX_MAGIC.length).equals(INDEX_MAGIC)) {
      const body = idx.length - INDEX_MAGIC.length;
      const whole = body - (body % INDEX_ENTRY_BYTES);
      scan.tornIndexBytes = body - whole;
      for (let at = INDEX_MAGIC.length; at < INDEX_MAGIC.length + whole; at += INDEX_ENTRY_BYTES) {
        const e = readIndexEntry(idx, at);
        if (e === null || e.offset % TAR_BLOCK !== 0 || e.offset + TAR_BLOCK + e.size > scan.tarSize) {
          scan.badEntries++;
          if (e !== null && filter?.(e) === true) scan.badMatching++;
          continue;
        }
        scan.indexedEntries++;
        const end = e.offset + TAR_BLOCK + paddedSize(e.size);
        if (end > covered) covered = end;
        if (filter === undefined || filter(e)) scan.entries.push(e);
      }
    } else if (idx !== null) {
      scan.tornIndexBytes = idx.length; // not an index of ours: ignored, the archive is scanned whole
    }
    await scanTail(tar, covered, scan, filter);
  } finally {
    await tar.close();
  }
  return scan;
}

const SCAN_READ = 64 * 1024;

/** Walks tar headers from `from` to the end of the archive (header reads only, data skipped). */
async function scanTail(tar: FileHandle, from: number, scan: SegmentScan, filter?: (e: IndexEntry) => boolean): Promise<void> {
  let at = from;
  const block = Buffer.allocUnsafe(SCAN_READ);
  while (at < scan.tarSize) {
    const { bytesRead } = await tar.read(block, 0, TAR_BLOCK, at);
    const h = parseTarHeader(block.subarray(0, bytesRead), 0);
    if (typeof h === 'string') {
      scan.stop = h;
      if (h !== 'end') scan.tornTarBytes = scan.tarSize - at;
      return;
    }
    if (at + TAR_BLOCK + h.size > scan.tarSize) {
      scan.stop = 'short';
      scan.tornTarBytes = scan.tarSize - at;
      return;
    }
    const e = entryOf(h, at);
    if (filter === undefined || filter(e)) scan.entries.push(e);
    at += h.span;
  }
}

/** The index entry a member header at `offset` stands for. */
export function entryOf(m: TarMember, offset: number): IndexEntry {
  return {
    callHi: m.callHi,
    callLo: m.callLo,
    sensorHash: m.sensorHash,
    group: m.group,
    chunkNo: m.chunkNo,
    linkType: m.linkType,
    compression: m.compression,
    offset,
    size: m.size,
  };
}

/**
 * Scans a whole archive's headers, ignoring its index (what `rebuildSpoolIndex` trusts): every
 * complete member in order, and where and why the scan stopped.
 */
export async function scanArchive(tarPath: string): Promise<SegmentScan> {
  const scan: SegmentScan = { entries: [], indexedEntries: 0, badEntries: 0, badMatching: 0, tornIndexBytes: 0, tornTarBytes: 0, stop: null, tarSize: 0 };
  const tar = await open(tarPath, 'r');
  try {
    scan.tarSize = (await tar.stat()).size;
    await scanTail(tar, 0, scan);
  } finally {
    await tar.close();
  }
  return scan;
}
