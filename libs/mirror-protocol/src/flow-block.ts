import { ByteWriter, copyBytes, putVarint, unzigzag } from './byte-writer.js';
import { rawBatchDataLength, reserveRawBatchPackets, type RawBatch } from './raw-batch.js';

/*
 * Protocol version 2 batch payload: the "flow block" (README.md, "Flow block"). ROHC-like (RFC
 * 5795 in spirit, nothing of its wire format): per RTP flow a header context that lives as long as
 * the connection, so a packet of a known flow costs a flow index, three small deltas and its header
 * XORed with the flow's previous header (zeros where nothing changed), before compression.
 *
 *   block   = varint count | varint lenMeta | varint lenTime | varint lenFlow | varint lenHead
 *             | varint lenLiteral | meta | time | flow | head | literal | payload (the rest)
 *   meta    = per packet: varint linkType, varint caplen, varint zigzag(origLen - caplen)
 *   time    = per packet: varint 2 * zigzag(ns since the previous packet of the connection), or
 *             varint 1 | varint sec | varint nsec (first packet, a jump above 2^20 s, nsec >= 1e9)
 *   flow    = per packet: varint 0 (literal: caplen bytes in literal)
 *             | varint 4 * index + 1 | varint hlen   (new flow: hlen header bytes in head, as they are)
 *             | varint 4 * index + 2|3 | zz(seq delta) | zz(timestamp delta) [| zz(IPv4 id delta)]
 *               (known flow: hlen header bytes in head, XORed with the flow's previous header,
 *               RTP sequence/timestamp and IPv4 id zeroed (sent as deltas), the IPv4 header
 *               checksum XORed with the value recomputed over this header instead, and with 3 the
 *               UDP checksum XORed with the recomputed one; 2 keeps the XOR with the previous)
 *   payload = per flow packet: its bytes after the header (caplen - hlen)
 *
 * Checksums are never assumed valid (TX checksum offload captures carry 0 or garbage): a valid
 * one travels as zeros, any other value as its difference, so the round trip is byte-exact always.
 */

/** Most bytes one packet adds to the meta section: three varints of at most 2^33 (5 bytes each). */
const META_MAX = 15;
/** Most bytes one packet adds to the time section: the absolute form, 1 + seconds (up to 10) + nanoseconds (5). */
const TIME_MAX = 16;
/** Most bytes one packet adds to the flow section: tag and index (3), then the three deltas (3 + 5 + 3) or hlen (2). */
const FLOW_MAX = 16;

/** Entries of the flow table; the index travels on the wire, so both ends must use this value. */
export const FLOW_TABLE_SIZE = 4096;
/** Longest header (link + IP + UDP + RTP with CSRCs and extension) kept in a flow context; longer is literal. */
export const MAX_FLOW_HEADER = 192;
/** Most packets one block may carry (the sender's `batch.maxPackets` is at most 100,000). */
export const MAX_BLOCK_PACKETS = 1 << 17;

const LINKTYPE_ETHERNET = 1;
/** Time deltas above this many seconds take the absolute form (keeps 2 * zigzag(ns) below 2^53). */
const MAX_DELTA_SEC = 1 << 20;
const TAG_LITERAL = 0;
const TAG_NEW = 1;
const TAG_DELTA = 2;
const TAG_DELTA_UDP = 3;


/** Where the fields of an Ethernet(+VLAN)/IPv4|IPv6/UDP/RTP header sit, from {@link parseFlowLayout}. */
export interface FlowLayout {
  /** Offset of the IP header. */
  ip: number;
  /** Offset of the UDP header. */
  udp: number;
  /** Offset of the RTP header. */
  rtp: number;
  /** Header length: the RTP payload starts here. */
  hlen: number;
  /** IPv6 (no id, no header checksum) rather than IPv4. */
  v6: boolean;
  /** Hash of the addresses, ports and SSRC (the encoder places the flow by it). */
  hash: number;
}

/** Creates a reusable {@link FlowLayout}. */
export function createFlowLayout(): FlowLayout {
  return { ip: 0, udp: 0, rtp: 0, hlen: 0, v6: false, hash: 0 };
}

function u16(d: Uint8Array, at: number): number {
  return (d[at]! << 8) | d[at + 1]!;
}

function u32(d: Uint8Array, at: number): number {
  return ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
}

/** Four bytes big-endian as a SIGNED 32-bit integer (what `mix` takes: a small integer, never a boxed number). */
function i32(d: Uint8Array, at: number): number {
  return (d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!;
}

function mix(h: number, w: number): number {
  return Math.imul(h ^ w, 0x9e3779b1);
}

/**
 * Finds the RTP header of an Ethernet frame (up to two VLAN tags, IPv4 unfragmented with any
 * options or IPv6 with UDP as its next header, RTP version 2, not RTCP payload types 72-76),
 * within `data[off, off + len)`. Deterministic, so the decoder derives the same layout from the
 * same bytes. Never throws, never allocates.
 *
 * @returns true and `out` filled when the packet is one a flow context can carry, else false.
 */
export function parseFlowLayout(d: Uint8Array, off: number, len: number, out: FlowLayout): boolean {
  if (len < 14) return false;
  let at = 14;
  let type = u16(d, off + 12);
  for (let k = 0; k < 2 && (type === 0x8100 || type === 0x88a8); k++) {
    if (at + 4 > len) return false;
    type = u16(d, off + at + 2);
    at += 4;
  }
  let h = 0x811c9dc5;
  if (type === 0x0800) {
    if (at + 20 > len) return false;
    const b0 = d[off + at]!;
    const ihl = (b0 & 0x0f) * 4;
    if (b0 >> 4 !== 4 || ihl < 20 || at + ihl > len || d[off + at + 9] !== 17) return false;
    // A fragment (MF set or an offset) has no UDP header, or only the first part of the datagram.
    if ((u16(d, off + at + 6) & 0x3fff) !== 0) return false;
    h = mix(mix(h, i32(d, off + at + 12)), i32(d, off + at + 16));
    out.ip = at;
    out.udp = at + ihl;
    out.v6 = false;
  } else if (type === 0x86dd) {
    if (at + 40 > len) return false;
    if (d[off + at]! >> 4 !== 6 || d[off + at + 6] !== 17) return false;
    for (let k = 8; k < 40; k += 4) h = mix(h, i32(d, off + at + k));
    out.ip = at;
    out.udp = at + 40;
    out.v6 = true;
  } else {
    return false;
  }
  const rtp = out.udp + 8;
  if (rtp + 12 > len) return false;
  const b0 = d[off + rtp]!;
  const pt = d[off + rtp + 1]! & 0x7f;
  if (b0 >> 6 !== 2 || (pt >= 72 && pt <= 76)) return false;
  let hlen = rtp + 12 + (b0 & 0x0f) * 4;
  if ((b0 & 0x10) !== 0) {
    if (hlen + 4 > len) return false;
    hlen += 4 + u16(d, off + hlen + 2) * 4;
  }
  if (hlen > len || hlen > MAX_FLOW_HEADER) return false;
  h = mix(mix(h, i32(d, off + out.udp)), i32(d, off + rtp + 8));
  out.rtp = rtp;
  out.hlen = hlen;
  out.hash = (h ^ (h >>> 15)) >>> 0;
  return true;
}

/** One's complement sum (RFC 1071) of the big-endian 16-bit words of `d[from, to)`, added to `sum`, unfolded. */
function onesSum(d: Uint8Array, from: number, to: number, sum: number): number {
  // High and low bytes summed apart (one add per byte, no shift/or per word): the same total.
  let hi = 0;
  let lo = 0;
  let i = from;
  for (; i + 1 < to; i += 2) {
    hi += d[i]!;
    lo += d[i + 1]!;
  }
  if (i < to) hi += d[i]!;
  return sum + hi * 256 + lo;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The IPv4 header checksum of the header at `d[ip, ip + ihl)` (RFC 791), its own field skipped. */
function ipv4Checksum(d: Uint8Array, ip: number, ihl: number): number {
  const sum = onesSum(d, ip + 12, ip + ihl, onesSum(d, ip, ip + 10, 0));
  return ~fold(sum) & 0xffff;
}

/**
 * The UDP checksum (RFC 768, RFC 8200 section 8.1) of the datagram at `d[base + udp, ...)`, its own
 * field skipped, or -1 when the datagram is not wholly inside `d[base, base + caplen)`.
 */
function udpChecksum(d: Uint8Array, base: number, caplen: number, ip: number, udp: number, v6: boolean): number {
  const udpLen = u16(d, base + udp + 4);
  if (udpLen < 8 || udp + udpLen > caplen) return -1;
  const u = base + udp;
  let sum = v6 ? onesSum(d, base + ip + 8, base + ip + 40, 0) : onesSum(d, base + ip + 12, base + ip + 20, 0);
  sum += 17 + udpLen;
  sum = onesSum(d, u, u + 6, sum);
  sum = onesSum(d, u + 8, u + udpLen, sum);
  const c = ~fold(sum) & 0xffff;
  return c === 0 ? 0xffff : c;
}

/*
 * The encoder's word-wise forms (DataView reads of 4 bytes at any alignment; V8 inlines them).
 * Each 32-bit word is added as its two 16-bit halves, so the unfolded total is exactly the
 * RFC 1071 sum of the 16-bit words and stays a small integer (below 2^30 for any datagram up to
 * 32 KiB): summing the words themselves (above 2^30) made V8 box the totals as heap numbers at
 * every call boundary, ~70 bytes of garbage per packet (allocation profile, 2026-12-05). The
 * decoder keeps the byte-wise forms above, so every round-trip test checks one against the other.
 */

/** Unfolded one's complement sum of `v[from, from + n)` as 16-bit big-endian words (an odd last byte is a high byte). */
function sumWords(v: DataView, from: number, n: number): number {
  let sum = 0;
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const w = v.getUint32(from + k);
    sum += (w >>> 16) + (w & 0xffff);
  }
  if (k + 2 <= n) {
    sum += v.getUint16(from + k);
    k += 2;
  }
  if (k < n) sum += v.getUint8(from + k) * 256;
  return sum;
}

/**
 * Copies `n` bytes from `s[from]` to `d[at]` word by word (no view object, unlike `set(subarray())`)
 * and returns the one's complement sum, folded to 16 bits, of the first `sumN` of them as
 * big-endian words (`sumN` <= `n`; 0: a plain copy): the payload of a packet whose UDP checksum is
 * sent is read once for both. The words are read little-endian (no byte swap per word) and the
 * folded sum swapped once at the end: the one's complement sum is independent of byte order
 * (RFC 1071 section 2(B)), and a folded sum is 0 only for a zero sum, so the checksum's bytes are
 * the same.
 */
function copySum(s: DataView, from: number, n: number, sumN: number, d: DataView, at: number): number {
  let sum = 0;
  let k = 0;
  for (; k + 4 <= sumN; k += 4) {
    const w = s.getUint32(from + k, true);
    d.setUint32(at + k, w, true);
    sum += (w >>> 16) + (w & 0xffff);
  }
  if (k + 2 <= sumN) {
    const w = s.getUint16(from + k, true);
    d.setUint16(at + k, w, true);
    sum += w;
    k += 2;
  }
  if (k < sumN) {
    // An odd last byte is the high byte of its big-endian word: the low byte of the little-endian one.
    const b = s.getUint8(from + k);
    d.setUint8(at + k, b);
    sum += b;
    k++;
  }
  for (; k + 4 <= n; k += 4) d.setUint32(at + k, s.getUint32(from + k, true), true);
  for (; k < n; k++) d.setUint8(at + k, s.getUint8(from + k));
  if (sum === 0) return 0;
  sum = fold(sum);
  return ((sum & 0xff) << 8) | (sum >>> 8);
}

/** {@link ipv4Checksum} word-wise: the sum of the whole header less its checksum field (an exact integer difference). */
function ipv4ChecksumWords(v: DataView, ip: number, ihl: number): number {
  return ~fold(sumWords(v, ip, ihl) - v.getUint16(ip + 10)) & 0xffff;
}

/**
 * Per-connection flow contexts (one instance per side), bounded: a fixed table whose index travels
 * on the wire; the encoder picks the entry, a new flow replaces what was there.
 */
class FlowTable {
  readonly headers = new Uint8Array(FLOW_TABLE_SIZE * MAX_FLOW_HEADER);
  /** 0 = empty. */
  readonly hlen = new Uint16Array(FLOW_TABLE_SIZE);
  readonly ip = new Uint8Array(FLOW_TABLE_SIZE);
  readonly udp = new Uint8Array(FLOW_TABLE_SIZE);
  readonly rtp = new Uint8Array(FLOW_TABLE_SIZE);
  readonly v6 = new Uint8Array(FLOW_TABLE_SIZE);
  prevSec = 0;
  prevNsec = 0;
  /** False until a packet's time is known (the first time of a connection is absolute). */
  prevValid = false;

  reset(): void {
    this.hlen.fill(0);
    this.prevValid = false;
  }

  store(index: number, src: Uint8Array, at: number, l: FlowLayout): void {
    copyBytes(src, at, this.headers, index * MAX_FLOW_HEADER, l.hlen);
    this.hlen[index] = l.hlen;
    this.ip[index] = l.ip;
    this.udp[index] = l.udp;
    this.rtp[index] = l.rtp;
    this.v6[index] = l.v6 ? 1 : 0;
  }
}

/** Counters of a {@link FlowBlockEncoder} (per connection; the sender sums them into its metrics). */
export interface FlowBlockEncoderStats {
  /** Packets sent whole (not RTP over UDP over Ethernet/IP, fragments, headers above {@link MAX_FLOW_HEADER}). */
  literal: number;
  /** Packets that opened (or replaced) a flow context. */
  newFlow: number;
  /** Packets sent against their flow's previous header. */
  delta: number;
}

/**
 * Encodes {@link RawBatch}es as flow blocks against a per-connection flow context. Call
 * {@link reset} when a connection's handshake succeeds; then encode that connection's batches in
 * the order it writes them (the receiver decodes them in the same order: TCP keeps them in sync).
 * Zero allocation per packet: the sections are reused writers, the flow key an integer hash.
 */
export class FlowBlockEncoder {
  /** Counters (cumulative over resets). */
  readonly stats: FlowBlockEncoderStats = { literal: 0, newFlow: 0, delta: 0 };
  private readonly table = new FlowTable();
  /** The table's headers, read and written word-wise by the encoder. */
  private readonly tableView = new DataView(this.table.headers.buffer);
  /** A view of the batch being encoded (one per batch: a batch's buffer is fresh). */
  private dataView: DataView = new DataView(new ArrayBuffer(0));
  /**
   * Encoder-only bookkeeping (the decoder just follows the indexes on the wire): the flow hash
   * each entry holds and when it was last used. A flow may sit in either of two entries (two
   * hashes of its key), and a new flow replaces the less recently used of its two: with 2,000
   * concurrent flows in 4,096 entries a single choice makes about a third of them share an entry
   * and thrash; two choices make that rare (the balanced-allocations result).
   */
  private readonly keys = new Uint32Array(FLOW_TABLE_SIZE);
  private readonly used = new Float64Array(FLOW_TABLE_SIZE);
  private clock = 0;
  private readonly meta = new ByteWriter(16 * 1024);
  private readonly time = new ByteWriter(16 * 1024);
  private readonly flow = new ByteWriter(16 * 1024);
  private readonly head = new ByteWriter(64 * 1024);
  private readonly literal = new ByteWriter(64 * 1024);
  private readonly payload = new ByteWriter(256 * 1024);
  private readonly out = new ByteWriter(256 * 1024);
  private readonly layout = createFlowLayout();
  private payloadStart = 0;

  /**
   * Where the payload section starts in the block {@link encode} returned last: the bytes before
   * it are the counts and the header sections (small, and compressible at any level), the bytes
   * from it the RTP payloads (what a compressor spends its time on). Version 3 compresses the two
   * apart (`compressZstdSplit` in mirror-codec).
   */
  get payloadOffset(): number {
    return this.payloadStart;
  }

  /** Forgets every flow context and the time base (a new connection). */
  reset(): void {
    this.table.reset();
    this.used.fill(0);
    this.clock = 0;
  }

  /** The entry of the flow with `hash`: the one holding it, else the less recently used of its two. */
  private place(hash: number): number {
    const a = hash & (FLOW_TABLE_SIZE - 1);
    const b = (Math.imul(hash, 0x85ebca6b) >>> 20) & (FLOW_TABLE_SIZE - 1);
    const { keys, used } = this;
    let index: number;
    if (used[a]! > 0 && keys[a] === hash) index = a;
    else if (used[b]! > 0 && keys[b] === hash) index = b;
    else index = used[a]! <= used[b]! ? a : b;
    keys[index] = hash;
    used[index] = ++this.clock;
    return index;
  }

  /**
   * Encodes `batch` and advances the context. The returned view aliases an internal buffer that
   * the next call overwrites: compress or copy it before encoding again.
   *
   * One pass over the packets with every section's capacity reserved up front (the most a packet
   * can add to each: {@link META_MAX}, {@link TIME_MAX}, {@link FLOW_MAX}, its bytes to head,
   * literal or payload), so the loop writes through local positions and typed arrays: no capacity
   * check and no call per value (varints by {@link putVarint}, inlined).
   */
  encode(batch: RawBatch): Uint8Array {
    const { meta, time, flow, head, literal, payload, table, tableView: tv, layout, stats } = this;
    const count = batch.count;
    const dataLength = rawBatchDataLength(batch);
    meta.reset();
    time.reset();
    flow.reset();
    head.reset();
    literal.reset();
    payload.reset();
    meta.ensure(count * META_MAX);
    time.ensure(count * TIME_MAX);
    flow.ensure(count * FLOW_MAX);
    head.ensure(Math.min(dataLength, count * MAX_FLOW_HEADER));
    literal.ensure(dataLength);
    payload.ensure(dataLength);
    const mb = meta.buf;
    const tb = time.buf;
    const fb = flow.buf;
    const hv = head.view;
    const lv = literal.view;
    const pv = payload.view;
    let mp = 0;
    let tp = 0;
    let fp = 0;
    let hp = 0;
    let lp = 0;
    let pp = 0;
    const { end: ends, linkType: linkTypes, origLen: origLens, tsSec, tsNsec } = batch;
    const tHlen = table.hlen;
    const tIp = table.ip;
    const tUdp = table.udp;
    const tRtp = table.rtp;
    const tV6 = table.v6;
    let prevSec = table.prevSec;
    let prevNsec = table.prevNsec;
    let prevValid = table.prevValid;
    let nLiteral = 0;
    let nNew = 0;
    let nDelta = 0;
    const d = batch.data;
    const dv = this.viewOf(d);
    let start = 0;
    for (let i = 0; i < count; i++) {
      const end = ends[i]!;
      const caplen = end - start;
      const linkType = linkTypes[i]!;
      mp = putVarint(mb, mp, linkType);
      mp = putVarint(mb, mp, caplen);
      const origDiff = origLens[i]! - caplen;
      mp = putVarint(mb, mp, origDiff >= 0 ? origDiff * 2 : -origDiff * 2 - 1);
      // Time: the delta from the previous packet of the connection, or absolute (see the block layout).
      const sec = tsSec[i]!;
      const nsec = tsNsec[i]!;
      const ds = sec - prevSec;
      if (prevValid && nsec < 1e9 && ds <= MAX_DELTA_SEC && ds >= -MAX_DELTA_SEC) {
        const dt = ds * 1e9 + (nsec - prevNsec);
        tp = putVarint(tb, tp, dt >= 0 ? dt * 4 : -dt * 4 - 2);
      } else {
        tb[tp++] = 1;
        tp = putVarint(tb, tp, sec);
        tp = putVarint(tb, tp, nsec);
      }
      prevSec = sec;
      prevNsec = nsec;
      prevValid = nsec < 1e9;
      if (linkType !== LINKTYPE_ETHERNET || !parseFlowLayout(d, start, caplen, layout)) {
        fb[fp++] = TAG_LITERAL;
        copySum(dv, start, caplen, 0, lv, lp);
        lp += caplen;
        nLiteral++;
        start = end;
        continue;
      }
      const index = this.place(layout.hash);
      const { hlen, ip, udp, rtp, v6 } = layout;
      const base = index * MAX_FLOW_HEADER;
      const at = hp;
      /** Payload bytes inside the UDP checksum, summed while they are copied (0: no checksum sent). */
      let sumN = 0;
      /** The UDP checksum's sum over all but the payload, when it is sent. */
      let udpPart = -1;
      if (tHlen[index] !== hlen || tIp[index] !== ip || tUdp[index] !== udp || tRtp[index] !== rtp || tV6[index] !== (v6 ? 1 : 0)) {
        fp = putVarint(fb, fp, index * 4 + TAG_NEW);
        fp = putVarint(fb, fp, hlen);
        copySum(dv, start, hlen, 0, hv, at);
        copySum(dv, start, hlen, 0, tv, base);
        tHlen[index] = hlen;
        tIp[index] = ip;
        tUdp[index] = udp;
        tRtp[index] = rtp;
        tV6[index] = v6 ? 1 : 0;
        nNew++;
      } else {
        const u = start + udp;
        const udpLen = dv.getUint16(u + 4);
        const withUdp = dv.getUint16(u + 6) !== 0 && udpLen >= 8 && udp + udpLen <= caplen;
        fp = putVarint(fb, fp, index * 4 + (withUdp ? TAG_DELTA_UDP : TAG_DELTA));
        const dSeq = (((dv.getUint16(start + rtp + 2) - tv.getUint16(base + rtp + 2)) & 0xffff) << 16) >> 16;
        fp = putVarint(fb, fp, dSeq >= 0 ? dSeq * 2 : -dSeq * 2 - 1);
        const dTs = (dv.getUint32(start + rtp + 4) - tv.getUint32(base + rtp + 4)) | 0;
        fp = putVarint(fb, fp, dTs >= 0 ? dTs * 2 : -dTs * 2 - 1);
        if (!v6) {
          const dId = (((dv.getUint16(start + ip + 4) - tv.getUint16(base + ip + 4)) & 0xffff) << 16) >> 16;
          fp = putVarint(fb, fp, dId >= 0 ? dId * 2 : -dId * 2 - 1);
        }
        // XOR with the flow's previous header; this header becomes the flow's context (same pass).
        // Little-endian words: a XOR and a copy are the same in either byte order, without the swap.
        let k = 0;
        for (; k + 4 <= hlen; k += 4) {
          const w = dv.getUint32(start + k, true);
          hv.setUint32(at + k, w ^ tv.getUint32(base + k, true), true);
          tv.setUint32(base + k, w, true);
        }
        for (; k < hlen; k++) {
          const b = dv.getUint8(start + k);
          hv.setUint8(at + k, b ^ tv.getUint8(base + k));
          tv.setUint8(base + k, b);
        }
        hv.setUint16(at + rtp + 2, 0);
        hv.setUint32(at + rtp + 4, 0);
        if (!v6) {
          hv.setUint16(at + ip + 4, 0);
          hv.setUint16(at + ip + 10, dv.getUint16(start + ip + 10) ^ ipv4ChecksumWords(dv, start + ip, udp - ip));
        }
        if (withUdp) {
          // Pseudo header, UDP header but its checksum, the RTP header's bytes inside the datagram;
          // the payload's part is summed by its copy below.
          const pseudo = v6 ? sumWords(dv, start + ip + 8, 32) : sumWords(dv, start + ip + 12, 8);
          const inHeader = Math.min(udpLen - 8, hlen - udp - 8);
          udpPart = pseudo + 17 + udpLen + dv.getUint16(u) + dv.getUint16(u + 2) + dv.getUint16(u + 4) + sumWords(dv, u + 8, inHeader);
          // An RTP header is a multiple of 4 bytes: the payload's words keep the datagram's word alignment.
          sumN = udpLen - 8 - inHeader;
        }
        nDelta++;
      }
      hp = at + hlen;
      const n = caplen - hlen;
      const paySum = copySum(dv, start + hlen, n, sumN, pv, pp);
      pp += n;
      if (udpPart >= 0) {
        const c = ~fold(udpPart + paySum) & 0xffff;
        hv.setUint16(at + udp + 6, dv.getUint16(start + udp + 6) ^ (c === 0 ? 0xffff : c));
      }
      start = end;
    }
    table.prevSec = prevSec;
    table.prevNsec = prevNsec;
    table.prevValid = prevValid;
    stats.literal += nLiteral;
    stats.newFlow += nNew;
    stats.delta += nDelta;
    meta.length = mp;
    time.length = tp;
    flow.length = fp;
    head.length = hp;
    literal.length = lp;
    payload.length = pp;
    const out = this.out;
    out.reset();
    out.varint(count);
    out.varint(mp);
    out.varint(tp);
    out.varint(fp);
    out.varint(hp);
    out.varint(lp);
    out.ensure(mp + tp + fp + hp + lp + pp);
    out.bytes(mb, 0, mp);
    out.bytes(tb, 0, tp);
    out.bytes(fb, 0, fp);
    out.bytes(head.buf, 0, hp);
    out.bytes(literal.buf, 0, lp);
    this.payloadStart = out.length;
    out.bytes(payload.buf, 0, pp);
    return out.buf.subarray(0, out.length);
  }

  /** A DataView of `d` (the cached one when `d` is the array seen last). */
  private viewOf(d: Uint8Array): DataView {
    const v = this.dataView;
    if (v.buffer === d.buffer && v.byteOffset === d.byteOffset && v.byteLength === d.byteLength) return v;
    this.dataView = new DataView(d.buffer, d.byteOffset, d.byteLength);
    return this.dataView;
  }
}

/** Outcome of {@link FlowBlockDecoder.decode}. */
export const FlowBlockStatus = {
  Ok: 0,
  /** A section or the block ends inside a value. */
  Truncated: 1,
  /** A varint longer than 8 bytes or above 2^53 - 1, or a field above its range. */
  BadVarint: 2,
  /** More packets than {@link MAX_BLOCK_PACKETS}. */
  TooManyPackets: 3,
  /** The packets would take more than the caller's byte bound. */
  TooLarge: 4,
  /** Section lengths that do not add up to the block. */
  BadSections: 5,
  /** A flow tag on a packet that is not Ethernet, or an unknown tag. */
  BadTag: 6,
  /** A delta for a flow index that holds no context. */
  UnknownFlow: 7,
  /** A new-flow header that is not one ({@link parseFlowLayout} disagrees with its length) or longer than the packet. */
  BadHeader: 8,
  /** A time delta from no time base, or giving a negative or unsafe time. */
  BadTime: 9,
  /** A section has bytes left over after the last packet. */
  Trailing: 10,
  /** An earlier block failed: the context is out of step until {@link FlowBlockDecoder.reset} (a new connection). */
  Broken: 11,
} as const;
/** A value of {@link FlowBlockStatus}. */
export type FlowBlockStatus = (typeof FlowBlockStatus)[keyof typeof FlowBlockStatus];

/** A read cursor over one section. */
interface Cursor {
  pos: number;
  end: number;
}

/**
 * Decodes flow blocks against the per-connection flow context, the mirror of
 * {@link FlowBlockEncoder}: {@link reset} when the connection's handshake succeeds, then every
 * block of that connection in order (duplicates too: each one advanced the sender's context).
 *
 * Never throws on wire input and never allocates beyond the caller's bound: the packet bytes go
 * into one fresh array per block (its size, the sum of the declared captured lengths, is checked
 * against `maxBytes` before it is allocated), the per-packet fields into the caller's reused
 * {@link RawBatch} arrays (at most {@link MAX_BLOCK_PACKETS}). After a failure the context is out of
 * step with the sender's: every later call answers `Broken` until a reset (close the connection).
 */
export class FlowBlockDecoder {
  /** Counters (cumulative over resets). */
  readonly stats = { blocks: 0, packets: 0, failures: 0 };
  private readonly table = new FlowTable();
  private readonly layout = createFlowLayout();
  private broken = false;
  private readonly cur: Cursor = { pos: 0, end: 0 };
  private readonly tm: Cursor = { pos: 0, end: 0 };
  private readonly fl: Cursor = { pos: 0, end: 0 };
  private readonly hd: Cursor = { pos: 0, end: 0 };
  private readonly lt: Cursor = { pos: 0, end: 0 };
  private readonly pl: Cursor = { pos: 0, end: 0 };
  /** Set by {@link varint} when a value is bad; checked after each packet. */
  private bad: FlowBlockStatus = FlowBlockStatus.Ok;
  private block: Uint8Array = new Uint8Array(0);

  /** Forgets every flow context and the time base (a new connection). */
  reset(): void {
    this.table.reset();
    this.broken = false;
  }

  /** The first bad value {@link varint} met in this block (a method, so checks after calls are not narrowed away). */
  private failure(): FlowBlockStatus {
    return this.bad;
  }

  /** True after a failed block, until {@link reset}. */
  get isBroken(): boolean {
    return this.broken;
  }

  /**
   * Decodes one (decompressed) block into `out`: `out.data` is a fresh array of exactly the packets'
   * bytes (it may be kept); the other arrays are `out`'s, grown when needed and overwritten by the
   * next call.
   */
  decode(block: Uint8Array, maxBytes: number, out: RawBatch): FlowBlockStatus {
    if (this.broken) return FlowBlockStatus.Broken;
    const st = this.run(block, maxBytes, out);
    if (st !== FlowBlockStatus.Ok) {
      this.broken = true;
      this.stats.failures++;
      out.count = 0;
    } else {
      this.stats.blocks++;
      this.stats.packets += out.count;
    }
    return st;
  }

  private varint(c: Cursor): number {
    const b = this.block;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (c.pos >= c.end) {
        if (this.bad === FlowBlockStatus.Ok) this.bad = FlowBlockStatus.Truncated;
        return 0;
      }
      const byte = b[c.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER && this.bad === FlowBlockStatus.Ok) this.bad = FlowBlockStatus.BadVarint;
        return value;
      }
      scale *= 0x80;
    }
    if (this.bad === FlowBlockStatus.Ok) this.bad = FlowBlockStatus.BadVarint;
    return 0;
  }

  private section(c: Cursor, length: number): boolean {
    if (length > this.cur.end - this.cur.pos) return false;
    c.pos = this.cur.pos;
    c.end = this.cur.pos + length;
    this.cur.pos = c.end;
    return true;
  }

  private run(block: Uint8Array, maxBytes: number, out: RawBatch): FlowBlockStatus {
    this.block = block;
    this.bad = FlowBlockStatus.Ok;
    const cur = this.cur;
    cur.pos = 0;
    cur.end = block.length;
    const count = this.varint(cur);
    const lens = [this.varint(cur), this.varint(cur), this.varint(cur), this.varint(cur), this.varint(cur)] as const;
    if (this.failure() !== FlowBlockStatus.Ok) return this.failure();
    if (count > MAX_BLOCK_PACKETS) return FlowBlockStatus.TooManyPackets;
    const meta: Cursor = { pos: 0, end: 0 };
    if (!this.section(meta, lens[0]) || !this.section(this.tm, lens[1]) || !this.section(this.fl, lens[2]) || !this.section(this.hd, lens[3]) || !this.section(this.lt, lens[4])) {
      return FlowBlockStatus.BadSections;
    }
    this.pl.pos = cur.pos;
    this.pl.end = cur.end;
    // First pass: the fields and the total size, bounded before the data array exists.
    out.count = 0;
    reserveRawBatchPackets(out, count);
    let total = 0;
    for (let i = 0; i < count; i++) {
      const linkType = this.varint(meta);
      const caplen = this.varint(meta);
      const origDiff = unzigzag(this.varint(meta));
      if (this.failure() !== FlowBlockStatus.Ok) return this.failure();
      const origLen = caplen + origDiff;
      if (linkType > 0xffffffff || caplen > 0xffffffff || origLen < 0 || origLen > 0xffffffff) return FlowBlockStatus.BadVarint;
      total += caplen;
      if (total > maxBytes) return FlowBlockStatus.TooLarge;
      out.linkType[i] = linkType;
      out.origLen[i] = origLen;
      out.end[i] = total;
    }
    if (meta.pos !== meta.end) return FlowBlockStatus.Trailing;
    const d = new Uint8Array(total);
    out.data = d;
    const t = this.table;
    const hb = t.headers;
    const b = block;
    let start = 0;
    for (let i = 0; i < count; i++) {
      const end = out.end[i]!;
      const caplen = end - start;
      const st = this.readTime(out, i);
      if (st !== FlowBlockStatus.Ok) return st;
      const v = this.varint(this.fl);
      if (this.failure() !== FlowBlockStatus.Ok) return this.failure();
      if (v === TAG_LITERAL) {
        if (!this.copy(this.lt, d, start, caplen)) return FlowBlockStatus.Truncated;
        start = end;
        continue;
      }
      if (out.linkType[i] !== LINKTYPE_ETHERNET) return FlowBlockStatus.BadTag;
      const tag = v % 4;
      const index = (v - tag) / 4;
      if (tag === 0 || index >= FLOW_TABLE_SIZE) return FlowBlockStatus.BadTag;
      const base = index * MAX_FLOW_HEADER;
      let hlen: number;
      if (tag === TAG_NEW) {
        hlen = this.varint(this.fl);
        if (this.failure() !== FlowBlockStatus.Ok) return this.failure();
        if (hlen > caplen || hlen > MAX_FLOW_HEADER) return FlowBlockStatus.BadHeader;
        if (!this.copy(this.hd, d, start, hlen)) return FlowBlockStatus.Truncated;
        if (!parseFlowLayout(d, start, hlen, this.layout) || this.layout.hlen !== hlen) return FlowBlockStatus.BadHeader;
        t.store(index, d, start, this.layout);
        if (!this.copy(this.pl, d, start + hlen, caplen - hlen)) return FlowBlockStatus.Truncated;
        start = end;
        continue;
      }
      hlen = t.hlen[index]!;
      if (hlen === 0) return FlowBlockStatus.UnknownFlow;
      if (hlen > caplen) return FlowBlockStatus.BadHeader;
      const ip = t.ip[index]!;
      const udp = t.udp[index]!;
      const rtp = t.rtp[index]!;
      const v6 = t.v6[index] === 1;
      const dSeq = unzigzag(this.varint(this.fl));
      const dTs = unzigzag(this.varint(this.fl));
      const dId = v6 ? 0 : unzigzag(this.varint(this.fl));
      if (this.failure() !== FlowBlockStatus.Ok) return this.failure();
      const hd = this.hd;
      if (hd.end - hd.pos < hlen) return FlowBlockStatus.Truncated;
      for (let k = 0; k < hlen; k++) d[start + k] = b[hd.pos + k]! ^ hb[base + k]!;
      const seq = (u16(hb, base + rtp + 2) + dSeq) & 0xffff;
      d[start + rtp + 2] = seq >> 8;
      d[start + rtp + 3] = seq & 0xff;
      const ts = (u32(hb, base + rtp + 4) + dTs) >>> 0;
      d[start + rtp + 4] = ts >>> 24;
      d[start + rtp + 5] = (ts >>> 16) & 0xff;
      d[start + rtp + 6] = (ts >>> 8) & 0xff;
      d[start + rtp + 7] = ts & 0xff;
      if (!v6) {
        const id = (u16(hb, base + ip + 4) + dId) & 0xffff;
        d[start + ip + 4] = id >> 8;
        d[start + ip + 5] = id & 0xff;
        const ihl = (d[start + ip]! & 0x0f) * 4;
        // The XOR may have changed the header length field: the context's layout must still hold.
        if (ihl !== udp - ip) return FlowBlockStatus.BadHeader;
        const c = u16(b, hd.pos + ip + 10) ^ ipv4Checksum(d, start + ip, ihl);
        d[start + ip + 10] = c >> 8;
        d[start + ip + 11] = c & 0xff;
      }
      if (!this.copy(this.pl, d, start + hlen, caplen - hlen)) return FlowBlockStatus.Truncated;
      if (tag === TAG_DELTA_UDP) {
        const sum = udpChecksum(d, start, caplen, ip, udp, v6);
        if (sum < 0) return FlowBlockStatus.BadHeader;
        const c = u16(b, hd.pos + udp + 6) ^ sum;
        d[start + udp + 6] = c >> 8;
        d[start + udp + 7] = c & 0xff;
      }
      hd.pos += hlen;
      // The sender stored this packet's header as the flow's context: so do we.
      copyBytes(d, start, hb, base, hlen);
      start = end;
    }
    out.count = count;
    if (this.tm.pos !== this.tm.end || this.fl.pos !== this.fl.end || this.hd.pos !== this.hd.end || this.lt.pos !== this.lt.end || this.pl.pos !== this.pl.end) {
      return FlowBlockStatus.Trailing;
    }
    if (rawBatchDataLength(out) !== total) return FlowBlockStatus.BadSections;
    return FlowBlockStatus.Ok;
  }

  private copy(c: Cursor, d: Uint8Array, at: number, n: number): boolean {
    if (c.end - c.pos < n) return false;
    copyBytes(this.block, c.pos, d, at, n);
    c.pos += n;
    return true;
  }

  private readTime(out: RawBatch, i: number): FlowBlockStatus {
    const t = this.table;
    const v = this.varint(this.tm);
    if (this.failure() !== FlowBlockStatus.Ok) return this.failure();
    let sec: number;
    let nsec: number;
    if (v === 1) {
      sec = this.varint(this.tm);
      nsec = this.varint(this.tm);
      if (this.failure() !== FlowBlockStatus.Ok) return this.failure();
      if (nsec > 0xffffffff) return FlowBlockStatus.BadTime;
    } else {
      if (v % 2 !== 0 || !t.prevValid) return FlowBlockStatus.BadTime;
      const total = t.prevNsec + unzigzag(v / 2);
      const carry = Math.floor(total / 1e9);
      sec = t.prevSec + carry;
      nsec = total - carry * 1e9;
      if (sec < 0 || !Number.isSafeInteger(sec)) return FlowBlockStatus.BadTime;
    }
    out.tsSec[i] = sec;
    out.tsNsec[i] = nsec;
    t.prevSec = sec;
    t.prevNsec = nsec;
    t.prevValid = nsec < 1e9;
    return FlowBlockStatus.Ok;
  }
}
