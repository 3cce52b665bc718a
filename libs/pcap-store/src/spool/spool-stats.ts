/** Why the spool discarded a packet; every discarded packet is counted under exactly one reason. */
export const SpoolDropReason = {
  /** The memory cap (`maxBufferedBytes`) was reached: the disk is not keeping up. */
  BUFFER_FULL: 'buffer_full',
  /** The packet's segment could not be created or written (disk full, permissions), or its chunk not compressed; see `writeErrors`. */
  WRITE_ERROR: 'write_error',
  /** `write` after `close()`. */
  CLOSED: 'closed',
  /** `write` for a call after its `endCall`. */
  CALL_ENDED: 'call_ended',
  /** Frame longer than 256 KiB, or a timestamp / original length that is not a pcap field. */
  BAD_PACKET: 'bad_packet',
} as const;

/** One of the {@link SpoolDropReason} values. */
export type SpoolDropReason = (typeof SpoolDropReason)[keyof typeof SpoolDropReason];

/** Counters of a `SpoolWriter` (a snapshot: a fresh object per `stats()` call). */
export interface SpoolWriterStats {
  /** Packets whose record reached the disk. */
  packetsWritten: number;
  /** Bytes put on disk (after gzip when on), pcap headers included. */
  bytesWritten: number;
  /** Packets discarded, by reason. */
  packetsDropped: Record<SpoolDropReason, number>;
  /** RTP/RTCP packets not stored because the mode is `sip` (by design, not a loss). */
  packetsFiltered: number;
  /** RTP packets stored cut after their header (`rtp_headers` mode). */
  packetsCut: number;
  /** Segment files currently open (archive + index per minute being written). */
  filesOpen: number;
  /** Files created since start (`seg.<n>.tar` and `seg.<n>.idx`). */
  filesCreated: number;
  /** Chunks (tar members) written and indexed. */
  chunksWritten: number;
  /** Calls written to and not yet fully closed after `endCall`. */
  callsOpen: number;
  /** Failed open/write/close operations. */
  writeErrors: number;
  /** Bytes held in memory now (buffer capacity + writes in flight). */
  bufferedBytes: number;
}
