import { readFileSync } from 'node:fs';
import { CaptureParseStatus, CaptureParser, type PacketRecord } from '@callscope/pcap-format';
import { corpusPath } from './corpus.js';

/**
 * Every packet of an in-memory classic pcap or pcapng file, parsed by `@callscope/pcap-format`'s
 * `CaptureParser` (the one reader of the project, not a test copy of it). The parser reuses one
 * record object and its `data` aliases the input, so each record is copied, `data` included:
 * the result owns its bytes and is safe to keep and mutate.
 * @throws Error when the bytes are not a whole capture (unreadable, or ending inside a record):
 *   a test fixture that does not parse is a broken fixture, never a shorter one
 */
export function readCaptureRecords(bytes: Uint8Array): PacketRecord[] {
  const parser = new CaptureParser();
  const records: PacketRecord[] = [];
  parser.feed(bytes, (r) => {
    records.push({ ...r, data: r.data.slice() });
  });
  // After a resync near the end, finish() gives the records the end of the stream confirmed.
  while (parser.finish() === CaptureParseStatus.Record) records.push({ ...parser.record, data: parser.record.data.slice() });
  const failure = parser.error ?? parser.truncation;
  if (failure !== null) throw new Error(`capture of ${bytes.length} bytes after ${records.length} records: ${failure.message}`, { cause: failure });
  return records;
}

/** {@link readCaptureRecords} of a corpus file (`ipv6-call.pcap`). */
export function readCorpusRecords(fileName: string): PacketRecord[] {
  return readCaptureRecords(readFileSync(corpusPath(fileName)));
}
