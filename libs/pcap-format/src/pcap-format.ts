/**
 * Classic libpcap file format: constants and pure serializers.
 *
 * ```
 * Global header (24 bytes)                 Record header (16 bytes)
 *  0  magic      0xA1B2C3D4 (µs)            0  ts_sec
 *                0xA1B23C4D (ns)            4  ts_usec | ts_nsec
 *  4  version_major (2) version_minor (4)   8  incl_len  (captured bytes that follow)
 *  8  thiszone (0)   12  sigfigs (0)       12  orig_len  (bytes on the wire)
 * 16  snaplen       20  linktype
 * ```
 * The writer of the file chooses the byte order; the reader recognises it from the magic.
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/ (sections 4 and 5)
 * @see https://wiki.wireshark.org/Development/LibpcapFileFormat
 */

/** Magic of a microsecond-resolution pcap, as read in the writer's byte order. */
export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
/** Magic of a nanosecond-resolution pcap, as read in the writer's byte order. */
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
/** Size of the pcap global (file) header. */
export const PCAP_GLOBAL_HEADER_LENGTH = 24;
/** Size of a pcap record (packet) header. */
export const PCAP_RECORD_HEADER_LENGTH = 16;
/** Major version written and accepted. */
export const PCAP_VERSION_MAJOR = 2;
/** Minor version written (readers accept any). */
export const PCAP_VERSION_MINOR = 4;
/**
 * Largest captured length accepted for one packet (libpcap's MAXIMUM_SNAPLEN, 256 KiB): larger
 * values only come from corrupt headers, and bounding them bounds the reader's carry buffer.
 */
export const MAX_CAPTURE_LENGTH = 262_144;

/** Timestamp resolution of a classic pcap file. */
export const PcapResolution = {
  /** ts field 2 counts microseconds (magic 0xA1B2C3D4). */
  MICROSECONDS: 'us',
  /** ts field 2 counts nanoseconds (magic 0xA1B23C4D). */
  NANOSECONDS: 'ns',
} as const;

/** One of the {@link PcapResolution} values. */
export type PcapResolution = (typeof PcapResolution)[keyof typeof PcapResolution];

function writeU32Le(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value & 0xff;
  out[offset + 1] = (value >>> 8) & 0xff;
  out[offset + 2] = (value >>> 16) & 0xff;
  out[offset + 3] = (value >>> 24) & 0xff;
}

function checkRoom(out: Uint8Array, offset: number, length: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > out.length) {
    throw new RangeError(`need ${length} bytes at offset ${offset}, buffer has ${out.length}`);
  }
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`${name} ${value} is not an unsigned 32-bit integer`);
  }
}

/**
 * Writes a little-endian pcap global header into `out` at `offset`.
 * Programmer errors (no room, values out of range) throw `RangeError`.
 *
 * @param out - caller buffer
 * @param offset - where the 24 bytes start
 * @param linkType - LINKTYPE_* value (0..65535)
 * @param snaplen - snapshot length announced to readers (1..MAX_CAPTURE_LENGTH)
 * @param resolution - microsecond or nanosecond magic
 * @returns the number of bytes written, {@link PCAP_GLOBAL_HEADER_LENGTH}
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/ section 4
 */
export function serializePcapGlobalHeader(
  out: Uint8Array,
  offset: number,
  linkType: number,
  snaplen: number,
  resolution: PcapResolution,
): number {
  checkRoom(out, offset, PCAP_GLOBAL_HEADER_LENGTH);
  if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) {
    throw new RangeError(`linkType ${linkType} is not in 0..65535`);
  }
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > MAX_CAPTURE_LENGTH) {
    throw new RangeError(`snaplen ${snaplen} is not in 1..${MAX_CAPTURE_LENGTH}`);
  }
  const magic = resolution === PcapResolution.NANOSECONDS ? PCAP_MAGIC_NANOSECONDS : PCAP_MAGIC_MICROSECONDS;
  writeU32Le(out, offset, magic);
  out[offset + 4] = PCAP_VERSION_MAJOR;
  out[offset + 5] = 0;
  out[offset + 6] = PCAP_VERSION_MINOR;
  out[offset + 7] = 0;
  writeU32Le(out, offset + 8, 0); // thiszone: timestamps are UTC
  writeU32Le(out, offset + 12, 0); // sigfigs: always 0 in practice
  writeU32Le(out, offset + 16, snaplen);
  writeU32Le(out, offset + 20, linkType);
  return PCAP_GLOBAL_HEADER_LENGTH;
}

/**
 * Writes a little-endian pcap record header into `out` at `offset`. In microsecond files the
 * nanoseconds are truncated to microseconds (what libpcap does with a ns clock).
 *
 * @param out - caller buffer
 * @param offset - where the 16 bytes start
 * @param tsSec - seconds since the epoch (0..2^32-1)
 * @param tsNsec - nanoseconds within the second (0..999 999 999)
 * @param capLen - bytes of packet data that will follow the header
 * @param origLen - bytes of the packet on the wire
 * @param resolution - must match the file's global header
 * @returns the number of bytes written, {@link PCAP_RECORD_HEADER_LENGTH}
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/ section 5
 */
export function serializePcapRecordHeader(
  out: Uint8Array,
  offset: number,
  tsSec: number,
  tsNsec: number,
  capLen: number,
  origLen: number,
  resolution: PcapResolution,
): number {
  checkRoom(out, offset, PCAP_RECORD_HEADER_LENGTH);
  checkU32('tsSec', tsSec);
  if (!Number.isInteger(tsNsec) || tsNsec < 0 || tsNsec > 999_999_999) {
    throw new RangeError(`tsNsec ${tsNsec} is not in 0..999999999`);
  }
  checkU32('capLen', capLen);
  checkU32('origLen', origLen);
  writeU32Le(out, offset, tsSec);
  writeU32Le(out, offset + 4, resolution === PcapResolution.NANOSECONDS ? tsNsec : Math.floor(tsNsec / 1000));
  writeU32Le(out, offset + 8, capLen);
  writeU32Le(out, offset + 12, origLen);
  return PCAP_RECORD_HEADER_LENGTH;
}
