import type { ResolvedSpoolWriterOptions } from './spool-options.js';
import type { SpoolWriterStats } from './spool-stats.js';
import type { SpoolCallRef, SpoolPacketKind } from './spool-writer.js';

/**
 * What the sniffer needs of a spool writer: {@link SpoolWriter} (on the caller's thread) and
 * {@link ThreadedSpoolWriter} (the same writer on a worker thread, fed through a ring) both are
 * one. See SpoolWriter for the contract of each member.
 */
export interface SpoolSink {
  readonly options: ResolvedSpoolWriterOptions;
  write(
    call: SpoolCallRef,
    kind: SpoolPacketKind,
    tsSec: number,
    tsNsec: number,
    frame: Uint8Array,
    origLen: number,
    linkType: number,
    rtpHeaderEnd?: number,
    state?: SpoolCallRef['spoolState'],
  ): void;
  endCall(call: SpoolCallRef): Promise<void>;
  /** Bytes held that a producer paced on memory should wait for (see `relieve`). */
  readonly bufferedBytes: number;
  readonly maxBufferedBytes: number;
  /** Resolves once `bufferedBytes` is back under 3/8 of `maxBufferedBytes` (offline pacing). */
  relieve(): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): SpoolWriterStats;
  /**
   * CPU seconds the writer's own thread has used (ThreadedSpoolWriter: as of the thread's last
   * report, at most 200 ms old, final once closed); null when the writer runs on the caller's
   * thread (its time is the caller's) or the system does not say (not Linux).
   */
  writerThreadCpuSeconds(): number | null;
  /** Minute directories that must not be deleted now (calls open or segments being written). */
  openMinuteDirectories(): Set<string>;
}
