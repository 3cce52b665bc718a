// RTP packets/s through parseRtpHeader + RtpStreamStats.update (Wireshark analysis, RFC 3550
// accounting, reordering window, the three jitter buffers, PDV, interval MOS).
// Run: npx vitest bench --run (from libs/rtp). One op = PACKETS packets of one stream.
import { bench, describe } from 'vitest';
import { RtpHeader, RtpStatus, RtpStreamStats, parseRtpHeader } from '../src/index.js';

const PACKETS = 20_000;
const SIZE = 172; // 12-byte header + 160 bytes of PCMU
const wire = new Uint8Array(PACKETS * SIZE);
const sec = new Float64Array(PACKETS);
const nsec = new Float64Array(PACKETS);
let seed = 1;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
for (let i = 0; i < PACKETS; i++) {
  const o = i * SIZE;
  const seq = (40000 + i) & 0xffff; // wraps inside the run
  const ts = (123456 + i * 160) >>> 0;
  wire.set([0x80, 0x00, seq >> 8, seq & 0xff, ts >>> 24, (ts >>> 16) & 0xff, (ts >>> 8) & 0xff, ts & 0xff, 0xca, 0x11, 0, 0], o);
  // 20 ms spacing with up to 30 ms of random delay, so the buffers have work to do.
  const t = i * 20_000_000 + Math.floor(rand() * 30_000_000);
  sec[i] = 1_800_000_000 + Math.floor(t / 1e9);
  nsec[i] = t % 1e9;
}
const h = new RtpHeader();

describe('rtp stream statistics', () => {
  bench(`parse + stats + 3 jitter buffers (${PACKETS} packets per op)`, () => {
    const st = new RtpStreamStats();
    for (let i = 0; i < PACKETS; i++) {
      if (parseRtpHeader(wire, i * SIZE, SIZE, h) === RtpStatus.Ok) st.update(h, sec[i]!, nsec[i]!, h.payloadLength);
    }
    st.finish();
  }, { time: 2000 });
});
