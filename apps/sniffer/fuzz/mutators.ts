/**
 * The mutators of the fuzz harness. Each is a small pure function: (input bytes, seeded PRNG,
 * donor files) -> new bytes; the input is never modified, so a finding is reproduced from
 * (seed file, mutator name, PRNG seed) with the same seed set. Three families:
 * - bytes: bit flips, byte sets, inserts, deletes, truncation anywhere;
 * - framing-aware: the capture split into header + records/blocks ({@link parseLayout}), then
 *   record headers (caplen/origlen/ts), protocol fields at the offsets of the packet's headers
 *   (Ethernet type, IP lengths and fragment fields, UDP length, TCP offset/flags/seq, RTP/RTCP),
 *   SIP/SDP text with lengths fixed up so the text reaches the parser, records duplicated,
 *   dropped, reordered or spliced from other seeds, timestamps shifted, pcap rewritten as pcapng
 *   under various timestamp resolutions;
 * - gzip: the input compressed, with garbage after it, cut short, two members, a corrupt byte.
 */
import { gzipSync } from 'node:zlib';
import {
  getU32,
  linkTypeOf,
  packetFields,
  parseLayout,
  PCAPNG_IDB,
  protocolOffsets,
  serializeLayout,
  setU32,
  withPacketData,
  type CaptureLayout,
  type CaptureRecord,
  type ProtocolOffsets,
} from './capture-layout.js';
import { Prng } from './prng.js';

/** One mutation: must not modify `input` or `donors`; same arguments, same bytes. */
export type Mutate = (input: Uint8Array, rng: Prng, donors: readonly Uint8Array[]) => Uint8Array;

export interface Mutator {
  name: string;
  mutate: Mutate;
}

/** 32-bit values that sit on boundaries of length and time fields. */
function interestingU32(rng: Prng, current: number): number {
  return rng.pick([0, 1, current - 1, current + 1, current * 2, 0xffff, 0x10000, 0x40000, 0x40001, 0x7fffffff, 0x80000000, 0xffffffff, rng.u32()]) >>> 0;
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x0d, 0x0a, 0x3a];

// ---------------------------------------------------------------- bytes

const bitFlip: Mutate = (input, rng) => {
  const out = input.slice();
  if (out.length === 0) return out;
  const n = rng.smallSize(64);
  for (let i = 0; i < n; i++) {
    const at = rng.int(out.length);
    out[at]! ^= 1 << rng.int(8);
  }
  return out;
};

const byteSet: Mutate = (input, rng) => {
  const out = input.slice();
  if (out.length === 0) return out;
  const n = rng.smallSize(32);
  for (let i = 0; i < n; i++) out[rng.int(out.length)] = rng.chance(0.7) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
  return out;
};

const insertBytes: Mutate = (input, rng) => {
  const at = rng.int(input.length + 1);
  const len = rng.smallSize(4096);
  const fill = rng.chance(0.5) ? -1 : rng.pick(INTERESTING_BYTES);
  const ins = new Uint8Array(len);
  for (let i = 0; i < len; i++) ins[i] = fill < 0 ? rng.int(256) : fill;
  const out = new Uint8Array(input.length + len);
  out.set(input.subarray(0, at), 0);
  out.set(ins, at);
  out.set(input.subarray(at), at + len);
  return out;
};

const deleteBytes: Mutate = (input, rng) => {
  if (input.length === 0) return input.slice();
  const at = rng.int(input.length);
  const len = Math.min(input.length - at, rng.smallSize(2048));
  const out = new Uint8Array(input.length - len);
  out.set(input.subarray(0, at), 0);
  out.set(input.subarray(at + len), at);
  return out;
};

/** Cut anywhere, near the end, or one byte either side of a record boundary. */
const truncate: Mutate = (input, rng) => {
  const layout = parseLayout(input);
  if (layout !== null && layout.records.length > 0 && rng.chance(0.5)) {
    let off = layout.header.length;
    const stop = rng.int(layout.records.length);
    for (let i = 0; i < stop; i++) off += layout.records[i]!.bytes.length;
    return input.slice(0, Math.max(0, Math.min(input.length, off + rng.range(-1, 17))));
  }
  const at = rng.chance(0.5) ? rng.int(input.length + 1) : Math.max(0, input.length - rng.smallSize(Math.max(1, input.length >> 3)));
  return input.slice(0, at);
};

// ---------------------------------------------------------------- framing

/** Runs `f` on the layout of `input`; inputs that are not a capture get a bit flip instead. */
function onLayout(input: Uint8Array, rng: Prng, f: (l: CaptureLayout) => void): Uint8Array {
  const layout = parseLayout(input);
  if (layout === null) return bitFlip(input, rng, []);
  f(layout);
  return serializeLayout(layout);
}

/** Indices of the records that carry a packet. */
function packetRecords(l: CaptureLayout): number[] {
  const out: number[] = [];
  l.records.forEach((r, i) => {
    if (packetFields(l, r) !== null) out.push(i);
  });
  return out;
}

const LINK_TYPES = [0, 1, 101, 113, 228, 229, 276, 147, 12, 9999, 65535];

/** pcap global header fields; pcapng SHB version/length and IDB link type, snaplen, tsresol. */
const fileHeader: Mutate = (input, rng) =>
  onLayout(input, rng, (l) => {
    const le = l.littleEndian;
    if (l.format === 'pcap') {
      const h = l.header.slice();
      const field = rng.int(4);
      if (field === 0) setU32(h, 0, rng.pick([0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1, rng.u32()]), le);
      else if (field === 1) setU32(h, 4, rng.u32(), le); // version major/minor
      else if (field === 2) setU32(h, 16, interestingU32(rng, getU32(h, 16, le)), le); // snaplen
      else setU32(h, 20, rng.pick(LINK_TYPES), le);
      l.header = h;
      return;
    }
    const idbs = l.records.map((r, i) => (r.bytes.length >= 20 && getU32(r.bytes, 0, le) === PCAPNG_IDB ? i : -1)).filter((i) => i >= 0);
    if (idbs.length === 0 || rng.chance(0.3)) {
      const shb = l.records[0];
      if (shb === undefined || shb.bytes.length < 24) return;
      const b = shb.bytes.slice();
      if (rng.chance(0.5)) setU32(b, 12, rng.u32(), le); // major/minor version
      else setU32(b, 16, rng.u32(), le); // section length (low word)
      l.records[0] = { bytes: b };
      return;
    }
    const i = rng.pick(idbs);
    const b = l.records[i]!.bytes.slice();
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const field = rng.int(3);
    if (field === 0) dv.setUint16(8, rng.pick(LINK_TYPES) & 0xffff, le);
    else if (field === 1) setU32(b, 12, interestingU32(rng, getU32(b, 12, le)), le);
    else {
      // if_tsresol (option 9, one byte): 6 = µs; 9 = ns; bit 7 set = power of two; 255, 0.
      for (let o = 16; o + 4 <= b.length - 4; ) {
        const code = dv.getUint16(o, le);
        const len = dv.getUint16(o + 2, le);
        if (code === 0) break;
        if (code === 9 && len >= 1) b[o + 4] = rng.pick([0, 6, 9, 19, 63, 64, 0x80, 0x8a, 0xbf, 0xff]);
        o += 4 + ((len + 3) & ~3);
      }
    }
    l.records[i] = { bytes: b };
  });

/** caplen, origlen, timestamps of records set to boundary values; pcapng block lengths too. */
const recordHeader: Mutate = (input, rng) =>
  onLayout(input, rng, (l) => {
    const idx = packetRecords(l);
    if (idx.length === 0) return;
    const n = rng.smallSize(idx.length);
    for (let k = 0; k < n; k++) {
      const i = rng.pick(idx);
      const rec = l.records[i]!;
      const f = packetFields(l, rec);
      if (f === null) continue;
      const b = rec.bytes.slice();
      const le = l.littleEndian;
      const at = rng.pick([f.capLenAt, f.origLenAt, f.tsHiAt, f.tsLoAt, l.format === 'pcapng' ? 4 : f.capLenAt].filter((x) => x >= 0));
      setU32(b, at, interestingU32(rng, getU32(b, at, le)), le);
      l.records[i] = { bytes: b };
    }
  });

/** A packet record picked at random with its packet bytes and protocol offsets. */
interface PickedPacket {
  index: number;
  pkt: Uint8Array;
  offs: ProtocolOffsets;
}

function pickPacket(l: CaptureLayout, rng: Prng, want: (p: Uint8Array, o: ProtocolOffsets) => boolean): PickedPacket | null {
  const link = linkTypeOf(l);
  const candidates: PickedPacket[] = [];
  for (const i of packetRecords(l)) {
    const rec = l.records[i]!;
    const f = packetFields(l, rec)!;
    const pkt = rec.bytes.subarray(f.data, f.data + f.capLen);
    const offs = protocolOffsets(pkt, link);
    if (want(pkt, offs)) candidates.push({ index: i, pkt, offs });
    if (candidates.length >= 64 && rng.chance(0.2)) break;
  }
  if (candidates.length === 0) return null;
  const p = rng.pick(candidates);
  return { ...p, pkt: p.pkt.slice() }; // the caller writes into it
}

function setU16BE(b: Uint8Array, at: number, v: number): void {
  if (at < 0 || at + 2 > b.length) return;
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function getU16BE(b: Uint8Array, at: number): number {
  return at >= 0 && at + 2 <= b.length ? (b[at]! << 8) | b[at + 1]! : 0;
}

function setU32BE(b: Uint8Array, at: number, v: number): void {
  if (at < 0 || at + 4 > b.length) return;
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v >>> 0, false);
}

/** IPv4 header checksum (RFC 791), so a field mutation is not refused for the checksum alone. */
function fixIpv4Checksum(pkt: Uint8Array, ip: number, ihl: number): void {
  if (ip < 0 || ip + ihl > pkt.length || ihl < 20) return;
  setU16BE(pkt, ip + 10, 0);
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += getU16BE(pkt, ip + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  setU16BE(pkt, ip + 10, ~sum & 0xffff);
}

/** The packet with its L4 payload replaced, IP and UDP lengths updated to match. */
export function replacePayload(pkt: Uint8Array, o: ProtocolOffsets, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(o.payload + payload.length);
  out.set(pkt.subarray(0, o.payload), 0);
  out.set(payload, o.payload);
  if (o.ipVersion === 4) {
    setU16BE(out, o.ip + 2, (out.length - o.ip) & 0xffff);
    fixIpv4Checksum(out, o.ip, o.ipHeaderLength);
  } else if (o.ipVersion === 6) setU16BE(out, o.ip + 4, (out.length - o.ip - 40) & 0xffff);
  if (o.l4Proto === 17) {
    setU16BE(out, o.l4 + 4, (out.length - o.l4) & 0xffff);
    setU16BE(out, o.l4 + 6, 0); // no UDP checksum (IPv4): nothing to recompute
  }
  return out;
}

const ETHER_TYPES = [0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806, 0x8847, 0x88be, 0x6558, 0x0000, 0xffff];
const IP_PROTOS = [0, 1, 4, 6, 17, 41, 44, 47, 50, 58, 59, 60, 132, 255];
const PORTS = [0, 5060, 5061, 5080, 4789, 37008, 9060, 9063, 1, 65535];

/** One header field of the packet (Ethernet, IP, UDP, TCP, RTP, RTCP) set to a boundary value. */
const protocolField: Mutate = (input, rng) =>
  onLayout(input, rng, (l) => {
    const p = pickPacket(l, rng, (_pkt, o) => o.ip >= 0);
    if (p === null) return;
    const { pkt, offs: o } = p;
    const fields: (() => void)[] = [];
    if (o.etherType >= 0) fields.push(() => { setU16BE(pkt, o.etherType, rng.pick(ETHER_TYPES)); });
    if (o.ipVersion === 4) {
      const ip = o.ip;
      fields.push(() => (pkt[ip] = rng.pick([0x45, 0x46, 0x4f, 0x40, 0x44, 0x65, 0x05, rng.int(256)])));
      fields.push(() => { setU16BE(pkt, ip + 2, rng.pick([0, 19, 20, 28, pkt.length - ip - 1, pkt.length - ip + 1, 0xffff, rng.int(0x10000)])); });
      // flags + fragment offset: MF, DF, offsets at and past the end, the 8-byte unit edges.
      fields.push(() => { setU16BE(pkt, ip + 6, rng.pick([0x2000, 0x4000, 0x0001, 0x2001, 0x1fff, 0x3fff, 0x0000, 0x00b9, rng.int(0x10000)])); });
      fields.push(() => { setU16BE(pkt, ip + 4, rng.int(0x10000)); }); // fragment id
      fields.push(() => (pkt[ip + 9] = rng.pick(IP_PROTOS)));
      fields.push(() => { setU32BE(pkt, ip + rng.pick([12, 16]), rng.pick([0, 0xffffffff, 0x7f000001, 0xe0000001, rng.u32()])); });
    } else if (o.ipVersion === 6) {
      fields.push(() => { setU16BE(pkt, o.ip + 4, rng.pick([0, 8, pkt.length - o.ip - 41, pkt.length - o.ip - 39, 0xffff, rng.int(0x10000)])); });
      fields.push(() => (pkt[o.ip + 6] = rng.pick(IP_PROTOS)));
      fields.push(() => (pkt[o.ip] = rng.int(256)));
    }
    if (o.l4Proto === 17 && o.l4 + 8 <= pkt.length) {
      fields.push(() => { setU16BE(pkt, o.l4 + rng.pick([0, 2]), rng.pick(PORTS)); });
      fields.push(() => { setU16BE(pkt, o.l4 + 4, rng.pick([0, 1, 7, 8, 9, pkt.length - o.l4 - 1, pkt.length - o.l4 + 1, 0xffff, rng.int(0x10000)])); });
    }
    if (o.l4Proto === 6 && o.l4 + 20 <= pkt.length) {
      fields.push(() => (pkt[o.l4 + 12] = (rng.pick([0, 1, 4, 5, 6, 15]) << 4) | (pkt[o.l4 + 12]! & 0x0f)));
      fields.push(() => (pkt[o.l4 + 13] = rng.pick([0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x01, 0x3f, 0xff, 0x00])));
      fields.push(() => { setU32BE(pkt, o.l4 + rng.pick([4, 8]), rng.pick([0, 0xffffffff, 0x7fffffff, 0x80000000, rng.u32()])); });
      fields.push(() => { setU16BE(pkt, o.l4 + rng.pick([0, 2]), rng.pick(PORTS)); });
    }
    const pl = o.payload;
    if (pl >= 0 && pl + 12 <= pkt.length && pkt[pl]! >> 6 === 2) {
      // RTP (RFC 3550 §5.1) / RTCP (§6.4): V=2 first byte.
      fields.push(() => (pkt[pl] = rng.pick([0x80, 0x8f, 0x90, 0xa0, 0xbf, 0x9f, 0x81, 0x40, 0xc0])));
      fields.push(() => (pkt[pl + 1] = rng.pick([0, 8, 18, 72, 76, 96, 101, 127, 128, 200, 201, 202, 203, 204, 205, 206, 207, 255])));
      fields.push(() => { setU16BE(pkt, pl + 2, rng.pick([0, 1, 0xffff, 0x7fff, 0x8000, rng.int(0x10000)])); }); // seq / RTCP length
      fields.push(() => { setU32BE(pkt, pl + rng.pick([4, 8]), rng.pick([0, 0xffffffff, 0x80000000, rng.u32()])); }); // ts / ssrc
      fields.push(() => (pkt[pkt.length - 1] = rng.pick([0, 1, 4, 12, 255]))); // padding count
      fields.push(() => {
        pkt[pl] = pkt[pl]! | 0x10; // X: an extension header whose length runs past the packet
        setU16BE(pkt, pl + 12 + (pkt[pl] & 0x0f) * 4 + 2, rng.pick([0, 1, 0xffff, rng.int(0x10000)]));
      });
    }
    const n = rng.smallSize(4);
    for (let i = 0; i < n && fields.length > 0; i++) rng.pick(fields)();
    if (o.ipVersion === 4 && rng.chance(0.7)) fixIpv4Checksum(pkt, o.ip, Math.max(20, (pkt[o.ip]! & 0x0f) * 4));
    l.records[p.index] = withPacketData(l, l.records[p.index]!, pkt);
  });

// ---------------------------------------------------------------- SIP / SDP text

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const bytesOf = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

const SIP_START = /^(?:SIP\/2\.0 \d|[A-Z]{3,12} \S+ SIP\/2\.0)/;
const SIP_HEADERS = ['Call-ID', 'i', 'CSeq', 'From', 'f', 'To', 't', 'Via', 'v', 'Contact', 'm', 'Content-Length', 'l', 'Content-Type', 'c', 'Max-Forwards', 'Expires', 'Record-Route', 'Route', 'Authorization'];
const BAD_NUMBERS = ['4294967296', '4294967295', '99999999999999999999999', '-1', '0', 'NaN', '1e400', '0x10', '', ' ', '+5', '１２'];
const BAD_UTF8 = ['\xff\xfe', '\xc3\x28', '\xed\xa0\x80', '\x00', '\xc0\xaf', '\xf4\x90\x80\x80', '\x80'];

/** The line of header `name` (long or compact form) as [start, end) of its value, or null. */
function headerValue(text: string, names: readonly string[]): { start: number; end: number } | null {
  for (const name of names) {
    const re = new RegExp(`\\r?\\n${name.replace(/[-]/g, '\\-')}[ \\t]*:[ \\t]*`, 'i');
    const m = re.exec(text);
    if (m === null) continue;
    const start = m.index + m[0].length;
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (text[end - 1] === '\r') end--;
    return { start, end };
  }
  return null;
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

/** Content-Length set to the body's length (when the mutation should reach the body parser). */
function fixContentLength(text: string): string {
  const sep = text.indexOf('\r\n\r\n');
  if (sep < 0) return text;
  const bodyLen = text.length - sep - 4;
  const v = headerValue(text, ['Content-Length', 'l']);
  return v === null || v.start > sep ? text : splice(text, v.start, v.end, String(bodyLen));
}

/** One edit of SIP text; `room` is how many bytes it may grow by. */
function mutateSipText(text: string, rng: Prng, room: number): string {
  const name = rng.pick(SIP_HEADERS);
  const v = headerValue(text, [name]) ?? headerValue(text, ['Call-ID', 'CSeq', 'Via']);
  const op = rng.int(11);
  switch (op) {
    case 0: // huge value
      return v === null ? text : splice(text, v.start, v.end, rng.pick(['x', 'a;b=', '<sip:', '"', ',']).repeat(Math.max(1, Math.min(room, rng.range(1000, 70000)) >> 2)));
    case 1: // empty value
      return v === null ? text : splice(text, v.start, v.end, rng.pick(['', ' ', '\t', ';', '<>']));
    case 2: { // invalid UTF-8 inside a value (or in the SDP)
      const at = v === null ? rng.int(text.length) : rng.range(v.start, v.end);
      return splice(text, at, at, rng.pick(BAD_UTF8).repeat(rng.smallSize(64)));
    }
    case 3: { // numbers out of range: CSeq, Content-Length, Max-Forwards, Expires, status code, Via port
      const num = headerValue(text, [rng.pick(['CSeq', 'Content-Length', 'l', 'Max-Forwards', 'Expires'])]);
      if (num !== null) {
        const m = /^\d+/.exec(text.slice(num.start, num.end));
        return splice(text, num.start, num.start + (m?.[0].length ?? 0), rng.pick(BAD_NUMBERS));
      }
      return text.startsWith('SIP/2.0 ') ? splice(text, 8, 11, rng.pick(['000', '999', '1000', '-10', '2x0', '99'])) : text;
    }
    case 4: { // a header line repeated many times
      if (v === null) return text;
      const lineStart = text.lastIndexOf('\n', v.start) + 1;
      const line = text.slice(lineStart, v.end) + '\r\n';
      const times = Math.max(1, Math.min(rng.pick([2, 10, 100, 300, 1000, 5000]), Math.floor(room / Math.max(1, line.length))));
      return splice(text, lineStart, lineStart, line.repeat(times));
    }
    case 5: { // Content-Length corrupt or missing
      const cl = headerValue(text, ['Content-Length', 'l']);
      if (cl === null) return text;
      const sep = text.indexOf('\r\n\r\n');
      const body = sep < 0 ? 0 : text.length - sep - 4;
      if (rng.chance(0.2)) return splice(text, text.lastIndexOf('\n', cl.start) + 1, Math.min(text.length, cl.end + 2), '');
      return splice(text, cl.start, cl.end, rng.pick([String(body - 1), String(body + 1), String(body + 1000), '9999999', '-5', 'abc', '0', '']));
    }
    case 6: { // SDP m= / c= lines
      const m = /\r?\nm=(\w+) (\d+)/.exec(text);
      const c = /\r?\nc=IN IP[46] ([^\r\n]*)/.exec(text);
      const which = rng.int(5);
      let t = text;
      if (which === 0 && m !== null) {
        const portAt = m.index + m[0].length - m[2]!.length;
        t = splice(t, portAt, portAt + m[2]!.length, rng.pick(['0', '65535', '65536', '99999', '-1', '', '5060', '1/2', '70000/3']));
      } else if (which === 1 && c !== null) {
        const at = c.index + c[0].length - c[1]!.length;
        t = splice(t, at, at + c[1]!.length, rng.pick(['300.1.1.1', ':::', '', '0.0.0.0', '::', '1.2.3', 'host.example', '224.2.1.1/127', 'ff02::1', '\xff']));
      } else if (which === 2 && m !== null) {
        const lineEnd = t.indexOf('\n', m.index + 2);
        const line = t.slice(m.index, lineEnd < 0 ? t.length : lineEnd);
        t = splice(t, m.index, m.index, line.repeat(Math.max(1, Math.min(rng.pick([2, 20, 200, 2000]), Math.floor(room / Math.max(1, line.length))))));
      } else if (which === 3 && m !== null) {
        const lineEnd = t.indexOf('\n', m.index + 2);
        t = splice(t, m.index + m[0].length, lineEnd < 0 ? t.length : lineEnd - 1, rng.pick(['', ' RTP/AVP', ' RTP/AVP ', ' RTP/AVP 0 8 101 ' + '96 '.repeat(200), ' UDP/TLS/RTP/SAVPF 111']));
      } else if (c !== null) t = splice(t, c.index, c.index + c[0].length, '');
      return rng.chance(0.7) ? fixContentLength(t) : t;
    }
    case 7: // a header removed
      return v === null ? text : splice(text, text.lastIndexOf('\n', v.start) + 1, Math.min(text.length, v.end + 2), '');
    case 8: { // start line: method, status, version
      const sp = text.indexOf(' ');
      if (sp < 0) return text;
      return rng.chance(0.5) ? splice(text, 0, sp, rng.pick(['INVITE', 'BYE', 'ACK', 'CANCEL', 'REGISTER', 'OPTIONS', 'SIP/3.0', 'SIP/2.0', 'invite', 'X'.repeat(300), ''])) : text.replace('SIP/2.0', rng.pick(['SIP/2.1', 'SIP/20', 'sip/2.0', 'HTTP/1.1']));
    }
    case 9: // line endings: bare LF, bare CR, folded lines
      return rng.pick([() => text.replaceAll('\r\n', '\n'), () => text.replaceAll('\r\n', '\r'), () => (v === null ? text : splice(text, v.start, v.start, 'x\r\n  y\r\n\t'))])();
    default: // cut the text
      return text.slice(0, rng.int(text.length + 1));
  }
}

/** A SIP message's text edited, IP/UDP lengths and record lengths updated to match. */
const sipText: Mutate = (input, rng) =>
  onLayout(input, rng, (l) => {
    const p = pickPacket(l, rng, (pkt, o) => o.payload >= 0 && o.payload < pkt.length && SIP_START.test(latin1(pkt.subarray(o.payload, o.payload + 64))));
    if (p === null) {
      // Tunnelled or unknown framing: edit the text in place, lengths left as they are.
      const q = pickPacket(l, rng, (pkt) => latin1(pkt).includes('SIP/2.0'));
      if (q === null) return;
      const text = latin1(q.pkt);
      const start = Math.max(0, text.search(/[A-Z]{3,12} \S+ SIP\/2\.0|SIP\/2\.0 \d/));
      const edited = mutateSipText(text.slice(start), rng, 2000);
      const pkt = bytesOf(text.slice(0, start) + edited);
      l.records[q.index] = withPacketData(l, l.records[q.index]!, rng.chance(0.5) ? pkt.subarray(0, q.pkt.length) : pkt);
      return;
    }
    let text = latin1(p.pkt.subarray(p.offs.payload));
    const n = rng.chance(0.7) ? 1 : rng.range(2, 4);
    for (let i = 0; i < n; i++) text = mutateSipText(text, rng, Math.max(0, 65000 - p.pkt.length));
    l.records[p.index] = withPacketData(l, l.records[p.index]!, replacePayload(p.pkt, p.offs, bytesOf(text)));
  });

// ---------------------------------------------------------------- records

const duplicateRecords: Mutate = (input, rng) =>
  onLayout(input, rng, (l) => {
    if (l.records.length === 0) return;
    if (rng.chance(0.15)) {
      l.records = [...l.records, ...l.records];
      return;
    }
    const i = rng.int(l.records.length);
    const times = rng.pick([1, 2, 5, 50, 500]);
    const copies: CaptureRecord[] = Array.from({ length: times }, () => l.records[i]!);
    l.records.splice(rng.chance(0.5) ? i : rng.int(l.records.length + 1), 0, ...copies);
  });

const dropRecords: Mutate = (input, rng) =>
  onLayout(input, rng, (l) => {
    if (l.records.length === 0) return;
    const kind = rng.int(3);
    if (kind === 0) l.records.splice(rng.int(l.records.length), 1);
    else if (kind === 1) l.records.splice(rng.int(l.records.length), rng.smallSize(l.records.length));
    else l.records = l.records.filter(() => rng.chance(0.5));
  });

const reorderRecords: Mutate = (input, rng) =>
  onLayout(input, rng, (l) => {
    const r = l.records;
    if (r.length < 2) return;
    const kind = rng.int(3);
    const a = rng.int(r.length);
    const b = Math.min(r.length, a + rng.range(2, 64));
    if (kind === 0) {
      const j = rng.int(r.length);
      [r[a], r[j]] = [r[j]!, r[a]!];
    } else if (kind === 1) r.splice(a, b - a, ...r.slice(a, b).reverse());
    else {
      const w = r.slice(a, b);
      for (let i = w.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [w[i], w[j]] = [w[j]!, w[i]!];
      }
      r.splice(a, b - a, ...w);
    }
  });

/** Records of another seed inserted (a donor of the other format: its whole file appended). */
const spliceRecords: Mutate = (input, rng, donors) => {
  const layout = parseLayout(input);
  if (layout === null || donors.length === 0) return bitFlip(input, rng, donors);
  const donorBytes = rng.pick(donors);
  const donor = parseLayout(donorBytes);
  if (donor === null || donor.format !== layout.format || rng.chance(0.1)) {
    const cut = donorBytes.subarray(0, rng.chance(0.5) ? donorBytes.length : rng.int(donorBytes.length + 1));
    const out = new Uint8Array(input.length + cut.length);
    out.set(input, 0);
    out.set(cut, input.length);
    return out;
  }
  const take = donor.records.slice(0).filter((r) => packetFields(donor, r) !== null || rng.chance(0.1));
  if (take.length === 0) return input.slice();
  const start = rng.int(take.length);
  const chunk = take.slice(start, start + rng.smallSize(200));
  const at = rng.int(layout.records.length + 1);
  if (rng.chance(0.5)) layout.records.splice(at, 0, ...chunk);
  else for (const r of chunk) layout.records.splice(rng.int(layout.records.length + 1), 0, r); // interleaved
  return serializeLayout(layout);
};

/** Timestamps moved: +1 h, -1 day, set to 0, to the 32-bit edges, sub-second overflow. */
const shiftTime: Mutate = (input, rng) =>
  onLayout(input, rng, (l) => {
    const idx = packetRecords(l);
    if (idx.length === 0) return;
    const deltaS = rng.pick([3600, -86400, 1, -1, 0, 2 ** 31, -(2 ** 31), rng.int(2 ** 31) - 2 ** 30]);
    const setZero = rng.chance(0.15);
    const fracOverflow = rng.chance(0.1);
    const from = rng.int(idx.length);
    const scope = rng.int(3); // 0: one record, 1: from here on, 2: every record
    const chosen = scope === 0 ? [idx[from]!] : scope === 1 ? idx.slice(from) : idx;
    const le = l.littleEndian;
    for (const i of chosen) {
      const rec = l.records[i]!;
      const f = packetFields(l, rec);
      if (f === null || f.tsHiAt < 0) continue;
      const b = rec.bytes.slice();
      if (l.format === 'pcap') {
        if (fracOverflow) setU32(b, f.tsLoAt, rng.pick([1_000_000, 999_999_999, 1_000_000_000, 0xffffffff]), le);
        else setU32(b, f.tsHiAt, setZero ? 0 : getU32(b, f.tsHiAt, le) + deltaS, le);
      } else {
        // pcapng: one 64-bit count in the interface's resolution (µs unless if_tsresol says otherwise).
        let t = BigInt(getU32(b, f.tsHiAt, le)) * 0x1_0000_0000n + BigInt(getU32(b, f.tsLoAt, le));
        t = setZero ? 0n : t + BigInt(deltaS) * 1_000_000n;
        t = BigInt.asUintN(64, t);
        setU32(b, f.tsHiAt, Number(t >> 32n), le);
        setU32(b, f.tsLoAt, Number(t & 0xffffffffn), le);
      }
      l.records[i] = { bytes: b };
    }
  });

/** A pcapng block: type, total length, body padded to 32 bits, total length again (little-endian). */
function pcapngBlock(type: number, body: Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const out = new Uint8Array(12 + padded);
  setU32(out, 0, type, true);
  setU32(out, 4, out.length, true);
  out.set(body, 8);
  setU32(out, out.length - 4, out.length, true);
  return out;
}

/**
 * A classic pcap rewritten as pcapng (SHB, one IDB, one EPB per record), so the corpus's calls
 * also reach the pcapng paths: if_tsresol of µs, ns, ms or 2^-10 (timestamps converted, or, now
 * and then, left in µs under a resolution that says otherwise), sometimes an if_tsoffset.
 */
const toPcapng: Mutate = (input, rng) => {
  const l = parseLayout(input);
  if (l === null || l.format !== 'pcap') return bitFlip(input, rng, []);
  const le = l.littleEndian;
  const nano = getU32(l.header, 0, le) === 0xa1b23c4d;
  const shbBody = new Uint8Array(16);
  setU32(shbBody, 0, 0x1a2b3c4d, true);
  shbBody[4] = 1; // major 1, minor 0
  shbBody.fill(0xff, 8, 16); // section length unknown
  const tsresol = rng.pick([6, 9, 3, 0x8a, 0, 0x80, 19]);
  const lie = rng.chance(0.3); // µs counts whatever the resolution says
  const tsoffset = rng.chance(0.2) ? BigInt(rng.pick([-86400, 3600, -(2 ** 31), 2 ** 40])) : null;
  const opts: number[] = [9, 0, 1, 0, tsresol, 0, 0, 0];
  if (tsoffset !== null) {
    const o = new Uint8Array(12);
    o[0] = 14; // if_tsoffset: signed 64-bit seconds
    o[2] = 8;
    new DataView(o.buffer).setBigInt64(4, tsoffset, true);
    opts.push(...o);
  }
  opts.push(0, 0, 0, 0);
  const idbBody = new Uint8Array(8 + opts.length);
  new DataView(idbBody.buffer).setUint16(0, getU32(l.header, 20, le) & 0xffff, true);
  setU32(idbBody, 4, getU32(l.header, 16, le), true);
  idbBody.set(opts, 8);
  const units = (sec: number, frac: number): bigint => {
    const ns = BigInt(sec) * 1_000_000_000n + BigInt(nano ? frac : frac * 1000);
    if (lie) return ns / 1000n;
    if (tsresol & 0x80) return (ns << BigInt(tsresol & 0x7f)) / 1_000_000_000n;
    const exp = tsresol;
    return exp >= 9 ? ns * 10n ** BigInt(exp - 9) : ns / 10n ** BigInt(9 - exp);
  };
  const blocks: Uint8Array[] = [pcapngBlock(0x0a0d0d0a, shbBody), pcapngBlock(PCAPNG_IDB, idbBody)];
  for (const r of l.records) {
    const b = r.bytes;
    const capLen = b.length - 16;
    const t = BigInt.asUintN(64, units(getU32(b, 0, le), getU32(b, 4, le)));
    const body = new Uint8Array(20 + capLen);
    setU32(body, 4, Number(t >> 32n), true);
    setU32(body, 8, Number(t & 0xffffffffn), true);
    setU32(body, 12, capLen, true);
    setU32(body, 16, getU32(b, 12, le), true);
    body.set(b.subarray(16), 20);
    blocks.push(pcapngBlock(6, body));
  }
  const out = new Uint8Array(blocks.reduce((a, x) => a + x.length, 0));
  let off = 0;
  for (const x of blocks) {
    out.set(x, off);
    off += x.length;
  }
  return out;
};

// ---------------------------------------------------------------- gzip

/** The input gzip-compressed, whole, with garbage after it, cut short, twice, or with a bad byte. */
const gzip: Mutate = (input, rng) => {
  const gz = new Uint8Array(gzipSync(input, { level: rng.pick([1, 6, 9]) }));
  const kind = rng.int(6);
  if (kind === 0) return gz;
  if (kind === 1) {
    const garbage = rng.chance(0.5) ? new Uint8Array(rng.smallSize(4096)).map(() => rng.int(256)) : gz.subarray(0, rng.int(gz.length));
    const out = new Uint8Array(gz.length + garbage.length);
    out.set(gz, 0);
    out.set(garbage, gz.length);
    return out;
  }
  if (kind === 2) return gz.slice(0, rng.pick([rng.int(gz.length), gz.length - 8, gz.length - 4, gz.length - 1, 10, 2]));
  if (kind === 3) {
    const second = new Uint8Array(gzipSync(input.subarray(rng.int(input.length + 1))));
    const out = new Uint8Array(gz.length + second.length);
    out.set(gz, 0);
    out.set(second, gz.length);
    return out;
  }
  const out = gz.slice();
  // kind 4: a flipped bit in the deflate data; kind 5: in the header or the CRC/ISIZE trailer.
  const at = kind === 4 ? rng.range(10, Math.max(10, out.length - 9)) : rng.chance(0.5) ? rng.int(Math.min(10, out.length)) : out.length - 1 - rng.int(8);
  if (at >= 0 && at < out.length) out[at]! ^= 1 << rng.int(8);
  return out;
};

/** The mutators that are not stacks (a stack applies several of these). */
const BASIC: readonly Mutator[] = [
  { name: 'bit-flip', mutate: bitFlip },
  { name: 'byte-set', mutate: byteSet },
  { name: 'insert-bytes', mutate: insertBytes },
  { name: 'delete-bytes', mutate: deleteBytes },
  { name: 'truncate', mutate: truncate },
  { name: 'file-header', mutate: fileHeader },
  { name: 'record-header', mutate: recordHeader },
  { name: 'protocol-field', mutate: protocolField },
  { name: 'sip-text', mutate: sipText },
  { name: 'duplicate-records', mutate: duplicateRecords },
  { name: 'drop-records', mutate: dropRecords },
  { name: 'reorder-records', mutate: reorderRecords },
  { name: 'splice-records', mutate: spliceRecords },
  { name: 'shift-time', mutate: shiftTime },
  { name: 'to-pcapng', mutate: toPcapng },
  { name: 'gzip', mutate: gzip },
];

/** 2 to 4 framing-aware or byte mutations in a row, gzip-compressed now and then. */
const stack: Mutate = (input, rng, donors) => {
  let out = input;
  const n = rng.range(2, 4);
  const pool = BASIC.filter((m) => m.name !== 'gzip');
  for (let i = 0; i < n; i++) out = rng.pick(pool).mutate(out, rng, donors);
  return rng.chance(0.15) ? gzip(out, rng, donors) : out;
};

/** Every mutator, by name; the order is part of a run's reproducibility (seeded choice). */
export const MUTATORS: readonly Mutator[] = [...BASIC, { name: 'stack', mutate: stack }];

/** The mutator called `name`. @throws Error for an unknown name */
export function mutatorNamed(name: string): Mutator {
  const m = MUTATORS.find((x) => x.name === name);
  if (m === undefined) throw new Error(`no mutator ${name} (have: ${MUTATORS.map((x) => x.name).join(', ')})`);
  return m;
}

/** Applies `mutator` with a fresh PRNG from `prngSeed`: the whole recipe of one fuzz input. */
export function mutateInput(input: Uint8Array, mutator: string, prngSeed: number, donors: readonly Uint8Array[]): Uint8Array {
  return mutatorNamed(mutator).mutate(input, new Prng(prngSeed), donors);
}
