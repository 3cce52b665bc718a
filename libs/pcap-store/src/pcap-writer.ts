import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  MAX_CAPTURE_LENGTH,
  PCAP_GLOBAL_HEADER_LENGTH,
  PCAP_RECORD_HEADER_LENGTH,
  PcapResolution,
  serializePcapGlobalHeader,
  serializePcapRecordHeader,
} from '@callscope/pcap-format';

/** Options of {@link PcapWriter}. */
export interface PcapWriterOptions {
  /** LINKTYPE_* of every packet written. */
  linkType: number;
  /** Snapshot length: longer packets are cut to it (default and maximum 262 144). */
  snaplen?: number;
  /** Timestamp resolution of the file (default microseconds, what most tools expect). */
  resolution?: PcapResolution;
  /**
   * Bytes gathered before one `write()` to the sink (default 64 KiB). Larger batches mean fewer
   * syscalls; records larger than the batch are written on their own.
   */
  batchSize?: number;
}

const DEFAULT_BATCH_SIZE = 64 * 1024;

/**
 * Writes a classic little-endian pcap (global header, then one record header + data per packet)
 * to a Node `Writable`, batching small records.
 *
 * Back-pressure: `writePacket` returns `undefined` while the sink accepts data, and a promise that
 * resolves on the sink's `drain` when it asked to slow down; await it before writing more (it can
 * be returned straight from a `readCaptureFile` callback). Packet bytes are copied, so the
 * caller's buffer may be reused as soon as the call returns.
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/
 */
export class PcapWriter {
  /** Packets written so far. */
  packets = 0;
  /** Bytes written so far, global header included. */
  bytes = 0;

  private readonly sink: Writable;
  private readonly linkType: number;
  private readonly snaplen: number;
  private readonly resolution: PcapResolution;
  private readonly batchSize: number;
  private batch: Buffer;
  private batchLen = 0;
  private sinkError: Error | null = null;
  private drainWait: Promise<void> | null = null;
  private closed = false;

  /**
   * @param sink - destination; the writer calls `end()` on it in {@link PcapWriter.close}
   * @param options - see {@link PcapWriterOptions}
   */
  constructor(sink: Writable, options: PcapWriterOptions) {
    this.sink = sink;
    this.linkType = options.linkType;
    this.snaplen = options.snaplen ?? MAX_CAPTURE_LENGTH;
    this.resolution = options.resolution ?? PcapResolution.MICROSECONDS;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(this.batchSize) || this.batchSize < PCAP_GLOBAL_HEADER_LENGTH) {
      throw new RangeError(`batchSize ${this.batchSize} must be an integer >= ${PCAP_GLOBAL_HEADER_LENGTH}`);
    }
    this.batch = Buffer.allocUnsafe(this.batchSize);
    this.batchLen = serializePcapGlobalHeader(this.batch, 0, this.linkType, this.snaplen, this.resolution);
    this.bytes = this.batchLen;
    sink.on('error', (err: Error) => {
      this.sinkError ??= err;
    });
  }

  /**
   * Opens (creates or truncates) `path` and returns a writer on it.
   * @param path - file to write
   * @param options - see {@link PcapWriterOptions}
   */
  static toFile(path: string, options: PcapWriterOptions): PcapWriter {
    return new PcapWriter(createWriteStream(path), options);
  }

  /**
   * Appends one packet. Data beyond the snaplen is cut (capLen = snaplen, origLen kept).
   * @param tsSec - seconds since the epoch (0..2^32-1)
   * @param tsNsec - nanoseconds (truncated to µs in a microsecond file)
   * @param data - packet bytes (copied)
   * @param origLen - length on the wire (default `data.length`)
   * @returns a promise when the sink wants the caller to wait, else undefined
   */
  writePacket(tsSec: number, tsNsec: number, data: Uint8Array, origLen: number = data.length): Promise<void> | undefined {
    if (this.sinkError !== null) throw this.sinkError;
    if (this.closed) throw new Error('PcapWriter is closed');
    const capLen = Math.min(data.length, this.snaplen);
    const total = PCAP_RECORD_HEADER_LENGTH + capLen;
    if (this.batchLen + total > this.batchSize) this.flushBatch();
    if (total > this.batchSize) {
      // Larger than a batch: give the sink its own buffer (the batch was just flushed).
      const own = Buffer.allocUnsafe(total);
      serializePcapRecordHeader(own, 0, tsSec, tsNsec, capLen, origLen, this.resolution);
      own.set(data.subarray(0, capLen), PCAP_RECORD_HEADER_LENGTH);
      this.send(own);
    } else {
      serializePcapRecordHeader(this.batch, this.batchLen, tsSec, tsNsec, capLen, origLen, this.resolution);
      this.batch.set(data.subarray(0, capLen), this.batchLen + PCAP_RECORD_HEADER_LENGTH);
      this.batchLen += total;
    }
    this.packets++;
    this.bytes += total;
    return this.drainWait ?? undefined;
  }

  /**
   * Appends a record as delivered by the reader (`tsSec`, `tsNsec`, `data`, `origLen`).
   * @returns see {@link PcapWriter.writePacket}
   */
  write(record: { tsSec: number; tsNsec: number; data: Uint8Array; origLen: number }): Promise<void> | undefined {
    return this.writePacket(record.tsSec, record.tsNsec, record.data, record.origLen);
  }

  /**
   * Hands the gathered batch to the sink now (e.g. on a timer, so a reader sees recent packets).
   * @returns a promise when the sink wants the caller to wait, else undefined
   */
  flush(): Promise<void> | undefined {
    if (this.sinkError !== null) throw this.sinkError;
    this.flushBatch();
    return this.drainWait ?? undefined;
  }

  /** Flushes, ends the sink and resolves once it has finished (rejects on a sink error). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flushBatch();
    this.closed = true;
    this.sink.end();
    await finished(this.sink);
    if (this.sinkError !== null) throw this.sinkError;
  }

  private flushBatch(): void {
    if (this.batchLen === 0) return;
    const full = this.batch.subarray(0, this.batchLen);
    // The sink keeps a reference until it has written the bytes: start a fresh batch buffer.
    this.batch = Buffer.allocUnsafe(this.batchSize);
    this.batchLen = 0;
    this.send(full);
  }

  private send(buf: Buffer): void {
    if (this.sink.write(buf) || this.drainWait !== null) return;
    this.drainWait = new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        this.sink.off('drain', onDrain);
        this.sink.off('error', onError);
        this.sink.off('close', onClose);
        this.drainWait = null;
        if (err === undefined) resolve();
        else reject(err);
      };
      const onDrain = (): void => {
        done();
      };
      const onError = (err: Error): void => {
        done(err);
      };
      const onClose = (): void => {
        done(this.sinkError ?? new Error('sink closed before drain'));
      };
      this.sink.on('drain', onDrain);
      this.sink.on('error', onError);
      this.sink.on('close', onClose);
    });
    // The error is also kept in sinkError and raised by the next write/close, so a caller that
    // did not await this promise must not crash the process with an unhandled rejection.
    this.drainWait.catch(() => undefined);
  }
}
