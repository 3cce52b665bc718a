/**
 * The SSRC of a stream record is text: `0x` and 8 lowercase hex digits (the jsonl contract), so
 * readers need no 32-bit unsigned number handling. These convert between the text and the number.
 */

/** `"0x1a2b3c4d"` -> 0x1a2b3c4d; `NaN` if not 1-8 hex digits after `0x`. */
export function ssrcToNumber(ssrc: string): number {
  return /^0x[0-9a-fA-F]{1,8}$/.test(ssrc) ? parseInt(ssrc.slice(2), 16) : Number.NaN;
}

/** 0x1a2b3c4d -> `"0x1a2b3c4d"` (8 lowercase hex digits). */
export function ssrcToText(ssrc: number): string {
  return `0x${ssrc.toString(16).padStart(8, '0')}`;
}
