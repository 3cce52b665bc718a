/**
 * Byte builders for hand-made pcap/pcapng fixtures, written straight from the format drafts
 * (independently of the parser under test) so tests can state the exact layout they exercise.
 */

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function u16(v: number, le: boolean): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, le);
  return b;
}

export function u32(v: number, le: boolean): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, le);
  return b;
}

export function i64(v: bigint, le: boolean): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, v, le);
  return b;
}

export function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

// ---- classic pcap -------------------------------------------------------------------------

export interface PcapHeaderSpec {
  le?: boolean;
  ns?: boolean;
  linkType?: number;
  snaplen?: number;
  major?: number;
}

export function pcapHeader(spec: PcapHeaderSpec = {}): Uint8Array {
  const le = spec.le ?? true;
  return concat(
    u32(spec.ns === true ? 0xa1b23c4d : 0xa1b2c3d4, le),
    u16(spec.major ?? 2, le),
    u16(4, le),
    u32(0, le),
    u32(0, le),
    u32(spec.snaplen ?? 65535, le),
    u32(spec.linkType ?? 1, le),
  );
}

export function pcapRecord(le: boolean, sec: number, frac: number, data: Uint8Array, origLen = data.length, capLen = data.length): Uint8Array {
  return concat(u32(sec, le), u32(frac, le), u32(capLen, le), u32(origLen, le), data);
}

// ---- pcapng -------------------------------------------------------------------------------

export interface BlockSpec {
  /** Leading length to write instead of the true one. */
  length?: number;
  /** Trailing length to write instead of the true one. */
  trailer?: number;
}

export function block(type: number, body: Uint8Array, le: boolean, spec: BlockSpec = {}): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  return concat(u32(type, le), u32(spec.length ?? total, le), body, new Uint8Array(padded - body.length), u32(spec.trailer ?? spec.length ?? total, le));
}

export function option(code: number, value: Uint8Array, le: boolean): Uint8Array {
  const padded = (value.length + 3) & ~3;
  return concat(u16(code, le), u16(value.length, le), value, new Uint8Array(padded - value.length));
}

export const END_OF_OPTIONS = new Uint8Array(4);

export function shb(le: boolean, major = 1, spec: BlockSpec = {}): Uint8Array {
  const body = concat(u32(0x1a2b3c4d, le), u16(major, le), u16(0, le), i64(-1n, le));
  return block(0x0a0d0d0a, body, le, spec);
}

export function idb(le: boolean, linkType: number, snaplen: number, options: Uint8Array[] = []): Uint8Array {
  const opts = options.length === 0 ? new Uint8Array(0) : concat(...options, END_OF_OPTIONS);
  return block(1, concat(u16(linkType, le), u16(0, le), u32(snaplen, le), opts), le);
}

export function tsresol(raw: number, le: boolean): Uint8Array {
  return option(9, Uint8Array.of(raw), le);
}

export function tsoffset(sec: bigint, le: boolean): Uint8Array {
  return option(14, i64(sec, le), le);
}

/** EPB with the timestamp given as a 64-bit tick count. */
export function epb(le: boolean, ifId: number, ticks: bigint, data: Uint8Array, origLen = data.length, spec: BlockSpec & { capLen?: number } = {}): Uint8Array {
  const body = concat(
    u32(ifId, le),
    u32(Number(ticks >> 32n), le),
    u32(Number(ticks & 0xffffffffn), le),
    u32(spec.capLen ?? data.length, le),
    u32(origLen, le),
    data,
  );
  return block(6, body, le, spec);
}

/** Obsolete Packet Block (16-bit interface id + 16-bit drops count). */
export function opb(le: boolean, ifId: number, ticks: bigint, data: Uint8Array): Uint8Array {
  const body = concat(
    u16(ifId, le),
    u16(0, le),
    u32(Number(ticks >> 32n), le),
    u32(Number(ticks & 0xffffffffn), le),
    u32(data.length, le),
    u32(data.length, le),
    data,
  );
  return block(2, body, le);
}

export function spb(le: boolean, origLen: number, data: Uint8Array): Uint8Array {
  return block(3, concat(u32(origLen, le), data), le);
}
