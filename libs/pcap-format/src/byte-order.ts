/**
 * Unsigned integer reads from a byte array, for every parser of the workspace (capture formats,
 * link/IP/tunnel headers, RTP/RTCP). Small and monomorphic so the JIT inlines them on the hot
 * path; they allocate nothing and do not check bounds: the caller has checked the length of the
 * region first (STYLE.md), and a read past the end yields garbage, not an exception.
 */

/** Big-endian (network order) unsigned 16-bit value at `o`. */
export function readU16BE(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Big-endian (network order) unsigned 32-bit value at `o`. */
export function readU32BE(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Little-endian unsigned 16-bit value at `o`. */
export function readU16LE(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

/** Little-endian unsigned 32-bit value at `o`. */
export function readU32LE(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/** Unsigned 16-bit value at `o` in the byte order of a capture file (pcap/pcapng headers). */
export function readU16(b: Uint8Array, o: number, littleEndian: boolean): number {
  return littleEndian ? readU16LE(b, o) : readU16BE(b, o);
}

/** Unsigned 32-bit value at `o` in the byte order of a capture file (pcap/pcapng headers). */
export function readU32(b: Uint8Array, o: number, littleEndian: boolean): number {
  return littleEndian ? readU32LE(b, o) : readU32BE(b, o);
}
