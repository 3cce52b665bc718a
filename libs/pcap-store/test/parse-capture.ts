import { CaptureParser, CaptureParseStatus, type PacketRecord } from '@callscope/pcap-format';

/** What {@link parseCapture} got from a whole capture in memory. */
export interface ParsedCapture {
  /** Final status: `CaptureParseStatus.End`, `Truncated` or `Error`. */
  status: number;
  /** Every delivered record, copied with its bytes (the parser reuses one record and aliases its input). */
  records: PacketRecord[];
}

/**
 * Parses a capture held in memory with pcap-format's `CaptureParser`, fed in chunks of
 * `chunkSize` bytes, without stopping at an error or a truncation (the status tells them):
 * what the spool and stream tests compare the file reader and the spool output with.
 */
export function parseCapture(input: Uint8Array, chunkSize = Math.max(input.length, 1)): ParsedCapture {
  const parser = new CaptureParser();
  const records: PacketRecord[] = [];
  const keep = (r: PacketRecord): void => {
    records.push({ ...r, data: r.data.slice() });
  };
  let status: number = CaptureParseStatus.NeedMore;
  for (let at = 0; at < input.length && status !== CaptureParseStatus.Error; at += chunkSize) {
    status = parser.feed(input.subarray(at, at + chunkSize), keep);
  }
  if (status !== CaptureParseStatus.Error) {
    // finish() may still deliver records that only the end of the stream confirmed (resync).
    while ((status = parser.finish()) === CaptureParseStatus.Record) keep(parser.record);
  }
  return { status, records };
}
