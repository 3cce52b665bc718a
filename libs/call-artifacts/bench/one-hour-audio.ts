/**
 * Time and memory of a long call's WAV read from a spool (both passes), through a sink that
 * discards the chunks and through `readable()` drained by a slow consumer. Run (a plain Node script):
 *   python3 tools/synth-pcap.py --calls 1 --duration 3600 --loss 0.5 --jitter-ms 5 --out /tmp/h.pcap
 *   node dist/apps/sniffer/main.js analyze /tmp/h.pcap --spool /tmp/h-spool --format jsonl > /tmp/h.jsonl
 *   npx esbuild libs/call-artifacts/bench/one-hour-audio.ts --bundle --platform=node --format=esm --outfile=/tmp/one-hour-audio.mjs
 *   node /tmp/one-hour-audio.mjs /tmp/h-spool /tmp/h.jsonl
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openCallAudio } from '../src/index.js';
import { benchCall, rssSampler } from './bench-call.js';

const { spool, query } = benchCall('one-hour-audio.ts');
const rss = rssSampler();
let t = performance.now();
const audio = await openCallAudio(spool, query, { layout: 'stereo' });
const planMs = performance.now() - t;
t = performance.now();
let bytes = 0;
const summary = await audio.render((c) => {
  bytes += c.length;
});
const renderMs = performance.now() - t;
const peakSinkMb = rss.peakMb();
// A consumer at ~64 MB/s (1 ms per 64 KiB write): the walk must wait for it, memory stay flat.
t = performance.now();
let streamed = 0;
const slow = new Writable({
  highWaterMark: 64 * 1024,
  write(chunk: Buffer, _enc, cb) {
    streamed += chunk.length;
    setTimeout(cb, chunk.length >= 32 * 1024 ? 1 : 0);
  },
});
await pipeline((await openCallAudio(spool, query, { layout: 'stereo' })).readable(), slow);
const streamMs = performance.now() - t;
const peakMb = rss.stop();
console.log(
  JSON.stringify({
    frames: audio.plan.frames,
    duration_s: audio.plan.frames / 8000,
    wav_mb: Math.round(audio.plan.wavBytes / 2 ** 20),
    bytes_ok: bytes === audio.plan.wavBytes && streamed === audio.plan.wavBytes,
    streams: audio.plan.streams.length,
    caller: summary.caller,
    plan_ms: Math.round(planMs),
    render_ms: Math.round(renderMs),
    render_mb_per_s: Math.round(bytes / 2 ** 20 / (renderMs / 1000)),
    readable_slow_ms: Math.round(streamMs),
    rss_start_mb: rss.startMb,
    rss_peak_sink_mb: peakSinkMb,
    rss_peak_mb: peakMb,
  }),
);
