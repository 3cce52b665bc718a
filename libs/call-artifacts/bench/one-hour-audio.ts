/**
 * Time and memory of a long call's WAV read from a spool (both passes), through a sink that
 * discards the chunks and through `readable()` drained by a slow consumer. Run (a plain Node script):
 *   python3 tools/synth-pcap.py --calls 1 --duration 3600 --loss 0.5 --jitter-ms 5 --out /tmp/h.pcap
 *   node dist/apps/sniffer/main.js analyze /tmp/h.pcap --spool /tmp/h-spool --format jsonl > /tmp/h.jsonl
 *   npx esbuild libs/call-artifacts/bench/one-hour-audio.ts --bundle --platform=node --format=esm --outfile=/tmp/one-hour-audio.mjs
 *   node /tmp/one-hour-audio.mjs /tmp/h-spool /tmp/h.jsonl
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseIsoMicros } from '@callscope/cdr-model';
import { openCallAudio } from '../src/index.js';

const [spool, cdrFile] = process.argv.slice(2);
if (spool === undefined || cdrFile === undefined) throw new Error('usage: one-hour-audio.ts SPOOL CDR.jsonl');
const cdr = JSON.parse(readFileSync(cdrFile, 'utf8').split('\n')[0]!) as { call_id: string; start: string };
const start = parseIsoMicros(cdr.start)!;
const query = { callId: cdr.call_id, startSec: start.sec, startUsec: start.usec };

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);
const rss0 = process.memoryUsage().rss;
let t = performance.now();
const audio = await openCallAudio(spool, query, { layout: 'stereo' });
const planMs = performance.now() - t;
t = performance.now();
let bytes = 0;
const summary = await audio.render((c) => {
  bytes += c.length;
});
const renderMs = performance.now() - t;
const peakSink = Math.max(peakRss, process.memoryUsage().rss);
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
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
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
    rss_start_mb: Math.round(rss0 / 2 ** 20),
    rss_peak_sink_mb: Math.round(peakSink / 2 ** 20),
    rss_peak_mb: Math.round(peakRss / 2 ** 20),
  }),
);
