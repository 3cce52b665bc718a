import type { CaptureError } from './capture-error.js';

/** A capture timestamp: integer seconds since the epoch and integer nanoseconds (0..999 999 999). */
export interface CaptureTimestamp {
  /** Whole seconds since the UNIX epoch. */
  sec: number;
  /** Nanoseconds within the second. */
  nsec: number;
}

/** Container format of a capture stream. */
export const CaptureFormat = {
  /** Classic libpcap, microsecond timestamps. */
  PCAP: 'pcap',
  /** Classic libpcap, nanosecond timestamps (magic 0xA1B23C4D). */
  PCAP_NSEC: 'pcap-nsec',
  /** pcapng (one or more sections). */
  PCAPNG: 'pcapng',
} as const;

/** One of the {@link CaptureFormat} values. */
export type CaptureFormat = (typeof CaptureFormat)[keyof typeof CaptureFormat];

/** One interface as described by the pcap global header or a pcapng IDB. */
export interface CaptureInterface {
  /** 0-based pcapng section (0 for classic pcap). */
  section: number;
  /** Interface id within its section (the EPB `interface_id`). */
  interfaceId: number;
  /** LINKTYPE_* value. */
  linkType: number;
  /** Snapshot length announced (0 = unlimited in pcapng). */
  snaplen: number;
  /** Timestamp resolution is `tsBase ^ -tsExponent` seconds (10^-6, 10^-9, 2^-p...). */
  tsBase: number;
  /** See {@link CaptureInterface.tsBase}. */
  tsExponent: number;
  /** `if_tsoffset` seconds (0 when absent). */
  tsOffsetSec: number;
}

/**
 * Anomalies that do not stop reading but are never silent: one counter per reason.
 */
export interface CaptureCounters {
  /** Records whose captured length exceeds the interface snaplen (but not 256 KiB). */
  capLenOverSnaplen: number;
  /** Records whose original length is smaller than the captured length. */
  origLenBelowCapLen: number;
  /** pcap records whose µs/ns field was >= 1 s; carried into the seconds. */
  fractionOverflow: number;
  /** pcapng blocks skipped by their length (NRB, ISB, DSB, custom, unknown...). */
  skippedBlocks: number;
  /**
   * Damaged record headers / pcapng blocks after which the parser scanned forward to the next
   * plausible one (see `CaptureSummary.firstDamage`; the rule is in the package README).
   */
  resyncs: number;
  /** Bytes skipped by those resyncs (the damaged units and whatever was not plausible after them). */
  skippedBytes: number;
}

/**
 * The gzip container of a compressed capture, as `@callscope/pcap-store`'s `readCaptureFile` read
 * it (RFC 1952). Members are read one after the other like `gzip -d` does (`cat a.gz b.gz`).
 */
export interface GzipSummary {
  /** Members decompressed whole (header, deflate data and trailer). */
  members: number;
  /** Compressed bytes read, trailing garbage included. */
  compressedBytes: number;
  /**
   * Bytes after the last complete member that do not start another member (gzip's "trailing
   * garbage ignored"; zero padding counts too). Not an error: every packet before them was read.
   */
  trailingGarbageBytes: number;
  /** Members whose CRC-32 or length trailer does not match the data (their packets were delivered). */
  crcMismatches: number;
  /**
   * Why decompression stopped early, or null: `GZIP_TRUNCATED` (the file ends inside a member) or
   * `GZIP_ERROR` (corrupt deflate data or member header). `offset` is the decompressed stream
   * offset where the readable data ends; the message gives the compressed offset. Every packet
   * decompressed before it was delivered (zlib may withhold the last output chunk, at most the
   * reader's chunk size, before corrupt deflate data).
   */
  damage: CaptureError | null;
}

/** What a whole capture stream contained. */
export interface CaptureSummary {
  /** Container format (of the first section for pcapng). */
  format: CaptureFormat;
  /** True when the file was gzip-compressed (only `readCaptureFile` sets it). */
  compressed: boolean;
  /** The gzip container when `compressed` (set by `readCaptureFile`), else null. */
  gzip: GzipSummary | null;
  /** Number of pcapng sections (1 for classic pcap). */
  sections: number;
  /** Every interface described, in file order, across sections. */
  interfaces: CaptureInterface[];
  /** Distinct link types of delivered packets, in order of first appearance. */
  linkTypes: number[];
  /** Packets delivered. */
  packets: number;
  /** Timestamp of the first packet in file order (null when there is none). */
  first: CaptureTimestamp | null;
  /** Timestamp of the last packet in file order (null when there is none). */
  last: CaptureTimestamp | null;
  /** Bytes of the (decompressed) stream consumed, including any truncated tail. */
  bytes: number;
  /** Sum of captured lengths. */
  capturedBytes: number;
  /** Sum of original lengths. */
  originalBytes: number;
  /** Non-fatal anomalies, per reason. */
  counters: CaptureCounters;
  /**
   * Set when the stream ended inside a record/block after the file header: every complete record
   * before it was delivered. Code is TRUNCATED_RECORD_HEADER, TRUNCATED_RECORD_DATA or
   * TRUNCATED_BLOCK; `offset` is where the incomplete unit starts. For a gzip file cut off (or
   * corrupt) on a record boundary of the decompressed stream, it is `gzip.damage`.
   */
  truncation: CaptureError | null;
  /**
   * The first damaged record header or block, where the first resync started (`offset` is its
   * stream offset; code CAPLEN_TOO_LARGE, IMPLAUSIBLE_RECORD_HEADER, BLOCK_*...), or null.
   * `counters.resyncs` and `counters.skippedBytes` say how much damage there was in all.
   */
  firstDamage: CaptureError | null;
}
