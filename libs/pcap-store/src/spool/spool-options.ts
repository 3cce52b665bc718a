import type { LogCallback } from '@callscope/runtime';
import { ChunkCompression } from './segment-format.js';

/** What a sensor keeps of each call (per-sensor setting). */
export const SpoolMode = {
  /** Every SIP, RTP and RTCP packet whole. */
  SIP_RTP: 'sip_rtp',
  /** SIP only; RTP/RTCP packets are not stored (counted as `packetsFiltered`). */
  SIP: 'sip',
  /**
   * SIP whole; RTP cut right after the RTP header (12 + 4·CC bytes + header extension), i.e.
   * link + tunnels + IP + UDP + RTP header, at the length the caller found while decoding (the
   * `rtpHeaderEnd` argument of `SpoolWriter.write`: the writer does not decode frames). RTCP and
   * RTP whose cut point the caller could not prove are kept whole (storing too much is safe, a
   * guessed cut is not). The record's original length stays that of the wire packet, so
   * Wireshark shows "[Packet size limited during capture]" and sequence/timing analysis still works.
   */
  RTP_HEADERS: 'rtp_headers',
} as const;

/** One of the {@link SpoolMode} values. */
export type SpoolMode = (typeof SpoolMode)[keyof typeof SpoolMode];

/** Options of `SpoolWriter`, validated once by {@link resolveSpoolWriterOptions}. */
export interface SpoolWriterOptions {
  /** Spool root directory (created if missing). */
  spoolDir: string;
  /** What is kept of each call; default `sip_rtp`. */
  mode?: SpoolMode;
  /**
   * Compress every chunk: `zstd` (tar member `.pcap.zst`, one Zstandard frame at level 1), `gzip`
   * (`.pcap.gz`) or `none` (the default). Compressed on the writer's thread at hand-off. zstd was
   * chosen by measurement on the chunks of the corpus captures (README "Compression"): on real
   * G.711 it compresses 3.5x faster than gzip level 1 and 8 % smaller; gzip stays for tools that
   * know no zstd.
   */
  compression?: ChunkCompression;
  /** zlib level when `compression` is `gzip` (1..9); default 1 (speed; pcaps of G.711 shrink ~40 % anyway). */
  gzipLevel?: number;
  /** A call's chunk (one group's records) goes to its segment once it holds this many bytes; default 64 KiB. */
  flushBytes?: number;
  /**
   * A segment is written once this many bytes are queued for it (sooner when a call end waits,
   * on the flush timer and on `flush()`); one write at a time per segment; default 1 MiB.
   */
  segmentWriteBytes?: number;
  /** Sensor of calls whose `SpoolCallRef` names none (the sniffer's own name); default ''. */
  sensor?: string;
  /** Every buffer is handed to the disk at least this often (wall clock, ms); default 2000. */
  flushIntervalMs?: number;
  /**
   * Bound on `ioConcurrency` (validation only). The segment layout holds two descriptors per
   * minute with open calls, not one per call file, so nothing else limits on it any more; kept so
   * existing configurations stay valid. Default 256.
   */
  maxOpenFiles?: number;
  /** Most segment writes in flight at once (≤ maxOpenFiles); default 8. */
  ioConcurrency?: number;
  /**
   * Cap on bytes held in memory (chunk buffers not yet written + writes in flight); default
   * 256 MiB (10,000 open calls then get chunks of ~8 KiB, whose 512-byte tar header and padding
   * cost ~10 %; at 64 MiB they were ~3 KiB and cost ~25 %). Idle chunk buffers kept for reuse come
   * on top, up to the same amount.
   * Past half of it the oldest buffers are flushed first; a packet that would exceed it is dropped
   * and counted (`packetsDropped.buffer_full`): the disk is not keeping up.
   */
  maxBufferedBytes?: number;
  /** Called with the bytes each write put on disk, by minute directory (feeds `SpoolRetention`). */
  onBytesWritten?: (minuteDir: string, bytes: number) => void;
  /** Optional log callback (the libraries' contract of @callscope/runtime): errors and state changes only. */
  logger?: LogCallback;
}

/** {@link SpoolWriterOptions} with defaults filled in, frozen. */
export type ResolvedSpoolWriterOptions = Readonly<
  Required<Omit<SpoolWriterOptions, 'onBytesWritten' | 'logger'>> & Pick<SpoolWriterOptions, 'onBytesWritten' | 'logger'>
>;

/** Defaults of {@link SpoolWriterOptions}. */
export const DEFAULT_SPOOL_WRITER_OPTIONS = Object.freeze({
  mode: SpoolMode.SIP_RTP,
  compression: ChunkCompression.NONE,
  gzipLevel: 1,
  flushBytes: 64 * 1024,
  segmentWriteBytes: 1024 * 1024,
  sensor: '',
  flushIntervalMs: 2000,
  maxOpenFiles: 256,
  ioConcurrency: 8,
  maxBufferedBytes: 256 * 1024 * 1024,
});

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`SpoolWriter option ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/**
 * Fills defaults and validates; a bad option is a programmer error and throws `RangeError` /
 * `TypeError` with the offending value.
 *
 * @param options - see {@link SpoolWriterOptions}
 */
export function resolveSpoolWriterOptions(options: SpoolWriterOptions): ResolvedSpoolWriterOptions {
  if (typeof options.spoolDir !== 'string' || options.spoolDir.length === 0) {
    throw new TypeError('SpoolWriter option spoolDir must be a non-empty string');
  }
  const o = { ...DEFAULT_SPOOL_WRITER_OPTIONS, ...options };
  if (!Object.values(SpoolMode).includes(o.mode)) {
    throw new RangeError(`SpoolWriter option mode must be one of ${Object.values(SpoolMode).join(', ')}, got ${o.mode}`);
  }
  if (!Object.values(ChunkCompression).includes(o.compression)) {
    throw new RangeError(`SpoolWriter option compression must be one of ${Object.values(ChunkCompression).join(', ')}, got ${o.compression as string}`);
  }
  checkInt('gzipLevel', o.gzipLevel, 1, 9);
  checkInt('flushBytes', o.flushBytes, 1024, 16 * 1024 * 1024);
  checkInt('segmentWriteBytes', o.segmentWriteBytes, 4096, 64 * 1024 * 1024);
  if (typeof o.sensor !== 'string') throw new TypeError('SpoolWriter option sensor must be a string');
  checkInt('flushIntervalMs', o.flushIntervalMs, 10, 3_600_000);
  checkInt('maxOpenFiles', o.maxOpenFiles, 1, 65_536);
  checkInt('ioConcurrency', o.ioConcurrency, 1, o.maxOpenFiles);
  checkInt('maxBufferedBytes', o.maxBufferedBytes, 2 * o.flushBytes, 2 ** 40);
  return Object.freeze(o);
}
