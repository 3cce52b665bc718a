import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { LinkType } from '@callscope/pcap-format';
import {
  buildIpFrame,
  createDecodedPacket,
  DecodeStatus,
  formatIpv4,
  formatIpv6,
  ipFrameHeaderLength,
  PacketDecoder,
  Transport,
  TunnelType,
  type DecodedPacket,
  type IpFrameFields,
} from '../src/index.js';
import { ascii, ethernet, hep2, hep3, ip4n, ip6, ipv4, udp, type HepFields } from './frame-builder.js';

// Tunnels off: the frames built here are plain datagrams on any port, and a UDP port such as 4789
// (VXLAN), 37008 (TZSP) or 9060 (HEP) must read back as plain UDP, not as a tunnel to open.
const decoder = new PacketDecoder({ reassemble: false, vxlanPorts: [], tzspPorts: [], hepPorts: [] });

function words(text: string): Uint32Array {
  const b = ip6(text);
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = ((b[4 * i]! << 24) | (b[4 * i + 1]! << 16) | (b[4 * i + 2]! << 8) | b[4 * i + 3]!) >>> 0;
  return w;
}

function fields(over: Partial<IpFrameFields>): IpFrameFields {
  return {
    ipVersion: 4,
    src4: ip4n('192.0.2.10'),
    dst4: ip4n('198.51.100.20'),
    src6: words('2001:db8::1'),
    dst6: words('2001:db8::2'),
    transport: Transport.Udp,
    srcPort: 5060,
    dstPort: 5070,
    tcpSeq: 0,
    tcpAck: 0,
    tcpFlags: 0,
    tcpWindow: 0,
    ...over,
  };
}

function build(f: IpFrameFields, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(ipFrameHeaderLength(f, payload.length) + payload.length);
  expect(buildIpFrame(f, payload, 0, payload.length, out, 0)).toBe(out.length);
  return out;
}

function decodeRaw(frame: Uint8Array): { st: number; p: DecodedPacket } {
  const p = createDecodedPacket();
  return { st: decoder.decode(frame, 0, frame.length, LinkType.Raw, 1, 0, p), p };
}

/** Independent RFC 1071 check: the one's-complement sum of a region with its checksum is 0xffff. */
function onesSum(parts: number[][]): number {
  let sum = 0;
  for (const bytes of parts) for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function pseudoHeader(frame: Uint8Array): { l4: number[]; pseudo: number[] } {
  const v4 = frame[0]! >> 4 === 4;
  const ipLen = v4 ? 20 : 40;
  const l4 = Array.from(frame.subarray(ipLen));
  const proto = v4 ? frame[9]! : frame[6]!;
  const addrs = v4 ? Array.from(frame.subarray(12, 20)) : Array.from(frame.subarray(8, 40));
  const len = l4.length;
  return { l4, pseudo: [...addrs, 0, proto, (len >> 8) & 0xff, len & 0xff] };
}

const sip = ascii('INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: a@b\r\nContent-Length: 0\r\n\r\n');
const SIP = Uint8Array.from(sip);

describe('buildIpFrame', () => {
  it('IPv4 + UDP: the exact header bytes (RFC 791, RFC 768) with valid checksums', () => {
    const frame = build(fields({}), Uint8Array.from([1, 2, 3]));
    // version/IHL, TOS, total 31, id 0, DF, TTL 64, UDP, checksum, 192.0.2.10, 198.51.100.20
    expect(Array.from(frame.subarray(0, 10))).toEqual([0x45, 0, 0, 31, 0, 0, 0x40, 0, 64, 17]);
    expect(Array.from(frame.subarray(12, 20))).toEqual([192, 0, 2, 10, 198, 51, 100, 20]);
    // ports 5060 -> 5070, UDP length 11, then the payload
    expect(Array.from(frame.subarray(20, 26))).toEqual([0x13, 0xc4, 0x13, 0xce, 0, 11]);
    expect(Array.from(frame.subarray(28))).toEqual([1, 2, 3]);
    expect(onesSum([Array.from(frame.subarray(0, 20))])).toBe(0xffff);
    const { l4, pseudo } = pseudoHeader(frame);
    expect(onesSum([pseudo, l4])).toBe(0xffff);
  });

  it.each([
    ['IPv4 + TCP', fields({ transport: Transport.Tcp, tcpSeq: 0xfedc_ba98, tcpAck: 7, tcpFlags: 0x18, tcpWindow: 65535 }), 40],
    ['IPv6 + UDP', fields({ ipVersion: 6 }), 48],
    ['IPv6 + TCP', fields({ ipVersion: 6, transport: Transport.Tcp, tcpSeq: 1, tcpAck: 2, tcpFlags: 0x10, tcpWindow: 1024 }), 60],
  ])('%s: header length, checksums valid (odd payload length)', (_name, f, headerLength) => {
    expect(ipFrameHeaderLength(f, SIP.length)).toBe(headerLength);
    const frame = build(f, SIP);
    expect(frame.length).toBe(headerLength + SIP.length);
    if (f.ipVersion === 4) expect(onesSum([Array.from(frame.subarray(0, 20))])).toBe(0xffff);
    const { l4, pseudo } = pseudoHeader(frame);
    expect(onesSum([pseudo, l4])).toBe(0xffff);
  });

  it.each([4789, 37008, 9060])('an empty UDP datagram to tunnel port %i reads back as plain UDP (property counterexample, seed 1199141910)', (port) => {
    const frame = build(fields({ dstPort: port }), new Uint8Array(0));
    const { st, p } = decodeRaw(frame);
    expect(st).toBe(DecodeStatus.Ok);
    expect([p.transport, p.dstPort, p.payloadLength]).toEqual([Transport.Udp, port, 0]);
  });

  it.each([
    ['IPv4 UDP', fields({})],
    ['IPv4 TCP', fields({ transport: Transport.Tcp, tcpSeq: 123_456_789, tcpAck: 987_654_321, tcpFlags: 0x18, tcpWindow: 8192 })],
    ['IPv6 UDP', fields({ ipVersion: 6 })],
    ['IPv6 TCP', fields({ ipVersion: 6, transport: Transport.Tcp, tcpSeq: 0xffff_ffff, tcpAck: 0, tcpFlags: 0x11, tcpWindow: 1 })],
  ])('round trip %s: build -> decode gives the same addresses, ports, TCP numbers and payload', (_name, f) => {
    const frame = build(f, SIP);
    const { st, p } = decodeRaw(frame);
    expect(st).toBe(DecodeStatus.Ok);
    expect([p.ipVersion, p.transport, p.srcPort, p.dstPort]).toEqual([f.ipVersion, f.transport, f.srcPort, f.dstPort]);
    if (f.ipVersion === 4) expect([formatIpv4(p.src4), formatIpv4(p.dst4)]).toEqual(['192.0.2.10', '198.51.100.20']);
    else expect([formatIpv6(p.src6), formatIpv6(p.dst6)]).toEqual(['2001:db8::1', '2001:db8::2']);
    if (f.transport === Transport.Tcp) expect([p.tcpSeq, p.tcpAck, p.tcpFlags, p.tcpWindow]).toEqual([f.tcpSeq, f.tcpAck, f.tcpFlags, f.tcpWindow]);
    expect(p.payload.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength)).toEqual(SIP);
    expect(p.payloadOffset).toBe(ipFrameHeaderLength(f, SIP.length));
  });

  it.each([
    ['HEP3, IPv4', { family: 4, proto: 17, src: '10.1.1.1', dst: '10.2.2.2', sport: 5060, dport: 5070, tsSec: 1_700_000_123, tsUsec: 1, payload: sip }],
    ['HEP3, IPv6', { family: 6, proto: 17, src: '2001:db8::a', dst: '2001:db8::b', sport: 5062, dport: 5060, payload: sip }],
    ['HEP2, IPv4', { family: 4, proto: 17, src: '10.3.3.3', dst: '10.4.4.4', sport: 5080, dport: 5060, tsSec: 1, tsUsec: 2, payload: sip }],
  ] as [string, HepFields][])('the inner packet of %s rebuilt from the DecodedPacket decodes to the same inner packet', (name, hep) => {
    const msg = name.startsWith('HEP2') ? hep2(hep) : hep3(hep);
    const outer = ethernet(0x0800, ipv4(17, '203.0.113.1', '203.0.113.2', udp(40000, 9060, msg)));
    const d = createDecodedPacket();
    expect(new PacketDecoder().decode(outer, 0, outer.length, LinkType.Ethernet, 9, 9, d)).toBe(DecodeStatus.Ok);
    expect(d.tunnelTypes[0]).toBe(name.startsWith('HEP2') ? TunnelType.Hep2 : TunnelType.Hep3);
    const frame = new Uint8Array(ipFrameHeaderLength(d, d.payloadLength) + d.payloadLength + 4);
    expect(buildIpFrame(d, d.payload, d.payloadOffset, d.payloadLength, frame, 4)).toBe(frame.length - 4);
    const { st, p } = decodeRaw(frame.subarray(4));
    expect(st).toBe(DecodeStatus.Ok);
    expect([p.ipVersion, p.srcPort, p.dstPort, p.tunnelDepth]).toEqual([d.ipVersion, d.srcPort, d.dstPort, 0]);
    if (d.ipVersion === 4) expect([p.src4, p.dst4]).toEqual([d.src4, d.dst4]);
    else expect([Array.from(p.src6), Array.from(p.dst6)]).toEqual([Array.from(d.src6), Array.from(d.dst6)]);
    expect(p.payload.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength)).toEqual(SIP);
  });

  it.each([
    ['no IP version', fields({ ipVersion: 0 }), 10],
    ['IP version 5', fields({ ipVersion: 5 }), 10],
    ['transport Other', fields({ transport: Transport.Other }), 10],
    ['transport None', fields({ transport: Transport.None }), 10],
    ['IPv4 total length above 65535', fields({}), 65_535 - 28 + 1],
    ['IPv6 payload length above 65535', fields({ ipVersion: 6 }), 65_535 - 8 + 1],
    ['negative payload length', fields({}), -1],
  ])('no frame for %s: header length 0, build throws TypeError', (_name, f, len) => {
    expect(ipFrameHeaderLength(f, len)).toBe(0);
    if (len >= 0) expect(() => buildIpFrame(f, new Uint8Array(len), 0, len, new Uint8Array(len + 100), 0)).toThrow(TypeError);
  });

  it('the largest payloads that fit the 16-bit length fields', () => {
    expect(ipFrameHeaderLength(fields({}), 65_535 - 28)).toBe(28);
    expect(ipFrameHeaderLength(fields({ ipVersion: 6 }), 65_535 - 8)).toBe(48);
  });

  it('ranges outside the given buffers are programmer errors (RangeError)', () => {
    const f = fields({});
    expect(() => buildIpFrame(f, SIP, 1, SIP.length, new Uint8Array(200), 0)).toThrow(RangeError);
    expect(() => buildIpFrame(f, SIP, 0, SIP.length, new Uint8Array(28 + SIP.length - 1), 0)).toThrow(RangeError);
    expect(() => buildIpFrame(f, SIP, 0, SIP.length, new Uint8Array(28 + SIP.length), 1)).toThrow(RangeError);
    expect(() => buildIpFrame(f, SIP, 0, SIP.length, new Uint8Array(200), -1)).toThrow(RangeError);
  });

  test.prop([
    fc.constantFrom(4, 6),
    fc.constantFrom(Transport.Udp, Transport.Tcp),
    fc.integer({ min: 0, max: 0xffff_ffff }),
    fc.integer({ min: 0, max: 0xffff_ffff }),
    fc.integer({ min: 0, max: 0xffff }),
    fc.integer({ min: 0, max: 0xffff }),
    fc.integer({ min: 0, max: 0xffff_ffff }),
    fc.uint8Array({ maxLength: 1500 }),
  ])('any addresses, ports and payload survive build -> decode with valid checksums', (version, transport, a, b, sp, dp, seq, payload) => {
    const f = fields({ ipVersion: version, transport, src4: a, dst4: b, src6: Uint32Array.of(a, b, a, b), dst6: Uint32Array.of(b, a, b, a), srcPort: sp, dstPort: dp, tcpSeq: seq, tcpFlags: 0x18 });
    const frame = build(f, payload);
    const { st, p } = decodeRaw(frame);
    expect(st).toBe(DecodeStatus.Ok);
    expect([p.transport, p.srcPort, p.dstPort]).toEqual([transport, sp, dp]);
    if (version === 4) expect([p.src4, p.dst4]).toEqual([a, b]);
    else expect([Array.from(p.src6), Array.from(p.dst6)]).toEqual([[a, b, a, b], [b, a, b, a]]);
    if (transport === Transport.Tcp) expect(p.tcpSeq).toBe(seq);
    expect(p.payload.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength)).toEqual(payload);
    const { l4, pseudo } = pseudoHeader(frame);
    expect(onesSum([pseudo, l4])).toBe(0xffff);
  });
});
