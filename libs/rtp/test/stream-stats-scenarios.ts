// Deterministic RTP streams that exercise every path of RtpStreamStats, and a snapshot of every
// figure it reports. test/fixtures/stream-stats-golden.json holds the snapshots taken with the
// object-per-concept implementation (commit 8fcbf3e, before the per-stream flat state block);
// stream-stats-golden.test.ts checks that the current implementation reproduces them exactly.
import { PayloadTypeMap, RtpStreamStats, type RtpStreamStatsOptions } from '../src/index.js';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One packet as fed to `update`. */
export interface ScenarioPacket {
  seq: number;
  ts: number;
  pt: number;
  marker: boolean;
  sec: number;
  nsec: number;
  len: number;
}

/** A named stream with its statistics options. */
export interface Scenario {
  name: string;
  options: RtpStreamStatsOptions;
  packets: ScenarioPacket[];
}

interface VoiceOptions {
  seconds: number;
  pt?: number;
  frameSamples?: number;
  clock?: number;
  seq0?: number;
  ts0?: number;
  loss?: number;
  burstEvery?: number;
  burstLength?: number;
  jitterMs?: number;
  spikeEvery?: number;
  spikeMs?: number;
  duplicate?: number;
  talkspurtEvery?: number;
  seed: number;
}

/** A voice stream: packets in arrival order after loss, delay, duplication. */
function voice(o: VoiceOptions): ScenarioPacket[] {
  const r = rng(o.seed);
  const frame = o.frameSamples ?? 160;
  const clock = o.clock ?? 8000;
  const frameMs = (frame * 1000) / clock;
  const n = Math.round((o.seconds * 1000) / frameMs);
  const out: { i: number; t: number; dup: boolean }[] = [];
  for (let i = 0; i < n; i++) {
    if (o.loss !== undefined && r() < o.loss) continue;
    if (o.burstEvery !== undefined && i % o.burstEvery >= o.burstEvery - (o.burstLength ?? 5)) continue;
    let t = i * frameMs + 25 + r() * (o.jitterMs ?? 0);
    if (o.spikeEvery !== undefined && i % o.spikeEvery === 0) t += o.spikeMs ?? 0;
    out.push({ i, t, dup: false });
    if (o.duplicate !== undefined && r() < o.duplicate) out.push({ i, t: t + r() * 5, dup: true });
  }
  out.sort((a, b) => a.t - b.t || a.i - b.i);
  const base = 1_790_000_000;
  return out.map(({ i, t }) => {
    const ns = Math.round(t * 1e6);
    return {
      seq: ((o.seq0 ?? 1000) + i) & 0xffff,
      ts: ((o.ts0 ?? 7777) + i * frame) >>> 0,
      pt: o.pt ?? 8,
      marker: i === 0 || (o.talkspurtEvery !== undefined && i % o.talkspurtEvery === 0),
      sec: base + Math.floor(ns / 1e9),
      nsec: ns % 1e9,
      len: 160,
    };
  });
}

/** Random (seq, ts, pt, marker, time), as the property test feeds. */
function noise(seed: number, count: number): ScenarioPacket[] {
  const r = rng(seed);
  const pts = [0, 8, 13, 18, 101, 127];
  let ns = 0;
  const out: ScenarioPacket[] = [];
  for (let k = 0; k < count; k++) {
    ns += Math.floor(r() * 60_000_000);
    out.push({
      seq: Math.floor(r() * 65536),
      ts: Math.floor(r() * 4294967296),
      pt: pts[Math.floor(r() * pts.length)]!,
      marker: r() < 0.2,
      sec: 1_700_000_000 + Math.floor(ns / 1e9),
      nsec: ns % 1e9,
      len: 160,
    });
  }
  return out;
}

/** A stream whose sequence numbers wander: small jumps, reordering, a restart, a PT change. */
function wander(seed: number): ScenarioPacket[] {
  const r = rng(seed);
  const out: ScenarioPacket[] = [];
  let seq = 65000;
  let ts = 4294960000;
  let ns = 0;
  for (let k = 0; k < 6000; k++) {
    const x = r();
    if (x < 0.01) seq += 2 + Math.floor(r() * 200); // forward gap
    else if (x < 0.02) seq -= 1 + Math.floor(r() * 130); // late by up to beyond the window
    else if (x < 0.025) seq += 5000 + Math.floor(r() * 20000); // beyond MAX_DROPOUT
    else seq += 1;
    if (k === 3000) seq += 31000; // a restart: two sequential packets re-synchronise
    ts += 160;
    if (r() < 0.003) ts += Math.floor(r() * 2 ** 31);
    ns += 20_000_000 + Math.floor((r() - 0.5) * 8_000_000);
    const pt = k >= 4000 && k < 4100 ? 101 : k >= 4500 && k < 4520 ? 13 : k >= 5000 ? 0 : 8;
    out.push({ seq: seq & 0xffff, ts: ts >>> 0, pt, marker: r() < 0.01, sec: 1_750_000_000 + Math.floor(ns / 1e9), nsec: ns % 1e9, len: 160 });
  }
  return out;
}

/** A capture whose clock steps back and forth (merged files): negative and far interval numbers. */
function clockSteps(seed: number): ScenarioPacket[] {
  return voice({ seconds: 40, jitterMs: 20, loss: 0.02, seed }).map((p, k) => {
    let sec = p.sec;
    if (k >= 10 && k < 20) sec -= 2;
    if (k >= 500 && k < 700) sec -= 3000;
    if (k >= 1500) sec += 30_000;
    return { ...p, sec };
  });
}

/** The payload-type map of the scenarios' sessions. */
export function scenarioMap(): PayloadTypeMap {
  const map = new PayloadTypeMap();
  map.setRtpmap(101, 'telephone-event', 8000);
  map.setRtpmap(111, 'opus', 48000);
  return map;
}

/** Every scenario of the golden file. */
export function scenarios(): Scenario[] {
  return [
    { name: 'clean-pcma-60s', options: {}, packets: voice({ seconds: 60, seed: 1 }) },
    { name: 'loss-jitter-reorder', options: {}, packets: voice({ seconds: 90, loss: 0.03, jitterMs: 70, seed: 2 }) },
    { name: 'bursts-spikes-dups', options: { networkDelayMs: 40 }, packets: voice({ seconds: 120, burstEvery: 300, burstLength: 12, spikeEvery: 250, spikeMs: 400, duplicate: 0.01, talkspurtEvery: 700, seed: 3 }) },
    { name: 'pcmu-no-plc-wrap', options: { g711Plc: false }, packets: voice({ seconds: 60, pt: 0, seq0: 64000, ts0: 4294900000, loss: 0.05, jitterMs: 30, seed: 4 }) },
    { name: 'g729-1s-intervals', options: { intervalMs: 1000, intervalCapacity: 20 }, packets: voice({ seconds: 45, pt: 18, loss: 0.02, jitterMs: 120, seed: 5 }) },
    { name: 'opus-48k', options: {}, packets: voice({ seconds: 40, pt: 111, frameSamples: 960, clock: 48000, jitterMs: 15, loss: 0.01, seed: 6 }) },
    { name: 'long-call-ring-wrap', options: {}, packets: voice({ seconds: 3700, loss: 0.002, jitterMs: 10, seed: 7 }) },
    { name: 'long-call-small-ring', options: { intervalCapacity: 13 }, packets: voice({ seconds: 400, burstEvery: 1000, burstLength: 30, seed: 8 }) },
    { name: 'wander', options: {}, packets: wander(9) },
    { name: 'noise-a', options: { intervalCapacity: 4 }, packets: noise(10, 400) },
    { name: 'noise-b', options: {}, packets: noise(11, 3000) },
    { name: 'tiny-intervals', options: { intervalMs: 3, intervalCapacity: 16 }, packets: voice({ seconds: 60, loss: 0.05, jitterMs: 50, burstEvery: 200, burstLength: 40, seed: 12 }) },
    { name: 'clock-steps', options: { intervalMs: 1000 }, packets: clockSteps(13) },
  ];
}

type Value = number | string | boolean | Value[] | { [k: string]: Value };

/** JSON cannot hold NaN, infinities or -0: those become strings. */
function num(x: number): number | string {
  if (Number.isNaN(x) || !Number.isFinite(x) || Object.is(x, -0)) return String(Object.is(x, -0) ? '-0' : x);
  return x;
}

/** Every figure the statistics report, as plain JSON. */
export function snapshot(st: RtpStreamStats): Record<string, Value> {
  const w = st.wireshark;
  const per = (f: (b: 0 | 1 | 2) => number): Value[] => [0, 1, 2].map((b) => num(f(b as 0 | 1 | 2)));
  const intervals: Value[] = [];
  for (let i = 0; i < st.intervalsKept; i++) intervals.push(per((b) => st.intervalMosAt(i, b)));
  return {
    packets: st.packets,
    payloadBytes: st.payloadBytes,
    duplicates: st.duplicates,
    reordered: st.reordered,
    tooLate: st.tooLate,
    sequenceJumps: st.sequenceJumps,
    unplaced: st.unplaced,
    baseExtSeq: st.baseExtSeq,
    highestExtSeq: st.highestExtSeq,
    expected: st.expected,
    lost: st.lost,
    judged: st.judged,
    first: [st.firstSec, st.firstNsec],
    last: [st.lastSec, st.lastNsec],
    payloadType: st.payloadType,
    codec: st.codec,
    frameMs: num(st.frameMs),
    networkDelayMs: st.networkDelayMs,
    lossBursts: Array.from(st.lossBursts),
    pdvBuckets: Array.from(st.pdvBuckets),
    trackLost: [0, 1, 2, 3, 4].map((t) => st.trackLost(t)),
    lossPercent: per((b) => st.lossPercent(b)),
    burstRatio: per((b) => st.burstRatio(b)),
    mos: per((b) => st.mos(b)),
    oneWayDelayMs: per((b) => st.oneWayDelayMs(b)),
    minIntervalMos: Array.from(st.minIntervalMos, num),
    intervalCount: st.intervalCount,
    intervalsKept: st.intervalsKept,
    intervals,
    outOfRange: [num(st.intervalMosAt(-1, 0)), num(st.intervalMosAt(st.intervalsKept, 0))],
    buffers: st.buffers.map((b) => [b.kind, b.maxDepthMs, num(b.depthMs), b.offered, b.late, num(b.lastLatenessMs), num(b.meanDepthMs)]),
    wireshark: {
      packets: w.packets,
      sequenceErrors: w.sequenceErrors,
      startSeq: w.startSeq,
      stopSeq: w.stopSeq,
      cycles: w.cycles,
      expected: w.expected,
      lost: w.lost,
      jitterMs: num(w.jitterMs),
      maxJitterMs: num(w.maxJitterMs),
      minJitterMs: num(w.minJitterMs),
      meanJitterMs: num(w.meanJitterMs),
      maxDeltaMs: num(w.maxDeltaMs),
      minDeltaMs: num(w.minDeltaMs),
      meanDeltaMs: num(w.meanDeltaMs),
      maxSkewMs: num(w.maxSkewMs),
      problem: w.problem,
      clockRate: w.clockRate,
    },
  };
}

/** Feed a scenario; snapshot halfway (before finish: pending window, open interval) and at the end. */
export function runScenario(s: Scenario): { mid: Record<string, Value>; end: Record<string, Value> } {
  const st = new RtpStreamStats({ ...s.options, payloadTypes: scenarioMap() });
  const h = { sequenceNumber: 0, timestamp: 0, payloadType: 0, marker: false };
  const half = s.packets.length >> 1;
  let mid: Record<string, Value> = {};
  s.packets.forEach((p, k) => {
    if (k === half) mid = snapshot(st);
    h.sequenceNumber = p.seq;
    h.timestamp = p.ts;
    h.payloadType = p.pt;
    h.marker = p.marker;
    st.update(h, p.sec, p.nsec, p.len);
  });
  st.finish();
  return { mid, end: snapshot(st) };
}
