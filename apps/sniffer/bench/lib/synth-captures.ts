/**
 * The synth-pcap captures the sniffer benchmarks share, generated once into var/bench (or
 * `CALLSCOPE_BENCH_CAPTURES`, e.g. a directory under /tmp) and reused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const root = process.env['CALLSCOPE_ROOT'] ?? process.cwd();
export const benchDir = join(root, 'var/bench');
/** Where the synth captures are kept. */
const capturesDir = process.env['CALLSCOPE_BENCH_CAPTURES'] ?? benchDir;

/** The two load shapes of issue 4: many calls at once, with RTP dominating. */
export const CONCURRENCY_CASES = [
  { name: 'synth-1k-concurrent', args: ['--calls', '1000', '--concurrent', '1000', '--duration', '20', '--codec', 'pcma'], memory: false },
  { name: 'synth-10k-concurrent', args: ['--calls', '10000', '--concurrent', '10000', '--duration', '4', '--codec', 'pcma'], memory: true },
] as const;

/**
 * 10,000 concurrent calls sustained: each of the 10,000 slots runs four calls back to back, so
 * calls start and end all along the capture (16.3 M packets, 3.8 GB, 21 s of capture) and their
 * CDRs reach the database while packets flow. In synth-10k-concurrent every call starts in the
 * first 5.5 s and nearly every CDR is built after the last packet (a call lingers 5 s after its
 * BYE); here that end is a quarter of the records. Long to run: benchmarks take it only when
 * `CALLSCOPE_BENCH_CASES` names it.
 */
export const SUSTAINED_CASES = [
  { name: 'synth-10k-sustained', args: ['--calls', '40000', '--concurrent', '10000', '--duration', '4', '--codec', 'pcma'], memory: false },
] as const;

/** A synth-pcap capture, generated once and reused (same arguments, same bytes). */
export function synth(name: string, args: readonly string[]): string {
  const out = join(capturesDir, `${name}.pcap`);
  if (!existsSync(out)) {
    mkdirSync(capturesDir, { recursive: true });
    const r = spawnSync('python3', [join(root, 'tools/synth-pcap.py'), ...args, '--seed', '7', '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`synth-pcap.py failed for ${name}`);
  }
  return out;
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
