// Frozen copy of libs/mirror-protocol/src/flow-block.ts at b474c54 (before the issue-16 CPU work), encoder only:
// bench/forward.ts measures the current encoder against it in the same run.
import { ByteWriter, copyBytes, zigzag } from './byte-writer-b474c54.js';
import { type RawBatch } from '@callscope/mirror-protocol';

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
    h = mix(mix(h, u32(d, off + at + 12)), u32(d, off + at + 16));
    out.ip = at;
    out.udp = at + ihl;
    out.v6 = false;
  } else if (type === 0x86dd) {
    if (at + 40 > len) return false;
    if (d[off + at]! >> 4 !== 6 || d[off + at + 6] !== 17) return false;
    for (let k = 8; k < 40; k += 4) h = mix(h, u32(d, off + at + k));
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
  h = mix(mix(h, u32(d, off + out.udp)), u32(d, off + rtp + 8));
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
export class FlowBlockEncoderB474c54 {
  /** Counters (cumulative over resets). */
  readonly stats: FlowBlockEncoderStats = { literal: 0, newFlow: 0, delta: 0 };
  private readonly table = new FlowTable();
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
   */
  encode(batch: RawBatch): Uint8Array {
    const { meta, time, flow, head, literal, payload, table, layout, stats } = this;
    meta.reset();
    time.reset();
    flow.reset();
    head.reset();
    literal.reset();
    payload.reset();
    const d = batch.data;
    const hb = table.headers;
    let start = 0;
    for (let i = 0; i < batch.count; i++) {
      const end = batch.end[i]!;
      const caplen = end - start;
      const linkType = batch.linkType[i]!;
      meta.varint(linkType);
      meta.varint(caplen);
      meta.varint(zigzag(batch.origLen[i]! - caplen));
      this.writeTime(batch.tsSec[i]!, batch.tsNsec[i]!);
      if (linkType !== LINKTYPE_ETHERNET || !parseFlowLayout(d, start, caplen, layout)) {
        flow.byte(TAG_LITERAL);
        literal.bytes(d, start, end);
        stats.literal++;
        start = end;
        continue;
      }
      const index = this.place(layout.hash);
      const hlen = layout.hlen;
      const base = index * MAX_FLOW_HEADER;
      if (
        table.hlen[index] !== hlen || table.ip[index] !== layout.ip || table.udp[index] !== layout.udp ||
        table.rtp[index] !== layout.rtp || table.v6[index] !== (layout.v6 ? 1 : 0)
      ) {
        flow.varint(index * 4 + TAG_NEW);
        flow.varint(hlen);
        head.bytes(d, start, start + hlen);
        stats.newFlow++;
      } else {
        const { ip, udp, rtp, v6 } = layout;
        const udpSum = u16(d, start + udp + 6) === 0 ? -1 : udpChecksum(d, start, caplen, ip, udp, v6);
        flow.varint(index * 4 + (udpSum >= 0 ? TAG_DELTA_UDP : TAG_DELTA));
        flow.varint(zigzag(((((u16(d, start + rtp + 2) - u16(hb, base + rtp + 2)) & 0xffff) << 16) >> 16)));
        flow.varint(zigzag((u32(d, start + rtp + 4) - u32(hb, base + rtp + 4)) | 0));
        if (!v6) flow.varint(zigzag(((((u16(d, start + ip + 4) - u16(hb, base + ip + 4)) & 0xffff) << 16) >> 16)));
        head.ensure(hlen);
        const x = head.buf;
        const at = head.length;
        for (let k = 0; k < hlen; k++) x[at + k] = d[start + k]! ^ hb[base + k]!;
        x[at + rtp + 2] = x[at + rtp + 3] = x[at + rtp + 4] = x[at + rtp + 5] = x[at + rtp + 6] = x[at + rtp + 7] = 0;
        if (!v6) {
          x[at + ip + 4] = x[at + ip + 5] = 0;
          const c = u16(d, start + ip + 10) ^ ipv4Checksum(d, start + ip, (d[start + ip]! & 0x0f) * 4);
          x[at + ip + 10] = c >> 8;
          x[at + ip + 11] = c & 0xff;
        }
        if (udpSum >= 0) {
          const c = u16(d, start + udp + 6) ^ udpSum;
          x[at + udp + 6] = c >> 8;
          x[at + udp + 7] = c & 0xff;
        }
        head.length = at + hlen;
        stats.delta++;
      }
      table.store(index, d, start, layout);
      payload.bytes(d, start + hlen, end);
      start = end;
    }
    const out = this.out;
    out.reset();
    out.varint(batch.count);
    out.varint(meta.length);
    out.varint(time.length);
    out.varint(flow.length);
    out.varint(head.length);
    out.varint(literal.length);
    out.ensure(meta.length + time.length + flow.length + head.length + literal.length + payload.length);
    for (const w of [meta, time, flow, head, literal, payload]) out.bytes(w.buf, 0, w.length);
    return out.buf.subarray(0, out.length);
  }

  private writeTime(sec: number, nsec: number): void {
    const t = this.table;
    const ds = sec - t.prevSec;
    if (t.prevValid && nsec < 1e9 && ds <= MAX_DELTA_SEC && ds >= -MAX_DELTA_SEC) {
      this.time.varint(2 * zigzag(ds * 1e9 + (nsec - t.prevNsec)));
    } else {
      this.time.byte(1);
      this.time.varint(sec);
      this.time.varint(nsec);
    }
    t.prevSec = sec;
    t.prevNsec = nsec;
    t.prevValid = nsec < 1e9;
  }
}

