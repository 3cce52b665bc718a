import { Transport } from './transport.js';

/**
 * What {@link buildIpFrame} writes into the headers: the inner addresses and ports of a decoded
 * packet. A {@link DecodedPacket} fits as it is; a caller that wants other TCP numbers (a HEP
 * message carries none) passes its own object.
 */
export interface IpFrameFields {
  /** 4 or 6: which address pair is used. */
  readonly ipVersion: number;
  /** IPv4 source, unsigned 32-bit. */
  readonly src4: number;
  /** IPv4 destination, unsigned 32-bit. */
  readonly dst4: number;
  /** IPv6 source, four big-endian 32-bit words. */
  readonly src6: Uint32Array;
  /** IPv6 destination, four big-endian 32-bit words. */
  readonly dst6: Uint32Array;
  /** {@link Transport.Udp} or {@link Transport.Tcp}. */
  readonly transport: Transport;
  readonly srcPort: number;
  readonly dstPort: number;
  /** TCP only. */
  readonly tcpSeq: number;
  /** TCP only. */
  readonly tcpAck: number;
  /** TCP only, low 8 bits (CWR ECE URG ACK PSH RST SYN FIN). */
  readonly tcpFlags: number;
  /** TCP only. */
  readonly tcpWindow: number;
}

const IPV4_HEADER_LENGTH = 20;
const IPV6_HEADER_LENGTH = 40;
const UDP_HEADER_LENGTH = 8;
/** No options: data offset 5 words. */
const TCP_HEADER_LENGTH = 20;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
/** Hop limit of a rebuilt packet: the original is not known (HEP does not carry it). */
const DEFAULT_TTL = 64;
/** IPv4 flags/fragment field with Don't Fragment set: the rebuilt datagram is whole. */
const IPV4_DONT_FRAGMENT = 0x4000;
const MAX_U16 = 0xffff;

/**
 * Bytes of IP + transport header {@link buildIpFrame} puts before a payload of `payloadLength`
 * bytes: 28 (IPv4 + UDP), 40 (IPv4 + TCP), 48 (IPv6 + UDP), 60 (IPv6 + TCP). 0 when no frame can be
 * built: IP version not 4/6, transport not UDP/TCP, or a length that does not fit the 16-bit
 * length fields (IPv4 total length, IPv6 payload length, UDP length).
 *
 * @param f - addresses, ports, transport
 * @param payloadLength - transport payload bytes
 */
export function ipFrameHeaderLength(f: IpFrameFields, payloadLength: number): number {
  if (!Number.isInteger(payloadLength) || payloadLength < 0) return 0;
  const ip = f.ipVersion === 4 ? IPV4_HEADER_LENGTH : f.ipVersion === 6 ? IPV6_HEADER_LENGTH : 0;
  const l4 = f.transport === Transport.Udp ? UDP_HEADER_LENGTH : f.transport === Transport.Tcp ? TCP_HEADER_LENGTH : 0;
  if (ip === 0 || l4 === 0) return 0;
  // IPv4 counts its own header in the total length; IPv6 and UDP count from their payload on.
  const lengthField = f.ipVersion === 4 ? ip + l4 + payloadLength : l4 + payloadLength;
  return lengthField > MAX_U16 ? 0 : ip + l4;
}

/**
 * Writes a raw IP packet (LINKTYPE_RAW, 101: no link header, the version nibble tells IPv4 from
 * IPv6) carrying `payload[payloadOffset, +payloadLength)` in UDP or TCP between the addresses
 * and ports of `f` — the inner packet of an encapsulation such as HEP rebuilt as it was on the
 * wire, so that capture tools dissect the application protocol.
 *
 * ```
 * IPv4 (RFC 791 3.1)   | 4 | 5 | 0 | total length | id 0 | DF, offset 0 | TTL 64 | proto | checksum | src | dst |
 * IPv6 (RFC 8200 3)    | 6 | 0 | flow 0 | payload length | next header | hop limit 64 | src (16) | dst (16) |
 * UDP  (RFC 768)       | src port | dst port | length | checksum |
 * TCP  (RFC 9293 3.1)  | src port | dst port | seq | ack | offset 5 | flags | window | checksum | urgent 0 |
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc791#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc8200#section-3
 * @see https://www.rfc-editor.org/rfc/rfc768
 * @see https://www.rfc-editor.org/rfc/rfc9293#section-3.1
 *
 * Every checksum is computed (IPv4 header, UDP and TCP over the pseudo-header, RFC 1071), so
 * tools that verify checksums accept the packet; a UDP checksum of 0 is sent as 0xffff (RFC 768).
 * Not on any per-packet hot path: it is meant for the rare encapsulated packet that is kept.
 *
 * @param f - addresses, ports, transport, TCP numbers
 * @param payload - buffer holding the transport payload
 * @param payloadOffset - start of the payload in `payload`
 * @param payloadLength - payload bytes
 * @param out - caller-owned destination
 * @param outOffset - where the IP header starts in `out`
 * @returns bytes written: `ipFrameHeaderLength(f, payloadLength) + payloadLength`
 * @throws TypeError when {@link ipFrameHeaderLength} is 0 for these fields (check it first)
 * @throws RangeError when the payload range lies outside `payload` or the frame does not fit in `out`
 */
export function buildIpFrame(
  f: IpFrameFields,
  payload: Uint8Array,
  payloadOffset: number,
  payloadLength: number,
  out: Uint8Array,
  outOffset: number,
): number {
  if (!(Number.isInteger(payloadOffset) && Number.isInteger(payloadLength) && payloadOffset >= 0 && payloadLength >= 0 && payloadOffset + payloadLength <= payload.length)) {
    throw new RangeError(`buildIpFrame: payload offset ${payloadOffset} + length ${payloadLength} outside a buffer of ${payload.length} bytes`);
  }
  const header = ipFrameHeaderLength(f, payloadLength);
  if (header === 0) {
    throw new TypeError(`buildIpFrame: cannot build IPv${f.ipVersion} with transport ${f.transport} and a payload of ${payloadLength} bytes`);
  }
  const total = header + payloadLength;
  if (!(Number.isInteger(outOffset) && outOffset >= 0 && outOffset + total <= out.length)) {
    throw new RangeError(`buildIpFrame: ${total} bytes at offset ${outOffset} do not fit an output of ${out.length} bytes`);
  }
  const tcp = f.transport === Transport.Tcp;
  const proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
  const l4Length = total - (f.ipVersion === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH);
  const l4 = outOffset + total - l4Length;
  out.set(payload.subarray(payloadOffset, payloadOffset + payloadLength), outOffset + header);

  // Pseudo-header sum (RFC 768, RFC 9293 3.1, RFC 8200 8.1): addresses, protocol, L4 length.
  let pseudo = proto + l4Length;
  if (f.ipVersion === 4) {
    const o = outOffset;
    out[o] = 0x45;
    out[o + 1] = 0;
    put16(out, o + 2, total);
    put16(out, o + 4, 0);
    put16(out, o + 6, IPV4_DONT_FRAGMENT);
    out[o + 8] = DEFAULT_TTL;
    out[o + 9] = proto;
    put16(out, o + 10, 0);
    put32(out, o + 12, f.src4);
    put32(out, o + 16, f.dst4);
    put16(out, o + 10, checksumOf(out, o, IPV4_HEADER_LENGTH, 0));
    pseudo += wordSum(f.src4) + wordSum(f.dst4);
  } else {
    const o = outOffset;
    put32(out, o, 0x6000_0000);
    put16(out, o + 4, l4Length);
    out[o + 6] = proto;
    out[o + 7] = DEFAULT_TTL;
    for (let i = 0; i < 4; i++) {
      put32(out, o + 8 + 4 * i, f.src6[i]!);
      put32(out, o + 24 + 4 * i, f.dst6[i]!);
      pseudo += wordSum(f.src6[i]!) + wordSum(f.dst6[i]!);
    }
  }

  put16(out, l4, f.srcPort);
  put16(out, l4 + 2, f.dstPort);
  if (tcp) {
    put32(out, l4 + 4, f.tcpSeq);
    put32(out, l4 + 8, f.tcpAck);
    out[l4 + 12] = (TCP_HEADER_LENGTH / 4) << 4;
    out[l4 + 13] = f.tcpFlags & 0xff;
    put16(out, l4 + 14, f.tcpWindow);
    put16(out, l4 + 16, 0);
    put16(out, l4 + 18, 0);
    put16(out, l4 + 16, checksumOf(out, l4, l4Length, pseudo));
  } else {
    put16(out, l4 + 4, l4Length);
    put16(out, l4 + 6, 0);
    const sum = checksumOf(out, l4, l4Length, pseudo);
    put16(out, l4 + 6, sum === 0 ? MAX_U16 : sum);
  }
  return total;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** The two 16-bit halves of a 32-bit word, summed (one's-complement sums are order-free). */
function wordSum(v: number): number {
  return ((v >>> 16) & MAX_U16) + (v & MAX_U16);
}

/**
 * Internet checksum (RFC 1071) of `b[off, off+len)` plus an initial sum: one's complement of the
 * one's-complement sum of 16-bit big-endian words, an odd last byte padded with zero.
 */
function checksumOf(b: Uint8Array, off: number, len: number, initial: number): number {
  let sum = initial;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  // Fold the carries; 2 folds suffice for sums below 2^32 (payloads up to 64 KiB).
  sum = (sum & MAX_U16) + Math.floor(sum / 0x10000);
  sum = (sum & MAX_U16) + (sum >>> 16);
  return ~sum & MAX_U16;
}
