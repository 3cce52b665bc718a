#!/usr/bin/env node
// `npm run fuzz -- --seconds N [--seed S] [--jobs J]`: the sniffer's fuzz target (callscope issue
// 12). Bundles apps/sniffer/fuzz/main.ts with esbuild (as scripts/bench.mjs does), runs J workers
// (default: 2, one per core) with --expose-gc, each a stream of mutated seed captures through
// `analyze` in process, until N seconds have passed. Breaches are saved by the workers under
// apps/sniffer/fuzz/findings-open/ (<hash>.pcap + <hash>.json); a worker silent on one input for
// longer than the hang limit is killed, its input saved as a hang, and a fresh worker goes on.
// Progress every 10 s; at the end: inputs tried, per mutator, findings, max RSS, slowest input.
// `npm run fuzz -- --replay [dir|file...]` replays saved findings (default: findings-open/).
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { ensureNpm, ROOT } from './ensure.mjs';

ensureNpm();
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    jobs: { type: 'string' },
    replay: { type: 'boolean', default: false },
    findings: { type: 'string' },
    // Self-test of the watchdog: the first worker hangs on its case N (its input is saved as a hang).
    'self-test-hang': { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const runSeed = values.seed === undefined ? Date.now() % 0x1_0000_0000 : Number(values.seed);
const jobs = Math.max(1, Number(values.jobs ?? Math.min(2, availableParallelism())));
const findingsDir = values.findings ?? join(ROOT, 'apps/sniffer/fuzz/findings-open');
/** Same as FUZZ_LIMITS.hangMs in apps/sniffer/fuzz/invariants.ts. */
const HANG_MS = 10_000;
/** Cases per worker left out of the "slowest input" figure. */
const WARM_UP = 3;
if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isInteger(runSeed) || !Number.isInteger(jobs)) {
  process.stderr.write('usage: npm run fuzz -- --seconds N [--seed S] [--jobs J] [--findings DIR] | --replay [dir|file...]\n');
  process.exit(2);
}

// Workspace libs are compiled in (their package.json points at TypeScript sources); npm packages
// stay external, loaded from node_modules as the built apps load them (a native addon such as
// @cloudpss/zstd cannot find its binary from inside a bundle and falls back to wasm).
const externalizeNpm = {
  name: 'externalize-npm',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@callscope/') || a.path.startsWith('node:') ? undefined : { path: a.path, external: true }));
  },
};
const outfile = join(ROOT, 'dist/fuzz/sniffer-fuzz.mjs');
mkdirSync(join(ROOT, 'dist/fuzz'), { recursive: true });
await build({
  entryPoints: [join(ROOT, 'apps/sniffer/fuzz/main.ts')], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20',
  logLevel: 'warning',
  plugins: [externalizeNpm],
});
// The spool's writer thread, beside the bundle where the sniffer looks for it (spoolWorkerScript):
// cli-spool inputs go through the worker and its ring, as the built sniffer's do.
await build({
  entryPoints: [join(ROOT, 'apps/sniffer/src/spool-writer.worker.ts')], outfile: join(ROOT, 'dist/fuzz/spool-writer.worker.js'), bundle: true, platform: 'node', format: 'esm', target: 'node20',
  logLevel: 'warning',
  plugins: [externalizeNpm],
});
const env = { ...process.env, CALLSCOPE_ROOT: ROOT };

if (values.replay) {
  const targets = positionals.length > 0 ? positionals : [findingsDir];
  const child = fork(outfile, ['--root', ROOT, '--replay', ...targets], { execArgv: ['--expose-gc'], env, cwd: ROOT });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await fuzzRun();
}

async function fuzzRun() {
  const t0 = Date.now();
  const deadline = t0 + seconds * 1000;
  const perMutator = new Map();
  const perMode = new Map();
  const signatures = new Map();
  const savedPaths = [];
  let inputs = 0;
  let maxRss = 0;
  /** Heap after a full GC, first and last sample of each stream (every 250 inputs). */
  const heapAfterGc = new Map();
  let slowest = { ms: 0, what: '' };
  let nextStream = 0;
  let running = 0;
  process.stderr.write(`fuzz: run seed ${runSeed}, ${jobs} worker(s), ${seconds} s, findings -> ${findingsDir}\n`);

  /** Counts the breaches of one input by signature (an input breaking one check on 5 lines counts once). */
  const note = (breaches, path) => {
    const sigs = new Set(breaches.map((b) => `${b.invariant}: ${b.message.split('\n')[0].replace(/\d+/g, 'N').slice(0, 160)}`));
    for (const sig of sigs) {
      const entry = signatures.get(sig) ?? { count: 0, paths: [] };
      entry.count++;
      if (path !== null && entry.paths.length < 3 && !entry.paths.includes(path)) entry.paths.push(path);
      signatures.set(sig, entry);
    }
  };

  const startWorker = () => {
    const stream = nextStream++;
    running++;
    const hang = stream === 0 && values['self-test-hang'] !== undefined ? ['--hang-at', values['self-test-hang']] : [];
    const child = fork(outfile, ['--root', ROOT, '--seed', String(runSeed), '--stream', String(stream), '--deadline', String(deadline), '--findings', findingsDir, ...hang], {
      execArgv: ['--expose-gc'], env, cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const w = { stream, workDir: null, current: null, killed: false };
    child.on('message', (m) => {
      if (m.t === 'ready') w.workDir = m.workDir;
      else if (m.t === 'start') w.current = { index: m.index, at: Date.now() };
      else if (m.t === 'done') {
        w.current = null;
        inputs++;
        perMutator.set(m.mutator, (perMutator.get(m.mutator) ?? 0) + 1);
        perMode.set(m.mode, (perMode.get(m.mode) ?? 0) + 1);
        maxRss = Math.max(maxRss, m.rss);
        // The first cases of a worker include JIT warm-up: left out of "slowest" (still held to the bound).
        if (m.index >= WARM_UP && m.ms > slowest.ms) slowest = { ms: m.ms, what: `${m.seed} ${m.mutator} prng ${m.prngSeed} (${m.mode}, stream ${stream} case ${m.index}, ${m.packets} packets)` };
        if (m.breaches.length > 0) {
          note(m.breaches, m.saved);
          if (m.saved !== null) process.stderr.write(`FINDING ${m.saved}: ${m.breaches.map((b) => `${b.invariant}: ${b.message.split('\n')[0]}`).join('; ')}\n`);
        }
      } else if (m.t === 'gc') {
        const h = heapAfterGc.get(stream) ?? { first: m.heap, last: m.heap, max: m.heap };
        h.last = m.heap;
        h.max = Math.max(h.max, m.heap);
        heapAfterGc.set(stream, h);
      } else if (m.t === 'breach') {
        note(m.breaches, null);
        process.stderr.write(`FINDING (run-wide, stream ${stream}): ${m.breaches.map((b) => `${b.invariant}: ${b.message}`).join('; ')}\n`);
      }
    });
    const watchdog = setInterval(() => {
      if (w.current === null || Date.now() - w.current.at < HANG_MS || w.killed) return;
      // Stuck on one input: save it as a hang, then go on with a fresh worker (a new stream).
      w.killed = true;
      child.kill('SIGKILL');
      const input = w.workDir === null ? null : join(w.workDir, 'input.bin');
      if (input !== null && existsSync(input)) {
        const bytes = readFileSync(input);
        const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
        const ext = bytes[0] === 0x1f && bytes[1] === 0x8b ? '.pcap.gz' : bytes[0] === 0x0a && bytes[1] === 0x0d ? '.pcapng' : '.pcap';
        mkdirSync(findingsDir, { recursive: true });
        const path = join(findingsDir, hash + ext);
        copyFileSync(input, path);
        const b = { invariant: 'hang', message: `no answer after ${HANG_MS} ms (run seed ${runSeed}, stream ${stream}, case ${w.current.index}; worker killed)` };
        writeFileSync(join(findingsDir, `${hash}.json`), `${JSON.stringify({ case: { runSeed, stream, index: w.current.index }, breaches: [b] }, null, 2)}\n`);
        note([b], path);
        process.stderr.write(`FINDING ${path}: hang: ${b.message}\n`);
      }
    }, 1000);
    child.on('exit', (code, signal) => {
      clearInterval(watchdog);
      running--;
      if (!w.killed && signal !== null) {
        const b = { invariant: 'exception', message: `worker died by ${signal} (stream ${stream}, case ${w.current?.index ?? '?'})` };
        note([b], null);
        process.stderr.write(`FINDING ${b.message}\n`);
      }
      if (Date.now() < deadline - 1000 && (w.killed || signal !== null)) startWorker();
      else if (running === 0) finish();
    });
  };

  const progress = setInterval(() => {
    const s = (Date.now() - t0) / 1000;
    process.stderr.write(`fuzz: ${Math.round(s)} s, ${inputs} inputs (${(inputs / s).toFixed(1)}/s), ${[...signatures.values()].reduce((a, e) => a + e.count, 0)} findings, max RSS ${mb(maxRss)} MB\n`);
  }, 10_000);

  const finish = () => {
    clearInterval(progress);
    const s = (Date.now() - t0) / 1000;
    const lines = [
      '',
      `fuzz summary (run seed ${runSeed}, ${jobs} worker(s), ${s.toFixed(0)} s)`,
      `  inputs tried: ${inputs} (${(inputs / s).toFixed(1)}/s)`,
      `  per mutator: ${[...perMutator.entries()].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`,
      `  per mode: ${[...perMode.entries()].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`,
      `  max RSS: ${mb(maxRss)} MB; heap after GC (first -> last, max) per worker: ${[...heapAfterGc.values()].map((h) => `${mb(h.first)} -> ${mb(h.last)}, ${mb(h.max)} MB`).join('; ') || 'no sample'}`,
      `  slowest input (after ${WARM_UP} warm-up inputs per worker): ${slowest.ms.toFixed(0)} ms: ${slowest.what}`,
      `  findings (inputs per kind): ${signatures.size === 0 ? 'none' : ''}`,
      ...[...signatures.entries()].map(([sig, e]) => `    ${e.count} x ${sig}\n      ${e.paths.join('\n      ') || '(not saved)'}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    process.exit(signatures.size > 0 ? 1 : 0);
  };

  for (let i = 0; i < jobs; i++) startWorker();
}

function mb(n) {
  return Math.round(n / 1024 ** 2);
}
