/**
 * The daemon's control socket lists the open calls every second (issue 13): the list must stay
 * cheap at 10,000 open calls, and reading it must not make the streams bigger (no view objects
 * per stream). 10,000 calls of two streams each, 130 RTP packets per stream (past the 128-packet
 * reordering window, so every stream has judged packets and a MOS to compute).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Transport, buildIpFrame } from '@callscope/packet';
import { createPacketRecord } from '@callscope/pcap-format';
import { rtpStreamStateMemory } from '@callscope/rtp/internal';
import { describe, expect, test } from 'vitest';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '../src/index.js';

// gc() without a node flag for the test process: the flag set at run time exposes it to a new context.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapBytes(): number {
  for (let k = 0; k < 4; k++) gc();
  return process.memoryUsage().heapUsed;
}

const CALLS = 10_000;
const PACKETS_PER_STREAM = 130;
const T0 = 1_795_975_892;
const NO_V6 = new Uint32Array(4);
const CALLEE = 0xc0000201; // 192.0.2.1, every call's media peer
const enc = new TextEncoder();

const hostOf = (i: number): number => ((10 << 24) | (i & 0xffffff)) >>> 0;
const portOf = (i: number): number => 10_000 + 2 * (i % 25_000);

function invite(i: number): Uint8Array {
  const host = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const sdp = `v=0\r\no=- ${i} 1 IN IP4 ${host}\r\ns=-\r\nc=IN IP4 ${host}\r\nt=0 0\r\nm=audio ${portOf(i)} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n`;
  const msg =
    `INVITE sip:bob${i}@example.com SIP/2.0\r\nVia: SIP/2.0/UDP ${host}:5060;branch=z9hG4bK${i}\r\n` +
    `From: <sip:alice${i}@example.com>;tag=${i}a\r\nTo: <sip:bob${i}@example.com>\r\nCall-ID: ${i}@${host}\r\nCSeq: 1 INVITE\r\n` +
    `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
  return frame(hostOf(i), CALLEE, 5060, 5060, enc.encode(msg));
}

function frame(src4: number, dst4: number, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 28);
  const fields = { ipVersion: 4, src4, dst4, src6: NO_V6, dst6: NO_V6, transport: Transport.Udp, srcPort, dstPort, tcpSeq: 0, tcpAck: 0, tcpFlags: 0, tcpWindow: 0 };
  buildIpFrame(fields, payload, 0, payload.length, out, 0);
  return out;
}

describe('activeCalls at 10,000 open calls', () => {
  test('lists every call in well under the daemon\'s one-second period, without growing the streams', () => {
    const p = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall: () => undefined, onRegister: () => undefined });
    const rec = createPacketRecord();
    rec.linkType = 101; // LINKTYPE_RAW
    const feed = (data: Uint8Array, us: number) => {
      rec.data = data;
      rec.capLen = data.length;
      rec.origLen = data.length;
      rec.tsSec = T0 + Math.floor(us / 1e6);
      rec.tsNsec = (us % 1e6) * 1000;
      p.onPacket(rec);
    };
    for (let i = 0; i < CALLS; i++) feed(invite(i), i * 10);
    // One frame per direction of each call, rewritten in place per packet (the pipeline only borrows it).
    const rtp = new Uint8Array(12 + 160);
    rtp[0] = 0x80;
    rtp[1] = 8;
    const frames = Array.from({ length: CALLS }, (_, i) => [frame(hostOf(i), CALLEE, portOf(i), 30_000, rtp), frame(CALLEE, hostOf(i), 30_000, portOf(i), rtp)]);
    const start = CALLS * 10 + 100_000;
    for (let k = 0; k < PACKETS_PER_STREAM; k++) {
      for (let i = 0; i < CALLS; i++) {
        for (let d = 0; d < 2; d++) {
          const f = frames[i]![d]!;
          const v = new DataView(f.buffer, 28);
          v.setUint16(2, k);
          v.setUint32(4, k * 160);
          v.setUint32(8, i * 2 + d + 1);
          feed(f, start + k * 20_000 + i);
        }
      }
    }
    expect(p.calls.openCalls).toBe(CALLS);
    expect(p.calls.openStreams()).toBe(2 * CALLS);

    const blocksBefore = rtpStreamStateMemory().blocksInUse;
    const heapBefore = heapBytes();
    const times: number[] = [];
    let list = p.activeCalls({ limit: CALLS });
    for (let run = 0; run < 5; run++) {
      const t = performance.now();
      list = p.activeCalls({ limit: CALLS });
      times.push(performance.now() - t);
    }
    expect(list).toHaveLength(CALLS);
    expect(list[CALLS - 1]!.streams).toHaveLength(2);
    for (const s of list[CALLS - 1]!.streams) {
      expect(s.packets).toBe(PACKETS_PER_STREAM);
      expect(s.mos_f1).toBeGreaterThan(4);
    }
    const best = Math.min(...times);
    // Measured 45-90 ms (best of 5: 45-48) on the 2-core dev machine, 6 MB of JSON; the bound leaves room for a shared CPU.
    expect(best).toBeLessThan(250);
    // No state block per read (no snapshots in the list), and no view objects left per stream.
    expect(rtpStreamStateMemory().blocksInUse).toBe(blocksBefore);
    list = [];
    // Views made per stream by a read would stay: 15 MB for 20,000 streams (measured when the
    // list read `stream.wireshark`); measured growth without them: 0.18 MB.
    const growth = heapBytes() - heapBefore;
    expect(growth).toBeLessThan(2 * 1024 * 1024);
  }, 120_000);
});
