import { createHash } from 'node:crypto';
import { join } from 'node:path';

/**
 * Where a call lives in the spool (DESIGN.md "Spool"):
 * `<spool>/<YYYY-MM-DD>/<HH>/<MM>/<name>.<group>[.<variant>].pcap[.gz]`, by call start time (UTC).
 *
 * `<name>` is `<sanitised Call-ID>-<hash>`: the Call-ID with every byte outside `[A-Za-z0-9._-]`
 * replaced by `_`, a leading `.` replaced too (no hidden files, no `..`), cut to
 * {@link MAX_SANITISED_CALL_ID_LENGTH} characters, then `-` and {@link CALL_HASH_HEX_LENGTH} hex
 * characters of SHA-256 over the start time and the exact UTF-16 code units of the Call-ID. The
 * sanitised part is only for humans browsing the tree; the hash makes names of distinct
 * (Call-ID, start) pairs distinct even when they sanitise alike, and the name never contains `/`,
 * NUL or `..` alone, so it always stays inside its minute directory.
 */

/** Longest sanitised Call-ID prefix kept in a file name. */
export const MAX_SANITISED_CALL_ID_LENGTH = 100;
/** Hex characters of SHA-256 appended to every name (64 bits: collisions need ~2^32 calls per minute). */
export const CALL_HASH_HEX_LENGTH = 16;

/** File groups of a call: SIP alone, and RTP with RTCP. */
export const SpoolGroup = {
  /** SIP messages (`<name>.sip.pcap`). */
  SIP: 'sip',
  /** RTP and RTCP (`<name>.rtp.pcap`). */
  RTP: 'rtp',
} as const;

/** One of the {@link SpoolGroup} values. */
export type SpoolGroup = (typeof SpoolGroup)[keyof typeof SpoolGroup];

/**
 * Most files per call and group: a call whose packets arrive on several link types gets one file
 * per link type (variant 0 is `<name>.sip.pcap`, variant n is `<name>.sip.<n>.pcap`), and a
 * file left by an earlier run of the writer is never appended to (a new variant is opened).
 * Retrieval probes variants 0.. until one is missing, so it never lists a directory.
 */
export const MAX_FILE_VARIANTS = 4;

const SAFE = /[^A-Za-z0-9._-]/g;

function checkStart(startSec: number, startUsec: number): void {
  if (!Number.isInteger(startSec) || startSec < 0 || startSec > 0xffff_ffff) {
    throw new RangeError(`call startSec ${startSec} is not an integer in 0..2^32-1`);
  }
  if (!Number.isInteger(startUsec) || startUsec < 0 || startUsec > 999_999) {
    throw new RangeError(`call startUsec ${startUsec} is not an integer in 0..999999`);
  }
}

/**
 * The file-name stem of a call (see the module comment). Throws `RangeError` on a start time that
 * is not an integer second + microsecond pair (a programmer error, not wire input).
 *
 * @param callId - Call-ID exactly as the CDR stores it (any string, even empty)
 * @param startSec - call start, whole seconds since the epoch
 * @param startUsec - microseconds within that second
 */
export function spoolCallName(callId: string, startSec: number, startUsec: number): string {
  checkStart(startSec, startUsec);
  let safe = callId.length > MAX_SANITISED_CALL_ID_LENGTH * 2 ? callId.slice(0, MAX_SANITISED_CALL_ID_LENGTH * 2) : callId;
  safe = safe.replace(SAFE, '_').slice(0, MAX_SANITISED_CALL_ID_LENGTH);
  if (safe.startsWith('.')) safe = `_${safe.slice(1)}`;
  const hash = createHash('sha256')
    .update(`${startSec}.${String(startUsec).padStart(6, '0')}\n`, 'latin1')
    .update(callId, 'utf16le') // code units, not UTF-8: lone surrogates stay distinct
    .digest('hex')
    .slice(0, CALL_HASH_HEX_LENGTH);
  return safe.length > 0 ? `${safe}-${hash}` : hash;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * The minute directory of a start time, relative to the spool, with `/` separators:
 * `YYYY-MM-DD/HH/MM` in UTC. Sorting these strings sorts them chronologically.
 *
 * @param startSec - whole seconds since the epoch
 */
export function spoolMinuteDir(startSec: number): string {
  const d = new Date(startSec * 1000);
  const year = String(d.getUTCFullYear()).padStart(4, '0');
  return `${year}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}/${pad2(d.getUTCHours())}/${pad2(d.getUTCMinutes())}`;
}

/**
 * Parses a minute directory (`YYYY-MM-DD/HH/MM`) back into the epoch second it starts at, or
 * `NaN` when the string is not one (foreign files in the spool are left alone).
 *
 * @param minuteDir - relative path with `/` separators
 */
export function parseSpoolMinuteDir(minuteDir: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})\/(\d{2})\/(\d{2})$/.exec(minuteDir);
  if (m === null) return Number.NaN;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  return spoolMinuteDir(ms / 1000) === minuteDir ? ms / 1000 : Number.NaN;
}

/**
 * File name of one of a call's files.
 *
 * @param name - from {@link spoolCallName}
 * @param group - SIP or RTP
 * @param variant - 0..{@link MAX_FILE_VARIANTS}-1
 * @param gzip - `.pcap.gz` instead of `.pcap`
 */
export function spoolFileName(name: string, group: SpoolGroup, variant: number, gzip: boolean): string {
  const v = variant === 0 ? '' : `.${variant}`;
  return `${name}.${group}${v}.pcap${gzip ? '.gz' : ''}`;
}

/**
 * Absolute path of one of a call's files.
 *
 * @param spoolDir - spool root
 * @param minuteDir - from {@link spoolMinuteDir}
 * @param fileName - from {@link spoolFileName}
 */
export function spoolFilePath(spoolDir: string, minuteDir: string, fileName: string): string {
  return join(spoolDir, ...minuteDir.split('/'), fileName);
}
