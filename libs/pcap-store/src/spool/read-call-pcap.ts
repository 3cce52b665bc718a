import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CaptureError, CaptureErrorCode } from '@callscope/pcap-format';
import { CaptureParser, CaptureParseStatus } from '@callscope/pcap-format';
import type { PacketRecord } from '@callscope/pcap-format';
import { locateCallFiles } from './locate-call.js';
import type { SpoolCallFile } from './locate-call.js';
import { MergedCaptureOutput } from './merged-capture-output.js';
import type { MergedCaptureFormat } from './merged-capture-output.js';
import { SpoolError, SpoolErrorCode } from './spool-error.js';
import { SpoolGroup } from './spool-path.js';

/** Which call to fetch: what the CDR stores (Call-ID and start time), plus the groups wanted. */
export interface CallPcapQuery {
  /** Call-ID as stored in the CDR. */
  callId: string;
  /** Call start, whole epoch seconds. */
  startSec: number;
  /** Microseconds of the start. */
  startUsec: number;
  /** Groups to merge (default both): `sip`, and `rtp` (RTP with RTCP). */
  kinds?: readonly SpoolGroup[];
}

/** What a retrieval produced. */
export interface CallPcapSummary {
  /** Classic pcap (one link type) or pcapng (several). */
  format: MergedCaptureFormat;
  /** Files merged. */
  files: string[];
  /** Packets written to the output. */
  packets: number;
  /** Output bytes. */
  bytes: number;
  /**
   * Files that ended inside a record (a writer killed mid-write) or in a torn gzip member: their
   * complete records were merged, the tail was left out. Path + catalogue code.
   */
  truncated: { path: string; code: CaptureErrorCode }[];
}

const READ_BYTES = 64 * 1024;

/** Pulls records from one spool file through the lib's `CaptureParser`. */
class FileCursor {
  readonly parser = new CaptureParser();
  truncation: CaptureErrorCode | null = null;
  private handle: FileHandle | null = null;
  private gunzip: AsyncIterator<Buffer> | null = null;
  /** The file has no more bytes: only `finish()` may still give records (see CaptureParser.finish). */
  private atEof = false;
  private destroyGzip: (() => void) | null = null;
  private readonly chunk = new Uint8Array(READ_BYTES);
  private done = false;

  constructor(readonly file: SpoolCallFile) {}

  async open(): Promise<void> {
    if (this.file.gzip) {
      const input = createReadStream(this.file.path);
      const gunzip = createGunzip();
      input.on('error', (err) => gunzip.destroy(err));
      input.pipe(gunzip);
      this.gunzip = (gunzip as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      this.destroyGzip = () => {
        input.destroy();
        gunzip.destroy();
      };
    } else {
      this.handle = await open(this.file.path, 'r');
    }
  }

  /** The current record (valid until the next {@link FileCursor.next}). */
  get record(): PacketRecord {
    return this.parser.record;
  }

  /** Advances to the next record; false at the end of the file (complete or torn). */
  async next(): Promise<boolean> {
    if (this.done) return false;
    if (this.atEof) return this.end();
    for (;;) {
      const status = this.parser.next();
      if (status === CaptureParseStatus.Record) return true;
      if (status === CaptureParseStatus.Error) throw this.corrupt(this.parser.error);
      const more = await this.read();
      if (more === null) {
        this.atEof = true;
        return this.end();
      }
      this.parser.push(more);
    }
  }

  async close(): Promise<void> {
    this.done = true;
    this.destroyGzip?.();
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  private async read(): Promise<Uint8Array | null> {
    if (this.handle !== null) {
      // Reusing the chunk is safe: the parser copied any partial record to its carry on NEED_MORE.
      const { bytesRead } = await this.handle.read(this.chunk, 0, READ_BYTES, null);
      return bytesRead === 0 ? null : this.chunk.subarray(0, bytesRead);
    }
    try {
      const step = await this.gunzip!.next();
      return step.done === true ? null : step.value;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('Z_')) throw err;
      // A torn last gzip member (writer killed mid-write): every complete record was delivered.
      this.truncation = CaptureErrorCode.GZIP_ERROR;
      return null;
    }
  }

  /** The stream ended: records a resync left waiting come out one per call, then the end. */
  private end(): boolean {
    const status = this.parser.finish();
    if (status === CaptureParseStatus.Record) return true;
    this.done = true;
    if (status === CaptureParseStatus.Error) throw this.corrupt(this.parser.error);
    if (status === CaptureParseStatus.Truncated && this.truncation === null) this.truncation = this.parser.truncation!.code;
    return false;
  }

  private corrupt(err: CaptureError | null): SpoolError {
    return new SpoolError(SpoolErrorCode.CorruptFile, `${this.file.path}: ${err?.message ?? 'unreadable'}`, { cause: err });
  }
}

function earlier(a: PacketRecord, b: PacketRecord): boolean {
  return a.tsSec < b.tsSec || (a.tsSec === b.tsSec && a.tsNsec < b.tsNsec);
}

/**
 * An opened call capture: the files are found and their first records read, so a missing or
 * unreadable call is reported before any byte is produced (an HTTP handler can still answer 404).
 */
export interface CallPcapStream {
  /** Output format. */
  readonly format: MergedCaptureFormat;
  /** Filled in while `chunks()` runs; final once it has finished. */
  readonly summary: CallPcapSummary;
  /** The merged capture in chunks of about 64 KiB (call once). Closes the files when done. */
  chunks(): AsyncGenerator<Buffer, void, undefined>;
  /** Closes the files without reading (when the client went away before `chunks()`). */
  close(): Promise<void>;
}

/**
 * Opens the packets of one call for retrieval, merged into ONE capture in time order (k-way merge
 * of the call's files by timestamp; ties keep SIP before RTP, then file order). Classic ns pcap
 * when the files share a link type, else pcapng with one interface per link type; timestamps,
 * captured bytes and original lengths are those stored.
 *
 * Files are found by recomputing their names from (Call-ID, start), never by listing directories.
 *
 * @param spoolDir - spool root
 * @param query - see {@link CallPcapQuery}
 * @throws SpoolError `CallNotFound` when no file of the requested groups exists, `CorruptFile`
 *   when a file is not a readable capture
 */
export async function openCallPcap(spoolDir: string, query: CallPcapQuery): Promise<CallPcapStream> {
  const kinds = query.kinds ?? [SpoolGroup.SIP, SpoolGroup.RTP];
  const location = await locateCallFiles(spoolDir, query.callId, query.startSec, query.startUsec, kinds);
  if (location.files.length === 0) {
    throw new SpoolError(SpoolErrorCode.CallNotFound, `no ${kinds.join('+')} file for Call-ID ${JSON.stringify(query.callId)} started ${query.startSec}.${query.startUsec} under ${location.minuteDir}`);
  }
  const cursors = location.files.map((f) => new FileCursor(f));
  const live: FileCursor[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(cursors.map((c) => c.close()));
  };
  try {
    for (const cursor of cursors) {
      await cursor.open();
      if (await cursor.next()) live.push(cursor);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  const linkTypes: number[] = [];
  for (const c of live) if (!linkTypes.includes(c.record.linkType)) linkTypes.push(c.record.linkType);
  const output = new MergedCaptureOutput(linkTypes);
  const summary: CallPcapSummary = { format: output.format, files: location.files.map((f) => f.path), packets: 0, bytes: 0, truncated: [] };
  const noteTruncation = (c: FileCursor): void => {
    if (c.truncation !== null) summary.truncated.push({ path: c.file.path, code: c.truncation });
  };
  for (const c of cursors) if (!live.includes(c)) noteTruncation(c);

  async function* chunks(): AsyncGenerator<Buffer, void, undefined> {
    try {
      while (live.length > 0) {
        let min = 0;
        for (let i = 1; i < live.length; i++) if (earlier(live[i]!.record, live[min]!.record)) min = i;
        const cursor = live[min]!;
        const r = cursor.record;
        const full = output.add(r.linkType, r.tsSec, r.tsNsec, r.data, r.origLen);
        summary.packets++;
        if (full !== null) {
          summary.bytes += full.length;
          yield full;
        }
        if (!(await cursor.next())) {
          noteTruncation(cursor);
          live.splice(min, 1);
        }
      }
      const last = output.take();
      summary.bytes += last.length;
      if (last.length > 0) yield last;
    } finally {
      await closeAll();
    }
  }
  return { format: output.format, summary, chunks, close: closeAll };
}

/** Where {@link readCallPcap} sends the merged capture: a stream (back-pressure honoured) or a callback. */
export type CallPcapSink = Writable | ((chunk: Buffer) => void | Promise<void>);

/**
 * Writes the merged capture of one call to `sink` (see {@link openCallPcap}); a `Writable` is not
 * ended, so several calls can share it.
 *
 * @param spoolDir - spool root
 * @param query - see {@link CallPcapQuery}
 * @param sink - see {@link CallPcapSink}
 * @returns the summary (packets, bytes, files, truncated tails)
 * @throws SpoolError as {@link openCallPcap}
 */
export async function readCallPcap(spoolDir: string, query: CallPcapQuery, sink: CallPcapSink): Promise<CallPcapSummary> {
  const stream = await openCallPcap(spoolDir, query);
  for await (const chunk of stream.chunks()) {
    if (typeof sink === 'function') {
      await sink(chunk);
    } else if (!sink.write(chunk)) {
      await once(sink, 'drain');
    }
  }
  return stream.summary;
}
