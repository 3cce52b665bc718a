import { readU16BE, readU32BE, readU32LE } from '@callscope/pcap-format';
import { DecodeStatus } from './decode-status.js';
import type { DecodedPacket } from './decoded-packet.js';
import { Transport } from './transport.js';

/** "HEP3" read as a big-endian 32-bit number: the HEP v3 magic. */
export const HEP3_MAGIC = 0x48455033;

/** HEP3 chunk types (vendor 0) the decoder reads; see the HEP v3 spec, section "Chunk types". */
const CHUNK_FAMILY = 1;
const CHUNK_PROTO = 2;
const CHUNK_SRC4 = 3;
const CHUNK_DST4 = 4;
const CHUNK_SRC6 = 5;
const CHUNK_DST6 = 6;
const CHUNK_SRC_PORT = 7;
const CHUNK_DST_PORT = 8;
const CHUNK_TS_SEC = 9;
const CHUNK_TS_USEC = 10;
const CHUNK_CAPTURE_ID = 12;
const CHUNK_PAYLOAD = 15;

/** Address families as HEP senders write them (Linux values). */
const AF_INET = 2;
const AF_INET6 = 10;

/** Bits of what a HEP3 message carried, to check the mandatory set. */
const HAS_FAMILY = 1;
const HAS_PROTO = 2;
const HAS_SRC = 4;
const HAS_DST = 8;
const HAS_PORTS = 16;
const HAS_PAYLOAD = 32;
const HAS_TS = 64;
const REQUIRED = HAS_FAMILY | HAS_PROTO | HAS_SRC | HAS_DST | HAS_PORTS | HAS_PAYLOAD;

/**
 * Local aliases: module runners that turn imports into getters make each `DecodeStatus.X` (and each
 * imported byte reader) a call.
 */
const S = DecodeStatus;
const TR = Transport;
const u16 = readU16BE;
const u32 = readU32BE;
const u32le = readU32LE;

function transportOf(proto: number): Transport {
  return proto === 17 ? TR.Udp : proto === 6 ? TR.Tcp : TR.Other;
}

/**
 * Decode one HEP v2 or v3 message at `buf[off..end)` and rebuild the inner packet in `out`: the
 * addresses, ports, IP protocol, transport and payload become those HEP reports, and a HEP
 * timestamp replaces the capture time (`tsOverridden`). `fromHep` is set and the TCP fields are
 * zeroed (HEP carries none). Outer fields are left alone.
 *
 * HEP v3 (https://github.com/sipcapture/HEP/blob/master/docs/HEP3_Network_Protocol_Specification_REV_36.pdf):
 * ```
 *  "HEP3" | total length (16) | chunks: vendor id (16) | type id (16) | length incl. 6 (16) | value
 * ```
 * HEP v1/v2 (Kamailio/OpenSIPS siptrace): version, header length, family, protocol, ports (BE),
 * addresses, then for v2 a 12-byte time header in the sender's byte order (little-endian in practice):
 * seconds, microseconds, capture id, padding. Returns Ok or a HEP status; never throws.
 *
 * {@link PacketDecoder} calls it for HEP found on the configured port; a HEP collector that
 * receives HEP datagrams on its own socket calls it directly on the datagram (the capture id then
 * goes nowhere, since no tunnel layer was recorded; fields of layers below are left as they were).
 */
export function decodeHep(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
  const avail = end - off;
  if (avail < 4) return S.TruncatedHep;
  if (u32(buf, off) === HEP3_MAGIC) return decodeHep3(buf, off, end, out);
  const version = buf[off]!;
  if (version !== 1 && version !== 2) return S.BadHep;
  if (avail < 8) return S.TruncatedHep;
  const hdrLen = buf[off + 1]!;
  const family = buf[off + 2]!;
  const addrLen = family === AF_INET ? 4 : family === AF_INET6 ? 16 : 0;
  if (addrLen === 0 || hdrLen < 8 + 2 * addrLen) return S.BadHep;
  const timeLen = version === 2 ? 12 : 0;
  if (avail < hdrLen + timeLen) return S.TruncatedHep;
  const proto = buf[off + 3]!;
  out.srcPort = u16(buf, off + 4);
  out.dstPort = u16(buf, off + 6);
  const a = off + 8;
  if (addrLen === 4) {
    out.ipVersion = 4;
    out.src4 = u32(buf, a);
    out.dst4 = u32(buf, a + 4);
  } else {
    out.ipVersion = 6;
    for (let i = 0; i < 4; i++) {
      out.src6[i] = u32(buf, a + 4 * i);
      out.dst6[i] = u32(buf, a + 16 + 4 * i);
    }
  }
  if (version === 2) {
    const t = off + hdrLen;
    out.tsSec = u32le(buf, t);
    out.tsNsec = Math.min(u32le(buf, t + 4), 999_999) * 1000;
    out.tsOverridden = true;
    if (out.tunnelDepth > 0) out.tunnelIds[out.tunnelDepth - 1] = buf[t + 8]! | (buf[t + 9]! << 8);
  }
  out.ipProtocol = proto;
  out.transport = transportOf(proto);
  markFromHep(out);
  out.payload = buf;
  out.payloadOffset = off + hdrLen + timeLen;
  out.payloadLength = end - out.payloadOffset;
  return S.Ok;
}

/**
 * The transport result now comes from HEP: flag it, and clear the TCP fields, which belonged to the
 * outer segment (HEP over TCP) or to an earlier packet, never to the inner message.
 */
function markFromHep(out: DecodedPacket): void {
  out.fromHep = true;
  out.tcpSeq = 0;
  out.tcpAck = 0;
  out.tcpFlags = 0;
  out.tcpHeaderLength = 0;
  out.tcpWindow = 0;
}

function decodeHep3(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
  if (end - off < 6) return S.TruncatedHep;
  const total = u16(buf, off + 4);
  if (total < 6) return S.BadHep;
  if (total > end - off) return S.TruncatedHep;
  const msgEnd = off + total;
  let seen = 0;
  let family = 0;
  let proto = 0;
  let srcPort = 0;
  let dstPort = 0;
  let tsSec = 0;
  let tsUsec = 0;
  let captureId = 0;
  let src4 = 0;
  let dst4 = 0;
  let src6At = -1;
  let dst6At = -1;
  let payloadAt = 0;
  let payloadLen = 0;
  let p = off + 6;
  while (p < msgEnd) {
    if (msgEnd - p < 6) return S.TruncatedHep;
    const vendor = u16(buf, p);
    const type = u16(buf, p + 2);
    const len = u16(buf, p + 4);
    if (len < 6 || len > msgEnd - p) return S.TruncatedHep;
    const v = p + 6;
    const vlen = len - 6;
    p += len;
    if (vendor !== 0) continue; // vendor chunks carry nothing the decoder needs
    switch (type) {
      case CHUNK_FAMILY:
        if (vlen !== 1) return S.BadHep;
        family = buf[v]!;
        seen |= HAS_FAMILY;
        break;
      case CHUNK_PROTO:
        if (vlen !== 1) return S.BadHep;
        proto = buf[v]!;
        seen |= HAS_PROTO;
        break;
      case CHUNK_SRC4:
        if (vlen !== 4) return S.BadHep;
        src4 = u32(buf, v);
        if (family !== AF_INET6) seen |= HAS_SRC;
        break;
      case CHUNK_DST4:
        if (vlen !== 4) return S.BadHep;
        dst4 = u32(buf, v);
        if (family !== AF_INET6) seen |= HAS_DST;
        break;
      case CHUNK_SRC6:
        if (vlen !== 16) return S.BadHep;
        src6At = v;
        break;
      case CHUNK_DST6:
        if (vlen !== 16) return S.BadHep;
        dst6At = v;
        break;
      case CHUNK_SRC_PORT:
        if (vlen !== 2) return S.BadHep;
        srcPort = u16(buf, v);
        seen |= HAS_PORTS;
        break;
      case CHUNK_DST_PORT:
        if (vlen !== 2) return S.BadHep;
        dstPort = u16(buf, v);
        seen |= HAS_PORTS;
        break;
      case CHUNK_TS_SEC:
        if (vlen !== 4) return S.BadHep;
        tsSec = u32(buf, v);
        seen |= HAS_TS;
        break;
      case CHUNK_TS_USEC:
        if (vlen !== 4) return S.BadHep;
        tsUsec = Math.min(u32(buf, v), 999_999);
        break;
      case CHUNK_CAPTURE_ID:
        if (vlen !== 4) return S.BadHep;
        captureId = u32(buf, v);
        break;
      case CHUNK_PAYLOAD:
        payloadAt = v;
        payloadLen = vlen;
        seen |= HAS_PAYLOAD;
        break;
      default:
        break; // keep-alive, auth key, correlation id, compressed payload...: not needed here
    }
  }
  if (family === AF_INET6) {
    seen &= ~(HAS_SRC | HAS_DST);
    if (src6At >= 0) seen |= HAS_SRC;
    if (dst6At >= 0) seen |= HAS_DST;
  } else if (family !== AF_INET) {
    return S.BadHep;
  }
  if ((seen & REQUIRED) !== REQUIRED) return S.BadHep;
  if (family === AF_INET) {
    out.ipVersion = 4;
    out.src4 = src4;
    out.dst4 = dst4;
  } else {
    out.ipVersion = 6;
    for (let i = 0; i < 4; i++) {
      out.src6[i] = u32(buf, src6At + 4 * i);
      out.dst6[i] = u32(buf, dst6At + 4 * i);
    }
  }
  if ((seen & HAS_TS) !== 0) {
    out.tsSec = tsSec;
    out.tsNsec = tsUsec * 1000;
    out.tsOverridden = true;
  }
  if (out.tunnelDepth > 0) out.tunnelIds[out.tunnelDepth - 1] = captureId;
  out.ipProtocol = proto;
  out.transport = transportOf(proto);
  markFromHep(out);
  out.srcPort = srcPort;
  out.dstPort = dstPort;
  out.payload = buf;
  out.payloadOffset = payloadAt;
  out.payloadLength = payloadLen;
  return S.Ok;
}
