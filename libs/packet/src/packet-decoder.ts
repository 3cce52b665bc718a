import { DECODE_STATUS_COUNT, DECODE_STATUS_NAMES, DecodeStatus } from './decode-status.js';
import { MAX_VLAN_TAGS, type DecodedPacket } from './decoded-packet.js';
import { resolveDecoderOptions, type PacketDecoderOptions, type ResolvedPacketDecoderOptions } from './decoder-options.js';
import { decodeHep, HEP3_MAGIC } from './hep.js';
import { IpReassembler, REASM_BAD, REASM_HELD, REASM_TOO_BIG, type ReassemblyCounters } from './ip-reassembler.js';
import { LinkType, readU16BE, readU32BE } from '@callscope/pcap-format';
import { Transport } from './transport.js';
import { TunnelType } from './tunnel-type.js';

/** Values of the decoder's port table: which tunnel a UDP/TCP destination port carries. */
const PORT_VXLAN = 1;
const PORT_TZSP = 2;
const PORT_HEP = 3;

/** EtherType values (IEEE registry) the decoder follows. */
const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MC = 0x8848;
const ETH_TEB = 0x6558;
const ETH_ERSPAN2 = 0x88be;
const ETH_ERSPAN3 = 0x22eb;

/** IP protocol numbers (IANA) the decoder follows. */
const IPPROTO_HOPOPTS = 0;
const IPPROTO_IPIP = 4;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_IPV6 = 41;
const IPPROTO_ROUTING = 43;
const IPPROTO_FRAGMENT = 44;
const IPPROTO_GRE = 47;
const IPPROTO_ESP = 50;
const IPPROTO_AH = 51;
const IPPROTO_DSTOPTS = 60;
const IPPROTO_MOBILITY = 135;
const IPPROTO_HIP = 139;
const IPPROTO_SHIM6 = 140;

/** IPv4 flags/fragment-offset field (RFC 791 section 3.1). */
const IPV4_MF = 0x2000;
const IPV4_OFFSET_MASK = 0x1fff;

/** GRE flag bits (RFC 2784 section 2, RFC 2890 section 2, RFC 1701 routing). */
const GRE_C = 0x8000;
const GRE_R = 0x4000;
const GRE_K = 0x2000;
const GRE_S = 0x1000;
const GRE_VERSION_MASK = 0x0007;

/** VXLAN I flag: the VNI is valid (RFC 7348 section 5). */
const VXLAN_I = 0x08;

/** Address families of the BSD loopback header (AF_INET everywhere; AF_INET6 per OS). */
const AF_INET = 2;

const TZSP_TAG_PADDING = 0;
const TZSP_TAG_END = 1;
const TZSP_ENCAP_ETHERNET = 1;

/**
 * Module-local aliases of the status/enum tables and byte readers: under module runners that turn
 * imports into getters (vitest), `DecodeStatus.Ok` costs a getter call per use; a local binding
 * does not.
 */
const S = DecodeStatus;
const TR = Transport;
const TT = TunnelType;
const LT = LinkType;
const MAX_VLANS = MAX_VLAN_TAGS;
const u16 = readU16BE;
const u32 = readU32BE;

/**
 * Stateful packet decoder: link layer -> VLAN/MPLS -> IP (with reassembly) -> tunnels* -> UDP/TCP.
 *
 * One instance per capture source (it holds the reassembly state); reuse one {@link DecodedPacket}
 * for every call. The hot path reads bytes straight from the frame, allocates nothing and never
 * throws on wire input: every outcome is a {@link DecodeStatus}, counted in {@link counts}.
 *
 * ```ts
 * const decoder = new PacketDecoder({ vxlanPorts: [4789, 8472] });
 * const out = createDecodedPacket();
 * if (decoder.decode(frame, 0, frame.length, LT.Ethernet, sec, nsec, out) === S.Ok
 *     && out.transport === TR.Udp) { ... out.payload, out.payloadOffset, out.payloadLength ... }
 * ```
 */
export class PacketDecoder {
  /** Effective options (defaults filled in, frozen). */
  readonly options: ResolvedPacketDecoderOptions;
  /** Packets per returned status, indexed by {@link DecodeStatus} value. */
  readonly counts = new Float64Array(DECODE_STATUS_COUNT);
  /** Reassembly counters (reassembled, timed out, evicted, overlaps, ...). */
  readonly reassemblyCounters: ReassemblyCounters;

  private readonly reassembler: IpReassembler;
  private readonly fragKey = new Uint32Array(9);
  private readonly decodeTunnels: boolean;
  private readonly maxDepth: number;
  /**
   * Tunnel decoded on each UDP/TCP destination port ({@link PORT_VXLAN}, ...; 0 none): one indexed
   * load per datagram however many ports are configured.
   */
  private readonly tunnelPorts = new Uint8Array(65536);
  private readonly pwEthernet: boolean;
  private readonly reassemble: boolean;
  /** Packet time of the current call, seconds (reassembly timeouts). */
  private now = 0;

  /** @throws RangeError when an option is out of range (programmer error). */
  constructor(options: PacketDecoderOptions = {}) {
    this.options = resolveDecoderOptions(options);
    this.reassembler = new IpReassembler(this.options);
    this.reassemblyCounters = this.reassembler.counters;
    this.decodeTunnels = this.options.decodeTunnels;
    this.maxDepth = this.options.maxTunnelDepth;
    for (const p of this.options.vxlanPorts) this.tunnelPorts[p] = PORT_VXLAN;
    for (const p of this.options.tzspPorts) this.tunnelPorts[p] = PORT_TZSP;
    for (const p of this.options.hepPorts) this.tunnelPorts[p] = PORT_HEP;
    this.pwEthernet = this.options.mplsPseudowireEthernet;
    this.reassemble = this.options.reassemble;
  }

  /**
   * Decode one captured frame `frame[offset .. offset + length)` of link type `linkType`
   * ({@link LinkType}) captured at `tsSec` + `tsNsec` into `out`.
   *
   * @returns `Ok` when `out` holds a transport result; `Fragment` when an IP fragment was stored
   *   for reassembly; otherwise the first problem found, outermost layer first.
   * @throws RangeError when offset/length do not lie inside `frame` (programmer error, not wire input).
   */
  decode(
    frame: Uint8Array,
    offset: number,
    length: number,
    linkType: number,
    tsSec: number,
    tsNsec: number,
    out: DecodedPacket,
  ): DecodeStatus {
    if (!(offset >= 0 && length >= 0 && offset + length <= frame.length)) {
      throw new RangeError(`decode: offset ${offset} + length ${length} outside a frame of ${frame.length} bytes`);
    }
    out.linkType = linkType;
    out.tsSec = tsSec;
    out.tsNsec = tsNsec;
    out.tsOverridden = false;
    out.vlanCount = 0;
    out.mplsCount = 0;
    out.tunnelDepth = 0;
    out.outerIpVersion = 0;
    out.ipVersion = 0;
    out.ipProtocol = 0;
    out.reassembled = false;
    out.transport = TR.None;
    out.fromHep = false;
    out.srcPort = 0;
    out.dstPort = 0;
    out.payload = frame;
    out.payloadOffset = 0;
    out.payloadLength = 0;
    this.now = tsSec + tsNsec * 1e-9;
    // Ethernet is most of the traffic: skip the link-type switch for it.
    const status =
      linkType === LT.Ethernet ? this.ethernet(frame, offset, offset + length, out) : this.link(frame, offset, offset + length, linkType, out);
    this.counts[status]!++;
    return status;
  }

  /**
   * Drop incomplete datagrams older than the reassembly timeout at packet time `tsSec` (+ `tsNsec`).
   * Expiry also happens whenever a fragment arrives; call this when a source goes quiet.
   */
  expireFragments(tsSec: number, tsNsec = 0): void {
    this.reassembler.expire(tsSec + tsNsec * 1e-9);
  }

  /** Datagrams currently waiting for fragments, and the bytes their buffers hold. */
  reassemblyUsage(): { datagrams: number; bytes: number } {
    return { datagrams: this.reassembler.pending, bytes: this.reassembler.pendingBytes };
  }

  /**
   * Copy of every counter as `{ status name: count, 'reassembly.<name>': count }` (allocates; call
   * it for periodic stats, not per packet).
   */
  snapshotCounters(): Record<string, number> {
    const snap: Record<string, number> = {};
    for (let i = 0; i < DECODE_STATUS_COUNT; i++) snap[DECODE_STATUS_NAMES[i]!] = this.counts[i]!;
    for (const [k, v] of Object.entries(this.reassemblyCounters)) snap[`reassembly.${k}`] = v as number;
    return snap;
  }

  private link(buf: Uint8Array, off: number, end: number, linkType: number, out: DecodedPacket): DecodeStatus {
    switch (linkType) {
      case LT.Ethernet:
        return this.ethernet(buf, off, end, out);
      case LT.LinuxSll:
        // https://www.tcpdump.org/linktypes/LinkType.LinuxSll.html: protocol at bytes 14..15.
        if (end - off < 16) return S.TruncatedLink;
        return this.etherType(u16(buf, off + 14), buf, off + 16, end, out);
      case LT.LinuxSll2:
        // https://www.tcpdump.org/linktypes/LinkType.LinuxSll2.html: protocol first, 20-byte header.
        if (end - off < 20) return S.TruncatedLink;
        return this.etherType(u16(buf, off), buf, off + 20, end, out);
      case LT.Raw:
      case LT.RawDlt:
        return this.ipByNibble(buf, off, end, out);
      case LT.Ipv4:
        return this.ipv4(buf, off, end, out);
      case LT.Ipv6:
        return this.ipv6(buf, off, end, out);
      case LT.Null: {
        if (end - off < 4) return S.TruncatedLink;
        // Host byte order of the capturing machine: a value above 16 bits means the other order.
        let family = (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
        if (family > 0xffff) family = u32(buf, off);
        return this.loopbackFamily(family, buf, off + 4, end, out);
      }
      case LT.Loop:
        if (end - off < 4) return S.TruncatedLink;
        return this.loopbackFamily(u32(buf, off), buf, off + 4, end, out);
      default:
        return S.UnsupportedLinkType;
    }
  }

  /** AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (Darwin). */
  private loopbackFamily(family: number, buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    if (family === AF_INET) return this.ipv4(buf, off, end, out);
    if (family === 10 || family === 24 || family === 28 || family === 30) return this.ipv6(buf, off, end, out);
    return S.UnsupportedEtherType;
  }

  private ethernet(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    if (end - off < 14) return S.TruncatedLink;
    return this.etherType(u16(buf, off + 12), buf, off + 14, end, out);
  }

  /** Follow VLAN tags (802.1Q, 802.1ad, legacy 0x9100 QinQ) and MPLS to IP. */
  private etherType(type: number, buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    for (;;) {
      if (type === ETH_IPV4) return this.ipv4(buf, off, end, out);
      if (type === ETH_IPV6) return this.ipv6(buf, off, end, out);
      if (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD) {
        if (end - off < 4) return S.TruncatedVlan;
        if (out.vlanCount < MAX_VLANS) out.vlanIds[out.vlanCount] = u16(buf, off) & 0x0fff;
        out.vlanCount++;
        type = u16(buf, off + 2);
        off += 4;
        continue;
      }
      if (type === ETH_MPLS || type === ETH_MPLS_MC) return this.mpls(buf, off, end, out);
      return S.UnsupportedEtherType;
    }
  }

  /**
   * MPLS label stack (RFC 3032 section 2.1): 20-bit label, 3 TC, 1 bottom-of-stack, 8 TTL. No field
   * names the payload, so it is guessed from its first nibble like Wireshark does: 4 IPv4, 6 IPv6,
   * 0 a pseudowire control word (RFC 4385) before an Ethernet frame (RFC 4448).
   */
  private mpls(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    for (;;) {
      if (end - off < 4) return S.TruncatedMpls;
      const entry = u32(buf, off);
      if (out.mplsCount === 0) out.mplsLabel = entry >>> 12;
      out.mplsCount++;
      off += 4;
      if ((entry & 0x100) !== 0) break;
    }
    if (off >= end) return S.TruncatedMpls;
    const nibble = buf[off]! >> 4;
    if (nibble === 4) return this.ipv4(buf, off, end, out);
    if (nibble === 6) return this.ipv6(buf, off, end, out);
    if (nibble === 0 && this.pwEthernet && this.decodeTunnels) {
      if (end - off < 4) return S.TruncatedMpls;
      if (!this.pushTunnel(out, TT.MplsPseudowire, 0)) return S.TunnelDepthExceeded;
      return this.ethernet(buf, off + 4, end, out);
    }
    return S.UnsupportedEtherType;
  }

  private ipByNibble(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    if (off >= end) return S.TruncatedIp;
    const v = buf[off]! >> 4;
    if (v === 4) return this.ipv4(buf, off, end, out);
    if (v === 6) return this.ipv6(buf, off, end, out);
    return S.BadIpVersion;
  }

  private pushTunnel(out: DecodedPacket, type: number, id: number): boolean {
    const d = out.tunnelDepth;
    if (d >= this.maxDepth) return false;
    out.tunnelTypes[d] = type;
    out.tunnelIds[d] = id;
    out.tunnelDepth = d + 1;
    return true;
  }

  /**
   * IPv4 header (RFC 791 section 3.1,
   * https://www.rfc-editor.org/rfc/rfc791#section-3.1). Options are skipped through IHL; the
   * payload ends at total length, so Ethernet padding is trimmed. Checksums are not verified:
   * offloading NICs leave them wrong on captured outgoing packets.
   */
  private ipv4(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    const avail = end - off;
    if (avail < 20) return S.TruncatedIp;
    const b0 = buf[off]!;
    if (b0 >> 4 !== 4) return S.BadIpVersion;
    const ihl = (b0 & 0x0f) << 2;
    if (ihl < 20) return S.BadIhl;
    if (ihl > avail) return S.TruncatedIp;
    let total = u16(buf, off + 2);
    // 0 is what TSO-offloaded segments captured on the sending host carry: use what was captured.
    if (total === 0) total = avail;
    if (total < ihl) return S.BadIpLength;
    if (total > avail) return S.TruncatedIp;
    const src = u32(buf, off + 12);
    const dst = u32(buf, off + 16);
    if (out.outerIpVersion === 0) {
      out.outerIpVersion = 4;
      out.outerSrc4 = src;
      out.outerDst4 = dst;
    }
    out.ipVersion = 4;
    out.src4 = src;
    out.dst4 = dst;
    out.ttl = buf[off + 8]!;
    const proto = buf[off + 9]!;
    const frag = u16(buf, off + 6);
    if ((frag & (IPV4_MF | IPV4_OFFSET_MASK)) !== 0) return this.ipv4Fragment(frag, proto, buf, off, ihl, total, out);
    if (proto === IPPROTO_UDP) {
      // The RTP/SIP fast lane: one call less than going through ipPayload.
      out.ipProtocol = proto;
      return this.udp(buf, off + ihl, off + total, out);
    }
    return this.ipPayload(proto, buf, off + ihl, off + total, out);
  }

  /** Kept out of {@link ipv4} so the common unfragmented path stays small enough to inline. */
  private ipv4Fragment(frag: number, proto: number, buf: Uint8Array, off: number, ihl: number, total: number, out: DecodedPacket): DecodeStatus {
    out.ipProtocol = proto;
    if (!this.reassemble) return S.Fragment;
    const key = this.fragKey;
    key[0] = out.src4;
    key[1] = out.dst4;
    key[2] = proto;
    key[3] = u16(buf, off + 4);
    const r = this.reassembler.add(4, key, proto, (frag & IPV4_OFFSET_MASK) << 3, (frag & IPV4_MF) !== 0, buf, off + ihl, total - ihl, this.now);
    return this.afterReassembly(r, out);
  }

  private afterReassembly(r: number, out: DecodedPacket): DecodeStatus {
    if (r === REASM_HELD) return S.Fragment;
    if (r === REASM_BAD) return S.BadFragment;
    if (r === REASM_TOO_BIG) return S.FragmentTooBig;
    out.reassembled = true;
    const ra = this.reassembler;
    if (out.ipVersion === 6) return this.ipv6Chain(ra.outputProto, ra.output, 0, r, out);
    return this.ipPayload(ra.outputProto, ra.output, 0, r, out);
  }

  /**
   * IPv6 fixed header (RFC 8200 section 3, https://www.rfc-editor.org/rfc/rfc8200#section-3); the
   * payload ends at payload length (a jumbogram, length 0 with hop-by-hop, takes what was captured).
   */
  private ipv6(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    const avail = end - off;
    if (avail < 40) return S.TruncatedIp;
    if (buf[off]! >> 4 !== 6) return S.BadIpVersion;
    const plen = u16(buf, off + 4);
    const next = buf[off + 6]!;
    const first = out.outerIpVersion === 0;
    if (first) out.outerIpVersion = 6;
    out.ipVersion = 6;
    for (let i = 0; i < 4; i++) {
      const s = u32(buf, off + 8 + 4 * i);
      const d = u32(buf, off + 24 + 4 * i);
      out.src6[i] = s;
      out.dst6[i] = d;
      if (first) {
        out.outerSrc6[i] = s;
        out.outerDst6[i] = d;
      }
    }
    out.ttl = buf[off + 7]!;
    let pend = off + 40 + plen;
    if (plen === 0 && next === IPPROTO_HOPOPTS) pend = end;
    if (pend > end) return S.TruncatedIp;
    return this.ipv6Chain(next, buf, off + 40, pend, out);
  }

  /**
   * Walk IPv6 extension headers (RFC 8200 section 4) to the upper layer: hop-by-hop, routing,
   * destination options, mobility, HIP, shim6 share the (next, length in 8-octet units - 1) shape;
   * AH (RFC 4302) counts 4-octet units - 2; a fragment header hands the rest to reassembly
   * (atomic fragments, RFC 6946, pass straight through); ESP ends the walk.
   */
  private ipv6Chain(next: number, buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    for (;;) {
      switch (next) {
        case IPPROTO_HOPOPTS:
        case IPPROTO_ROUTING:
        case IPPROTO_DSTOPTS:
        case IPPROTO_MOBILITY:
        case IPPROTO_HIP:
        case IPPROTO_SHIM6: {
          if (end - off < 8) return S.BadIpv6ExtHeader;
          const len = (buf[off + 1]! + 1) << 3;
          if (len > end - off) return S.BadIpv6ExtHeader;
          next = buf[off]!;
          off += len;
          continue;
        }
        case IPPROTO_AH: {
          if (end - off < 8) return S.BadIpv6ExtHeader;
          const len = (buf[off + 1]! + 2) << 2;
          if (len > end - off) return S.BadIpv6ExtHeader;
          next = buf[off]!;
          off += len;
          continue;
        }
        case IPPROTO_FRAGMENT: {
          if (end - off < 8) return S.BadIpv6ExtHeader;
          const fragNext = buf[off]!;
          const field = u16(buf, off + 2);
          const fragOffset = field & 0xfff8;
          const more = (field & 1) !== 0;
          const id = u32(buf, off + 4);
          off += 8;
          if (fragOffset === 0 && !more) {
            next = fragNext;
            continue;
          }
          out.ipProtocol = fragNext;
          if (!this.reassemble) return S.Fragment;
          const key = this.fragKey;
          for (let i = 0; i < 4; i++) {
            key[i] = out.src6[i]!;
            key[4 + i] = out.dst6[i]!;
          }
          key[8] = id;
          const r = this.reassembler.add(6, key, fragNext, fragOffset, more, buf, off, end - off, this.now);
          return this.afterReassembly(r, out);
        }
        case IPPROTO_ESP:
          out.ipProtocol = next;
          return S.Encrypted;
        default:
          return this.ipPayload(next, buf, off, end, out);
      }
    }
  }

  /** Upper layer of an IP packet: UDP, TCP, IP-in-IP, GRE, or a generic "other" result. */
  private ipPayload(proto: number, buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    out.ipProtocol = proto;
    switch (proto) {
      case IPPROTO_UDP:
        return this.udp(buf, off, end, out);
      case IPPROTO_TCP:
        return this.tcp(buf, off, end, out);
      case IPPROTO_IPIP:
      case IPPROTO_IPV6:
        if (!this.decodeTunnels) break;
        if (!this.pushTunnel(out, TT.IpInIp, 0)) return S.TunnelDepthExceeded;
        return proto === IPPROTO_IPIP ? this.ipv4(buf, off, end, out) : this.ipv6(buf, off, end, out);
      case IPPROTO_GRE:
        if (!this.decodeTunnels) break;
        return this.gre(buf, off, end, out);
      default:
        break;
    }
    out.transport = TR.Other;
    out.payload = buf;
    out.payloadOffset = off;
    out.payloadLength = end - off;
    return S.Ok;
  }

  /**
   * UDP (RFC 768, https://www.rfc-editor.org/rfc/rfc768): the length field bounds the payload.
   * Destination ports configured for VXLAN, TZSP and HEP are decoded as those tunnels.
   */
  private udp(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    if (end - off < 8) return S.TruncatedUdp;
    const sp = u16(buf, off);
    const dp = u16(buf, off + 2);
    const ulen = u16(buf, off + 4);
    if (ulen < 8 || ulen > end - off) return S.BadUdpLength;
    out.transport = TR.Udp;
    out.srcPort = sp;
    out.dstPort = dp;
    out.payload = buf;
    out.payloadOffset = off + 8;
    out.payloadLength = ulen - 8;
    if (this.decodeTunnels) {
      const tunnel = this.tunnelPorts[dp]!;
      if (tunnel === PORT_VXLAN) return this.vxlan(buf, off + 8, off + ulen, out);
      if (tunnel === PORT_TZSP) return this.tzsp(buf, off + 8, off + ulen, out);
      if (tunnel === PORT_HEP) {
        if (!this.pushTunnel(out, buf[off + 8] === 0x48 ? TT.Hep3 : TT.Hep2, 0)) {
          return S.TunnelDepthExceeded;
        }
        return decodeHep(buf, off + 8, off + ulen, out);
      }
    }
    return S.Ok;
  }

  /**
   * TCP header (RFC 9293 section 3.1, https://www.rfc-editor.org/rfc/rfc9293#section-3.1); options
   * are skipped through the data offset. A segment to the HEP port that starts with a complete HEP3
   * message is decoded as HEP (first message only: HEP over TCP has no further framing here);
   * anything else stays a TCP result for the stream reassembly done by the caller.
   */
  private tcp(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    const avail = end - off;
    if (avail < 20) return S.TruncatedTcp;
    const hlen = (buf[off + 12]! >> 4) << 2;
    if (hlen < 20 || hlen > avail) return S.BadTcpHeaderLength;
    out.transport = TR.Tcp;
    out.srcPort = u16(buf, off);
    out.dstPort = u16(buf, off + 2);
    out.tcpSeq = u32(buf, off + 4);
    out.tcpAck = u32(buf, off + 8);
    out.tcpFlags = buf[off + 13]!;
    out.tcpWindow = u16(buf, off + 14);
    out.tcpHeaderLength = hlen;
    out.payload = buf;
    out.payloadOffset = off + hlen;
    out.payloadLength = avail - hlen;
    const p = off + hlen;
    if (
      this.decodeTunnels &&
      this.tunnelPorts[out.dstPort] === PORT_HEP &&
      avail - hlen >= 6 &&
      u32(buf, p) === HEP3_MAGIC &&
      u16(buf, p + 4) <= avail - hlen
    ) {
      if (!this.pushTunnel(out, TT.Hep3, 0)) return S.TunnelDepthExceeded;
      return decodeHep(buf, p, p + u16(buf, p + 4), out);
    }
    return S.Ok;
  }

  /**
   * GRE (RFC 2784 section 2.1, RFC 2890 section 2):
   * ```
   *  |C| |K|S| Reserved0 | Ver |  Protocol Type  | [Checksum | Reserved1] [Key] [Sequence Number]
   * ```
   * Protocol 0x6558 carries Ethernet, 0x88be ERSPAN type I/II, 0x22eb ERSPAN type III; any other
   * value is an EtherType (IPv4, IPv6, MPLS, VLAN).
   */
  private gre(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    if (end - off < 4) return S.TruncatedGre;
    const flags = u16(buf, off);
    if ((flags & (GRE_R | GRE_VERSION_MASK)) !== 0) return S.UnsupportedGre;
    const proto = u16(buf, off + 2);
    let p = off + 4;
    if ((flags & GRE_C) !== 0) p += 4;
    let key = 0;
    if ((flags & GRE_K) !== 0) {
      if (end - p < 4) return S.TruncatedGre;
      key = u32(buf, p);
      p += 4;
    }
    if ((flags & GRE_S) !== 0) p += 4;
    if (p > end) return S.TruncatedGre;
    if (proto === ETH_ERSPAN2) {
      // Type I has no ERSPAN header and no GRE sequence number; type II sets S (draft section 4.1).
      if ((flags & GRE_S) === 0) {
        if (!this.pushTunnel(out, TT.Erspan2, 0)) return S.TunnelDepthExceeded;
        return this.ethernet(buf, p, end, out);
      }
      return this.erspan2(buf, p, end, out);
    }
    if (proto === ETH_ERSPAN3) return this.erspan3(buf, p, end, out);
    if (!this.pushTunnel(out, TT.Gre, key)) return S.TunnelDepthExceeded;
    if (proto === ETH_TEB) return this.ethernet(buf, p, end, out);
    return this.etherType(proto, buf, p, end, out);
  }

  /**
   * ERSPAN type II header (draft-foschiano-erspan-03 section 4.2,
   * https://datatracker.ietf.org/doc/html/draft-foschiano-erspan-03#section-4.2), 8 bytes:
   * ```
   *  | Ver=1 | VLAN (12) | COS | En | T | Session ID (10) | Reserved (12) | Index (20) |
   * ```
   */
  private erspan2(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    if (end - off < 8) return S.TruncatedErspan;
    if (buf[off]! >> 4 !== 1) return S.UnsupportedErspan;
    if (!this.pushTunnel(out, TT.Erspan2, u16(buf, off + 2) & 0x3ff)) return S.TunnelDepthExceeded;
    return this.ethernet(buf, off + 8, end, out);
  }

  /**
   * ERSPAN type III header (draft-foschiano-erspan-03 section 4.3), 12 bytes, then an 8-byte
   * platform-specific sub-header when O is set:
   * ```
   *  | Ver=2 | VLAN | COS | BSO | T | Session ID | Timestamp (32) | SGT (16) | P | FT (5) | HW ID (6) | D | Gra (2) | O |
   * ```
   * Frame type 0 is Ethernet, 2 is IP (version from the first nibble).
   */
  private erspan3(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    if (end - off < 12) return S.TruncatedErspan;
    if (buf[off]! >> 4 !== 2) return S.UnsupportedErspan;
    const frameType = (buf[off + 10]! >> 2) & 0x1f;
    const hlen = (buf[off + 11]! & 1) !== 0 ? 20 : 12;
    if (end - off < hlen) return S.TruncatedErspan;
    if (frameType !== 0 && frameType !== 2) return S.UnsupportedErspan;
    if (!this.pushTunnel(out, TT.Erspan3, u16(buf, off + 2) & 0x3ff)) return S.TunnelDepthExceeded;
    return frameType === 0 ? this.ethernet(buf, off + hlen, end, out) : this.ipByNibble(buf, off + hlen, end, out);
  }

  /**
   * VXLAN (RFC 7348 section 5, https://www.rfc-editor.org/rfc/rfc7348#section-5):
   * ```
   *  |R|R|R|R|I|R|R|R| Reserved (24) | VNI (24) | Reserved (8) |   then an Ethernet frame
   * ```
   */
  private vxlan(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    if (end - off < 8) return S.TruncatedVxlan;
    if ((buf[off]! & VXLAN_I) === 0) return S.BadVxlan;
    if (!this.pushTunnel(out, TT.Vxlan, u32(buf, off + 4) >>> 8)) return S.TunnelDepthExceeded;
    return this.ethernet(buf, off + 8, end, out);
  }

  /**
   * TZSP (Tazmen Sniffer Protocol, https://en.wikipedia.org/wiki/TZSP): version 1, type (0 received,
   * 1 to transmit), encapsulation (1 Ethernet), then tagged fields (0 padding, 1 end, else
   * tag/length/value) up to the END tag, then the frame.
   */
  private tzsp(buf: Uint8Array, off: number, end: number, out: DecodedPacket): DecodeStatus {
    if (end - off < 4) return S.TruncatedTzsp;
    if (buf[off] !== 1 || buf[off + 1]! > 1) return S.UnsupportedTzsp;
    const encap = u16(buf, off + 2);
    let p = off + 4;
    for (;;) {
      if (p >= end) return S.TruncatedTzsp;
      const tag = buf[p]!;
      if (tag === TZSP_TAG_END) {
        p++;
        break;
      }
      if (tag === TZSP_TAG_PADDING) {
        p++;
        continue;
      }
      if (end - p < 2) return S.TruncatedTzsp;
      p += 2 + buf[p + 1]!;
    }
    if (encap !== TZSP_ENCAP_ETHERNET) return S.UnsupportedTzsp;
    if (!this.pushTunnel(out, TT.Tzsp, 0)) return S.TunnelDepthExceeded;
    return this.ethernet(buf, p, end, out);
  }
}
