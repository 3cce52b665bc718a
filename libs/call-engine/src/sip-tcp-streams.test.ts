import { createDecodedPacket, type DecodedPacket } from '@callscope/packet';
import { describe, expect, it } from 'vitest';
import { SipTcpStreams } from './sip-tcp-streams.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const TCP_SYN = 0x02;

interface Endpoints {
  v6?: boolean;
  src: number[];
  dst: number[];
  srcPort: number;
  dstPort: number;
}

/** A decoded TCP segment of `ep` carrying data[offset, offset+length) at stream position `offset`. */
function segment(p: DecodedPacket, ep: Endpoints, data: Uint8Array, offset: number, length: number, flags = 0): DecodedPacket {
  p.ipVersion = ep.v6 === true ? 6 : 4;
  if (ep.v6 === true) {
    p.src6.set(ep.src);
    p.dst6.set(ep.dst);
  } else {
    p.src4 = ep.src[0]! >>> 0;
    p.dst4 = ep.dst[0]! >>> 0;
  }
  p.srcPort = ep.srcPort;
  p.dstPort = ep.dstPort;
  p.tsSec = 1_800_000_000;
  p.tsNsec = 0;
  p.tcpSeq = (1000 + offset) >>> 0;
  p.tcpFlags = flags;
  p.payload = data;
  p.payloadOffset = offset;
  p.payloadLength = length;
  return p;
}

function message(callId: string, bodyLength = 0): Uint8Array {
  return enc.encode(`INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContent-Length: ${bodyLength}\r\n\r\n${'b'.repeat(bodyLength)}`);
}

describe('SipTcpStreams', () => {
  it('keeps the two halves of interleaved flows apart, IPv4 and IPv6 (flows differing in one address word or a port)', () => {
    const got: string[] = [];
    const streams = new SipTcpStreams((b, o, l, pkt) => got.push(`${pkt.srcPort}:${dec.decode(b.subarray(o, o + l)).match(/Call-ID: (\S+)/)![1]}`));
    const p = createDecodedPacket();
    const flows: Endpoints[] = [
      { src: [0x0a000001], dst: [0x0a000002], srcPort: 5060, dstPort: 5060 },
      { src: [0x0a000002], dst: [0x0a000001], srcPort: 5060, dstPort: 5060 }, // the other direction
      { src: [0x0a000001], dst: [0x0a000002], srcPort: 5061, dstPort: 5060 },
      { v6: true, src: [0x20010db8, 0, 0, 1], dst: [0x20010db8, 0, 0, 2], srcPort: 5060, dstPort: 5060 },
      { v6: true, src: [0x20010db8, 0, 1, 1], dst: [0x20010db8, 0, 0, 2], srcPort: 5060, dstPort: 5060 },
      // IPv6 words that spell the IPv4 flow's units: still another flow.
      { v6: true, src: [0x0a000001, 5060 << 16, 0x0a000002, 5060 << 16], dst: [0, 0, 0, 0], srcPort: 0, dstPort: 0 },
    ];
    const msgs = flows.map((_, i) => message(`c${i}`));
    for (const [i, ep] of flows.entries()) streams.onSegment(segment(p, ep, msgs[i]!, 0, 0, TCP_SYN));
    // First halves of all, then second halves: each flow's halves must meet.
    for (const [i, ep] of flows.entries()) streams.onSegment(segment(p, ep, msgs[i]!, 0, 20));
    for (const [i, ep] of flows.entries()) streams.onSegment(segment(p, ep, msgs[i]!, 20, msgs[i]!.length - 20));
    expect(got).toEqual(flows.map((ep, i) => `${ep.srcPort}:c${i}`));
    expect(streams.stats.flowsCreated).toBe(flows.length);
    expect(streams.stats.gaps + streams.stats.discardedBytes).toBe(0);
  });

  // Issue 12, finding 4 (TCP part): the pipeline must learn the Call-ID of a message too large
  // to reassemble, to mark its call.
  it('hands the head of an oversize message (with its Call-ID) and its packet to onOversize; the next message is delivered', () => {
    const got: string[] = [];
    const heads: string[] = [];
    const ports: number[] = [];
    const streams = new SipTcpStreams(
      (b, o, l) => got.push(dec.decode(b.subarray(o, o + l))),
      (b, o, l, pkt) => {
        heads.push(dec.decode(b.subarray(o, o + l)));
        ports.push(pkt.srcPort);
      },
    );
    const big = message('big@test', 300_000);
    const next = message('next@test');
    const data = new Uint8Array(big.length + next.length);
    data.set(big);
    data.set(next, big.length);
    const p = createDecodedPacket();
    const ep: Endpoints = { src: [0xc0000201], dst: [0xc6336414], srcPort: 40000, dstPort: 5060 };
    streams.onSegment(segment(p, ep, data, 0, 0, TCP_SYN));
    for (let o = 0; o < data.length; o += 1448) streams.onSegment(segment(p, ep, data, o, Math.min(1448, data.length - o)));
    expect(got).toEqual([dec.decode(next)]);
    expect(heads).toHaveLength(1);
    expect(heads[0]).toContain('Call-ID: big@test\r\n');
    expect(ports).toEqual([40000]);
    expect(streams.stats.oversizeMessages).toBe(1);
    expect(streams.droppedWithoutPacket).toBe(0);
  });
});
