import { CaptureParseStatus, CaptureParser, type PacketRecord } from '@callscope/pcap-format';
import { openCallPcap, SpoolError, SpoolErrorCode, type CallPcapQuery, type SpoolGroup } from '@callscope/pcap-store';

/** A call as the CDR names it (Call-ID and start): the spool's key. */
export interface CallArtifactQuery {
  /** Call-ID as stored in the CDR. */
  callId: string;
  /** Only this sensor's packets (the CDR's `sensor`); absent: every sensor's. */
  sensor?: string;
  /** Call start, whole epoch seconds. */
  startSec: number;
  /** Microseconds of the start, 0..999999. */
  startUsec: number;
}

/** What the record walk found wrong with the spooled files (nothing thrown for these). */
export interface SpoolReadIssues {
  /**
   * Files that ended inside a record (writer killed mid-write): path + pcap-format error code for
   * old-layout per-call files; for segment archives the archive's path with `SPOOL_TORN_SEGMENT`
   * (its torn tail may have held a chunk of the call) or `SPOOL_CHUNK_SKIPPED` (a chunk of the
   * call could not be read: damaged member or index entry).
   */
  truncated: { path: string; code: string }[];
}

/**
 * Walks one call's spooled packets of the given groups in time order, one record at a time.
 *
 * The merge (k-way over the call's files, gzip, variants) is pcap-store's `openCallPcap`; its
 * output is parsed again by pcap-format's `CaptureParser`, so memory stays one 64 KiB chunk plus
 * one record whatever the call's length. `onRecord` gets the parser's reused record: it must copy
 * what it keeps. When it returns a promise (a consumer asking to slow down), the next record is
 * parsed only after it settles: the walk's pace follows the consumer's.
 *
 * @returns null when the call has no file of these groups (`CallNotFound`), else the issues met
 * @throws SpoolError `CorruptFile` when a file is not a readable capture
 */
export async function forEachCallRecord(
  spoolDir: string,
  query: CallArtifactQuery,
  groups: readonly SpoolGroup[],
  onRecord: (record: PacketRecord) => void | Promise<void>,
): Promise<SpoolReadIssues | null> {
  const pcapQuery: CallPcapQuery = { callId: query.callId, startSec: query.startSec, startUsec: query.startUsec, kinds: groups, ...(query.sensor === undefined ? {} : { sensor: query.sensor }) };
  let stream;
  try {
    // Each chunk is parsed whole before the next is asked for (the parser keeps a record cut by
    // the chunk's end in its own carry), so its memory can serve the next one.
    stream = await openCallPcap(spoolDir, pcapQuery, { recycle: true });
  } catch (err) {
    if (err instanceof SpoolError && err.code === SpoolErrorCode.CallNotFound) return null;
    throw err;
  }
  const parser = new CaptureParser();
  for await (const chunk of stream.chunks()) {
    parser.push(chunk);
    for (;;) {
      const status = parser.next();
      if (status === CaptureParseStatus.Record) {
        const wait = onRecord(parser.record);
        if (wait !== undefined) await wait;
      } else if (status === CaptureParseStatus.NeedMore) {
        stream.recycle(chunk);
        break;
      }
      else throw new SpoolError(SpoolErrorCode.CorruptFile, `merged capture of ${JSON.stringify(query.callId)}: ${parser.error?.message ?? 'unreadable'}`);
    }
  }
  // The merged output is written by pcap-store itself: it always ends on a record boundary.
  for (let status = parser.finish(); status === CaptureParseStatus.Record; status = parser.finish()) {
    const wait = onRecord(parser.record);
    if (wait !== undefined) await wait;
  }
  const { truncated, skipped } = stream.summary;
  return {
    truncated: [
      ...truncated.map((t) => ({ path: t.path, code: t.code })),
      ...skipped.map((k) => ({ path: k.path, code: k.reason.startsWith('torn tail') ? 'SPOOL_TORN_SEGMENT' : 'SPOOL_CHUNK_SKIPPED' })),
    ],
  };
}
