import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDecodedPacket, DecodeStatus, formatIp, formatIpv4, formatIpv6, PacketDecoder, Transport, TunnelType, type DecodedPacket } from '../src/index.js';
import { ip4n } from './frame-builder.js';
import { SYNTHETIC_FRAMES } from './synthetic-frames.js';
import { LinkType } from '@callscope/pcap-format';
import { readCaptureRecords } from '@callscope/testing';

const FIXTURES = new URL('./fixtures/', import.meta.url);

function row(frame: number, out: DecodedPacket): string {
  return [
    frame,
    out.transport === Transport.Udp ? 'udp' : 'tcp',
    formatIp(out.ipVersion, out.src4, out.src6),
    out.srcPort,
    formatIp(out.ipVersion, out.dst4, out.dst6),
    out.dstPort,
    out.payloadLength,
  ].join('\t');
}

/** Decode every synthetic frame in order with one decoder; returns the out snapshot per name. */
function decodeAll(): Map<string, { status: number; out: DecodedPacket }> {
  const decoder = new PacketDecoder();
  const results = new Map<string, { status: number; out: DecodedPacket }>();
  for (const [i, f] of SYNTHETIC_FRAMES.entries()) {
    const out = createDecodedPacket();
    const status = decoder.decode(f.bytes, 0, f.bytes.length, f.linkType, 1_700_000_000, i * 1_000_000, out);
    results.set(f.name, { status, out });
  }
  return results;
}

describe('hand-built frames of every layer against tshark (fixtures/synthetic.pcapng)', () => {
  it('the pcapng tshark read holds exactly the frames the builders make', () => {
    const frames = readCaptureRecords(readFileSync(new URL('synthetic.pcapng', FIXTURES))).map((r) => ({ linkType: r.linkType, bytes: r.data }));
    expect(frames.length).toBe(SYNTHETIC_FRAMES.length);
    frames.forEach((f, i) => {
      expect(f.linkType).toBe(SYNTHETIC_FRAMES[i]!.linkType);
      expect(Array.from(f.bytes)).toEqual(Array.from(SYNTHETIC_FRAMES[i]!.bytes));
    });
  });

  it('yields the same innermost UDP/TCP packets as tshark', () => {
    const expected = readFileSync(new URL('synthetic.tshark.tsv', FIXTURES), 'utf8').split('\n').filter((l) => l !== '');
    const decoder = new PacketDecoder();
    const out = createDecodedPacket();
    const rows: string[] = [];
    let n = 0;
    readCaptureRecords(readFileSync(new URL('synthetic.pcapng', FIXTURES))).forEach((r) => {
      n++;
      const st = decoder.decode(r.data, 0, r.data.length, r.linkType, r.tsSec, r.tsNsec, out);
      if (st === DecodeStatus.Ok && (out.transport === Transport.Udp || out.transport === Transport.Tcp)) rows.push(row(n, out));
    });
    expect(rows).toEqual(expected);
  });

  const r = decodeAll();
  const get = (name: string) => {
    const x = r.get(name);
    if (x === undefined) throw new Error(name);
    return x;
  };

  it('reports VLAN ids outermost first', () => {
    expect(get('eth-vlan').out.vlanCount).toBe(1);
    expect(get('eth-vlan').out.vlanIds[0]).toBe(100);
    const q = get('eth-qinq-88a8').out;
    expect([q.vlanCount, q.vlanIds[0], q.vlanIds[1]]).toEqual([2, 300, 100]);
    const q2 = get('eth-qinq-9100').out;
    expect([q2.vlanCount, q2.vlanIds[0], q2.vlanIds[1], q2.ipVersion]).toEqual([2, 301, 101, 6]);
  });

  it('reports MPLS labels and the pseudowire tunnel', () => {
    const m = get('eth-mpls-ipv4').out;
    expect([m.mplsCount, m.mplsLabel, m.tunnelDepth]).toEqual([2, 1000, 0]);
    const pw = get('eth-mpls-pw-eth').out;
    expect([pw.mplsCount, pw.mplsLabel, pw.tunnelDepth, pw.tunnelTypes[0], pw.srcPort]).toEqual([2, 16, 1, TunnelType.MplsPseudowire, 4004]);
  });

  it('trims Ethernet padding through the IPv4 total length', () => {
    const p = get('eth-padding-trimmed');
    expect(p.status).toBe(DecodeStatus.Ok);
    expect(p.out.payloadLength).toBe(4);
    expect(Array.from(p.out.payload.subarray(p.out.payloadOffset, p.out.payloadOffset + 4))).toEqual([1, 2, 3, 4]);
  });

  it('keeps outer and inner addresses apart through IP-in-IP', () => {
    const a = get('ipip-4in4').out;
    expect([a.outerIpVersion, formatIpv4(a.outerSrc4), formatIpv4(a.outerDst4)]).toEqual([4, '203.0.113.1', '203.0.113.2']);
    expect([a.ipVersion, a.src4, a.dst4]).toEqual([4, ip4n('192.0.2.10'), ip4n('198.51.100.20')]);
    expect([a.tunnelDepth, a.tunnelTypes[0]]).toEqual([1, TunnelType.IpInIp]);
    const b = get('ipip-4in6').out;
    expect([b.outerIpVersion, formatIpv6(b.outerSrc6), b.ipVersion, formatIpv4(b.src4)]).toEqual([6, '2001:db8:ffff::1', 4, '192.0.2.10']);
    const c = get('ipip-6in4').out;
    expect([c.outerIpVersion, formatIpv4(c.outerDst4), c.ipVersion, formatIpv6(c.dst6)]).toEqual([4, '203.0.113.2', 6, '2001:db8:b::20']);
  });

  it('records tunnel kinds and ids (GRE key, ERSPAN session, VXLAN VNI)', () => {
    const g = get('gre-all-fields').out;
    expect([g.tunnelDepth, g.tunnelTypes[0], g.tunnelIds[0]]).toEqual([1, TunnelType.Gre, 77]);
    expect([get('gre-teb').out.tunnelIds[0], get('gre-teb').out.srcPort]).toEqual([5, 5060]);
    const e2 = get('erspan2-vlan').out;
    expect([e2.tunnelTypes[0], e2.tunnelIds[0], e2.vlanCount, e2.vlanIds[0]]).toEqual([TunnelType.Erspan2, 42, 1, 100]);
    expect([get('erspan1').out.tunnelTypes[0], get('erspan1').out.tunnelIds[0]]).toEqual([TunnelType.Erspan2, 0]);
    expect([get('erspan3').out.tunnelTypes[0], get('erspan3').out.tunnelIds[0]]).toEqual([TunnelType.Erspan3, 43]);
    expect([get('erspan3-platform').out.tunnelIds[0], get('erspan3-platform').out.srcPort]).toEqual([44, 4000]);
    const v = get('vxlan-over-ipv6').out;
    expect([v.tunnelTypes[0], v.tunnelIds[0], v.outerIpVersion, v.ipVersion]).toEqual([TunnelType.Vxlan, 5001, 6, 4]);
    const n = get('gre-in-vxlan-nested').out;
    expect([n.tunnelDepth, n.tunnelTypes[0], n.tunnelTypes[1], n.tunnelIds[0]]).toEqual([2, TunnelType.Vxlan, TunnelType.Gre, 7]);
    expect([formatIpv4(n.outerSrc4), formatIpv4(n.src4)]).toEqual(['203.0.113.1', '192.0.2.10']);
    expect(get('tzsp-tags').out.tunnelTypes[0]).toBe(TunnelType.Tzsp);
  });

  it('decodes TCP fields with options', () => {
    const t = get('tcp-options').out;
    expect(t.transport).toBe(Transport.Tcp);
    expect([t.srcPort, t.dstPort, t.tcpSeq, t.tcpAck, t.tcpFlags, t.tcpHeaderLength, t.tcpWindow]).toEqual([40000, 5060, 1000, 2000, 0x18, 32, 65535]);
    expect(String.fromCharCode(...t.payload.subarray(t.payloadOffset, t.payloadOffset + 7))).toBe('OPTIONS');
    expect(get('sll-ipv6-tcp').out.tcpFlags).toBe(0x02);
  });

  it('returns other IP protocols as a generic result, not a drop', () => {
    const i = get('icmp-other');
    expect(i.status).toBe(DecodeStatus.Ok);
    expect([i.out.transport, i.out.ipProtocol, i.out.payloadLength]).toEqual([Transport.Other, 1, 8]);
  });

  it('reassembles out-of-order IPv4 and IPv6 fragments into a decoder-owned buffer', () => {
    expect(get('ipv4-frag-b').status).toBe(DecodeStatus.Fragment);
    const a = get('ipv4-frag-a');
    expect(a.status).toBe(DecodeStatus.Ok);
    expect([a.out.reassembled, a.out.payloadLength, a.out.srcPort]).toEqual([true, 2000, 5060]);
    expect(a.out.payload).not.toBe(SYNTHETIC_FRAMES.find((f) => f.name === 'ipv4-frag-a')!.bytes);
    const text = String.fromCharCode(...a.out.payload.subarray(a.out.payloadOffset, a.out.payloadOffset + 6));
    expect(text).toBe('INVITE');
    expect(a.out.payload[a.out.payloadOffset + 1999]).toBe(0x41);
    expect(get('ipv4-frag-a-dup').status).toBe(DecodeStatus.Fragment);
    expect(get('ipv6-frag-2').status).toBe(DecodeStatus.Fragment);
    expect(get('ipv6-frag-3').status).toBe(DecodeStatus.Fragment);
    const v6 = get('ipv6-frag-1');
    expect([v6.status, v6.out.reassembled, v6.out.payloadLength, v6.out.srcPort]).toEqual([DecodeStatus.Ok, true, 2000, 5062]);
    expect(get('ipv6-atomic-fragment').out.reassembled).toBe(false);
  });

  it('knows every loopback/cooked/raw link type', () => {
    for (const name of ['sll-ipv6-tcp', 'sll2-ipv4', 'null-le-ipv4', 'null-be-ipv6', 'loop-ipv4', 'raw-101-ipv6', 'raw-228-ipv4', 'raw-229-ipv6']) {
      expect(get(name).status, name).toBe(DecodeStatus.Ok);
    }
    expect(get('null-be-ipv6').out.linkType).toBe(LinkType.Null);
  });
});
