/**
 * A region of the caller's buffer: `offset` and `length` in bytes. Parsers fill ranges instead of
 * creating strings so that nothing is allocated per packet; a string is made only when a caller
 * asks for one ({@link decodeRange}).
 *
 * `offset === -1` means "absent" (the header or parameter was not in the message). A present
 * range may have `length === 0` (e.g. `;rport` without a value, `Call-ID:` with an empty value).
 */
export class ByteRange {
  /** Start in the buffer that was parsed, or -1 when absent. */
  offset = -1;
  /** Length in bytes (0 when absent). */
  length = 0;

  /** True when the field was present in the message. */
  get present(): boolean {
    return this.offset >= 0;
  }

  /** Marks the range absent; parsers call this before each message so stale values never leak. */
  clear(): void {
    this.offset = -1;
    this.length = 0;
  }

  /** Sets the range from a start and an exclusive end. */
  set(start: number, end: number): void {
    this.offset = start;
    this.length = end - start;
  }

  /** Copies another range (both must refer to the same buffer). */
  copyFrom(other: ByteRange): void {
    this.offset = other.offset;
    this.length = other.length;
  }
}

// One decoder for the whole process: decoding happens only on demand, never on the hot path.
const UTF8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Decodes a range to a string (UTF-8, invalid sequences replaced). Returns `''` for an absent
 * range. This allocates: call it only for values that are kept (a dialog's Call-ID, a CDR field).
 */
export function decodeRange(buf: Uint8Array, range: ByteRange): string {
  if (range.offset < 0 || range.length <= 0) return '';
  return UTF8.decode(buf.subarray(range.offset, range.offset + range.length));
}

/** True when the range holds exactly `text` (ASCII, case-sensitive), without allocating. */
export function rangeEquals(buf: Uint8Array, range: ByteRange, text: string): boolean {
  if (range.offset < 0 || range.length !== text.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (buf[range.offset + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}
