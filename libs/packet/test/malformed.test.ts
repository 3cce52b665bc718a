import { describe, expect, it } from 'vitest';
import { createDecodedPacket, DecodeStatus, DECODE_STATUS_NAMES, PacketDecoder, type PacketDecoderOptions } from '../src/index.js';
import {
  be16, be32, concat, erspan2, erspan3, ethernet, gre, hep2, hep3, ipv4, ipv6, ipv6Ext, ipv6Fragment, mpls, nullHeader, sll,
  sll2, tcp, tzsp, udp, vlanTag, vxlan, type Bytes, type HepFields,
} from './frame-builder.js';

const A = '192.0.2.10';
const B = '198.51.100.20';
const T1 = '203.0.113.1';
const T2 = '203.0.113.2';
const A6 = '2001:db8:a::10';
const B6 = '2001:db8:b::20';

const data = [1, 2, 3, 4, 5, 6, 7, 8];
const innerUdp = ipv4(17, A, B, udp(4000, 4002, data));
const cut = (b: Bytes, n: number) => Array.from(b).slice(0, n);
/** Ethernet + outer IPv4 around `payload` of protocol `proto`: outer lengths always consistent. */
const outer4 = (proto: number, payload: Bytes) => ethernet(0x0800, ipv4(proto, T1, T2, payload));
const udpTo = (port: number, payload: Bytes) => outer4(17, udp(49152, port, payload));
const hepV4: HepFields = { family: 4, proto: 17, src: A, dst: B, sport: 5060, dport: 5080, payload: data };

function hep3Raw(chunks: number[][]): Uint8Array {
  const body = chunks.flat();
  return concat([0x48, 0x45, 0x50, 0x33], be16(6 + body.length), body);
}
const ch = (type: number, value: number[]) => [...be16(0), ...be16(type), ...be16(6 + value.length), ...value];

interface Case {
  name: string;
  linkType?: number;
  bytes: Bytes;
  status: DecodeStatus;
  options?: PacketDecoderOptions;
}

const nest = (n: number): Uint8Array => {
  let p: Uint8Array = innerUdp;
  for (let i = 0; i < n; i++) p = ipv4(4, T1, T2, p);
  return ethernet(0x0800, p);
};
const greNest = (n: number): Uint8Array => {
  let p: Uint8Array = innerUdp;
  for (let i = 0; i < n; i++) p = ipv4(47, T1, T2, gre(0x0800, p));
  return ethernet(0x0800, p);
};

const CASES: Case[] = [
  // Link layers
  { name: 'unknown link type', linkType: 999, bytes: innerUdp, status: DecodeStatus.UnsupportedLinkType },
  { name: 'ethernet header cut at 13', bytes: cut(ethernet(0x0800, innerUdp), 13), status: DecodeStatus.TruncatedLink },
  { name: 'empty frame', bytes: [], status: DecodeStatus.TruncatedLink },
  { name: 'SLL cut at 15', linkType: 113, bytes: cut(sll(0x0800, innerUdp), 15), status: DecodeStatus.TruncatedLink },
  { name: 'SLL2 cut at 19', linkType: 276, bytes: cut(sll2(0x0800, innerUdp), 19), status: DecodeStatus.TruncatedLink },
  { name: 'NULL cut at 3', linkType: 0, bytes: [2, 0, 0], status: DecodeStatus.TruncatedLink },
  { name: 'LOOP cut at 3', linkType: 108, bytes: [0, 0, 0], status: DecodeStatus.TruncatedLink },
  { name: 'NULL unknown family', linkType: 0, bytes: nullHeader(7, true, innerUdp), status: DecodeStatus.UnsupportedEtherType },
  { name: 'ARP', bytes: ethernet(0x0806, new Array<number>(28).fill(0)), status: DecodeStatus.UnsupportedEtherType },
  { name: '802.3 length field', bytes: ethernet(0x0040, new Array<number>(46).fill(0)), status: DecodeStatus.UnsupportedEtherType },
  { name: 'SLL2 protocol not IP', linkType: 276, bytes: sll2(0x0806, innerUdp), status: DecodeStatus.UnsupportedEtherType },
  // VLAN / MPLS
  { name: 'VLAN tag cut', bytes: ethernet(0x8100, [0, 100]), status: DecodeStatus.TruncatedVlan },
  { name: 'second VLAN tag cut', bytes: ethernet(0x88a8, concat([1, 44, 0x81, 0], [0, 100])), status: DecodeStatus.TruncatedVlan },
  { name: 'VLAN to ARP', bytes: ethernet(0x8100, vlanTag(5, 0x0806, new Array<number>(28).fill(0))), status: DecodeStatus.UnsupportedEtherType },
  { name: 'MPLS entry cut', bytes: ethernet(0x8847, [0, 1, 0x01]), status: DecodeStatus.TruncatedMpls },
  { name: 'MPLS stack without bottom', bytes: ethernet(0x8847, [...be32(0x1000040), ...be32(0x2000040)]), status: DecodeStatus.TruncatedMpls },
  { name: 'MPLS bottom then nothing', bytes: ethernet(0x8847, mpls([5], [])), status: DecodeStatus.TruncatedMpls },
  { name: 'MPLS payload nibble 5', bytes: ethernet(0x8847, mpls([5], [0x50, 1, 2, 3])), status: DecodeStatus.UnsupportedEtherType },
  { name: 'MPLS control word cut', bytes: ethernet(0x8847, mpls([5], [0, 0])), status: DecodeStatus.TruncatedMpls },
  { name: 'MPLS PW disabled', bytes: ethernet(0x8847, mpls([5], ethernet(0x0800, innerUdp), true)), status: DecodeStatus.UnsupportedEtherType, options: { mplsPseudowireEthernet: false } },
  { name: 'MPLS PW Ethernet cut', bytes: ethernet(0x8847, mpls([5], [0, 0, 0, 0, 1, 2, 3], false)), status: DecodeStatus.TruncatedLink },
  // IPv4
  { name: 'IPv4 header cut at 19', bytes: ethernet(0x0800, cut(innerUdp, 19)), status: DecodeStatus.TruncatedIp },
  { name: 'IPv4 version 6 under 0x0800', bytes: ethernet(0x0800, ipv6(17, A6, B6, udp(1, 2, data))), status: DecodeStatus.BadIpVersion },
  { name: 'raw IP version 5', linkType: 101, bytes: [0x50, ...new Array<number>(30).fill(0)], status: DecodeStatus.BadIpVersion },
  { name: 'raw IP empty', linkType: 101, bytes: [], status: DecodeStatus.TruncatedIp },
  { name: 'IPv4 IHL 4', bytes: ethernet(0x0800, ipv4(17, A, B, udp(1, 2, data), { ihl: 4 })), status: DecodeStatus.BadIhl },
  { name: 'IPv4 IHL 0', bytes: ethernet(0x0800, ipv4(17, A, B, udp(1, 2, data), { ihl: 0 })), status: DecodeStatus.BadIhl },
  { name: 'IPv4 IHL 15 past capture', bytes: ethernet(0x0800, ipv4(17, A, B, [1, 2, 3, 4], { ihl: 15 })), status: DecodeStatus.TruncatedIp },
  { name: 'IPv4 total length below IHL', bytes: ethernet(0x0800, ipv4(17, A, B, udp(1, 2, data), { totalLength: 19 })), status: DecodeStatus.BadIpLength },
  { name: 'IPv4 total length past capture', bytes: ethernet(0x0800, ipv4(17, A, B, udp(1, 2, data), { totalLength: 1000 })), status: DecodeStatus.TruncatedIp },
  // IPv6
  { name: 'IPv6 header cut at 39', bytes: ethernet(0x86dd, cut(ipv6(17, A6, B6, udp(1, 2, data)), 39)), status: DecodeStatus.TruncatedIp },
  { name: 'IPv6 payload length lies', bytes: ethernet(0x86dd, ipv6(17, A6, B6, udp(1, 2, data), 1000)), status: DecodeStatus.TruncatedIp },
  { name: 'IPv4 under 0x86dd', bytes: ethernet(0x86dd, concat(innerUdp, new Array<number>(20).fill(0))), status: DecodeStatus.BadIpVersion },
  { name: 'hop-by-hop cut', bytes: ethernet(0x86dd, ipv6(0, A6, B6, [17, 0, 1, 2])), status: DecodeStatus.BadIpv6ExtHeader },
  { name: 'routing header length past end', bytes: ethernet(0x86dd, ipv6(43, A6, B6, [17, 5, 0, 0, 0, 0, 0, 0])), status: DecodeStatus.BadIpv6ExtHeader },
  { name: 'fragment header cut', bytes: ethernet(0x86dd, ipv6(44, A6, B6, [17, 0, 0, 0])), status: DecodeStatus.BadIpv6ExtHeader },
  { name: 'AH length past end', bytes: ethernet(0x86dd, ipv6(51, A6, B6, [17, 9, 0, 0, 0, 0, 0, 0])), status: DecodeStatus.BadIpv6ExtHeader },
  { name: 'ESP', bytes: ethernet(0x86dd, ipv6(50, A6, B6, new Array<number>(24).fill(9))), status: DecodeStatus.Encrypted },
  { name: 'ESP after destination options', bytes: ethernet(0x86dd, ipv6(60, A6, B6, ipv6Ext(50, new Array<number>(16).fill(9)))), status: DecodeStatus.Encrypted },
  // Fragments
  { name: 'fragment not multiple of 8', bytes: ethernet(0x0800, ipv4(17, A, B, new Array<number>(13).fill(1), { more: true })), status: DecodeStatus.BadFragment },
  { name: 'empty non-last fragment', bytes: ethernet(0x0800, ipv4(17, A, B, [], { more: true, fragOffset: 8 })), status: DecodeStatus.BadFragment },
  { name: 'fragment past 65535', bytes: ethernet(0x0800, ipv4(17, A, B, data, { fragOffset: 65528 })), status: DecodeStatus.FragmentTooBig },
  { name: 'IPv6 fragment past limit', bytes: ethernet(0x86dd, ipv6(44, A6, B6, ipv6Fragment(17, 2000, false, 1, data))), status: DecodeStatus.FragmentTooBig, options: { maxDatagramBytes: 1500 } },
  { name: 'fragments kept off', bytes: ethernet(0x0800, ipv4(17, A, B, data, { more: true })), status: DecodeStatus.Fragment, options: { reassemble: false } },
  // UDP / TCP
  { name: 'UDP cut at 7', bytes: outer4(17, cut(udp(1, 2, data), 7)), status: DecodeStatus.TruncatedUdp },
  { name: 'UDP length 7', bytes: outer4(17, udp(1, 2, data, 7)), status: DecodeStatus.BadUdpLength },
  { name: 'UDP length past IP payload', bytes: outer4(17, udp(1, 2, data, 500)), status: DecodeStatus.BadUdpLength },
  { name: 'TCP cut at 19', bytes: outer4(6, cut(tcp(1, 2, 0, 0, 2, []), 19)), status: DecodeStatus.TruncatedTcp },
  { name: 'TCP data offset 4', bytes: outer4(6, Array.from(tcp(1, 2, 0, 0, 2, data)).map((b, i) => (i === 12 ? 0x40 : b))), status: DecodeStatus.BadTcpHeaderLength },
  { name: 'TCP data offset past segment', bytes: outer4(6, Array.from(tcp(1, 2, 0, 0, 2, [])).map((b, i) => (i === 12 ? 0xf0 : b))), status: DecodeStatus.BadTcpHeaderLength },
  // GRE / ERSPAN
  { name: 'GRE cut at 3', bytes: outer4(47, [0, 0, 8]), status: DecodeStatus.TruncatedGre },
  { name: 'GRE key cut', bytes: outer4(47, [0x20, 0, 8, 0, 0, 0]), status: DecodeStatus.TruncatedGre },
  { name: 'GRE checksum+seq cut', bytes: outer4(47, [0x90, 0, 8, 0, 0, 0, 0, 0, 1, 2]), status: DecodeStatus.TruncatedGre },
  { name: 'GRE version 1 (PPTP)', bytes: outer4(47, [0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0]), status: DecodeStatus.UnsupportedGre },
  { name: 'GRE routing present', bytes: outer4(47, [0x40, 0, 8, 0, 0, 0, 0, 0]), status: DecodeStatus.UnsupportedGre },
  { name: 'GRE to ARP', bytes: outer4(47, gre(0x0806, new Array<number>(28).fill(0))), status: DecodeStatus.UnsupportedEtherType },
  { name: 'GRE inner IPv4 cut', bytes: outer4(47, gre(0x0800, cut(innerUdp, 10))), status: DecodeStatus.TruncatedIp },
  { name: 'GRE TEB inner Ethernet cut', bytes: outer4(47, gre(0x6558, [1, 2, 3])), status: DecodeStatus.TruncatedLink },
  { name: 'ERSPAN II header cut', bytes: outer4(47, gre(0x88be, [0x10, 0, 0, 42], { seq: 1 })), status: DecodeStatus.TruncatedErspan },
  { name: 'ERSPAN II bad version', bytes: outer4(47, gre(0x88be, Array.from(erspan2(1, 0, ethernet(0x0800, innerUdp))).map((b, i) => (i === 0 ? 0x20 : b)), { seq: 1 })), status: DecodeStatus.UnsupportedErspan },
  { name: 'ERSPAN III header cut', bytes: outer4(47, gre(0x22eb, cut(erspan3(1, []), 11), { seq: 1 })), status: DecodeStatus.TruncatedErspan },
  { name: 'ERSPAN III platform sub-header cut', bytes: outer4(47, gre(0x22eb, cut(erspan3(1, [], 0, [1, 2, 3, 4, 5, 6, 7, 8]), 16), { seq: 1 })), status: DecodeStatus.TruncatedErspan },
  { name: 'ERSPAN III frame type 5', bytes: outer4(47, gre(0x22eb, erspan3(1, ethernet(0x0800, innerUdp), 5), { seq: 1 })), status: DecodeStatus.UnsupportedErspan },
  { name: 'ERSPAN III inner Ethernet cut', bytes: outer4(47, gre(0x22eb, erspan3(1, [1, 2, 3]), { seq: 1 })), status: DecodeStatus.TruncatedLink },
  // VXLAN / TZSP
  { name: 'VXLAN cut at 7', bytes: udpTo(4789, [8, 0, 0, 0, 0, 0, 1]), status: DecodeStatus.TruncatedVxlan },
  { name: 'VXLAN without I flag', bytes: udpTo(4789, vxlan(1, ethernet(0x0800, innerUdp), 0)), status: DecodeStatus.BadVxlan },
  { name: 'VXLAN inner Ethernet cut', bytes: udpTo(4789, vxlan(1, [1, 2, 3])), status: DecodeStatus.TruncatedLink },
  { name: 'TZSP cut at 3', bytes: udpTo(37008, [1, 0, 0]), status: DecodeStatus.TruncatedTzsp },
  { name: 'TZSP version 2', bytes: udpTo(37008, concat([2, 0, 0, 1, 1], ethernet(0x0800, innerUdp))), status: DecodeStatus.UnsupportedTzsp },
  { name: 'TZSP keepalive type', bytes: udpTo(37008, [1, 4, 0, 1, 1]), status: DecodeStatus.UnsupportedTzsp },
  { name: 'TZSP without END tag', bytes: udpTo(37008, tzsp(1, [0, 0, 10, 1, 5], [])), status: DecodeStatus.TruncatedTzsp },
  { name: 'TZSP tag length past end', bytes: udpTo(37008, tzsp(1, [10, 40, 1], [])), status: DecodeStatus.TruncatedTzsp },
  { name: 'TZSP 802.11 encapsulation', bytes: udpTo(37008, tzsp(18, [1], new Array<number>(30).fill(0))), status: DecodeStatus.UnsupportedTzsp },
  // HEP
  { name: 'HEP cut at 3', bytes: udpTo(9060, [0x48, 0x45, 0x50]), status: DecodeStatus.TruncatedHep },
  { name: 'HEP3 total length past datagram', bytes: udpTo(9060, cut(hep3(hepV4), 40)), status: DecodeStatus.TruncatedHep },
  { name: 'HEP3 total length below 6', bytes: udpTo(9060, [0x48, 0x45, 0x50, 0x33, 0, 4]), status: DecodeStatus.BadHep },
  { name: 'HEP3 chunk length 3', bytes: udpTo(9060, hep3Raw([[0, 0, 0, 1, 0, 3]])), status: DecodeStatus.TruncatedHep },
  { name: 'HEP3 chunk header cut', bytes: udpTo(9060, hep3Raw([[0, 0, 0, 1]])), status: DecodeStatus.TruncatedHep },
  { name: 'HEP3 chunk past message', bytes: udpTo(9060, hep3Raw([[0, 0, 0, 1, 0, 40, 2]])), status: DecodeStatus.TruncatedHep },
  { name: 'HEP3 without payload chunk', bytes: udpTo(9060, hep3Raw([ch(1, [2]), ch(2, [17]), ch(3, [1, 2, 3, 4]), ch(4, [1, 2, 3, 5]), ch(7, [0, 1]), ch(8, [0, 2])])), status: DecodeStatus.BadHep },
  { name: 'HEP3 family 7', bytes: udpTo(9060, hep3Raw([ch(1, [7]), ch(2, [17]), ch(7, [0, 1]), ch(8, [0, 2]), ch(15, [1])])), status: DecodeStatus.BadHep },
  { name: 'HEP3 IPv6 family with IPv4 addresses', bytes: udpTo(9060, hep3Raw([ch(1, [10]), ch(2, [17]), ch(3, [1, 2, 3, 4]), ch(4, [1, 2, 3, 5]), ch(7, [0, 1]), ch(8, [0, 2]), ch(15, [1])])), status: DecodeStatus.BadHep },
  { name: 'HEP3 port chunk of 3 bytes', bytes: udpTo(9060, hep3Raw([ch(7, [0, 1, 2])])), status: DecodeStatus.BadHep },
  { name: 'HEP version 5', bytes: udpTo(9060, [5, 16, 2, 17, 0, 1, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8]), status: DecodeStatus.BadHep },
  { name: 'HEP2 header length too small', bytes: udpTo(9060, Array.from(hep2(hepV4)).map((b, i) => (i === 1 ? 12 : b))), status: DecodeStatus.BadHep },
  { name: 'HEP2 cut in time header', bytes: udpTo(9060, cut(hep2(hepV4), 20)), status: DecodeStatus.TruncatedHep },
  { name: 'HEP2 cut in fixed header', bytes: udpTo(9060, [2, 16, 2, 17, 0]), status: DecodeStatus.TruncatedHep },
  // Tunnel depth and loops
  { name: '4 nested IP-in-IP (limit)', bytes: nest(4), status: DecodeStatus.Ok },
  { name: '5 nested IP-in-IP', bytes: nest(5), status: DecodeStatus.TunnelDepthExceeded },
  { name: '200 nested IP-in-IP (loop)', bytes: nest(200), status: DecodeStatus.TunnelDepthExceeded },
  { name: '5 nested GRE', bytes: greNest(5), status: DecodeStatus.TunnelDepthExceeded },
  { name: 'any tunnel with depth 0', bytes: greNest(1), status: DecodeStatus.TunnelDepthExceeded, options: { maxTunnelDepth: 0 } },
  { name: 'VXLAN with depth 0', bytes: udpTo(4789, vxlan(1, ethernet(0x0800, innerUdp))), status: DecodeStatus.TunnelDepthExceeded, options: { maxTunnelDepth: 0 } },
  { name: 'HEP with depth 0', bytes: udpTo(9060, hep3(hepV4)), status: DecodeStatus.TunnelDepthExceeded, options: { maxTunnelDepth: 0 } },
  { name: 'MPLS PW with depth 0', bytes: ethernet(0x8847, mpls([5], ethernet(0x0800, innerUdp), true)), status: DecodeStatus.TunnelDepthExceeded, options: { maxTunnelDepth: 0 } },
];

describe('malformed input: exact status per case', () => {
  for (const c of CASES) {
    it(`${c.name} -> ${DECODE_STATUS_NAMES[c.status]}`, () => {
      const decoder = new PacketDecoder(c.options);
      const out = createDecodedPacket();
      const bytes = Uint8Array.from(c.bytes);
      const st = decoder.decode(bytes, 0, bytes.length, c.linkType ?? 1, 1000, 0, out);
      expect(DECODE_STATUS_NAMES[st]).toBe(DECODE_STATUS_NAMES[c.status]);
      expect(decoder.counts[st]).toBe(1);
    });
  }

  it('every status but Ok is reached by at least one malformed case', () => {
    const reached = new Set(CASES.map((c) => c.status));
    for (const v of Object.values(DecodeStatus)) {
      expect(reached.has(v) || v === DecodeStatus.Ok, DECODE_STATUS_NAMES[v]).toBe(true);
    }
  });

  it('a frame cut at every length gives the status of the layer it was cut in', () => {
    const frame = ethernet(0x0800, innerUdp);
    const decoder = new PacketDecoder();
    const out = createDecodedPacket();
    for (let n = 0; n < frame.length; n++) {
      const st = decoder.decode(frame, 0, n, 1, 0, 0, out);
      const expected = n < 14 ? DecodeStatus.TruncatedLink : DecodeStatus.TruncatedIp;
      expect(st, `cut at ${n}`).toBe(expected);
    }
    expect(decoder.decode(frame, 0, frame.length, 1, 0, 0, out)).toBe(DecodeStatus.Ok);
  });

  it('decodes a frame at an offset inside a larger buffer and rejects a range outside it', () => {
    const frame = ethernet(0x0800, innerUdp);
    const big = concat([9, 9, 9], frame, [7, 7]);
    const decoder = new PacketDecoder();
    const out = createDecodedPacket();
    expect(decoder.decode(big, 3, frame.length, 1, 0, 0, out)).toBe(DecodeStatus.Ok);
    expect(out.payloadOffset).toBe(3 + 14 + 20 + 8);
    expect(() => decoder.decode(big, 3, big.length, 1, 0, 0, out)).toThrow(RangeError);
    expect(() => decoder.decode(big, -1, 2, 1, 0, 0, out)).toThrow(RangeError);
  });
});
