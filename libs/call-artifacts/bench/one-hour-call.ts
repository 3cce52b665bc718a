/**
 * Time and memory of reading a long call back from a spool. Run (a plain Node script):
 *   python3 tools/synth-pcap.py --calls 1 --duration 3600 --loss 0.5 --jitter-ms 5 --out /tmp/h.pcap
 *   node dist/apps/sniffer/main.js analyze /tmp/h.pcap --spool /tmp/h-spool --format jsonl > /tmp/h.jsonl
 *   npx esbuild libs/call-artifacts/bench/one-hour-call.ts --bundle --platform=node --format=esm --outfile=/tmp/one-hour-call.mjs
 *   node /tmp/one-hour-call.mjs /tmp/h-spool /tmp/h.jsonl
 */
import { readFileSync } from 'node:fs';
import { parseIsoMicros } from '@callscope/cdr-model';
import { readCallSip, readCallStreamSeries } from '../src/index.js';

const [spool, cdrFile] = process.argv.slice(2);
if (spool === undefined || cdrFile === undefined) throw new Error('usage: one-hour-call.ts SPOOL CDR.jsonl');
const cdr = JSON.parse(readFileSync(cdrFile, 'utf8').split('\n')[0]!) as { call_id: string; start: string; streams: { packets: number; lost: number }[] };
const start = parseIsoMicros(cdr.start)!;
const query = { callId: cdr.call_id, startSec: start.sec, startUsec: start.usec };

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);
const rss0 = process.memoryUsage().rss;
let t = performance.now();
const ladder = await readCallSip(spool, query);
const sipMs = performance.now() - t;
t = performance.now();
const series = await readCallStreamSeries(spool, query);
const seriesMs = performance.now() - t;
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
const packets = series.streams.reduce((a, s) => a + s.packets, 0);
console.log(
  JSON.stringify({
    sip_messages: ladder?.count,
    sip_ms: Math.round(sipMs),
    streams: series.streams.length,
    buckets: series.streams.map((s) => s.buckets.length),
    packets,
    cdr_packets: cdr.streams.reduce((a, s) => a + s.packets, 0),
    lost: series.streams.map((s) => s.lost),
    cdr_lost: cdr.streams.map((s) => s.lost),
    series_ms: Math.round(seriesMs),
    packets_per_s: Math.round(packets / (seriesMs / 1000)),
    rss_start_mb: Math.round(rss0 / 2 ** 20),
    rss_peak_mb: Math.round(peakRss / 2 ** 20),
    series_json_kb: Math.round(JSON.stringify(series).length / 1024),
  }),
);
