/**
 * One captured packet as delivered by {@link CaptureParser} and `readCaptureFile`.
 *
 * The object is owned by the parser and reused for every packet, and `data` is a `subarray` of the
 * parser's current chunk (or carry) buffer: both are valid only until the callback returns (or its
 * promise settles) / until the next `next()` call. Copy whatever you keep
 * (`Uint8Array.prototype.slice`).
 */
export interface PacketRecord {
  /** LINKTYPE_* of the interface the packet was captured on. */
  linkType: number;
  /** Whole seconds since the UNIX epoch (interface `if_tsoffset` already added). */
  tsSec: number;
  /** Nanoseconds within the second, integer 0..999 999 999 (exact for µs and ns files). */
  tsNsec: number;
  /** Bytes captured (`data.length`). */
  capLen: number;
  /** Bytes the packet had on the wire (>= capLen unless the file says otherwise). */
  origLen: number;
  /** The captured bytes, aliasing the parser's buffer: copy before keeping. */
  data: Uint8Array;
  /** pcapng interface id within its section; always 0 for classic pcap. */
  interfaceId: number;
  /** 0-based packet number in the stream (across pcapng sections). */
  index: number;
  /** Stream offset of the record header / packet block (decompressed offset for gzip). */
  fileOffset: number;
}

/** A fresh record with neutral values, for callers that drive their own reused instance. */
export function createPacketRecord(): PacketRecord {
  return {
    linkType: 0,
    tsSec: 0,
    tsNsec: 0,
    capLen: 0,
    origLen: 0,
    data: new Uint8Array(0),
    interfaceId: 0,
    index: 0,
    fileOffset: 0,
  };
}
