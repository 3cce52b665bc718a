/**
 * Test-only builders of wire bytes, one per layer, each wrapping a payload: tests compose them
 * outermost last (`ethernet(0x0800, ipv4(17, a, b, udp(1, 2, data)))`). Checksums are left 0: the
 * decoder does not verify them and neither does tshark by default.
 */
export type Bytes = ArrayLike<number>;

export function concat(...parts: Bytes[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function be16(v: number): number[] {
  return [(v >>> 8) & 0xff, v & 0xff];
}

export function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

export function ip4(text: string): number[] {
  return text.split('.').map(Number);
}

/** IPv4 text to the unsigned 32-bit number the decoder reports. */
export function ip4n(text: string): number {
  const b = ip4(text);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function ip6(text: string): number[] {
  const parts = text.split('::');
  const head = parts[0] ?? '';
  const tail = parts[1] ?? '';
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => be16(parseInt(g, 16)));
}

export function ascii(text: string): number[] {
  return Array.from(text, (c) => c.charCodeAt(0));
}

const MAC_DST = [0x02, 0, 0, 0, 0, 0x01];
const MAC_SRC = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x02];

export function ethernet(etherType: number, payload: Bytes): Uint8Array {
  return concat(MAC_DST, MAC_SRC, be16(etherType), payload);
}

/** One VLAN tag body (TCI + next EtherType); the TPID is the EtherType of the layer before. */
export function vlanTag(vid: number, innerType: number, payload: Bytes): Uint8Array {
  return concat(be16(vid & 0x0fff), be16(innerType), payload);
}

export interface Ipv4Options {
  ihl?: number;
  id?: number;
  /** Fragment offset in bytes (multiple of 8). */
  fragOffset?: number;
  more?: boolean;
  totalLength?: number;
  ttl?: number;
  options?: Bytes;
}

export function ipv4(proto: number, src: string, dst: string, payload: Bytes, o: Ipv4Options = {}): Uint8Array {
  const opts = o.options ?? [];
  const ihl = o.ihl ?? 5 + opts.length / 4;
  const frag = ((o.more ?? false) ? 0x2000 : 0) | ((o.fragOffset ?? 0) >> 3);
  const total = o.totalLength ?? 20 + opts.length + payload.length;
  return concat(
    [0x40 | (ihl & 0x0f), 0],
    be16(total),
    be16(o.id ?? 0x1234),
    be16(frag),
    [o.ttl ?? 64, proto, 0, 0],
    ip4(src),
    ip4(dst),
    opts,
    payload,
  );
}

export function ipv6(next: number, src: string, dst: string, payload: Bytes, payloadLength?: number): Uint8Array {
  return concat([0x60, 0, 0, 0], be16(payloadLength ?? payload.length), [next, 64], ip6(src), ip6(dst), payload);
}

/** Generic IPv6 extension header (hop-by-hop, routing, destination options), padded to 8n bytes. */
export function ipv6Ext(next: number, payload: Bytes, extraUnits = 0): Uint8Array {
  const body = new Array<number>(6 + 8 * extraUnits).fill(0);
  if (body.length >= 2) body[0] = 1; // a PadN option so tshark sees well-formed options
  if (body.length >= 2) body[1] = body.length - 2;
  return concat([next, extraUnits], body, payload);
}

export function ipv6Fragment(next: number, fragOffset: number, more: boolean, id: number, payload: Bytes): Uint8Array {
  return concat([next, 0], be16((fragOffset & 0xfff8) | (more ? 1 : 0)), be32(id), payload);
}

export function udp(sp: number, dp: number, payload: Bytes, length?: number): Uint8Array {
  return concat(be16(sp), be16(dp), be16(length ?? 8 + payload.length), [0, 0], payload);
}

export function tcp(sp: number, dp: number, seq: number, ack: number, flags: number, payload: Bytes, options: Bytes = []): Uint8Array {
  const hlen = 20 + options.length;
  return concat(be16(sp), be16(dp), be32(seq), be32(ack), [(hlen / 4) << 4, flags], be16(65535), [0, 0, 0, 0], options, payload);
}

export interface GreOptions {
  checksum?: boolean;
  key?: number;
  seq?: number;
}

export function gre(proto: number, payload: Bytes, o: GreOptions = {}): Uint8Array {
  let flags = 0;
  const extra: number[] = [];
  if (o.checksum === true) {
    flags |= 0x8000;
    extra.push(0, 0, 0, 0);
  }
  if (o.key !== undefined) {
    flags |= 0x2000;
    extra.push(...be32(o.key));
  }
  if (o.seq !== undefined) {
    flags |= 0x1000;
    extra.push(...be32(o.seq));
  }
  return concat(be16(flags), be16(proto), extra, payload);
}

export function erspan2(session: number, vlan: number, payload: Bytes): Uint8Array {
  return concat(be16(0x1000 | (vlan & 0x0fff)), be16(session & 0x3ff), be32(7), payload);
}

export function erspan3(session: number, payload: Bytes, frameType = 0, platform?: Bytes): Uint8Array {
  const word2lo = (frameType << 10) | (platform !== undefined ? 1 : 0);
  return concat(be16(0x2000 | 10), be16(session & 0x3ff), be32(123456), be16(0), be16(word2lo), platform ?? [], payload);
}

export function vxlan(vni: number, payload: Bytes, flags = 0x08): Uint8Array {
  return concat([flags, 0, 0, 0], be32(vni << 8), payload);
}

export function tzsp(encap: number, tags: Bytes, payload: Bytes, type = 0): Uint8Array {
  return concat([1, type], be16(encap), tags, payload);
}

/** MPLS stack entries (label, TC 0, S on the last, TTL 64), optionally a zero control word. */
export function mpls(labels: number[], payload: Bytes, controlWord = false): Uint8Array {
  const entries = labels.flatMap((l, i) => be32(((l & 0xfffff) << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64));
  return concat(entries, controlWord ? [0, 0, 0, 0] : [], payload);
}

export function sll(proto: number, payload: Bytes): Uint8Array {
  return concat(be16(0), be16(1), be16(6), [2, 0, 0, 0, 0, 2, 0, 0], be16(proto), payload);
}

export function sll2(proto: number, payload: Bytes): Uint8Array {
  return concat(be16(proto), be16(0), be32(2), be16(1), [0, 6], [2, 0, 0, 0, 0, 2, 0, 0], payload);
}

export function nullHeader(family: number, littleEndian: boolean, payload: Bytes): Uint8Array {
  return concat(littleEndian ? le32(family) : be32(family), payload);
}

export interface HepFields {
  family: 4 | 6;
  proto: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  tsSec?: number;
  tsUsec?: number;
  captureId?: number;
  payload: Bytes;
}

function chunk(type: number, value: Bytes): number[] {
  return [...be16(0), ...be16(type), ...be16(6 + value.length), ...Array.from(value)];
}

export function hep3(f: HepFields, extraChunks: Bytes = []): Uint8Array {
  const body = concat(
    chunk(1, [f.family === 4 ? 2 : 10]),
    chunk(2, [f.proto]),
    f.family === 4 ? chunk(3, ip4(f.src)) : chunk(5, ip6(f.src)),
    f.family === 4 ? chunk(4, ip4(f.dst)) : chunk(6, ip6(f.dst)),
    chunk(7, be16(f.sport)),
    chunk(8, be16(f.dport)),
    f.tsSec !== undefined ? chunk(9, be32(f.tsSec)) : [],
    f.tsUsec !== undefined ? chunk(10, be32(f.tsUsec)) : [],
    f.captureId !== undefined ? chunk(12, be32(f.captureId)) : [],
    extraChunks,
    chunk(15, f.payload),
  );
  return concat(ascii('HEP3'), be16(6 + body.length), body);
}

export function hep2(f: HepFields): Uint8Array {
  const addr = f.family === 4 ? [...ip4(f.src), ...ip4(f.dst)] : [...ip6(f.src), ...ip6(f.dst)];
  return concat(
    [2, 8 + addr.length, f.family === 4 ? 2 : 10, f.proto],
    be16(f.sport),
    be16(f.dport),
    addr,
    le32(f.tsSec ?? 0),
    le32(f.tsUsec ?? 0),
    [(f.captureId ?? 0) & 0xff, ((f.captureId ?? 0) >> 8) & 0xff, 0, 0],
    f.payload,
  );
}
