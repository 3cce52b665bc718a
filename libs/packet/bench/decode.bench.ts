/**
 * Issue 3 target: decoding costs at most 2x a bare record walk and exceeds 3 million packets/s.
 *
 * Input: fixtures/corpus/busy-hour-a.pcap (252,632 real Ethernet/IPv4/UDP frames, mostly G.729
 * RTP with the SIP of 200 calls) and, for the tunnel path, the encapsulated corpus captures.
 * `walk` reads every classic-pcap record header (timestamp, lengths) the way a file reader does;
 * `walk + decode` does the same walk and decodes each frame. Per-packet cost of decoding =
 * (walk+decode - walk) / packets. Run: `npx vitest bench --run` in libs/packet.
 */
import { readFileSync } from 'node:fs';
import { bench, describe } from 'vitest';
import { createDecodedPacket, PacketDecoder } from '../src/index.js';

function load(name: string): { buf: Uint8Array; dv: DataView; linkType: number } {
  const buf = new Uint8Array(readFileSync(new URL(`../../../fixtures/corpus/${name}`, import.meta.url)));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== 0xa1b2c3d4) throw new Error(`${name}: expected a little-endian microsecond pcap`);
  return { buf, dv, linkType: dv.getUint32(20, true) };
}

const busy = load('busy-hour-a.pcap');
const encap = ['encap-vxlan-reinvite-hold.pcap', 'encap-erspan2-dtmf.pcap', 'encap-gre-rtp-loss-1pct.pcap', 'encap-vlan-basic-callee-bye.pcap'].map(load);
const decoder = new PacketDecoder();
const out = createDecodedPacket();

function walk(f: { buf: Uint8Array; dv: DataView }): number {
  const { buf, dv } = f;
  let off = 24;
  // A local accumulator keeps the reads alive without boxing a module-level number per packet.
  let acc = 0;
  while (off + 16 <= buf.length) {
    const sec = dv.getUint32(off, true);
    const usec = dv.getUint32(off + 4, true);
    const len = dv.getUint32(off + 8, true);
    acc += sec + usec + dv.getUint32(off + 12, true);
    off += 16 + len;
  }
  return acc;
}

function walkDecode(f: { buf: Uint8Array; dv: DataView; linkType: number }): number {
  const { buf, dv, linkType } = f;
  let off = 24;
  let acc = 0;
  while (off + 16 <= buf.length) {
    const sec = dv.getUint32(off, true);
    const usec = dv.getUint32(off + 4, true);
    const len = dv.getUint32(off + 8, true);
    acc += dv.getUint32(off + 12, true) + decoder.decode(buf, off + 16, len, linkType, sec, usec * 1000, out) + out.payloadLength;
    off += 16 + len;
  }
  return acc;
}

const opts = { time: 1500, warmupTime: 300 };

describe('busy-hour-a.pcap: 252,632 Ethernet/IPv4/UDP frames per iteration', () => {
  bench('walk', () => {
    if (walk(busy) < 0) throw new Error('unreachable');
  }, opts);
  bench('walk + decode', () => {
    if (walkDecode(busy) < 0) throw new Error('unreachable');
  }, opts);
});

describe('encapsulated captures (VXLAN, ERSPAN II, GRE, 802.1Q): 4,202 frames per iteration', () => {
  bench('walk', () => {
    for (const f of encap) if (walk(f) < 0) throw new Error('unreachable');
  }, opts);
  bench('walk + decode', () => {
    for (const f of encap) if (walkDecode(f) < 0) throw new Error('unreachable');
  }, opts);
});
