/**
 * A HEP v3 and v2 encoder for tests, written from the specs and not from the decoder under test
 * (hep-listener.test.ts checks its output against tshark's HEP dissector).
 *
 * HEP3 (spec rev. 36): "HEP3" | total length (16) | chunks of vendor (16) | type (16) | length incl.
 * these 6 bytes (16) | value. HEP2 (Kamailio siptrace): version 2 | header length | family |
 * protocol | src port | dst port | src addr | dst addr | time header (LE: sec, usec, capture id 16, pad 16).
 */

/** One captured packet as a HEP sender reports it. */
export interface HepInner {
  /** 4-byte IPv4 or 16-byte IPv6 addresses. */
  src: Uint8Array;
  dst: Uint8Array;
  srcPort: number;
  dstPort: number;
  /** IP protocol: 17 UDP, 6 TCP. */
  proto: number;
  tsSec: number;
  tsUsec: number;
  captureId?: number;
  payload: Uint8Array;
}

const AF_INET = 2;
const AF_INET6 = 10;

function chunk(type: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(6 + value.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0);
  v.setUint16(2, type);
  v.setUint16(4, 6 + value.length);
  out.set(value, 6);
  return out;
}

const u8 = (n: number) => Uint8Array.of(n);
const u16 = (n: number) => Uint8Array.of(n >>> 8, n & 0xff);
const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** HEP3 message for `m` (chunk 11 = 1: the payload is SIP). */
export function encodeHep3(m: HepInner): Uint8Array {
  const v6 = m.src.length === 16;
  const body = concat([
    chunk(1, u8(v6 ? AF_INET6 : AF_INET)),
    chunk(2, u8(m.proto)),
    chunk(v6 ? 5 : 3, m.src),
    chunk(v6 ? 6 : 4, m.dst),
    chunk(7, u16(m.srcPort)),
    chunk(8, u16(m.dstPort)),
    chunk(9, u32(m.tsSec)),
    chunk(10, u32(m.tsUsec)),
    chunk(11, u8(1)),
    chunk(12, u32(m.captureId ?? 0)),
    chunk(15, m.payload),
  ]);
  const head = new Uint8Array(6);
  head.set([0x48, 0x45, 0x50, 0x33]);
  new DataView(head.buffer).setUint16(4, 6 + body.length);
  return concat([head, body]);
}

/** HEP2 message for `m` (time header little-endian, as Kamailio writes it on x86). */
export function encodeHep2(m: HepInner): Uint8Array {
  const alen = m.src.length;
  const hdrLen = 8 + 2 * alen;
  const head = new Uint8Array(hdrLen + 12);
  const v = new DataView(head.buffer);
  head[0] = 2;
  head[1] = hdrLen;
  head[2] = alen === 16 ? AF_INET6 : AF_INET;
  head[3] = m.proto;
  v.setUint16(4, m.srcPort);
  v.setUint16(6, m.dstPort);
  head.set(m.src, 8);
  head.set(m.dst, 8 + alen);
  v.setUint32(hdrLen, m.tsSec, true);
  v.setUint32(hdrLen + 4, m.tsUsec, true);
  v.setUint16(hdrLen + 8, m.captureId ?? 0, true);
  return concat([head, m.payload]);
}

/** A short SIP request, as text bytes. */
export function sipOptions(tag: string): Uint8Array {
  return new TextEncoder().encode(
    `OPTIONS sip:bob@example.org SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK${tag}\r\nFrom: <sip:alice@example.org>;tag=${tag}\r\nTo: <sip:bob@example.org>\r\nCall-ID: ${tag}@10.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
  );
}
