/**
 * pcapng block and option numbers used by the reader.
 *
 * ```
 * General block structure (all lengths in the section's byte order)
 *  0  Block Type
 *  4  Block Total Length   (multiple of 4, includes both length fields)
 *  8  Block Body ...       (fixed part, then options, padded to 32 bits)
 *  n  Block Total Length   (repeated)
 * ```
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/ (sections 3, 4)
 * @see https://pcapng.com/
 */

/** Section Header Block; palindromic so it reads the same in either byte order (section 4.1). */
export const PCAPNG_BLOCK_SHB = 0x0a0d0d0a;
/** Interface Description Block (section 4.2). */
export const PCAPNG_BLOCK_IDB = 0x00000001;
/** Obsolete Packet Block (appendix, pre-EPB writers). */
export const PCAPNG_BLOCK_OPB = 0x00000002;
/** Simple Packet Block: no timestamp, interface 0 (section 4.4). */
export const PCAPNG_BLOCK_SPB = 0x00000003;
/** Enhanced Packet Block (section 4.3). */
export const PCAPNG_BLOCK_EPB = 0x00000006;
/** SHB byte-order magic (section 4.1). */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Smallest possible block: type, length, length. */
export const PCAPNG_MIN_BLOCK_LENGTH = 12;
/** SHB fixed part: type, length, BOM, versions (4), section length (8), trailing length. */
export const PCAPNG_MIN_SHB_LENGTH = 28;
/** IDB fixed part: type, length, link type, reserved, snaplen, trailing length. */
export const PCAPNG_MIN_IDB_LENGTH = 20;
/** EPB/OPB fixed part: type, length, interface, ts high, ts low, caplen, origlen, trailing length. */
export const PCAPNG_MIN_EPB_LENGTH = 32;
/** SPB fixed part: type, length, original length, trailing length. */
export const PCAPNG_MIN_SPB_LENGTH = 16;
/** `opt_endofopt` (section 3.5). */
export const PCAPNG_OPT_ENDOFOPT = 0;
/** IDB option `if_tsresol`: 1 byte, MSB clear = 10^-n s, MSB set = 2^-n s (section 4.2). */
export const PCAPNG_OPT_IF_TSRESOL = 9;
/** IDB option `if_tsoffset`: signed 64-bit seconds added to every timestamp (section 4.2). */
export const PCAPNG_OPT_IF_TSOFFSET = 14;
/** Major version accepted in an SHB. */
export const PCAPNG_VERSION_MAJOR = 1;
