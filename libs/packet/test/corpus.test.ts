import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIR, readCorpusRecords } from '@callscope/testing';
import { createDecodedPacket, DecodeStatus, formatIp, PacketDecoder, Transport, TunnelType } from '../src/index.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);

/**
 * Every corpus oracle produced by test/fixtures/make-oracle.py (tshark 4.0) names its capture;
 * `synthetic` belongs to synthetic.test.ts.
 */
const oracles = readdirSync(FIXTURES).filter((n) => n.endsWith('.tshark.tsv') && n !== 'synthetic.tshark.tsv');

function decodeCapture(name: string): { rows: string[]; statuses: Map<number, number>; tunnels: Set<string> } {
  const file = readdirSync(CORPUS_DIR).find((n) => n === `${name}.pcap` || n === `${name}.pcapng`);
  if (file === undefined) throw new Error(`capture ${name} missing from fixtures/corpus`);
  const decoder = new PacketDecoder();
  const out = createDecodedPacket();
  const rows: string[] = [];
  const statuses = new Map<number, number>();
  const tunnels = new Set<string>();
  let frame = 0;
  readCorpusRecords(file).forEach((r) => {
    frame++;
    const st = decoder.decode(r.data, 0, r.data.length, r.linkType, r.tsSec, r.tsNsec, out);
    statuses.set(st, (statuses.get(st) ?? 0) + 1);
    if (st !== DecodeStatus.Ok || (out.transport !== Transport.Udp && out.transport !== Transport.Tcp)) return;
    tunnels.add(Array.from(out.tunnelTypes.subarray(0, out.tunnelDepth)).join('/'));
    rows.push(
      [
        frame,
        out.transport === Transport.Udp ? 'udp' : 'tcp',
        formatIp(out.ipVersion, out.src4, out.src6),
        out.srcPort,
        formatIp(out.ipVersion, out.dst4, out.dst6),
        out.dstPort,
        out.payloadLength,
      ].join('\t'),
    );
  });
  return { rows, statuses, tunnels };
}

describe('real captures against the tshark oracle (innermost UDP/TCP 5-tuple + payload length)', () => {
  it('has an oracle for every encapsulated capture', () => {
    for (const n of ['encap-erspan2-dtmf', 'encap-gre-rtp-loss-1pct', 'encap-ipip-reject-486', 'encap-qinq-cancel-487',
      'encap-vlan-basic-callee-bye', 'encap-vxlan-reinvite-hold', 'basic-call-linux-sll', 'ipv6-call',
      'sip-udp-fragmented-invite', 'register-auth']) {
      expect(oracles).toContain(`${n}.tshark.tsv`);
    }
  });

  for (const oracle of oracles) {
    const name = oracle.replace('.tshark.tsv', '');
    it(name, () => {
      const expected = readFileSync(new URL(oracle, FIXTURES), 'utf8').split('\n').filter((l) => l !== '');
      const { rows } = decodeCapture(name);
      expect(rows.length).toBe(expected.length);
      expect(rows).toEqual(expected);
    });
  }

  it('sees the tunnels each encapsulated capture announces', () => {
    expect(decodeCapture('encap-vxlan-reinvite-hold').tunnels).toEqual(new Set([`${TunnelType.Vxlan}`]));
    expect(decodeCapture('encap-erspan2-dtmf').tunnels).toEqual(new Set([`${TunnelType.Erspan2}`]));
    expect(decodeCapture('encap-gre-rtp-loss-1pct').tunnels).toEqual(new Set([`${TunnelType.Gre}`]));
    expect(decodeCapture('encap-ipip-reject-486').tunnels).toEqual(new Set([`${TunnelType.IpInIp}`]));
    expect(decodeCapture('encap-qinq-cancel-487').tunnels).toEqual(new Set(['']));
  });

  it('reassembles the fragmented INVITE: fragments held, one datagram rebuilt', () => {
    const { statuses } = decodeCapture('sip-udp-fragmented-invite');
    expect(statuses.get(DecodeStatus.Fragment)).toBe(1);
    // ARP is the only non-IP traffic in the file.
    expect(statuses.get(DecodeStatus.UnsupportedEtherType)).toBe(4);
  });
});
