/**
 * SIP over TCP received as HEP. HEP carries the inner packet's addresses, ports and payload but
 * no TCP numbers, so the engine must not follow a sequence-numbered stream: before the fix every
 * HEP message of a direction had sequence number 0, the reassembler took all but the first as
 * retransmissions and a call answered and ended with a BYE came out with `answer: null`,
 * `bye_by: null`. Oracle: sip-tcp.pcap itself, analysed as captured.
 */
import type { CallRecord } from '@callscope/cdr-model';
import { createDecodedPacket, DecodeStatus, PacketDecoder, Transport } from '@callscope/packet';
import { LinkType, type PacketRecord } from '@callscope/pcap-format';
import { readCorpusRecords } from '@callscope/testing';
import { describe, expect, test } from 'vitest';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '../src/index.js';

const be16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
const be32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** The inner packet a HEP agent reports (IPv4 only: sip-tcp.pcap is IPv4). */
interface Inner {
  proto: number;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  tsSec: number;
  tsUsec: number;
  payload: Uint8Array;
}

/** HEP3 chunk of vendor 0 (HEP3 spec, "Chunk types"). */
function chunk(type: number, value: readonly number[] | Uint8Array): number[] {
  return [...be16(0), ...be16(type), ...be16(6 + value.length), ...Array.from(value)];
}

function hep3(m: Inner): number[] {
  const body = [
    ...chunk(1, [2]),
    ...chunk(2, [m.proto]),
    ...chunk(3, be32(m.src)),
    ...chunk(4, be32(m.dst)),
    ...chunk(7, be16(m.sport)),
    ...chunk(8, be16(m.dport)),
    ...chunk(9, be32(m.tsSec)),
    ...chunk(10, be32(m.tsUsec)),
    ...chunk(15, m.payload),
  ];
  return [0x48, 0x45, 0x50, 0x33, ...be16(6 + body.length), ...body];
}

/** HEP v2 (Kamailio siptrace): header, addresses, little-endian time header, payload. */
function hep2(m: Inner): number[] {
  return [2, 16, 2, m.proto, ...be16(m.sport), ...be16(m.dport), ...be32(m.src), ...be32(m.dst), ...le32(m.tsSec), ...le32(m.tsUsec), 0, 0, 0, 0, ...m.payload];
}

type Carrier = 'hep3/udp' | 'hep2/udp' | 'hep3/tcp';

/** Ethernet + IPv4 (agent 10.99.0.1 -> collector 10.99.0.2, port 9060) around one HEP message. */
function toCollector(hep: readonly number[], carrier: Carrier, outerSeq: number): Uint8Array {
  const l4 =
    carrier === 'hep3/tcp'
      ? [...be16(47_000), ...be16(9060), ...be32(outerSeq), ...be32(1), 0x50, 0x18, ...be16(65535), 0, 0, 0, 0]
      : [...be16(47_000), ...be16(9060), ...be16(8 + hep.length), 0, 0];
  const ipLen = 20 + l4.length + hep.length;
  const proto = carrier === 'hep3/tcp' ? 6 : 17;
  return Uint8Array.from([
    ...[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00],
    ...[0x45, 0, ...be16(ipLen), 0, 0, 0x40, 0, 64, proto, 0, 0, 10, 99, 0, 1, 10, 99, 0, 2],
    ...l4,
    ...hep,
  ]);
}

/**
 * The capture as a HEP agent sends it: each non-empty UDP/TCP payload in one HEP message, received
 * 2.5 s after capture. With `batch`, a TCP payload that follows one of the same direction joins its
 * HEP message (a sender passing on several whole messages at once), at the first one's time.
 */
function asHep(capture: string, carrier: Carrier, batch = false): PacketRecord[] {
  const decoder = new PacketDecoder();
  const p = createDecodedPacket();
  const inners: Inner[] = [];
  let joinable = false;
  for (const r of readCorpusRecords(capture)) {
    if (decoder.decode(r.data, 0, r.capLen, r.linkType, r.tsSec, r.tsNsec, p) !== DecodeStatus.Ok) continue;
    if ((p.transport !== Transport.Udp && p.transport !== Transport.Tcp) || p.payloadLength === 0) continue;
    expect(p.ipVersion).toBe(4);
    const payload = p.payload.slice(p.payloadOffset, p.payloadOffset + p.payloadLength);
    const last = inners[inners.length - 1];
    if (batch && joinable && p.transport === Transport.Tcp && last !== undefined && last.proto === 6 && last.src === p.src4 && last.sport === p.srcPort) {
      const merged = new Uint8Array(last.payload.length + payload.length);
      merged.set(last.payload);
      merged.set(payload, last.payload.length);
      last.payload = merged;
      joinable = false;
      continue;
    }
    joinable = true;
    inners.push({ proto: p.transport === Transport.Udp ? 17 : 6, src: p.src4, dst: p.dst4, sport: p.srcPort, dport: p.dstPort, tsSec: r.tsSec, tsUsec: Math.floor(r.tsNsec / 1000), payload });
  }
  let outerSeq = 1000;
  return inners.map((m) => {
    const hep = carrier === 'hep2/udp' ? hep2(m) : hep3(m);
    const data = toCollector(hep, carrier, outerSeq);
    outerSeq += hep.length;
    const ns = m.tsUsec * 1000 + 2_500_000_000;
    return { tsSec: m.tsSec + Math.floor(ns / 1e9), tsNsec: ns % 1e9, linkType: LinkType.Ethernet, capLen: data.length, origLen: data.length, data } as PacketRecord;
  });
}

function analyze(records: readonly PacketRecord[]): { calls: CallRecord[]; pipeline: PacketPipeline } {
  const calls: CallRecord[] = [];
  const pipeline = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall: (c) => calls.push(c), onRegister: () => undefined });
  for (const rec of records) pipeline.onPacket(rec);
  pipeline.finish();
  expect(pipeline.counters.internalErrors, String(pipeline.firstInternalError?.stack)).toBe(0);
  return { calls, pipeline };
}

describe('SIP over TCP received as HEP gives the records of the capture itself', () => {
  // HEP times are microseconds: the capture cut to microseconds is what the agent reported.
  const direct = analyze(readCorpusRecords('sip-tcp.pcap').map((r) => ({ ...r, tsNsec: r.tsNsec - (r.tsNsec % 1000) }))).calls;

  test('the oracle: sip-tcp.pcap has an answered call ended by a BYE', () => {
    expect(direct.length).toBe(1);
    expect(direct[0]!.answer).not.toBeNull();
    expect(direct[0]!.bye_by).not.toBeNull();
  });

  test.each(['hep3/udp', 'hep2/udp', 'hep3/tcp'] as const)('sip-tcp.pcap as %s', (carrier) => {
    const { calls, pipeline } = analyze(asHep('sip-tcp.pcap', carrier));
    // sip-tcp.pcap has no VLAN or other field a HEP capture cannot carry: the records are equal.
    expect(calls).toEqual(direct);
    expect(pipeline.counters.sipRejected).toEqual({});
  });

  test('several whole messages in one HEP payload are each framed by Content-Length', () => {
    const batched = asHep('sip-tcp.pcap', 'hep3/udp', true);
    expect(batched.length).toBeLessThan(asHep('sip-tcp.pcap', 'hep3/udp').length);
    const { calls, pipeline } = analyze(batched);
    expect(pipeline.counters.sipRejected).toEqual({});
    // A batched message takes the time of the first in its HEP message; all else is the same.
    const untimed = ({ start: _s, end: _e, duration: _d, connect_duration: _c, pdd_ms: _p, answer, sip_responses, ...rest }: CallRecord) => ({
      ...rest,
      answered: answer !== null,
      sip_responses: sip_responses.map(({ time: _t, ...r }) => r),
    });
    expect(calls.map(untimed)).toEqual(direct.map(untimed));
  });
});
