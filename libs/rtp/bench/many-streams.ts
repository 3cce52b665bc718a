// Per-packet cost and memory of RtpStreamStats with many interleaved streams (10 000 concurrent
// calls = 20 000 streams), as the sniffer sees them: every stream gets one packet per round.
//
// Run (from libs/rtp; a plain Node script so that it can call gc() for the memory figure):
//   npx esbuild bench/many-streams.ts --bundle --platform=node --format=esm --outfile=/tmp/many-streams.mjs
//   node --expose-gc /tmp/many-streams.mjs [streams...]
//
// Packets: 20 ms G.711 (PT 8), seq + 1, ts + 160, arrival + 20 ms with up to 3 ms of jitter.
// One PayloadTypeMap per call (two streams), as the sniffer has one per SDP session; the maps
// are made before the memory baseline, so bytes/stream is RtpStreamStats alone.
// Memory per stream = (heapUsed + arrayBuffers) delta after gc() / N, streams warmed up with
// 1000 packets (20 s: the reordering window is full and the first intervals are rated).
// ns/packet = best of RUNS timed passes of PACKETS_PER_RUN packets (the box is shared: take the
// best, and repeat the whole run).
import { PayloadTypeMap, RtpStreamStats } from '../src/index.js';

const WARMUP_PACKETS = 1000;
const PACKETS_PER_RUN = 2_000_000;
const RUNS = 5;
const JITTER_TABLE = 4096;

const gc = (globalThis as { gc?: () => void }).gc;

function memory(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Deterministic jitter in ns, 0..3 ms, from a small table (no allocation in the loop). */
const jitterNs = new Float64Array(JITTER_TABLE);
let seed = 12345;
for (let i = 0; i < JITTER_TABLE; i++) {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  jitterNs[i] = Math.floor((seed / 4294967296) * 3_000_000);
}

interface Header {
  sequenceNumber: number;
  timestamp: number;
  payloadType: number;
  marker: boolean;
}

const BASE_SEC = 1_800_000_000;

/** Feed round `r` (one packet to every stream). */
function round(streams: RtpStreamStats[], h: Header, r: number): void {
  const n = streams.length;
  for (let s = 0; s < n; s++) {
    h.sequenceNumber = (s * 7 + r) & 0xffff;
    h.timestamp = (s * 1000 + r * 160) >>> 0;
    // Streams start 0..19 ms apart; 20 ms spacing plus jitter.
    const ns = (s % 20) * 1_000_000 + r * 20_000_000 + jitterNs[(s * 31 + r) & (JITTER_TABLE - 1)]!;
    const sec = Math.floor(ns / 1e9);
    streams[s]!.update(h, BASE_SEC + sec, ns - sec * 1e9, 160);
  }
}

function measure(n: number): { nsPerPacket: number; bytesPerStream: number } {
  const maps: PayloadTypeMap[] = [];
  for (let i = 0; i < n / 2; i++) maps.push(new PayloadTypeMap());
  const streams: RtpStreamStats[] = [];
  streams.length = 0;
  const h: Header = { sequenceNumber: 0, timestamp: 0, payloadType: 8, marker: false };
  const before = memory();
  for (let s = 0; s < n; s++) streams.push(new RtpStreamStats({ payloadTypes: maps[s >> 1]! }));
  let r = 0;
  for (; r < WARMUP_PACKETS; r++) round(streams, h, r);
  const bytesPerStream = (memory() - before) / n;

  const rounds = Math.max(1, Math.round(PACKETS_PER_RUN / n));
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < RUNS; run++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < rounds; k++, r++) round(streams, h, r);
    const ns = Number(process.hrtime.bigint() - t0) / (rounds * n);
    if (ns < best) best = ns;
  }
  // Keep the streams observable so that nothing is optimised away.
  let check = 0;
  for (const st of streams) check += st.wireshark.packets;
  if (check !== n * r) throw new Error(`packet count ${check} != ${n * r}`);
  return { nsPerPacket: best, bytesPerStream };
}

if (gc === undefined) console.warn('run with node --expose-gc for the memory figure');
const sizes = process.argv.slice(2).map(Number);
for (const n of sizes.length > 0 ? sizes : [2_000, 20_000]) {
  const { nsPerPacket, bytesPerStream } = measure(n);
  console.log(`${String(n).padStart(6)} streams: ${nsPerPacket.toFixed(0).padStart(5)} ns/packet (best of ${RUNS} x ${PACKETS_PER_RUN} packets), ${bytesPerStream.toFixed(0)} bytes/stream`);
}
