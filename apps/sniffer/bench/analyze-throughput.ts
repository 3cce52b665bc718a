/**
 * Issue 4's benchmark: `analyze` packets/s on synth-pcap captures with 1,000 and 10,000
 * concurrent calls, next to a bare record walk and `tshark -q -z rtp,streams` on the same file in
 * the same run, and the heap held per concurrent call at 10,000 open calls.
 *
 * Run through `npm run bench` (bundled by scripts/bench.mjs, node --expose-gc).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readCaptureFile } from '@callscope/pcap-store';
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

async function analyze(file: string, sampleMemory: boolean): Promise<{ packets: number; seconds: number; calls: number; bytesPerCall: number | null; peakOpen: number }> {
  let calls = 0;
  const pipeline = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall: () => calls++, onRegister: () => undefined });
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let peakOpen = 0;
  let bytesPerCall: number | null = null;
  const t0 = process.hrtime.bigint();
  await readCaptureFile(file, (rec) => {
    pipeline.onPacket(rec);
    // Once: when the table first holds its peak, measure what the open calls hold on the heap.
    if (sampleMemory && bytesPerCall === null && pipeline.calls.openCalls >= 10_000) {
      gc?.();
      peakOpen = pipeline.calls.openCalls;
      bytesPerCall = (process.memoryUsage().heapUsed - heapBefore) / peakOpen;
    }
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9 - 0;
  pipeline.finish();
  return { packets: pipeline.counters.packets, seconds, calls, bytesPerCall, peakOpen };
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
  const w = await walk(file);
  const a = await analyze(file, c.memory);
  const t = tshark(file);
  const pps = a.packets / a.seconds;
  console.log(`\n${c.name}: ${fmt(a.packets)} packets, ${mb.toFixed(0)} MB, ${fmt(a.calls)} calls`);
  console.log(`  record walk only   ${fmt(w.packets / w.seconds)} packets/s (${w.seconds.toFixed(2)} s)`);
  console.log(`  analyze            ${fmt(pps)} packets/s (${a.seconds.toFixed(2)} s) = ${(a.seconds / w.seconds).toFixed(2)}x the walk`);
  if (t !== null) console.log(`  tshark rtp,streams ${fmt(a.packets / t)} packets/s (${t.toFixed(2)} s) -> analyze is ${(t / a.seconds).toFixed(1)}x tshark`);
  else console.log('  tshark not installed: no baseline (apt-get install tshark)');
  if (a.bytesPerCall !== null) console.log(`  heap per concurrent call at ${fmt(a.peakOpen)} open calls: ${fmt(a.bytesPerCall)} bytes`);
}
