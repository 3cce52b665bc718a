import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants as zlibConstants, crc32, createInflateRaw } from 'node:zlib';
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

/**
 * Ends the parse: `finish()` may still deliver records that only the end of the stream confirmed
 * (after a resync near the end), then End / Truncated / Error.
 */
async function finishRecords(parser: CaptureParser, onPacket: PacketCallback, signal: AbortSignal | undefined): Promise<CaptureParseStatus> {
  for (;;) {
    const status = parser.finish();
    if (status !== CaptureParseStatus.Record) return status;
    const result = onPacket(parser.record);
    if (isPromiseLike(result)) await result;
    signal?.throwIfAborted();
  }
}

async function finishParser(parser: CaptureParser, onPacket: PacketCallback, options: ReadCaptureOptions, compressed: boolean): Promise<CaptureSummary> {
  const strict = options.strictTruncation === true;
  const status = await finishRecords(parser, onPacket, options.signal);
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
  return await finishParser(parser, onPacket, options, false);
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
  // The read of the next chunk, in flight while the current one is parsed (see below).
  let ahead: Promise<{ bytesRead: number }> | null = null;
  try {
    // Two buffers: the next chunk is read (on libuv's thread pool) while this one is parsed and
    // its packets delivered. Read one after the other, the packet thread sat idle during every
    // read: 0.3 s per GB from the page cache on an idle machine, 1.3 s under `analyze --spool`,
    // whose writer thread and the GC's helpers keep the pool's thread from the CPU.
    let buffer = new Uint8Array(chunkSize);
    let spare = new Uint8Array(chunkSize);
    let { bytesRead } = await handle.read(buffer, 0, chunkSize, null);
    if (bytesRead >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) {
      await handle.close();
      return await readGzipFile(path, onPacket, options, chunkSize);
    }
    const readAhead = (into: Uint8Array): Promise<{ bytesRead: number }> => {
      const read = handle.read(into, 0, chunkSize, null);
      // Awaited below; until then a failure must not count as an unhandled rejection.
      read.catch(() => undefined);
      return read;
    };
    const parser = new CaptureParser(options);
    while (bytesRead > 0) {
      // The parser is done with a chunk once it returns NeedMore (it copies a record cut at the
      // end), so the buffer it read last is free for the read after next.
      ahead = readAhead(spare);
      parser.push(buffer.subarray(0, bytesRead));
      const pending = drain(parser, onPacket, signal);
      if (pending !== undefined) await pending;
      const next = ahead;
      ahead = null;
      ({ bytesRead } = await next);
      [buffer, spare] = [spare, buffer];
    }
    return await finishParser(parser, onPacket, options, false);
  } finally {
    // A read still in flight (the parse or a callback threw) ends before the file is closed.
    if (ahead !== null) await ahead.catch(() => undefined);
    await handle.close().catch(() => undefined); // already closed on the gzip path
  }
}

/** Reader state of {@link gunzipMembers}: what `summary.gzip` reports. */
interface GzipState {
  members: number;
  compressedBytes: number;
  trailingGarbageBytes: number;
  crcMismatches: number;
  /** Set when decompression stopped early; `offset` filled in once the decompressed size is known. */
  damage: { code: CaptureErrorCode; detail: string; cause?: unknown } | null;
}

const GZIP_ID1 = 0x1f;
const GZIP_ID2 = 0x8b;
const GZIP_CM_DEFLATE = 8;
const GZIP_FHCRC = 0x02;
const GZIP_FEXTRA = 0x04;
const GZIP_FNAME = 0x08;
const GZIP_FCOMMENT = 0x10;
const GZIP_FLAGS_RESERVED = 0xe0;
const EMPTY = new Uint8Array(0);

/** Pull-side cursor over the compressed chunks (file chunks are fresh buffers, never reused). */
class ByteCursor {
  buf: Uint8Array = EMPTY;
  pos = 0;
  /** Compressed offset of `buf[pos]`. */
  offset = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  /** Makes `buf[pos]` readable; false at the end of the file. */
  async fill(): Promise<boolean> {
    while (this.pos >= this.buf.length) {
      if (this.done) return false;
      const step = await this.it.next();
      if (step.done === true) {
        this.done = true;
        return false;
      }
      this.buf = step.value;
      this.pos = 0;
    }
    return true;
  }

  /** Next byte, or -1 at the end of the file. */
  async byte(): Promise<number> {
    if (!(await this.fill())) return -1;
    this.offset++;
    return this.buf[this.pos++]!;
  }

  /** Bytes up to the end of the file, counted and dropped. */
  async drain(): Promise<number> {
    let n = 0;
    while (await this.fill()) {
      n += this.buf.length - this.pos;
      this.offset += this.buf.length - this.pos;
      this.pos = this.buf.length;
    }
    return n;
  }
}

/**
 * Decompresses a gzip file member after member (RFC 1952 section 2.2: a gzip file is a series of
 * members, what `cat a.gz b.gz` makes), yielding the decompressed chunks. Unlike
 * `zlib.createGunzip`, which fails on trailing garbage and drops the output of the call that met
 * it (up to its chunk size: 1,115 packets on a real capture), this framing is done here: each
 * member's deflate data goes through its own `createInflateRaw`, whose `bytesWritten` says where
 * the deflate data ended, so the trailer and whatever follows are read exactly. Never throws for
 * damage: a cut-off file, corrupt deflate data, a bad member header or trailing garbage end the
 * iteration and are recorded in `st` (zlib's own errors are not CaptureErrors).
 */
async function* gunzipMembers(source: AsyncIterable<Uint8Array>, outChunkSize: number, st: GzipState): AsyncGenerator<Uint8Array> {
  const src = new ByteCursor(source[Symbol.asyncIterator]());
  try {
    for (;;) {
      const memberStart = src.offset;
      const id1 = await src.byte();
      if (id1 < 0) return; // the file ends on a member boundary
      const id2 = await src.byte();
      if (st.members > 0 && (id1 !== GZIP_ID1 || id2 !== GZIP_ID2)) {
        // gzip -d: "decompression OK, trailing garbage ignored".
        st.trailingGarbageBytes = (id2 < 0 ? 1 : 2) + (await src.drain());
        return;
      }
      const header = await readMemberHeader(src);
      if (header !== null) {
        st.damage = { code: header.code, detail: `gzip member ${st.members + 1} at compressed byte ${memberStart}: ${header.detail}` };
        return;
      }
      let crc = 0;
      let size = 0;
      const inflate = createInflateRaw({ chunkSize: outChunkSize, finishFlush: zlibConstants.Z_SYNC_FLUSH });
      const feeding = feedDeflate(inflate, src);
      try {
        for await (const out of inflate as AsyncIterable<Buffer>) {
          crc = crc32(out, crc);
          size += out.length;
          yield out;
        }
      } catch (err) {
        // zlib may never call back the write in flight once it failed: do not wait for the feeder.
        feeding.catch(() => undefined);
        inflate.destroy();
        st.damage = {
          code: CaptureErrorCode.GZIP_ERROR,
          detail: `gzip member ${st.members + 1} (compressed byte ${memberStart}): deflate data corrupt near compressed byte ${memberStart + inflate.bytesWritten}: ${String(err)}`,
          cause: err,
        };
        return;
      }
      if ((await feeding) === 'eof') {
        st.damage = {
          code: CaptureErrorCode.GZIP_TRUNCATED,
          detail: `the file ends at compressed byte ${src.offset}, inside the deflate data of gzip member ${st.members + 1} (compressed byte ${memberStart})`,
        };
        return;
      }
      const trailer = new Uint8Array(8);
      for (let i = 0; i < 8; i++) {
        const v = await src.byte();
        if (v < 0) {
          st.damage = {
            code: CaptureErrorCode.GZIP_TRUNCATED,
            detail: `the file ends at compressed byte ${src.offset}, inside the 8-byte trailer of gzip member ${st.members + 1} (compressed byte ${memberStart})`,
          };
          return;
        }
        trailer[i] = v;
      }
      const view = new DataView(trailer.buffer);
      if (view.getUint32(0, true) !== crc >>> 0 || view.getUint32(4, true) !== size % 0x1_0000_0000) st.crcMismatches++;
      st.members++;
    }
  } finally {
    st.compressedBytes = src.offset;
  }
}

/** Reads a member header after its 2 magic bytes (RFC 1952 section 2.3); null when it is good. */
async function readMemberHeader(src: ByteCursor): Promise<{ code: CaptureErrorCode; detail: string } | null> {
  const cut = { code: CaptureErrorCode.GZIP_TRUNCATED, detail: 'the file ends inside the member header' };
  const fixed: number[] = [];
  for (let i = 0; i < 8; i++) {
    const v = await src.byte(); // CM, FLG, MTIME (4), XFL, OS
    if (v < 0) return cut;
    fixed.push(v);
  }
  const [cm, flags] = fixed as [number, number];
  if (cm !== GZIP_CM_DEFLATE) return { code: CaptureErrorCode.GZIP_ERROR, detail: `compression method ${cm}, not deflate (8)` };
  if ((flags & GZIP_FLAGS_RESERVED) !== 0) return { code: CaptureErrorCode.GZIP_ERROR, detail: `reserved flag bits set (0x${flags.toString(16)})` };
  if ((flags & GZIP_FEXTRA) !== 0) {
    const lo = await src.byte();
    const hi = await src.byte();
    if (hi < 0) return cut;
    for (let n = lo | (hi << 8); n > 0; n--) if ((await src.byte()) < 0) return cut;
  }
  for (const flag of [GZIP_FNAME, GZIP_FCOMMENT]) {
    if ((flags & flag) === 0) continue;
    for (;;) {
      const v = await src.byte(); // zero-terminated
      if (v < 0) return cut;
      if (v === 0) break;
    }
  }
  if ((flags & GZIP_FHCRC) !== 0 && ((await src.byte()) < 0 || (await src.byte()) < 0)) return cut;
  return null;
}

/**
 * Writes the member's deflate data into `inflate`, one chunk at a time (waiting for each to be
 * processed, which also waits for the reader: back-pressure). When inflate stops consuming, its
 * stream ended: the bytes it left (trailer, next member) are given back to `src`.
 * @returns 'end' (deflate stream complete) or 'eof' (the file ended first)
 */
async function feedDeflate(inflate: ReturnType<typeof createInflateRaw>, src: ByteCursor): Promise<'end' | 'eof'> {
  let fed = 0;
  for (;;) {
    if (!(await src.fill())) {
      inflate.end(); // Z_SYNC_FLUSH at the end: what decompressed is emitted, no "unexpected end" error
      return 'eof';
    }
    const piece = src.buf.subarray(src.pos);
    src.pos = src.buf.length;
    src.offset += piece.length;
    fed += piece.length;
    await new Promise<void>((resolve, reject) => {
      inflate.write(piece, (err) => {
        if (err === undefined || err === null) resolve();
        else reject(err);
      });
    });
    const left = fed - inflate.bytesWritten;
    if (left > 0) {
      src.pos -= left; // the piece is still `src.buf`'s tail
      src.offset -= left;
      inflate.end();
      return 'end';
    }
  }
}

async function readGzipFile(
  path: string,
  onPacket: PacketCallback,
  options: ReadCaptureOptions,
  chunkSize: number,
): Promise<CaptureSummary> {
  const file = createReadStream(path, { highWaterMark: chunkSize });
  const st: GzipState = { members: 0, compressedBytes: 0, trailingGarbageBytes: 0, crcMismatches: 0, damage: null };
  const parser = new CaptureParser(options);
  const signal = options.signal;
  try {
    for await (const chunk of gunzipMembers(file, Math.min(chunkSize, 256 * 1024), st)) {
      parser.push(chunk);
      const pending = drain(parser, onPacket, signal);
      if (pending !== undefined) await pending;
    }
  } finally {
    file.destroy();
  }
  const decompressed = parser.summary(true).bytes;
  const damage = st.damage === null ? null : new CaptureError(st.damage.code, decompressed, st.damage.detail, st.damage.cause === undefined ? undefined : { cause: st.damage.cause });
  const status = await finishRecords(parser, onPacket, signal);
  if (status === CaptureParseStatus.Error) {
    // Nothing readable came out of the gzip data: its damage is the error, not the cut file header.
    if (damage !== null && parser.error?.code === CaptureErrorCode.TRUNCATED_FILE_HEADER) {
      throw new CaptureError(CaptureErrorCode.GZIP_ERROR, damage.offset, damage.message, { cause: st.damage?.cause ?? damage });
    }
    throw parser.error!;
  }
  const summary = parser.summary(true);
  summary.truncation ??= damage;
  summary.gzip = { members: st.members, compressedBytes: st.compressedBytes, trailingGarbageBytes: st.trailingGarbageBytes, crcMismatches: st.crcMismatches, damage };
  if (summary.truncation !== null && options.strictTruncation === true) throw summary.truncation;
  return summary;
}
