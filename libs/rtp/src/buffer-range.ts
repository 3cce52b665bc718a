/**
 * The programmer-error rule of every callscope parser (STYLE.md "Hot-path parsing"): a range that
 * does not lie inside the buffer it names is a bug in the caller, not wire input, so it throws a
 * `RangeError` with the numbers instead of becoming a status. Wire problems inside a valid range
 * stay statuses.
 *
 * @throws RangeError when `offset`/`length` are not non-negative integers or `offset + length`
 *   passes the end of a buffer of `bufferLength` bytes.
 */
export function checkRange(what: string, bufferLength: number, offset: number, length: number): void {
  if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= bufferLength)) {
    throw new RangeError(`${what}: range ${offset}+${length} outside a buffer of length ${bufferLength}`);
  }
}
