/**
 * Duration of an Opus packet from its TOC byte, without decoding it.
 *
 * ```
 *  0 1 2 3 4 5 6 7
 * +-+-+-+-+-+-+-+-+
 * | config  |s| c |     config: mode and frame size; s: stereo; c: frames in the packet
 * +-+-+-+-+-+-+-+-+
 * ```
 * Frame size by config (RFC 6716 §3.1 Table 2): 0-11 SILK 10/20/40/60 ms (config % 4), 12-15
 * Hybrid 10/20 ms (config % 2), 16-31 CELT 2.5/5/10/20 ms (config % 4). Frames: c = 0 one, 1 and 2
 * two, 3 the count in the low 6 bits of the second byte (§3.2.5). A packet lasts at most 120 ms.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6716#section-3.1
 */

/** Frame size of each config in units of 2.5 ms (1 = 2.5 ms, 24 = 60 ms). */
const FRAME_QUARTER_MS: readonly number[] = [
  4, 8, 16, 24, 4, 8, 16, 24, 4, 8, 16, 24, // SILK NB, MB, WB: 10, 20, 40, 60 ms
  4, 8, 4, 8, // Hybrid SWB, FB: 10, 20 ms
  1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, // CELT NB, WB, SWB, FB: 2.5, 5, 10, 20 ms
];

/** Longest Opus packet, in units of 2.5 ms (120 ms, RFC 6716 §3.2.5). */
const MAX_PACKET_QUARTER_MS = 48;

/**
 * Samples an Opus packet `buf[offset .. + length)` decodes to at `sampleRate` (a multiple of
 * 400 Hz, e.g. 8000 or 48000): 0 for an empty, malformed or over-long (> 120 ms) packet. Never
 * throws on packet content.
 *
 * @throws RangeError when the range lies outside `buf` or the rate is not a multiple of 400 (programmer errors)
 */
export function opusPacketSamples(buf: Uint8Array, offset: number, length: number, sampleRate: number): number {
  if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= buf.length)) {
    throw new RangeError(`opusPacketSamples: range ${offset}+${length} outside a buffer of length ${buf.length}`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate % 400 !== 0) throw new RangeError(`sample rate ${sampleRate} is not a multiple of 400 Hz`);
  if (length < 1) return 0;
  const toc = buf[offset]!;
  const c = toc & 0x03;
  let frames: number;
  if (c === 0) frames = 1;
  else if (c !== 3) frames = 2;
  else {
    if (length < 2) return 0;
    frames = buf[offset + 1]! & 0x3f;
  }
  const quarters = frames * FRAME_QUARTER_MS[toc >> 3]!;
  if (quarters === 0 || quarters > MAX_PACKET_QUARTER_MS) return 0;
  return (quarters * sampleRate) / 400;
}
