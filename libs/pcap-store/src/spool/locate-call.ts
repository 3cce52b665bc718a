import { stat } from 'node:fs/promises';
import { MAX_FILE_VARIANTS, SpoolGroup, spoolCallName, spoolFileName, spoolFilePath, spoolMinuteDir } from './spool-path.js';

/** One stored file of a call. */
export interface SpoolCallFile {
  /** SIP or RTP (with RTCP). */
  group: SpoolGroup;
  /** 0 for the first file of the group, then 1.. (other link type, or a file left by an earlier run). */
  variant: number;
  /** gzip-compressed (`.pcap.gz`). */
  gzip: boolean;
  /** Absolute path. */
  path: string;
  /** Size on disk, bytes. */
  size: number;
}

/** Where a call is and which of its files exist. */
export interface SpoolCallLocation {
  /** `YYYY-MM-DD/HH/MM` of the call start (UTC). */
  minuteDir: string;
  /** File-name stem (sanitised Call-ID + hash). */
  name: string;
  /** Existing files, SIP group first, variants in order. */
  files: SpoolCallFile[];
}

async function sizeOf(path: string): Promise<number> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : -1;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return -1;
    throw err;
  }
}

/**
 * Finds a call's files from what the CDR stores (Call-ID and start time) by recomputing their
 * names and probing them with `stat`: at most 2 × (variants + 1) probes per group, never a
 * directory listing. An unknown call gives an empty `files` list.
 *
 * @param spoolDir - spool root
 * @param callId - Call-ID as stored in the CDR
 * @param startSec - call start, whole epoch seconds
 * @param startUsec - microseconds of the start
 * @param groups - groups to look for (default both)
 */
export async function locateCallFiles(
  spoolDir: string,
  callId: string,
  startSec: number,
  startUsec: number,
  groups: readonly SpoolGroup[] = [SpoolGroup.SIP, SpoolGroup.RTP],
): Promise<SpoolCallLocation> {
  const name = spoolCallName(callId, startSec, startUsec);
  const minuteDir = spoolMinuteDir(startSec);
  const files: SpoolCallFile[] = [];
  for (const group of [SpoolGroup.SIP, SpoolGroup.RTP]) {
    if (!groups.includes(group)) continue;
    for (let variant = 0; variant < MAX_FILE_VARIANTS; variant++) {
      let found = false;
      for (const gzip of [false, true]) {
        const path = spoolFilePath(spoolDir, minuteDir, spoolFileName(name, group, variant, gzip));
        const size = await sizeOf(path);
        if (size < 0) continue;
        files.push({ group, variant, gzip, path, size });
        found = true;
      }
      if (!found) break;
    }
  }
  return { minuteDir, name, files };
}
