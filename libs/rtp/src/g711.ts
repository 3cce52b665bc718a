import { checkRange } from './buffer-range.js';

/**
 * G.711 decoding to 16-bit linear PCM through two 256-entry tables built once at load.
 *
 * mu-law (G.711 §2, Table 2a): invert all bits, sign = bit 7, exponent e = bits 6..4,
 * mantissa m = bits 3..0; magnitude = ((m << 3) + 0x84) << e) - 0x84 (14-bit range, scaled by 4
 * to 16 bits). A-law (Table 1a): XOR 0x55, e = bits 6..4, m = bits 3..0; magnitude = (m << 4) + 8
 * for e = 0, ((m << 4) + 0x108) << (e - 1) otherwise (13-bit range, scaled by 8); bit 7 set means
 * positive.
 *
 * @see https://www.itu.int/rec/T-REC-G.711
 */
const ULAW = new Int16Array(256);
const ALAW = new Int16Array(256);

for (let i = 0; i < 256; i++) {
  const u = ~i & 0xff;
  const e = (u >> 4) & 0x07;
  const m = u & 0x0f;
  const mag = (((m << 3) + 0x84) << e) - 0x84;
  ULAW[i] = (u & 0x80) !== 0 ? -mag : mag;

  const a = i ^ 0x55;
  const ae = (a >> 4) & 0x07;
  const am = a & 0x0f;
  const amag = ae === 0 ? (am << 4) + 8 : ((am << 4) + 0x108) << (ae - 1);
  ALAW[i] = (a & 0x80) !== 0 ? amag : -amag;
}

/** Decode one mu-law octet to a 16-bit sample. */
export function decodeUlawSample(octet: number): number {
  return ULAW[octet & 0xff]!;
}

/** Decode one A-law octet to a 16-bit sample. */
export function decodeAlawSample(octet: number): number {
  return ALAW[octet & 0xff]!;
}

/**
 * Decode PCMU (mu-law) octets `buf[offset .. offset + length)` into `out` starting at
 * `outOffset`. Returns the number of samples written (limited by the room in `out`).
 *
 * @throws RangeError when offset/length lie outside `buf` or `outOffset` outside `out` (a programmer error).
 */
export function decodePcmu(buf: Uint8Array, offset: number, length: number, out: Int16Array, outOffset = 0): number {
  checkRange('decodePcmu', buf.length, offset, length);
  checkRange('decodePcmu out', out.length, outOffset, 0);
  const n = Math.min(length, out.length - outOffset);
  for (let i = 0; i < n; i++) out[outOffset + i] = ULAW[buf[offset + i]!]!;
  return n;
}

/**
 * Decode PCMA (A-law) octets `buf[offset .. offset + length)` into `out` starting at
 * `outOffset`. Returns the number of samples written (limited by the room in `out`).
 *
 * @throws RangeError when offset/length lie outside `buf` or `outOffset` outside `out` (a programmer error).
 */
export function decodePcma(buf: Uint8Array, offset: number, length: number, out: Int16Array, outOffset = 0): number {
  checkRange('decodePcma', buf.length, offset, length);
  checkRange('decodePcma out', out.length, outOffset, 0);
  const n = Math.min(length, out.length - outOffset);
  for (let i = 0; i < n; i++) out[outOffset + i] = ALAW[buf[offset + i]!]!;
  return n;
}
