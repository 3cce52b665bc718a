import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { CaptureError, CaptureErrorCode } from '@callscope/pcap-format';
import { CaptureParser, CaptureParseStatus } from '@callscope/pcap-format';
import type { CaptureParserOptions } from '@callscope/pcap-format';
import type { CaptureSummary } from '@callscope/pcap-format';
import type { PacketRecord } from '@callscope/pcap-format';

/**
 * Called once per packet with the parser's reused record (copy `data` before keeping it). Return
 * a promise to pace the reader: nothing more is read until it settles. Returning nothing keeps the
 * loop synchronous (no await per packet).
 */
export type PacketCallback = (record: PacketRecord) => void | Promise<void>;

/** Options of {@link readCaptureFile} and {@link readCaptureStream}. */
export interface ReadCaptureOptions extends CaptureParserOptions {
  /** Bytes read from the file per read (default 1 MiB; also the gunzip output chunk size). */
  chunkSize?: number;
  /** Stops reading; the promise rejects with `signal.reason`. Checked between packets. */
  signal?: AbortSignal;
  /**
   * When true, a stream that ends inside a record rejects with the truncation `CaptureError`
   * (after every complete record was delivered). Default false: reported in
   * `summary.truncation` and the promise resolves.
   */
  strictTruncation?: boolean;
}

/** Default {@link ReadCaptureOptions.chunkSize}. */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
const MIN_CHUNK_SIZE = 64;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Delivers every packet of the pushed chunk; resolves (or returns) once the chunk is consumed. */
function drain(parser: CaptureParser, onPacket: PacketCallback, signal: AbortSignal | undefined): Promise<void> | undefined {
  for (;;) {
    const status = parser.next();
    if (status === CaptureParseStatus.NeedMore) return undefined;
    if (status !== CaptureParseStatus.Record) throw parser.error!;
    const result = onPacket(parser.record);
    if (isPromiseLike(result)) return drainAfter(result, parser, onPacket, signal);
    if (signal?.aborted === true) throw signal.reason;
  }
}

async function drainAfter(
  pending: PromiseLike<unknown>,
  parser: CaptureParser,
  onPacket: PacketCallback,
  signal: AbortSignal | undefined,
): Promise<void> {
  await pending;
  for (;;) {
    signal?.throwIfAborted();
    const status = parser.next();
    if (status === CaptureParseStatus.NeedMore) return;
    if (status !== CaptureParseStatus.Record) throw parser.error!;
    const result = onPacket(parser.record);
    if (isPromiseLike(result)) await result;
  }
}

function finishParser(parser: CaptureParser, strict: boolean, compressed: boolean): CaptureSummary {
  const status = parser.finish();
  if (status === CaptureParseStatus.Error) throw parser.error!;
  if (status === CaptureParseStatus.Truncated && strict) throw parser.truncation!;
  return parser.summary(compressed);
}

function checkChunkSize(size: number): number {
  if (!Number.isInteger(size) || size < MIN_CHUNK_SIZE) {
    throw new RangeError(`chunkSize ${size} must be an integer >= ${MIN_CHUNK_SIZE}`);
  }
  return size;
}

/**
 * Reads an uncompressed pcap/pcapng byte stream from any async iterable of chunks (a socket, a
 * gunzip stream, a `Readable`). Back-pressure comes from pulling: the next chunk is requested only
 * after every packet of the current one was handled.
 *
 * @param source - chunks in stream order; each may be reused by the source after it is handed over
 * @param onPacket - see {@link PacketCallback}
 * @param options - see {@link ReadCaptureOptions}
 * @returns the summary; rejects with {@link CaptureError} on unreadable input
 */
export async function readCaptureStream(
  source: AsyncIterable<Uint8Array>,
  onPacket: PacketCallback,
  options: ReadCaptureOptions = {},
): Promise<CaptureSummary> {
  const parser = new CaptureParser(options);
  const signal = options.signal;
  signal?.throwIfAborted();
  for await (const chunk of source) {
    parser.push(chunk);
    const pending = drain(parser, onPacket, signal);
    if (pending !== undefined) await pending;
  }
  return finishParser(parser, options.strictTruncation === true, false);
}

/**
 * Reads a capture file: classic pcap (µs/ns, either byte order), pcapng, or either of them
 * gzip-compressed (detected by the 1f 8b magic; `fileOffset` and `bytes` are then offsets in the
 * decompressed stream). Uncompressed files are read into one reused buffer of `chunkSize` bytes,
 * so memory stays bounded whatever the file size and nothing is allocated per packet besides the
 * `data` view.
 *
 * I/O errors (missing file, permissions) reject with the Node error; unreadable content rejects
 * with {@link CaptureError}.
 *
 * @param path - file to read
 * @param onPacket - see {@link PacketCallback}
 * @param options - see {@link ReadCaptureOptions}
 */
export async function readCaptureFile(
  path: string,
  onPacket: PacketCallback,
  options: ReadCaptureOptions = {},
): Promise<CaptureSummary> {
  const chunkSize = checkChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const signal = options.signal;
  signal?.throwIfAborted();
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(chunkSize);
    let { bytesRead } = await handle.read(buffer, 0, chunkSize, null);
    if (bytesRead >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) {
      await handle.close();
      return await readGzipFile(path, onPacket, options, chunkSize);
    }
    const parser = new CaptureParser(options);
    while (bytesRead > 0) {
      parser.push(buffer.subarray(0, bytesRead));
      const pending = drain(parser, onPacket, signal);
      if (pending !== undefined) await pending;
      ({ bytesRead } = await handle.read(buffer, 0, chunkSize, null));
    }
    return finishParser(parser, options.strictTruncation === true, false);
  } finally {
    await handle.close().catch(() => undefined); // already closed on the gzip path
  }
}

async function readGzipFile(
  path: string,
  onPacket: PacketCallback,
  options: ReadCaptureOptions,
  chunkSize: number,
): Promise<CaptureSummary> {
  const file = createReadStream(path, { highWaterMark: chunkSize });
  const gunzip = createGunzip({ chunkSize: Math.min(chunkSize, 256 * 1024) });
  file.on('error', (err) => gunzip.destroy(err));
  file.pipe(gunzip);
  const parser = new CaptureParser(options);
  const signal = options.signal;
  try {
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        parser.push(chunk);
        const pending = drain(parser, onPacket, signal);
        if (pending !== undefined) await pending;
      }
    } catch (err) {
      if (err instanceof CaptureError || signal?.aborted === true) throw err;
      const zlibCode = (err as { code?: unknown }).code;
      if (typeof zlibCode === 'string' && zlibCode.startsWith('Z_')) {
        // Every packet that decompressed was delivered; the offset is where the gzip data broke.
        throw new CaptureError(CaptureErrorCode.GZIP_ERROR, parser.summary(true).bytes, String(err), { cause: err });
      }
      throw err;
    }
    return finishParser(parser, options.strictTruncation === true, true);
  } finally {
    file.destroy();
    gunzip.destroy();
  }
}
