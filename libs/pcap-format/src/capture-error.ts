/**
 * Error catalogue for capture files. Every way a pcap/pcapng byte stream can be rejected has one
 * code here; clients match on `code`, never on the message.
 */
export const CaptureErrorCode = {
  /** Input ended inside the pcap global header or the first pcapng Section Header Block. */
  TRUNCATED_FILE_HEADER: 'TRUNCATED_FILE_HEADER',
  /** The first 4 bytes are neither a pcap magic nor a pcapng Section Header Block type. */
  BAD_MAGIC: 'BAD_MAGIC',
  /** gzip magic (1f 8b) fed to the synchronous parser: decompress first (`readCaptureFile` does). */
  COMPRESSED_INPUT: 'COMPRESSED_INPUT',
  /**
   * The gzip data is corrupt (bad deflate data, a member header that is not gzip's) (zlib's message
   * is kept as the cause). Fatal only before the capture's file header decompressed; after it,
   * reported in `summary.gzip.damage` with every packet decompressed before it delivered.
   */
  GZIP_ERROR: 'GZIP_ERROR',
  /**
   * The gzip file ends inside a member (header, deflate data or 8-byte trailer): a cut-off .gz.
   * Reported like a truncated record (`summary.truncation`, `summary.gzip.damage`), not fatal.
   */
  GZIP_TRUNCATED: 'GZIP_TRUNCATED',
  /** pcap major version is not 2, or pcapng section major version is not 1. */
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  /** A Section Header Block whose byte-order magic is not 0x1A2B3C4D in either byte order. */
  BAD_BYTE_ORDER_MAGIC: 'BAD_BYTE_ORDER_MAGIC',
  /** A record's captured length exceeds 256 KiB (`MAX_CAPTURE_LENGTH`): the header lies. */
  CAPLEN_TOO_LARGE: 'CAPLEN_TOO_LARGE',
  /**
   * A classic pcap record header with two anomalies at once (fraction >= 1 s, original < captured
   * length, captured length > snaplen, clock step > 1 day): damage, resynchronised over.
   */
  IMPLAUSIBLE_RECORD_HEADER: 'IMPLAUSIBLE_RECORD_HEADER',
  /** pcapng block total length below 12 or below its type's fixed part (also stops zero-length loops). */
  BLOCK_TOO_SHORT: 'BLOCK_TOO_SHORT',
  /** pcapng block total length is not a multiple of 4. */
  BLOCK_LENGTH_UNALIGNED: 'BLOCK_LENGTH_UNALIGNED',
  /** pcapng block total length above the configured bound. */
  BLOCK_TOO_LARGE: 'BLOCK_TOO_LARGE',
  /** The trailing copy of the block total length differs from the leading one. */
  BLOCK_LENGTH_MISMATCH: 'BLOCK_LENGTH_MISMATCH',
  /** An EPB/OPB captured length does not fit inside its block. */
  CAPLEN_EXCEEDS_BLOCK: 'CAPLEN_EXCEEDS_BLOCK',
  /** A packet block names an interface that no IDB of the current section described. */
  UNKNOWN_INTERFACE: 'UNKNOWN_INTERFACE',
  /** More IDBs in one section than `MAX_INTERFACES`. */
  TOO_MANY_INTERFACES: 'TOO_MANY_INTERFACES',
  /** An option's length runs past the end of its block's option area. */
  OPTION_OVERRUN: 'OPTION_OVERRUN',
  /** `if_tsresol` finer than 10^-18 s or 2^-32 s, or `if_tsresol`/`if_tsoffset` of the wrong size. */
  UNSUPPORTED_TSRESOL: 'UNSUPPORTED_TSRESOL',
  /** Input ended inside a pcap record header (the records before it were delivered). */
  TRUNCATED_RECORD_HEADER: 'TRUNCATED_RECORD_HEADER',
  /** Input ended inside a pcap record's packet bytes (the records before it were delivered). */
  TRUNCATED_RECORD_DATA: 'TRUNCATED_RECORD_DATA',
  /** Input ended inside a pcapng block after the first one (the records before it were delivered). */
  TRUNCATED_BLOCK: 'TRUNCATED_BLOCK',
} as const;

/** One of the {@link CaptureErrorCode} values. */
export type CaptureErrorCode = (typeof CaptureErrorCode)[keyof typeof CaptureErrorCode];

/**
 * A capture byte stream that cannot be read further. `offset` is the byte offset, in the
 * (decompressed) stream, of the first byte of the file header, record or block in which the
 * problem was found, so `dd skip=offset` lands on the culprit.
 */
export class CaptureError extends Error {
  /** What went wrong, from {@link CaptureErrorCode}. */
  readonly code: CaptureErrorCode;
  /** Stream offset of the offending header, record or block. */
  readonly offset: number;

  /**
   * @param code - catalogue code
   * @param offset - stream offset of the offending unit
   * @param detail - human-readable detail with the numbers involved
   * @param options - standard `ErrorOptions` (e.g. a zlib `cause`)
   */
  constructor(code: CaptureErrorCode, offset: number, detail: string, options?: ErrorOptions) {
    super(`${code} at offset ${offset}: ${detail}`, options);
    this.name = 'CaptureError';
    this.code = code;
    this.offset = offset;
  }
}
