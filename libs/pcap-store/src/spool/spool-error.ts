/**
 * Error catalogue of the spool's retrieval side; clients (manager-api) match on `code` and map it
 * to an HTTP status (CallNotFound -> 404).
 */
export const SpoolErrorCode = {
  /** No file of the requested kinds exists for this (Call-ID, start time). */
  CallNotFound: 'SPOOL_CALL_NOT_FOUND',
  /**
   * A file of the call exists but is not a readable capture (its header is damaged), or the
   * segment index lists chunks of the call and none of them can be read.
   */
  CorruptFile: 'SPOOL_CORRUPT_FILE',
} as const;

/** One of the {@link SpoolErrorCode} values. */
export type SpoolErrorCode = (typeof SpoolErrorCode)[keyof typeof SpoolErrorCode];

/** A spool lookup that cannot be served; `code` is from {@link SpoolErrorCode}. */
export class SpoolError extends Error {
  /** What went wrong. */
  readonly code: SpoolErrorCode;

  /**
   * @param code - catalogue code
   * @param detail - human-readable detail (paths, Call-ID)
   * @param options - standard `ErrorOptions` (the underlying error as `cause`)
   */
  constructor(code: SpoolErrorCode, detail: string, options?: ErrorOptions) {
    super(`${code}: ${detail}`, options);
    this.name = 'SpoolError';
    this.code = code;
  }
}
