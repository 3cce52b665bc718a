/**
 * Time and memory of reading a long call back from a spool. Run (a plain Node script):
 *   python3 tools/synth-pcap.py --calls 1 --duration 3600 --loss 0.5 --jitter-ms 5 --out /tmp/h.pcap
 *   node dist/apps/sniffer/main.js analyze /tmp/h.pcap --spool /tmp/h-spool --format jsonl > /tmp/h.jsonl
 *   npx esbuild libs/call-artifacts/bench/one-hour-call.ts --bundle --platform=node --format=esm --outfile=/tmp/one-hour-call.mjs
 *   node /tmp/one-hour-call.mjs /tmp/h-spool /tmp/h.jsonl
 */
import { readCallSip, readCallStreamSeries } from '../src/index.js';
import { benchCall, rssSampler } from './bench-call.js';

const { spool, cdr, query } = benchCall('one-hour-call.ts');
const rss = rssSampler();
let t = performance.now();
const ladder = await readCallSip(spool, query);
const sipMs = performance.now() - t;
t = performance.now();
const series = await readCallStreamSeries(spool, query);
const seriesMs = performance.now() - t;
const peakMb = rss.stop();
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
    rss_start_mb: rss.startMb,
    rss_peak_mb: peakMb,
    series_json_kb: Math.round(JSON.stringify(series).length / 1024),
  }),
);
