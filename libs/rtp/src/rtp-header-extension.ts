import { checkRange } from './buffer-range.js';

/** RFC 8285 §4.2 "defined by profile" value announcing one-byte extension elements. */
export const ONE_BYTE_EXTENSION_PROFILE = 0xbede;
/** RFC 8285 §4.3: two-byte elements use 0x100 in the upper 12 bits (low 4 bits app-defined). */
export const TWO_BYTE_EXTENSION_PROFILE = 0x1000;
const TWO_BYTE_PROFILE_MASK = 0xfff0;
/** RFC 8285 §4.2: ID 15 in the one-byte form is reserved and ends processing of the block. */
const ONE_BYTE_RESERVED_ID = 15;

/**
 * Result of {@link nextHeaderExtensionElement}; values are stable.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8285#section-4
 */
export const HeaderExtensionStatus = {
  /** An element was decoded into `out`; call again from `out.nextOffset`. */
  Ok: 0,
  /** No more elements (end of block, or the one-byte reserved ID 15). */
  End: 1,
  /** The profile is neither 0xBEDE nor 0x100x: the block is opaque (RFC 3550 §5.3.1 generic). */
  NotRfc8285: 2,
  /** An element's length runs past the extension block. */
  Truncated: 3,
} as const;

/** One of the {@link HeaderExtensionStatus} values. */
export type HeaderExtensionStatus = (typeof HeaderExtensionStatus)[keyof typeof HeaderExtensionStatus];

/** One RFC 8285 extension element, decoded in place; caller-owned and reused. */
export class HeaderExtensionElement {
  /** Element ID (1..14 one-byte form, 1..255 two-byte form). */
  id = 0;
  /** Absolute offset of the element data in the buffer. */
  dataOffset = 0;
  /** Element data length in bytes. */
  dataLength = 0;
  /** Where to continue the iteration. */
  nextOffset = 0;
}

/**
 * Iterate the RFC 8285 elements of an RTP header extension without allocating: start with
 * `offset = header.extensionOffset`, `end = offset + header.extensionLength`, then continue from
 * `out.nextOffset` while the status is `Ok`. Padding bytes (0) between elements are skipped.
 *
 * ```
 * one-byte:  0xBE 0xDE | length | ID(4) L(4) data(L+1) ... (L+1 = 1..16 bytes)
 * two-byte:  0x100 appbits | length | ID(8) L(8) data(L) ... (L = 0..255 bytes)
 * ```
 *
 * @see https://www.rfc-editor.org/rfc/rfc8285#section-4.2
 * @throws RangeError when `offset .. end` is not a range inside `buf` (a programmer error: the
 *   header's extension range and `out.nextOffset` always are).
 * @see https://www.rfc-editor.org/rfc/rfc8285#section-4.3
 */
export function nextHeaderExtensionElement(
  buf: Uint8Array,
  profile: number,
  offset: number,
  end: number,
  out: HeaderExtensionElement,
): HeaderExtensionStatus {
  checkRange('nextHeaderExtensionElement', buf.length, offset, end - offset);
  const oneByte = profile === ONE_BYTE_EXTENSION_PROFILE;
  if (!oneByte && (profile & TWO_BYTE_PROFILE_MASK) !== TWO_BYTE_EXTENSION_PROFILE) {
    return HeaderExtensionStatus.NotRfc8285;
  }
  let pos = offset;
  const limit = end;
  while (pos < limit && buf[pos] === 0) pos++; // padding octets
  if (pos >= limit) return HeaderExtensionStatus.End;
  if (oneByte) {
    const b = buf[pos]!;
    const id = b >>> 4;
    if (id === ONE_BYTE_RESERVED_ID) return HeaderExtensionStatus.End;
    const len = (b & 0x0f) + 1;
    if (pos + 1 + len > limit) return HeaderExtensionStatus.Truncated;
    out.id = id;
    out.dataOffset = pos + 1;
    out.dataLength = len;
    out.nextOffset = pos + 1 + len;
    return HeaderExtensionStatus.Ok;
  }
  if (pos + 2 > limit) return HeaderExtensionStatus.Truncated;
  const len = buf[pos + 1]!;
  if (pos + 2 + len > limit) return HeaderExtensionStatus.Truncated;
  out.id = buf[pos]!;
  out.dataOffset = pos + 2;
  out.dataLength = len;
  out.nextOffset = pos + 2 + len;
  return HeaderExtensionStatus.Ok;
}
