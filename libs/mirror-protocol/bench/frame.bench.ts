// Hot path of the mirror receiver: framing + envelope decode of realistic batches (50 packets of
// 214 bytes, a G.711 20 ms RTP packet on Ethernet), delivered in 64 KiB socket-sized chunks.
import { bench, describe } from 'vitest';
import { FrameStatus, FrameDecoder, createDecodedFrame, encodeFrame, type Packet } from '../src/index.js';

const PACKETS_PER_BATCH = 50;
const BATCHES = 200;
const packets: Packet[] = Array.from({ length: PACKETS_PER_BATCH }, (_, i) => ({
  linkType: 1,
  tsSec: 1_795_000_000 + i,
  tsNsec: i * 20_000_000,
  origLen: 214,
  data: new Uint8Array(214).fill(i),
}));
const frames = Array.from({ length: BATCHES }, (_, i) => encodeFrame({ batch: { sequence: i + 1, packets } }));
const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
let at = 0;
for (const f of frames) {
  stream.set(f, at);
  at += f.length;
}
const CHUNK = 64 * 1024;

describe(`decode ${BATCHES} batches x ${PACKETS_PER_BATCH} packets (${(stream.length / 1e6).toFixed(1)} MB)`, () => {
  const decoder = new FrameDecoder();
  const out = createDecodedFrame();
  bench('FrameDecoder push/next', () => {
    let n = 0;
    for (let i = 0; i < stream.length; i += CHUNK) {
      decoder.push(stream.subarray(i, i + CHUNK));
      while (decoder.next(out) === FrameStatus.Frame) n += out.envelope!.batch!.packets!.length;
    }
    if (n !== BATCHES * PACKETS_PER_BATCH) throw new Error(`decoded ${n} packets`);
  });
  bench('encodeFrame', () => {
    for (let i = 0; i < BATCHES; i++) encodeFrame({ batch: { sequence: i + 1, packets } });
  });
});
