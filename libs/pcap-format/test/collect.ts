import { CaptureParser, CaptureParseStatus, type CaptureError, type CaptureParserOptions, type CaptureSummary, type PacketRecord } from '../src/index.js';

export interface Collected {
  /** Final status: End, Truncated or Error. */
  status: number;
  /** Every delivered record, copied with its bytes (the parser reuses one record and aliases its input). */
  records: PacketRecord[];
  error: CaptureError | null;
  truncation: CaptureError | null;
  summary: CaptureSummary;
  /** `next()` calls made: bounded, proving no hang. */
  steps: number;
}

/** Pushes `input` in chunks of `chunkSize` bytes (cycling through the sizes if a list) through a parser. */
export function parseBytes(input: Uint8Array, chunkSize: number | number[] = Math.max(input.length, 1), options: CaptureParserOptions = {}): Collected {
  const parser = new CaptureParser(options);
  const sizes = typeof chunkSize === 'number' ? [chunkSize] : chunkSize;
  const records: PacketRecord[] = [];
  let steps = 0;
  let status: number = CaptureParseStatus.NeedMore;
  for (let at = 0, i = 0; at < input.length && status !== CaptureParseStatus.Error; i++) {
    const n = sizes[i % sizes.length]!;
    parser.push(input.subarray(at, at + n));
    at += n;
    for (;;) {
      steps++;
      status = parser.next();
      if (status !== CaptureParseStatus.Record) break;
      const r = parser.record;
      records.push({ ...r, data: Uint8Array.from(r.data) });
    }
  }
  if (status !== CaptureParseStatus.Error) {
    // finish() may still deliver records that only the end of the stream confirmed (resync).
    while ((status = parser.finish()) === CaptureParseStatus.Record) {
      steps++;
      const r = parser.record;
      records.push({ ...r, data: Uint8Array.from(r.data) });
    }
  }
  return { status, records, error: parser.error, truncation: parser.truncation, summary: parser.summary(), steps };
}
