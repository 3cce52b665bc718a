import { readU32BE } from '@callscope/pcap-format';
import { checkRange } from './buffer-range.js';
import { RtpStatus } from './rtp-status.js';

/** Fixed part of the RTP header (RFC 3550 §5.1). */
export const RTP_FIXED_HEADER_LENGTH = 12;

/** Local binding: under module runners that turn imports into getters (vitest) each call would pay one. */
const u32 = readU32BE;

const VERSION_SHIFT = 6;
const PADDING_BIT = 0x20;
const EXTENSION_BIT = 0x10;
const CSRC_COUNT_MASK = 0x0f;
const MARKER_BIT = 0x80;
const PAYLOAD_TYPE_MASK = 0x7f;
/** Largest CSRC list: CC is a 4-bit field. */
const MAX_CSRC = 15;

/**
 * One RTP header, decoded in place. Caller-owned and reused: {@link parseRtpHeader} overwrites
 * every field; `csrc` is preallocated for the 4-bit maximum of 15 entries, of which the first
 * `csrcCount` are valid. Offsets point into the parsed buffer (nothing is copied).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @see https://www.rfc-editor.org/rfc/rfc3550#section-5.1
 */
export class RtpHeader {
  /** Version field (always 2 after a successful parse). */
  version = 0;
  /** P bit: padding octets follow the payload; their count is {@link RtpHeader.paddingLength}. */
  padding = false;
  /** X bit: a header extension follows the CSRC list. */
  extension = false;
  /** Number of valid entries in {@link RtpHeader.csrc}. */
  csrcCount = 0;
  /** M bit (profile-defined; RFC 3551: first packet of a talkspurt). */
  marker = false;
  /** Payload type, 0..127. */
  payloadType = 0;
  /** 16-bit sequence number. */
  sequenceNumber = 0;
  /** 32-bit RTP timestamp (unsigned). */
  timestamp = 0;
  /** Synchronization source identifier (unsigned). */
  ssrc = 0;
  /** Contributing sources; only the first `csrcCount` entries are valid. */
  readonly csrc = new Uint32Array(MAX_CSRC);
  /** 16-bit "defined by profile" field of the extension (0xBEDE = RFC 8285 one-byte, 0x100x = two-byte). */
  extensionProfile = 0;
  /** Absolute offset of the extension data (after its 4-byte header) in the buffer. */
  extensionOffset = 0;
  /** Length of the extension data in bytes (the 32-bit word count * 4). */
  extensionLength = 0;
  /** Absolute offset of the payload in the buffer. */
  payloadOffset = 0;
  /** Payload length in bytes, padding excluded. */
  payloadLength = 0;
  /** Number of padding octets (0 when the P bit is clear). */
  paddingLength = 0;
  /** Total header length in bytes (fixed + CSRC + extension). */
  headerLength = 0;
}

/**
 * Parse an RTP header at `buf[offset .. offset + length)` into `out`.
 *
 * Checks, in order: 12 fixed bytes, version 2, the CSRC list, the extension header and its
 * declared length, and the padding count (non-zero and not past the header, as RFC 3550 §5.1
 * requires of the last octet). Never throws on wire input and allocates nothing.
 *
 * @returns {@link RtpStatus.Ok} or the reason for rejection; `out` is only valid on `Ok`.
 * @throws RangeError when offset/length lie outside `buf` (a programmer error, not wire input).
 * @see https://www.rfc-editor.org/rfc/rfc3550#section-5.1
 * @see https://www.rfc-editor.org/rfc/rfc3550#section-5.3.1
 */
export function parseRtpHeader(buf: Uint8Array, offset: number, length: number, out: RtpHeader): RtpStatus {
  checkRange('parseRtpHeader', buf.length, offset, length);
  if (length < RTP_FIXED_HEADER_LENGTH) return RtpStatus.TooShort;
  const b0 = buf[offset]!;
  const version = b0 >>> VERSION_SHIFT;
  if (version !== 2) return RtpStatus.BadVersion;
  const b1 = buf[offset + 1]!;
  const cc = b0 & CSRC_COUNT_MASK;
  let pos = offset + RTP_FIXED_HEADER_LENGTH;
  const end = offset + length;
  if (pos + cc * 4 > end) return RtpStatus.TruncatedCsrc;
  out.version = version;
  out.padding = (b0 & PADDING_BIT) !== 0;
  out.extension = (b0 & EXTENSION_BIT) !== 0;
  out.csrcCount = cc;
  out.marker = (b1 & MARKER_BIT) !== 0;
  out.payloadType = b1 & PAYLOAD_TYPE_MASK;
  out.sequenceNumber = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  out.timestamp = u32(buf, offset + 4);
  out.ssrc = u32(buf, offset + 8);
  for (let i = 0; i < cc; i++) {
    out.csrc[i] = u32(buf, pos);
    pos += 4;
  }
  out.extensionProfile = 0;
  out.extensionOffset = 0;
  out.extensionLength = 0;
  if (out.extension) {
    if (pos + 4 > end) return RtpStatus.TruncatedExtension;
    out.extensionProfile = (buf[pos]! << 8) | buf[pos + 1]!;
    const words = (buf[pos + 2]! << 8) | buf[pos + 3]!;
    pos += 4;
    if (pos + words * 4 > end) return RtpStatus.TruncatedExtension;
    out.extensionOffset = pos;
    out.extensionLength = words * 4;
    pos += words * 4;
  }
  out.headerLength = pos - offset;
  let paddingLength = 0;
  if (out.padding) {
    paddingLength = buf[end - 1]!;
    // The count includes itself, so 0 is impossible; it may not eat into the header.
    if (paddingLength === 0 || pos + paddingLength > end) return RtpStatus.BadPadding;
  }
  out.paddingLength = paddingLength;
  out.payloadOffset = pos;
  out.payloadLength = end - pos - paddingLength;
  return RtpStatus.Ok;
}
