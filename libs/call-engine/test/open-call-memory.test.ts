/**
 * Callscope issue 12, finding 9: open-call memory must be bounded by `calls.maxOpenCalls`, and
 * small per call. Before the fix every call kept substrings of its INVITE's decoded header (V8
 * keeps a substring of 13+ characters as a slice of its parent), so each open call held its
 * whole INVITE header: memory per call grew with the SIP message size (2,100 bytes per open call
 * for the plain INVITE below, 3,100 with 1.5 KB more headers; after the fix 1,490 and 1,370).
 * Heap bytes after a full collection, through the whole pipeline, INVITEs carrying SDP.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Transport, buildIpFrame } from '@callscope/packet';
import { createPacketRecord } from '@callscope/pcap-format';
import { describe, expect, test } from 'vitest';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '../src/index.js';

// gc() without a node flag for the test process: the flag set at run time exposes it to a new context.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Heap bytes per open call (INVITE with SDP, no media yet: the call, its two media endpoints,
 * its strings and its share of the tables) that README.md states as the bound: memory of the
 * open calls <= this x `maxOpenCalls`. Measured 1,490 after the fix (2,100 before).
 */
const BYTES_PER_OPEN_CALL = 1_700;

const enc = new TextEncoder();
const T0 = 1_795_975_892;
const NO_V6 = new Uint32Array(4);

/** An INVITE with SDP from a caller of its own (address, port, tags); `pad` extra header bytes (Via/Record-Route chains of real networks). */
function inviteFrame(i: number, pad: string): Uint8Array {
  const host = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const port = 10_000 + 2 * (i % 25_000);
  const sdp =
    `v=0\r\no=- ${i} 1 IN IP4 ${host}\r\ns=-\r\nc=IN IP4 ${host}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 8 0 101\r\n` +
    'a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n';
  const msg =
    `INVITE sip:bob${i}@example.com SIP/2.0\r\nVia: SIP/2.0/UDP ${host}:5060;branch=z9hG4bK${i}\r\n${pad}Max-Forwards: 70\r\n` +
    `From: "Alice ${i}" <sip:alice${i}@example.com>;tag=${i}a77f3\r\nTo: <sip:bob${i}@example.com>\r\n` +
    `Call-ID: ${i}-5f1c0e9ab2d74c36@${host}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice${i}@${host}:5060>\r\n` +
    `User-Agent: TestUA/1.0\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
  const payload = enc.encode(msg);
  const out = new Uint8Array(payload.length + 28);
  const fields = {
    ipVersion: 4, src4: ((10 << 24) | (i & 0xffffff)) >>> 0, dst4: 0xc0000201, src6: NO_V6, dst6: NO_V6,
    transport: Transport.Udp, srcPort: 5060, dstPort: 5060, tcpSeq: 0, tcpAck: 0, tcpFlags: 0, tcpWindow: 0,
  };
  buildIpFrame(fields, payload, 0, payload.length, out, 0);
  return out;
}

function heapBytes(): number {
  for (let k = 0; k < 4; k++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Heap growth (bytes) after 1x, 2x and 3x `cap` INVITEs through a pipeline whose table holds `cap` calls. */
function heapAtMultiplesOfCap(cap: number, pad: string): { open: number; evicted: number; growth: number[] } {
  const engine = new PacketPipeline(
    { ...DEFAULT_PIPELINE_OPTIONS, calls: { ...DEFAULT_PIPELINE_OPTIONS.calls, maxOpenCalls: cap } },
    { onCall: () => undefined, onRegister: () => undefined },
  );
  const rec = createPacketRecord();
  rec.linkType = 101; // LINKTYPE_RAW
  const base = heapBytes();
  const growth: number[] = [];
  let i = 0;
  for (const multiple of [1, 2, 3]) {
    for (; i < multiple * cap; i++) {
      const data = inviteFrame(i, pad);
      rec.data = data;
      rec.capLen = data.length;
      rec.origLen = data.length;
      rec.tsSec = T0 + Math.floor(i / 1000);
      rec.tsNsec = (i % 1000) * 1_000_000;
      engine.onPacket(rec);
    }
    growth.push(heapBytes() - base);
  }
  return { open: engine.calls.openCalls, evicted: engine.calls.counters.callsEvicted, growth };
}

describe('open-call memory is bounded by the cap and small per call (callscope issue 12, finding 9)', () => {
  const CAP = 10_000;
  // Real INVITEs cross proxies: Via and Record-Route chains add 1-2 KB of header.
  const PAD = Array.from({ length: 12 }, (_, k) => `Record-Route: <sip:proxy${k}.carrier.example.net;lr;ftag=a83c${k}>\r\n`).join('') +
    Array.from({ length: 6 }, (_, k) => `Via: SIP/2.0/UDP 203.0.113.${k}:5060;branch=z9hG4bK-hop${k}-8d2f\r\n`).join('');

  test('3 x cap INVITEs: flat past the cap, at most BYTES_PER_OPEN_CALL per open call, whatever the SIP message size', () => {
    const plain = heapAtMultiplesOfCap(CAP, '');
    const padded = heapAtMultiplesOfCap(CAP, PAD);
    expect(PAD.length).toBeGreaterThan(1000);
    for (const r of [plain, padded]) {
      expect(r.open).toBe(CAP);
      expect(r.evicted).toBe(2 * CAP);
      const [at1, at2, at3] = r.growth as [number, number, number];
      // Flat past the cap: the tables' capacity may step once (endpoint index, Map), then nothing grows.
      expect(at3).toBeLessThan(1.3 * at1);
      expect(at3).toBeLessThan(1.05 * at2);
      expect(at1 / CAP).toBeLessThan(BYTES_PER_OPEN_CALL);
    }
    // No part of the SIP text is kept per call: 1.5 KB more header per INVITE, (almost) no more memory.
    expect((padded.growth[0]! - plain.growth[0]!) / CAP).toBeLessThan(100);
  }, 120_000);
});
