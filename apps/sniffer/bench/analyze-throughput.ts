/**
 * Whole-sniffer benchmarks, each figure next to a baseline measured in the same run:
 * - issue 3: decoding every frame vs the bare pcap record walk;
 * - issue 4: `analyze` packets/s with 1,000 and 10,000 concurrent calls vs `tshark -q -z
 *   rtp,streams` on the same file, and the heap held per concurrent call at 10,000 open calls
 *   (in total, and without the RTP statistics objects);
 * - issue 7: `analyze` with the per-call spool vs without, and spool throughput.
 *
 * Run through `npm run bench` (bundled by scripts/bench.mjs, node --expose-gc).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PacketDecoder, createDecodedPacket } from '@callscope/packet';
import { readCaptureFile } from '@callscope/pcap-store';
import { PayloadTypeMap } from '@callscope/rtp';
import { MediaStream } from '../src/calls/media-stream.js';
import { CallSpool } from '../src/pipeline/call-spool.js';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '../src/pipeline/packet-pipeline.js';

const root = process.env['CALLSCOPE_ROOT'] ?? process.cwd();
const benchDir = join(root, 'var/bench');
const gc = (globalThis as { gc?: () => void }).gc;

/** A synth-pcap capture, generated once and reused (same arguments, same bytes). */
function synth(name: string, args: string[]): string {
  const out = join(benchDir, `${name}.pcap`);
  if (!existsSync(out)) {
    mkdirSync(benchDir, { recursive: true });
    const r = spawnSync('python3', [join(root, 'tools/synth-pcap.py'), ...args, '--seed', '7', '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`synth-pcap.py failed for ${name}`);
  }
  return out;
}

async function walk(file: string): Promise<{ packets: number; seconds: number }> {
  let packets = 0;
  const t0 = process.hrtime.bigint();
  await readCaptureFile(file, () => {
    packets++;
  });
  return { packets, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function walkDecode(file: string): Promise<{ packets: number; seconds: number }> {
  const decoder = new PacketDecoder();
  const out = createDecodedPacket();
  let packets = 0;
  const t0 = process.hrtime.bigint();
  await readCaptureFile(file, (rec) => {
    decoder.decode(rec.data, 0, rec.capLen, rec.linkType, rec.tsSec, rec.tsNsec, out);
    packets++;
  });
  return { packets, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/** Heap held by the RTP statistics of `n` streams (MediaStream with its RtpStreamStats). */
function rtpStatsBytes(n: number): number {
  gc?.();
  const before = process.memoryUsage();
  const keep: MediaStream[] = [];
  const types = new PayloadTypeMap();
  const w = new Uint32Array(4);
  for (let i = 0; i < n; i++) keep.push(new MediaStream(i, 'caller', 4, i, i + 1, w, w, 20000, 40000, '192.0.2.1', '198.51.100.1', types));
  gc?.();
  const after = process.memoryUsage();
  const bytes = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  return keep.length > 0 ? bytes : 0;
}

async function analyze(file: string, sampleAtPacket: number | null, spoolDir: string | null = null): Promise<{ packets: number; seconds: number; calls: number; bytesPerCall: number | null; peakOpen: number; openStreams: number; spoolPackets: number }> {
  let calls = 0;
  const spool = spoolDir === null ? null : new CallSpool({ dir: spoolDir, mode: 'sip_rtp', compress: false, maxSizeBytes: 50 * 1024 ** 3, maxAgeDays: 365, maxOpenFiles: 4096 });
  const pipeline = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall: () => calls++, onRegister: () => undefined }, spool);
  gc?.();
  const memBefore = process.memoryUsage();
  const heapBefore = memBefore.heapUsed + memBefore.arrayBuffers;
  let peakOpen = 0;
  let openStreams = 0;
  let bytesPerCall: number | null = null;
  const t0 = process.hrtime.bigint();
  await readCaptureFile(file, (rec): Promise<void> | undefined => {
    pipeline.onPacket(rec);
    if (spool?.needsPause === true) return spool.drain();
    // Once, mid-capture (every call set up and in its RTP phase), measure what the open calls
    // hold on the heap and in typed-array buffers.
    if (rec.index === sampleAtPacket) {
      gc?.();
      peakOpen = pipeline.calls.openCalls;
      openStreams = pipeline.calls.openStreams();
      const m = process.memoryUsage();
      bytesPerCall = (m.heapUsed + m.arrayBuffers - heapBefore) / peakOpen;
    }
    return undefined;
  });
  pipeline.finish();
  await spool?.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { packets: pipeline.counters.packets, seconds, calls, bytesPerCall, peakOpen, openStreams, spoolPackets: spool?.stats().packetsWritten ?? 0 };
}

function tshark(file: string): number | null {
  const probe = spawnSync('tshark', ['--version'], { stdio: 'ignore' });
  if (probe.status !== 0) return null;
  const t0 = process.hrtime.bigint();
  const r = spawnSync('tshark', ['-n', '-q', '-r', file, '-z', 'rtp,streams'], { stdio: ['ignore', 'ignore', 'ignore'] });
  if (r.status !== 0) return null;
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const cases = [
  { name: 'synth-1k-concurrent', args: ['--calls', '1000', '--concurrent', '1000', '--duration', '20', '--codec', 'pcma'], memory: false },
  { name: 'synth-10k-concurrent', args: ['--calls', '10000', '--concurrent', '10000', '--duration', '4', '--codec', 'pcma'], memory: true },
];

console.log('sniffer analyze throughput (one core, in-process; tshark in the same run)');
for (const c of cases) {
  const file = synth(c.name, c.args);
  const mb = statSync(file).size / 1e6;
  await walk(file); // warm the page cache so every pass below reads from memory alike
  const w = await walk(file);
  const d = await walkDecode(file);
  const a = await analyze(file, c.memory ? Math.floor(w.packets / 2) : null);
  const spoolDir = mkdtempSync(join(tmpdir(), 'callscope-bench-spool-'));
  const s = await analyze(file, null, spoolDir);
  rmSync(spoolDir, { recursive: true, force: true });
  const t = tshark(file);
  const pps = a.packets / a.seconds;
  console.log(`\n${c.name}: ${fmt(a.packets)} packets, ${mb.toFixed(0)} MB, ${fmt(a.calls)} calls`);
  console.log(`  record walk only   ${fmt(w.packets / w.seconds)} packets/s (${w.seconds.toFixed(2)} s)`);
  console.log(`  walk + decode      ${fmt(d.packets / d.seconds)} packets/s (${d.seconds.toFixed(2)} s) = ${(d.seconds / w.seconds).toFixed(2)}x the walk`);
  console.log(`  analyze            ${fmt(pps)} packets/s (${a.seconds.toFixed(2)} s) = ${(a.seconds / w.seconds).toFixed(2)}x the walk`);
  console.log(`  analyze --spool    ${fmt(s.packets / s.seconds)} packets/s (${s.seconds.toFixed(2)} s) = ${(s.seconds / a.seconds).toFixed(2)}x analyze; ${fmt(s.spoolPackets)} packets spooled, ${fmt(a.calls / s.seconds)} calls/s`);
  if (t !== null) console.log(`  tshark rtp,streams ${fmt(a.packets / t)} packets/s (${t.toFixed(2)} s) -> analyze is ${(t / a.seconds).toFixed(1)}x tshark`);
  else console.log('  tshark not installed: no baseline (apt-get install tshark)');
  if (a.bytesPerCall !== null) {
    // Mid-capture some calls are still in setup (no streams yet): split the total into what the
    // streams hold (measured alone below) and what each call holds without them.
    const perStream = rtpStatsBytes(20_000) / 20_000;
    const total = a.bytesPerCall * a.peakOpen;
    const perCall = (total - a.openStreams * perStream) / a.peakOpen;
    console.log(
      `  memory at ${fmt(a.peakOpen)} open calls with ${fmt(a.openStreams)} streams: ${fmt(a.bytesPerCall)} bytes per call in all; ` +
        `a stream with its RTP statistics ${fmt(perStream)} bytes; a call without its streams ${fmt(perCall)} bytes`,
    );
  }
}
