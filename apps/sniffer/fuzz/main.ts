/**
 * One fuzz worker of `npm run fuzz` (scripts/fuzz.mjs bundles this file and runs it with
 * --expose-gc): runs cases of one stream of a run until a deadline or a count, saves breaches as
 * findings and reports each case to the parent over IPC (the parent's watchdog kills a worker
 * stuck on one input and saves that input as a hang). Without a parent it prints a summary.
 *
 *   main.mjs --root R --seed S --stream K [--deadline EPOCH_MS] [--count N] --findings DIR [--hang-at N]
 *   main.mjs --root R --replay FILE...
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { breachSignature, listFindings, loadSeeds, planCase, replayFinding, runCase, saveFinding } from './harness.js';
import { checkHeapGrowth, type Breach } from './invariants.js';

/** Messages to the parent. */
export type WorkerMessage =
  | { t: 'ready'; workDir: string; seeds: number }
  | { t: 'start'; index: number; at: number }
  | { t: 'done'; index: number; mutator: string; mode: string; seed: string; prngSeed: number; ms: number; packets: number; rss: number; heap: number; breaches: Breach[]; saved: string | null }
  | { t: 'breach'; breaches: Breach[] }
  | { t: 'gc'; heap: number }
  | { t: 'end'; cases: number };

const gc = (globalThis as { gc?: () => void }).gc;
/** Full GCs are this many cases apart (heap growth check). */
const GC_EVERY = 250;
/** Findings saved per breach signature in one worker: the same bug found again is only counted. */
const SAVE_PER_SIGNATURE = 3;

function send(m: WorkerMessage): void {
  if (process.send !== undefined) process.send(m);
}

async function fuzz(opts: { root: string; seed: number; stream: number; deadline: number; count: number; findings: string; hangAt: number }): Promise<number> {
  const seeds = loadSeeds(opts.root);
  const workDir = mkdtempSync(join(tmpdir(), `callscope-fuzz-${opts.stream}-`));
  send({ t: 'ready', workDir, seeds: seeds.length });
  const saved = new Map<string, number>();
  let baseline: number | null = null;
  let growthReported = false;
  let breachCount = 0;
  let i = 0;
  try {
    for (; i < opts.count && Date.now() < opts.deadline; i++) {
      const c = planCase(opts.seed, opts.stream, i, seeds);
      send({ t: 'start', index: i, at: Date.now() });
      // `--hang-at N`: a self-test of the parent's watchdog (case N never ends).
      if (i === opts.hangAt) for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
      const r = await runCase(c, seeds, workDir);
      let path: string | null = null;
      if (r.breaches.length > 0) {
        breachCount++;
        const sig = breachSignature(r.breaches[0]!);
        const n = saved.get(sig) ?? 0;
        saved.set(sig, n + 1);
        if (n < SAVE_PER_SIGNATURE) path = saveFinding(opts.findings, r.input, { case: c, breaches: r.breaches, ms: Math.round(r.ms) });
        if (process.send === undefined) process.stderr.write(`finding (${c.seed} ${c.mutator} ${c.prngSeed} ${c.mode}): ${r.breaches.map((b) => `${b.invariant}: ${b.message.split('\n')[0] ?? ''}`).join('; ')}${path === null ? '' : ` -> ${path}`}\n`);
      }
      const mem = process.memoryUsage();
      send({ t: 'done', index: i, mutator: c.mutator, mode: c.mode, seed: c.seed, prngSeed: c.prngSeed, ms: r.ms, packets: r.packets, rss: mem.rss, heap: mem.heapUsed, breaches: r.breaches, saved: path });
      if (gc !== undefined && (i + 1) % GC_EVERY === 0) {
        gc();
        const heap = process.memoryUsage().heapUsed;
        send({ t: 'gc', heap });
        if (baseline === null) baseline = heap;
        else if (!growthReported) {
          const growth = checkHeapGrowth(baseline, heap);
          if (growth.length > 0) {
            growthReported = true;
            send({ t: 'breach', breaches: growth });
          }
        }
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  send({ t: 'end', cases: i });
  if (process.send === undefined) process.stderr.write(`${i} cases, ${breachCount} with a breach\n`);
  return breachCount;
}

async function replay(paths: readonly string[]): Promise<number> {
  const workDir = mkdtempSync(join(tmpdir(), 'callscope-fuzz-replay-'));
  let failed = 0;
  try {
    const files = paths.flatMap((p) => (/\.(pcap|pcapng)(\.gz)?$/.test(p) ? [p] : listFindings(p)));
    for (const f of files) {
      const results = await replayFinding(f, workDir);
      const broken = results.filter((r) => r.breaches.length > 0);
      if (broken.length > 0) failed++;
      process.stdout.write(
        broken.length === 0
          ? `ok      ${f}\n`
          : `BREACH  ${f}\n${broken.map((r) => r.breaches.map((b) => `  [${r.mode}] ${b.invariant}: ${b.message.split('\n').slice(0, 4).join('\n    ')}`).join('\n')).join('\n')}\n`,
      );
    }
    process.stdout.write(`${files.length} findings replayed, ${failed} still break an invariant\n`);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  return failed;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    root: { type: 'string' },
    seed: { type: 'string' },
    stream: { type: 'string' },
    deadline: { type: 'string' },
    count: { type: 'string' },
    findings: { type: 'string' },
    replay: { type: 'boolean' },
    'hang-at': { type: 'string' },
  },
});
const root = values.root ?? process.env['CALLSCOPE_ROOT'] ?? process.cwd();
if (values.replay === true) {
  process.exitCode = (await replay(positionals)) > 0 ? 1 : 0;
} else {
  const found = await fuzz({
    root,
    seed: Number(values.seed ?? 1),
    stream: Number(values.stream ?? 0),
    deadline: values.deadline === undefined ? Number.POSITIVE_INFINITY : Number(values.deadline),
    count: values.count === undefined ? Number.POSITIVE_INFINITY : Number(values.count),
    findings: values.findings ?? join(root, 'apps/sniffer/fuzz/findings-open'),
    hangAt: values['hang-at'] === undefined ? -1 : Number(values['hang-at']),
  });
  process.exitCode = found > 0 ? 1 : 0;
}
