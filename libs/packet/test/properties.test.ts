import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { createDecodedPacket, DECODE_STATUS_COUNT, DecodeStatus, PacketDecoder, Transport } from '../src/index.js';
import { SYNTHETIC_FRAMES } from './synthetic-frames.js';
import { LinkType } from '@callscope/pcap-format';
import { readCorpusRecords } from '@callscope/testing';

const LINK_TYPES = [...Object.values(LinkType), 999];
const decoder = new PacketDecoder({ maxReassemblyDatagrams: 64 });
const out = createDecodedPacket();

/** A few real frames of each encapsulation in the corpus, plus every synthetic frame. */
const REAL: { linkType: number; bytes: Uint8Array }[] = SYNTHETIC_FRAMES.map((f) => ({ linkType: f.linkType, bytes: f.bytes }));
for (const name of ['encap-erspan2-dtmf.pcap', 'encap-vxlan-reinvite-hold.pcap', 'encap-qinq-cancel-487.pcap', 'basic-call-linux-sll.pcap', 'sip-tcp.pcap', 'ipv6-call.pcap']) {
  readCorpusRecords(name).forEach((r, n) => {
    if (n % 50 === 0) REAL.push({ linkType: r.linkType, bytes: r.data });
  });
}

/** What must hold after any decode: a known status, and a payload range inside its buffer. */
function checkInvariants(st: number): void {
  expect(Number.isInteger(st) && st >= 0 && st < DECODE_STATUS_COUNT).toBe(true);
  if (st === DecodeStatus.Ok) {
    expect(out.transport).not.toBe(Transport.None);
    expect(out.payloadOffset).toBeGreaterThanOrEqual(0);
    expect(out.payloadLength).toBeGreaterThanOrEqual(0);
    expect(out.payloadOffset + out.payloadLength).toBeLessThanOrEqual(out.payload.length);
    expect(out.tunnelDepth).toBeLessThanOrEqual(decoder.options.maxTunnelDepth);
  }
}

describe('properties', () => {
  test.prop([fc.constantFrom(...LINK_TYPES), fc.uint8Array({ maxLength: 300 })], { numRuns: 2000 })(
    'never throws on random bytes with any link type',
    (linkType, bytes) => {
      checkInvariants(decoder.decode(bytes, 0, bytes.length, linkType, 1, 0, out));
    },
  );

  test.prop(
    [
      fc.nat(REAL.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.nat(),
    ],
    { numRuns: 2000 },
  )('never throws on randomly mutated real frames (bytes changed, then maybe cut)', (index, mutations, cutAt) => {
    const base = REAL[index]!;
    const bytes = base.bytes.slice();
    for (const [pos, value] of mutations) bytes[pos % bytes.length] = value;
    const len = cutAt % 3 === 0 ? cutAt % (bytes.length + 1) : bytes.length;
    checkInvariants(decoder.decode(bytes, 0, len, base.linkType, 1, 0, out));
  });

  test.prop([fc.nat(REAL.length - 1), fc.uint8Array({ minLength: 1, maxLength: 64 })], { numRuns: 500 })(
    'never throws when a real frame is followed by random bytes (lengths that lie are bounded by the frame)',
    (index, tail) => {
      const base = REAL[index]!;
      const bytes = new Uint8Array(base.bytes.length + tail.length);
      bytes.set(base.bytes);
      bytes.set(tail, base.bytes.length);
      checkInvariants(decoder.decode(bytes, 0, bytes.length, base.linkType, 1, 0, out));
    },
  );
});
