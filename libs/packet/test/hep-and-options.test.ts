import { describe, expect, it } from 'vitest';
import {
  createDecodedPacket, decodeHep, DecodeStatus, DEFAULT_DECODER_OPTIONS, formatIpv4, formatIpv6, PacketDecoder, Transport, TunnelType,
  type DecodedPacket, type PacketDecoderOptions,
} from '../src/index.js';
import { ascii, concat, ethernet, gre, hep2, hep3, ipv4, tcp, tzsp, udp, vxlan, type Bytes, type HepFields } from './frame-builder.js';

const T1 = '203.0.113.1';
const T2 = '203.0.113.2';
const sip = ascii('INVITE sip:bob@example.com SIP/2.0\r\n\r\n');
const inner = ethernet(0x0800, ipv4(17, '192.0.2.10', '198.51.100.20', udp(4000, 4002, [1, 2, 3, 4])));

function decode(bytes: Bytes, options?: PacketDecoderOptions, tsSec = 1_000, tsNsec = 5): { st: number; out: DecodedPacket } {
  const d = new PacketDecoder(options);
  const out = createDecodedPacket();
  const b = Uint8Array.from(bytes);
  const st = d.decode(b, 0, b.length, 1, tsSec, tsNsec, out);
  return { st, out };
}

const text = (o: DecodedPacket) => String.fromCharCode(...o.payload.subarray(o.payloadOffset, o.payloadOffset + o.payloadLength));

describe('HEP', () => {
  const v4: HepFields = { family: 4, proto: 17, src: '10.1.1.1', dst: '10.2.2.2', sport: 5060, dport: 5070, tsSec: 1_700_000_123, tsUsec: 456_789, captureId: 2001, payload: sip };

  it('HEP3 over UDP rebuilds the inner packet and overrides the timestamp', () => {
    const { st, out } = decode(ethernet(0x0800, ipv4(17, T1, T2, udp(40000, 9060, hep3(v4)))));
    expect(st).toBe(DecodeStatus.Ok);
    expect([out.transport, formatIpv4(out.src4), out.srcPort, formatIpv4(out.dst4), out.dstPort]).toEqual([Transport.Udp, '10.1.1.1', 5060, '10.2.2.2', 5070]);
    expect([formatIpv4(out.outerSrc4), out.tunnelTypes[0], out.tunnelIds[0]]).toEqual([T1, TunnelType.Hep3, 2001]);
    expect([out.tsOverridden, out.tsSec, out.tsNsec]).toEqual([true, 1_700_000_123, 456_789_000]);
    expect(text(out)).toBe(String.fromCharCode(...sip));
  });

  it('HEP3 with IPv6 addresses, TCP transport, a vendor chunk and no timestamp keeps the capture time', () => {
    const v6: HepFields = { family: 6, proto: 6, src: '2001:db8::1', dst: '2001:db8::2', sport: 5061, dport: 5060, payload: sip };
    const vendor = [0, 9, 0, 3, 0, 8, 0xaa, 0xbb];
    const { st, out } = decode(ethernet(0x0800, ipv4(17, T1, T2, udp(40000, 9060, hep3(v6, vendor)))));
    expect(st).toBe(DecodeStatus.Ok);
    expect([out.ipVersion, formatIpv6(out.src6), formatIpv6(out.dst6), out.transport, out.ipProtocol]).toEqual([6, '2001:db8::1', '2001:db8::2', Transport.Tcp, 6]);
    expect([out.tsOverridden, out.tsSec, out.tsNsec]).toEqual([false, 1_000, 5]);
  });

  it('HEP3 over TCP: a complete message at the segment start is decoded, anything else stays TCP', () => {
    const msg = hep3(v4);
    const whole = decode(ethernet(0x0800, ipv4(6, T1, T2, tcp(40000, 9060, 1, 1, 0x18, msg))));
    expect([whole.st, whole.out.transport, whole.out.srcPort, whole.out.tunnelTypes[0]]).toEqual([DecodeStatus.Ok, Transport.Udp, 5060, TunnelType.Hep3]);
    const half = decode(ethernet(0x0800, ipv4(6, T1, T2, tcp(40000, 9060, 1, 1, 0x18, msg.subarray(0, 30)))));
    expect([half.st, half.out.transport, half.out.dstPort, half.out.payloadLength, half.out.tunnelDepth]).toEqual([DecodeStatus.Ok, Transport.Tcp, 9060, 30, 0]);
  });

  it('HEP-delivered TCP is marked fromHep with zero TCP fields (HEP has none; the outer segment\'s are not the inner one\'s)', () => {
    const tcpInner: HepFields = { ...v4, proto: 6 };
    const d = new PacketDecoder();
    const out = createDecodedPacket();
    const overTcp = Uint8Array.from(ethernet(0x0800, ipv4(6, T1, T2, tcp(40000, 9060, 0x12345678, 0x9abcdef0, 0x18, hep3(tcpInner)))));
    expect(d.decode(overTcp, 0, overTcp.length, 1, 1_000, 0, out)).toBe(DecodeStatus.Ok);
    expect([out.fromHep, out.transport, out.tcpSeq, out.tcpAck, out.tcpFlags, out.tcpWindow, out.tcpHeaderLength]).toEqual([true, Transport.Tcp, 0, 0, 0, 0, 0]);
    for (const frame of [hep3(tcpInner), hep2(tcpInner)]) {
      const overUdp = Uint8Array.from(ethernet(0x0800, ipv4(17, T1, T2, udp(40000, 9060, frame))));
      expect(d.decode(overUdp, 0, overUdp.length, 1, 1_000, 0, out)).toBe(DecodeStatus.Ok);
      expect([out.fromHep, out.transport, out.tcpSeq, out.tcpFlags]).toEqual([true, Transport.Tcp, 0, 0]);
    }
    // The next packet, captured directly, is not marked.
    const direct = Uint8Array.from(ethernet(0x0800, ipv4(6, T1, T2, tcp(5060, 5060, 7, 8, 0x18, sip))));
    expect(d.decode(direct, 0, direct.length, 1, 1_000, 0, out)).toBe(DecodeStatus.Ok);
    expect([out.fromHep, out.tcpSeq, out.tcpFlags]).toEqual([false, 7, 0x18]);
  });

  it('HEP2 with its little-endian time header', () => {
    const { st, out } = decode(ethernet(0x0800, ipv4(17, T1, T2, udp(40000, 9060, hep2(v4)))));
    expect(st).toBe(DecodeStatus.Ok);
    expect([out.tunnelTypes[0], formatIpv4(out.src4), out.dstPort, out.tsSec, out.tsNsec, out.tunnelIds[0]]).toEqual([TunnelType.Hep2, '10.1.1.1', 5070, 1_700_000_123, 456_789_000, 2001]);
    expect(text(out)).toBe(String.fromCharCode(...sip));
  });

  it('a HEP collector can decode a bare HEP datagram with decodeHep', () => {
    const out = createDecodedPacket();
    const msg = hep3(v4);
    expect(decodeHep(msg, 0, msg.length, out)).toBe(DecodeStatus.Ok);
    expect([formatIpv4(out.dst4), out.dstPort, out.tsSec, out.payloadLength, out.tunnelDepth]).toEqual(['10.2.2.2', 5070, 1_700_000_123, sip.length, 0]);
    expect(decodeHep(msg, 0, 20, out)).toBe(DecodeStatus.TruncatedHep);
  });

  it('HEP2 with IPv6 addresses', () => {
    const { st, out } = decode(ethernet(0x0800, ipv4(17, T1, T2, udp(40000, 9060, hep2({ ...v4, family: 6, src: '2001:db8::a', dst: '2001:db8::b' })))));
    expect([st, out.ipVersion, formatIpv6(out.dst6)]).toEqual([DecodeStatus.Ok, 6, '2001:db8::b']);
  });
});

describe('options', () => {
  it('tunnel ports are configurable and an empty list disables a tunnel', () => {
    const onLinuxPort = ethernet(0x0800, ipv4(17, T1, T2, udp(1, 8472, vxlan(9, inner))));
    expect(decode(onLinuxPort).out.tunnelDepth).toBe(0);
    const r = decode(onLinuxPort, { vxlanPorts: [8472] });
    expect([r.st, r.out.tunnelTypes[0], r.out.tunnelIds[0], r.out.dstPort]).toEqual([DecodeStatus.Ok, TunnelType.Vxlan, 9, 4002]);
    const off = decode(ethernet(0x0800, ipv4(17, T1, T2, udp(1, 4789, vxlan(9, inner)))), { vxlanPorts: [] });
    expect([off.st, off.out.transport, off.out.dstPort]).toEqual([DecodeStatus.Ok, Transport.Udp, 4789]);
    const hepOff = decode(ethernet(0x0800, ipv4(17, T1, T2, udp(1, 9060, [1, 2, 3]))), { hepPorts: [] });
    expect([hepOff.st, hepOff.out.dstPort]).toEqual([DecodeStatus.Ok, 9060]);
  });

  // Regression (issue 11): the sniffer passed only the first port of each configured list.
  it('every port of each tunnel list decodes, the second as well as the first', () => {
    const ports = { vxlanPorts: [4789, 8472], tzspPorts: [37008, 37009], hepPorts: [9060, 9061] };
    const hepMsg = hep3({ family: 4, proto: 17, src: '10.1.1.1', dst: '10.2.2.2', sport: 5060, dport: 5070, tsSec: 1_700_000_123, tsUsec: 1, captureId: 7, payload: sip });
    const cases = [
      { payload: vxlan(9, inner), ports: ports.vxlanPorts, tunnel: TunnelType.Vxlan, dstPort: 4002 },
      { payload: tzsp(1, [1], inner), ports: ports.tzspPorts, tunnel: TunnelType.Tzsp, dstPort: 4002 },
      { payload: hepMsg, ports: ports.hepPorts, tunnel: TunnelType.Hep3, dstPort: 5070 },
    ];
    for (const c of cases) {
      for (const port of c.ports) {
        const r = decode(ethernet(0x0800, ipv4(17, T1, T2, udp(1, port, c.payload))), ports);
        expect([port, r.st, r.out.tunnelDepth, r.out.tunnelTypes[0], r.out.dstPort]).toEqual([port, DecodeStatus.Ok, 1, c.tunnel, c.dstPort]);
      }
    }
    const hepTcp = decode(ethernet(0x0800, ipv4(6, T1, T2, tcp(40000, 9061, 1, 0, 0x18, hepMsg))), ports);
    expect([hepTcp.st, hepTcp.out.tunnelTypes[0], hepTcp.out.dstPort]).toEqual([DecodeStatus.Ok, TunnelType.Hep3, 5070]);
    const notListed = decode(ethernet(0x0800, ipv4(17, T1, T2, udp(1, 8473, vxlan(9, inner)))), ports);
    expect([notListed.out.tunnelDepth, notListed.out.dstPort]).toEqual([0, 8473]);
  });

  it('decodeTunnels: false returns the outer packet', () => {
    const g = decode(ethernet(0x0800, ipv4(47, T1, T2, gre(0x0800, ipv4(17, '192.0.2.1', '192.0.2.2', udp(1, 2, []))))), { decodeTunnels: false });
    expect([g.st, g.out.transport, g.out.ipProtocol, g.out.tunnelDepth]).toEqual([DecodeStatus.Ok, Transport.Other, 47, 0]);
    const v = decode(ethernet(0x0800, ipv4(17, T1, T2, udp(1, 4789, vxlan(9, inner)))), { decodeTunnels: false });
    expect([v.st, v.out.transport, v.out.dstPort]).toEqual([DecodeStatus.Ok, Transport.Udp, 4789]);
    const ipip = decode(ethernet(0x0800, ipv4(4, T1, T2, ipv4(17, '192.0.2.1', '192.0.2.2', udp(1, 2, [])))), { decodeTunnels: false });
    expect([ipip.out.transport, ipip.out.ipProtocol]).toEqual([Transport.Other, 4]);
  });

  it('rejects out-of-range options as programmer errors', () => {
    expect(() => new PacketDecoder({ maxTunnelDepth: 9 })).toThrow(RangeError);
    expect(() => new PacketDecoder({ vxlanPorts: [4789, 70000] })).toThrow(/vxlanPorts\[1\] must be an integer in \[1, 65535\], got 70000/);
    expect(() => new PacketDecoder({ tzspPorts: [0] })).toThrow(RangeError);
    expect(() => new PacketDecoder({ vxlanPorts: [4789], hepPorts: [9060, 4789] })).toThrow(/port 4789 is in both vxlanPorts and hepPorts/);
    expect(() => new PacketDecoder({ maxReassemblyDatagrams: 0 })).toThrow(RangeError);
    expect(() => new PacketDecoder({ reassemblyTimeoutSec: -1 })).toThrow(RangeError);
    expect(new PacketDecoder().options).toEqual(DEFAULT_DECODER_OPTIONS);
    const given = [9061];
    const frozen = new PacketDecoder({ hepPorts: given }).options;
    expect(Object.isFrozen(frozen)).toBe(true);
    expect(Object.isFrozen(frozen.hepPorts)).toBe(true);
    given.push(9062);
    expect(frozen.hepPorts).toEqual([9061]);
  });
});

describe('counters', () => {
  it('counts every status and snapshots them by name', () => {
    const d = new PacketDecoder();
    const out = createDecodedPacket();
    const ok = Uint8Array.from(inner);
    const arp = ethernet(0x0806, new Array<number>(28).fill(0));
    for (let i = 0; i < 3; i++) d.decode(ok, 0, ok.length, 1, 0, 0, out);
    d.decode(arp, 0, arp.length, 1, 0, 0, out);
    d.decode(ok, 0, 5, 1, 0, 0, out);
    const snap = d.snapshotCounters();
    expect(snap.Ok).toBe(3);
    expect(snap.UnsupportedEtherType).toBe(1);
    expect(snap.TruncatedLink).toBe(1);
    expect(snap['reassembly.reassembled']).toBe(0);
    expect(d.counts[DecodeStatus.Ok]).toBe(3);
  });

  it('resets per-packet fields between calls on the same out object', () => {
    const d = new PacketDecoder();
    const out = createDecodedPacket();
    const tunneled = ethernet(0x8100, concat([0, 7, 0x08, 0x00], ipv4(4, T1, T2, ipv4(17, '192.0.2.1', '192.0.2.2', udp(1, 2, [])))));
    d.decode(tunneled, 0, tunneled.length, 1, 0, 0, out);
    expect([out.vlanCount, out.tunnelDepth]).toEqual([1, 1]);
    d.decode(inner, 0, inner.length, 1, 0, 0, out);
    expect([out.vlanCount, out.tunnelDepth, out.reassembled]).toEqual([0, 0, false]);
    // The outer address was 203.0.113.1 on the previous call: it must follow the new packet.
    expect(formatIpv4(out.outerSrc4)).toBe('192.0.2.10');
  });
});
