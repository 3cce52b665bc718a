import {
  ascii, concat, erspan2, erspan3, ethernet, gre, ipv4, ipv6, ipv6Ext, ipv6Fragment, mpls, nullHeader, sll, sll2, tcp, tzsp,
  udp, vlanTag, vxlan,
} from './frame-builder.js';

/**
 * Hand-built frames covering every layer, written once to `fixtures/synthetic.pcapng` by
 * `write-synthetic-pcap.ts` so tshark could dissect them into `fixtures/synthetic.tshark.tsv`.
 * Tests rebuild them here and also read the pcapng: the two must agree byte for byte.
 */
export interface SyntheticFrame {
  name: string;
  linkType: number;
  bytes: Uint8Array;
}

const A4 = '192.0.2.10';
const B4 = '198.51.100.20';
const A6 = '2001:db8:a::10';
const B6 = '2001:db8:b::20';
const T1 = '203.0.113.1';
const T2 = '203.0.113.2';
const T61 = '2001:db8:ffff::1';
const T62 = '2001:db8:ffff::2';

const sip = ascii('OPTIONS sip:bob@example.com SIP/2.0\r\nCall-ID: synthetic\r\n\r\n');
const rtp = concat([0x80, 0x00, 0x12, 0x34, 0, 0, 0, 160, 0xca, 0xfe, 0xba, 0xbe], new Array<number>(160).fill(0xff));

const udp4 = (sp: number, dp: number, data: ArrayLike<number> = rtp) => ipv4(17, A4, B4, udp(sp, dp, data));
const udp6 = (sp: number, dp: number, data: ArrayLike<number> = rtp) => ipv6(17, A6, B6, udp(sp, dp, data));

/** A 2000-byte SIP-ish UDP payload that must be fragmented at a 1500-byte MTU. */
const bigSip = concat(ascii('INVITE sip:bob@example.com SIP/2.0\r\n'), new Array<number>(1964).fill(0x41));
const bigUdp4 = udp(5060, 5060, bigSip);
const bigUdp6 = udp(5062, 5062, bigSip);

function v4frag(data: Uint8Array, from: number, to: number, more: boolean): Uint8Array {
  return ethernet(0x0800, ipv4(17, A4, B4, data.subarray(from, to), { id: 0x4242, fragOffset: from, more }));
}

function v6frag(data: Uint8Array, from: number, to: number, more: boolean): Uint8Array {
  return ethernet(0x86dd, ipv6(44, A6, B6, ipv6Fragment(17, from, more, 0xdeadbeef, data.subarray(from, to))));
}

/** Ethernet minimum frame: IPv4/UDP with 4 bytes of payload padded to 60 bytes. */
const padded = concat(ethernet(0x0800, udp4(4000, 4002, [1, 2, 3, 4])), new Array<number>(14).fill(0));

export const SYNTHETIC_FRAMES: SyntheticFrame[] = [
  { name: 'eth-ipv4-udp', linkType: 1, bytes: ethernet(0x0800, udp4(4000, 4002)) },
  { name: 'eth-padding-trimmed', linkType: 1, bytes: padded },
  { name: 'eth-vlan', linkType: 1, bytes: ethernet(0x8100, vlanTag(100, 0x0800, udp4(4000, 4002))) },
  { name: 'eth-qinq-88a8', linkType: 1, bytes: ethernet(0x88a8, vlanTag(300, 0x8100, vlanTag(100, 0x0800, udp4(5060, 5060, sip)))) },
  { name: 'eth-qinq-9100', linkType: 1, bytes: ethernet(0x9100, vlanTag(301, 0x8100, vlanTag(101, 0x86dd, udp6(5060, 5060, sip)))) },
  { name: 'eth-mpls-ipv4', linkType: 1, bytes: ethernet(0x8847, mpls([1000, 2000], udp4(4000, 4002))) },
  { name: 'eth-mpls-ipv6', linkType: 1, bytes: ethernet(0x8847, mpls([3000], udp6(4000, 4002))) },
  { name: 'eth-mpls-pw-eth', linkType: 1, bytes: ethernet(0x8847, mpls([16, 17], ethernet(0x0800, udp4(4004, 4006)), true)) },
  {
    name: 'ipv4-options',
    linkType: 1,
    bytes: ethernet(0x0800, ipv4(17, A4, B4, udp(5060, 5060, sip), { options: [0x94, 0x04, 0, 0, 1, 1, 1, 0] })),
  },
  {
    name: 'ipv6-ext-chain',
    linkType: 1,
    bytes: ethernet(0x86dd, ipv6(0, A6, B6, ipv6Ext(60, ipv6Ext(17, udp(5060, 5060, sip), 1)))),
  },
  { name: 'ipv6-atomic-fragment', linkType: 1, bytes: ethernet(0x86dd, ipv6(44, A6, B6, ipv6Fragment(17, 0, false, 7, udp(4000, 4002, rtp)))) },
  // IPv4 fragments out of order, with a duplicate of the first one.
  { name: 'ipv4-frag-b', linkType: 1, bytes: v4frag(bigUdp4, 1480, 2008, false) },
  { name: 'ipv4-frag-a', linkType: 1, bytes: v4frag(bigUdp4, 0, 1480, true) },
  { name: 'ipv4-frag-a-dup', linkType: 1, bytes: v4frag(bigUdp4, 0, 1480, true) },
  // IPv6 fragments: middle, last, first.
  { name: 'ipv6-frag-2', linkType: 1, bytes: v6frag(bigUdp6, 800, 1600, true) },
  { name: 'ipv6-frag-3', linkType: 1, bytes: v6frag(bigUdp6, 1600, 2008, false) },
  { name: 'ipv6-frag-1', linkType: 1, bytes: v6frag(bigUdp6, 0, 800, true) },
  { name: 'ipip-4in4', linkType: 1, bytes: ethernet(0x0800, ipv4(4, T1, T2, udp4(5060, 5060, sip))) },
  { name: 'ipip-6in4', linkType: 1, bytes: ethernet(0x0800, ipv4(41, T1, T2, udp6(5060, 5060, sip))) },
  { name: 'ipip-4in6', linkType: 1, bytes: ethernet(0x86dd, ipv6(4, T61, T62, udp4(4000, 4002))) },
  { name: 'ipip-6in6', linkType: 1, bytes: ethernet(0x86dd, ipv6(41, T61, T62, udp6(4000, 4002))) },
  { name: 'gre-all-fields', linkType: 1, bytes: ethernet(0x0800, ipv4(47, T1, T2, gre(0x0800, udp4(4000, 4002), { checksum: true, key: 77, seq: 9 }))) },
  { name: 'gre-teb', linkType: 1, bytes: ethernet(0x0800, ipv4(47, T1, T2, gre(0x6558, ethernet(0x0800, udp4(5060, 5060, sip)), { key: 5 }))) },
  { name: 'gre-mpls', linkType: 1, bytes: ethernet(0x0800, ipv4(47, T1, T2, gre(0x8847, mpls([500], udp4(4000, 4002))))) },
  { name: 'gre-over-ipv6', linkType: 1, bytes: ethernet(0x86dd, ipv6(47, T61, T62, gre(0x86dd, udp6(4000, 4002)))) },
  {
    name: 'erspan2-vlan',
    linkType: 1,
    bytes: ethernet(0x0800, ipv4(47, T1, T2, gre(0x88be, erspan2(42, 100, ethernet(0x8100, vlanTag(100, 0x0800, udp4(4000, 4002)))), { seq: 1 }))),
  },
  { name: 'erspan1', linkType: 1, bytes: ethernet(0x0800, ipv4(47, T1, T2, gre(0x88be, ethernet(0x0800, udp4(4000, 4002))))) },
  { name: 'erspan3', linkType: 1, bytes: ethernet(0x0800, ipv4(47, T1, T2, gre(0x22eb, erspan3(43, ethernet(0x0800, udp4(5060, 5060, sip))), { seq: 2 }))) },
  {
    name: 'erspan3-platform',
    linkType: 1,
    bytes: ethernet(0x0800, ipv4(47, T1, T2, gre(0x22eb, erspan3(44, ethernet(0x0800, udp4(4000, 4002)), 0, [0x0c, 0, 0, 1, 0, 0, 0, 2]), { seq: 3 }))),
  },
  { name: 'vxlan-over-ipv6', linkType: 1, bytes: ethernet(0x86dd, ipv6(17, T61, T62, udp(49152, 4789, vxlan(5001, ethernet(0x0800, udp4(4000, 4002)))))) },
  {
    name: 'tzsp-tags',
    linkType: 1,
    bytes: ethernet(0x0800, ipv4(17, T1, T2, udp(37008, 37008, tzsp(1, [0, 10, 1, 0xc4, 0, 1], ethernet(0x0800, udp4(5060, 5060, sip)))))),
  },
  {
    name: 'gre-in-vxlan-nested',
    linkType: 1,
    bytes: ethernet(0x0800, ipv4(17, T1, T2, udp(49153, 4789, vxlan(7, ethernet(0x0800, ipv4(47, T2, T1, gre(0x0800, udp4(4000, 4002)))))))),
  },
  { name: 'tcp-options', linkType: 1, bytes: ethernet(0x0800, ipv4(6, A4, B4, tcp(40000, 5060, 1000, 2000, 0x18, sip, [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]))) },
  { name: 'icmp-other', linkType: 1, bytes: ethernet(0x0800, ipv4(1, A4, B4, [8, 0, 0, 0, 0, 1, 0, 1])) },
  { name: 'sll-ipv6-tcp', linkType: 113, bytes: sll(0x86dd, ipv6(6, A6, B6, tcp(40000, 5060, 1, 0, 0x02, []))) },
  { name: 'sll2-ipv4', linkType: 276, bytes: sll2(0x0800, udp4(4000, 4002)) },
  { name: 'null-le-ipv4', linkType: 0, bytes: nullHeader(2, true, udp4(4000, 4002)) },
  { name: 'null-be-ipv6', linkType: 0, bytes: nullHeader(30, false, udp6(4000, 4002)) },
  { name: 'loop-ipv4', linkType: 108, bytes: nullHeader(2, false, udp4(5060, 5060, sip)) },
  { name: 'raw-101-ipv6', linkType: 101, bytes: udp6(4000, 4002) },
  { name: 'raw-228-ipv4', linkType: 228, bytes: udp4(4000, 4002) },
  { name: 'raw-229-ipv6', linkType: 229, bytes: udp6(5060, 5060, sip) },
];
