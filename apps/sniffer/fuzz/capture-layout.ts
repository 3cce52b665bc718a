/**
 * A capture file seen as its framing, for the structure-aware mutators: the file header and the
 * records (classic pcap) or blocks (pcapng), each kept as its own bytes so records can be dropped,
 * repeated, reordered or spliced between files and the result written back with
 * {@link serializeLayout}. Bytes after the last whole record are kept as `tail`. This is a
 * deliberately forgiving reader of the harness's own inputs, not the product's parser.
 */

/** Classic pcap magic numbers as read big-endian (µs and ns resolution). */
const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** pcapng block types with packet bytes: Enhanced (6), Simple (3), obsolete Packet (2). */
export const PCAPNG_EPB = 6;
export const PCAPNG_SPB = 3;
export const PCAPNG_PB = 2;
export const PCAPNG_IDB = 1;

export interface CaptureRecord {
  /**
   * Record header + packet bytes (pcap), or the whole block (pcapng). A view of the parsed
   * input: mutators copy before they write (the input is a shared seed).
   */
  bytes: Uint8Array;
}

export interface CaptureLayout {
  format: 'pcap' | 'pcapng';
  /** Byte order of the header fields (pcapng: of the first section). */
  littleEndian: boolean;
  /** pcap: the 24-byte global header; pcapng: empty (the SHB is the first record). */
  header: Uint8Array;
  records: CaptureRecord[];
  /** Bytes after the last whole record (a cut record, garbage). */
  tail: Uint8Array;
}

function u32(b: Uint8Array, off: number, le: boolean): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, le);
}

/** Writes a 32-bit field in the given byte order (bounds-checked by DataView). */
export function setU32(b: Uint8Array, off: number, value: number, le: boolean): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(off, value >>> 0, le);
}

/** Reads a 32-bit field in the given byte order. */
export function getU32(b: Uint8Array, off: number, le: boolean): number {
  return u32(b, off, le);
}

/** The layout of a classic pcap or pcapng file, or null for anything else (gzip, garbage). */
export function parseLayout(input: Uint8Array): CaptureLayout | null {
  if (input.length < 24) return null;
  const be = u32(input, 0, false);
  if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) return parsePcap(input, false);
  const le = u32(input, 0, true);
  if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) return parsePcap(input, true);
  if (be === PCAPNG_SHB) return parsePcapng(input);
  return null;
}

function parsePcap(input: Uint8Array, le: boolean): CaptureLayout {
  const records: CaptureRecord[] = [];
  let off = 24;
  while (off + 16 <= input.length) {
    const capLen = u32(input, off + 8, le);
    if (off + 16 + capLen > input.length) break;
    records.push({ bytes: input.subarray(off, off + 16 + capLen) });
    off += 16 + capLen;
  }
  return { format: 'pcap', littleEndian: le, header: input.subarray(0, 24), records, tail: input.subarray(off) };
}

function parsePcapng(input: Uint8Array): CaptureLayout {
  const records: CaptureRecord[] = [];
  let off = 0;
  let le = true;
  while (off + 12 <= input.length) {
    if (u32(input, off, false) === PCAPNG_SHB && off + 12 <= input.length) {
      le = u32(input, off + 8, true) === PCAPNG_BYTE_ORDER_MAGIC;
    }
    const len = u32(input, off + 4, le);
    if (len < 12 || len % 4 !== 0 || off + len > input.length) break;
    records.push({ bytes: input.subarray(off, off + len) });
    off += len;
  }
  return { format: 'pcapng', littleEndian: le, header: new Uint8Array(0), records, tail: input.subarray(off) };
}

/** The file again: header, every record in order, tail. */
export function serializeLayout(layout: CaptureLayout): Uint8Array {
  let size = layout.header.length + layout.tail.length;
  for (const r of layout.records) size += r.bytes.length;
  const out = new Uint8Array(size);
  out.set(layout.header, 0);
  let off = layout.header.length;
  for (const r of layout.records) {
    out.set(r.bytes, off);
    off += r.bytes.length;
  }
  out.set(layout.tail, off);
  return out;
}

/** Where a record's packet bytes are and where its length/time fields sit, or null (no packet). */
export interface PacketFields {
  /** Offset of the packet bytes in the record. */
  data: number;
  /** Captured length (in the record's byte order). */
  capLen: number;
  /** Offset of the captured-length field, and of the original-length field (-1: none). */
  capLenAt: number;
  origLenAt: number;
  /** Offsets of the timestamp words: pcap seconds/fraction, pcapng EPB high/low (-1: none). */
  tsHiAt: number;
  tsLoAt: number;
}

/** The packet of a record, if it has one. */
export function packetFields(layout: CaptureLayout, rec: CaptureRecord): PacketFields | null {
  const b = rec.bytes;
  const le = layout.littleEndian;
  if (layout.format === 'pcap') {
    if (b.length < 16) return null;
    return { data: 16, capLen: Math.min(u32(b, 8, le), b.length - 16), capLenAt: 8, origLenAt: 12, tsHiAt: 0, tsLoAt: 4 };
  }
  if (b.length < 12) return null;
  const type = u32(b, 0, le);
  if ((type === PCAPNG_EPB || type === PCAPNG_PB) && b.length >= 32) {
    return { data: 28, capLen: Math.min(u32(b, 20, le), b.length - 32), capLenAt: 20, origLenAt: 24, tsHiAt: 12, tsLoAt: 16 };
  }
  if (type === PCAPNG_SPB && b.length >= 16) {
    return { data: 12, capLen: Math.min(u32(b, 8, le), b.length - 16), capLenAt: -1, origLenAt: 8, tsHiAt: -1, tsLoAt: -1 };
  }
  return null;
}

/**
 * A record whose packet bytes are `data`: lengths updated (and the pcapng block padded and its
 * two length fields rewritten). Returns a new record; the input is not modified.
 */
export function withPacketData(layout: CaptureLayout, rec: CaptureRecord, data: Uint8Array): CaptureRecord {
  const f = packetFields(layout, rec);
  if (f === null) return rec;
  const le = layout.littleEndian;
  if (layout.format === 'pcap') {
    const out = new Uint8Array(16 + data.length);
    out.set(rec.bytes.subarray(0, 16), 0);
    out.set(data, 16);
    setU32(out, 8, data.length, le);
    setU32(out, 12, data.length, le);
    return { bytes: out };
  }
  const padded = (data.length + 3) & ~3;
  // Options (after the packet) are dropped: the harness mutates packets, not options.
  const total = f.data + padded + 4;
  const out = new Uint8Array(total);
  out.set(rec.bytes.subarray(0, f.data), 0);
  out.set(data, f.data);
  setU32(out, 4, total, le);
  setU32(out, total - 4, total, le);
  if (f.capLenAt >= 0) setU32(out, f.capLenAt, data.length, le);
  setU32(out, f.origLenAt, data.length, le);
  return { bytes: out };
}

/** The link type of the file (pcap header, else the first pcapng interface), or -1. */
export function linkTypeOf(layout: CaptureLayout): number {
  const le = layout.littleEndian;
  if (layout.format === 'pcap') return u32(layout.header, 20, le) & 0xffff;
  for (const r of layout.records) {
    if (r.bytes.length >= 16 && u32(r.bytes, 0, le) === PCAPNG_IDB) {
      return new DataView(r.bytes.buffer, r.bytes.byteOffset).getUint16(8, le);
    }
  }
  return -1;
}

/** Offsets of the protocol fields inside one packet, found by a minimal walk of the outer headers. */
export interface ProtocolOffsets {
  /** Offset of the EtherType (or SLL protocol) field, or -1. */
  etherType: number;
  /** Offset of the IP header, its version (4/6) and header length; -1/0 when not found. */
  ip: number;
  ipVersion: number;
  ipHeaderLength: number;
  /** L4 protocol number and offset of its header, or -1. */
  l4Proto: number;
  l4: number;
  /** Offset of the L4 payload, or -1. */
  payload: number;
}

/** Ethernet (1), Linux SLL (113), raw IP (101, 228, 229): the layers the field mutators target. */
export function protocolOffsets(pkt: Uint8Array, linkType: number): ProtocolOffsets {
  const none: ProtocolOffsets = { etherType: -1, ip: -1, ipVersion: 0, ipHeaderLength: 0, l4Proto: -1, l4: -1, payload: -1 };
  let et = -1;
  let ip = -1;
  if (linkType === 1) {
    et = 12;
    while (et + 2 <= pkt.length && (((pkt[et]! << 8) | pkt[et + 1]!) === 0x8100 || ((pkt[et]! << 8) | pkt[et + 1]!) === 0x88a8)) et += 4;
    ip = et + 2;
  } else if (linkType === 113) {
    et = 14;
    ip = 16;
  } else if (linkType === 101 || linkType === 228 || linkType === 229) {
    ip = 0;
  } else return none;
  if (ip >= pkt.length) return { ...none, etherType: et };
  const version = pkt[ip]! >> 4;
  if (version === 4) {
    const ihl = (pkt[ip]! & 0x0f) * 4;
    const proto = pkt[ip + 9] ?? -1;
    const l4 = ip + ihl;
    return finishL4({ etherType: et, ip, ipVersion: 4, ipHeaderLength: ihl, l4Proto: proto, l4, payload: -1 }, pkt);
  }
  if (version === 6) {
    const proto = pkt[ip + 6] ?? -1;
    return finishL4({ etherType: et, ip, ipVersion: 6, ipHeaderLength: 40, l4Proto: proto, l4: ip + 40, payload: -1 }, pkt);
  }
  return { ...none, etherType: et, ip };
}

function finishL4(o: ProtocolOffsets, pkt: Uint8Array): ProtocolOffsets {
  if (o.l4Proto === 17 && o.l4 + 8 <= pkt.length) return { ...o, payload: o.l4 + 8 };
  if (o.l4Proto === 6 && o.l4 + 20 <= pkt.length) return { ...o, payload: o.l4 + ((pkt[o.l4 + 12]! >> 4) * 4) };
  return o;
}
