/**
 * The fuzz loop's parts, shared by the worker of `npm run fuzz` (./main.ts) and the smoke test:
 * the seed captures, the deterministic plan of case i of a run, running a case against the
 * invariants, saving a breach as a finding (input + a JSON recipe beside it) and replaying saved
 * findings.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Breach } from './invariants.js';
import { MUTATORS, mutateInput } from './mutators.js';
import { mixSeed, Prng } from './prng.js';
import { runTarget, type TargetMode } from './target.js';

/** One seed capture (gzip seeds are kept decompressed so the framing-aware mutators see records). */
export interface Seed {
  /** Path relative to the repository root, e.g. `fixtures/corpus/ipv6-call.pcap`. */
  name: string;
  bytes: Uint8Array;
}

/** Seeds above this size are left out: one input must stay well under the time bound. */
export const MAX_SEED_BYTES = 2 * 1024 * 1024;

/**
 * The seed captures: fixtures/corpus (*.pcap, *.pcapng), fixtures/demo and fixtures/synth
 * (gunzipped), sorted by name so a run's plan depends only on the set of files.
 */
export function loadSeeds(root: string, maxBytes = MAX_SEED_BYTES): Seed[] {
  const seeds: Seed[] = [];
  for (const dir of ['fixtures/corpus', 'fixtures/carrier', 'fixtures/demo', 'fixtures/synth']) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs).sort()) {
      if (!/\.(pcap|pcapng)(\.gz)?$/.test(f)) continue;
      let bytes: Uint8Array = readFileSync(join(abs, f));
      if (f.endsWith('.gz')) bytes = gunzipSync(bytes);
      if (bytes.length > maxBytes) continue;
      seeds.push({ name: `${dir}/${f}`, bytes: new Uint8Array(bytes) });
    }
  }
  if (seeds.length === 0) throw new Error(`no seed captures under ${root}/fixtures`);
  return seeds;
}

/** The recipe of one fuzz input: enough to rebuild its bytes from the same seed set. */
export interface FuzzCase {
  /** Run seed, stream (worker) and index within the stream: where the case came from. */
  runSeed: number;
  stream: number;
  index: number;
  seed: string;
  mutator: string;
  prngSeed: number;
  mode: TargetMode;
}

/** Case `index` of stream `stream` of run `runSeed`: a pure function of its arguments and the seed names. */
export function planCase(runSeed: number, stream: number, index: number, seeds: readonly Seed[]): FuzzCase {
  const rng = new Prng(mixSeed(runSeed, stream, index));
  const seed = seeds[rng.int(seeds.length)]!.name;
  const mutator = MUTATORS[rng.int(MUTATORS.length)]!.name;
  const prngSeed = rng.u32();
  const r = rng.int(100);
  // Mostly the direct pipeline (fast) and the CLI (the stdout check on the real output); now
  // and then the CLI with a spool.
  const mode: TargetMode = r < 45 ? 'pipeline' : r < 90 ? 'cli' : 'cli-spool';
  return { runSeed, stream, index, seed, mutator, prngSeed, mode };
}

/** The bytes of a case: its seed mutated by its mutator with its PRNG seed, the other seeds as donors. */
export function buildInput(c: Pick<FuzzCase, 'seed' | 'mutator' | 'prngSeed'>, seeds: readonly Seed[]): Uint8Array {
  const seed = seeds.find((s) => s.name === c.seed);
  if (seed === undefined) throw new Error(`seed ${c.seed} is not in the seed set`);
  return mutateInput(seed.bytes, c.mutator, c.prngSeed, seeds.map((s) => s.bytes));
}

export interface CaseResult {
  case: FuzzCase;
  input: Uint8Array;
  breaches: Breach[];
  ms: number;
  packets: number;
}

/** Builds and runs one case; a mutator that throws is reported as a breach of the harness itself. */
export async function runCase(c: FuzzCase, seeds: readonly Seed[], workDir: string): Promise<CaseResult> {
  let input: Uint8Array;
  try {
    input = buildInput(c, seeds);
  } catch (err) {
    // A bug of the harness, not of the sniffer; reported so it is not hidden.
    return { case: c, input: new Uint8Array(0), breaches: [{ invariant: 'exception', message: `mutator ${c.mutator} threw: ${(err as Error).stack ?? String(err)}` }], ms: 0, packets: -1 };
  }
  const r = await runTarget(input, c.mode, workDir);
  return { case: c, input, breaches: r.breaches, ms: r.ms, packets: r.packets };
}

/** File name extension that says what a finding's bytes are. */
export function captureExtension(bytes: Uint8Array): string {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return '.pcap.gz';
  if (bytes[0] === 0x0a && bytes[1] === 0x0d && bytes[2] === 0x0d && bytes[3] === 0x0a) return '.pcapng';
  return '.pcap';
}

/** What is written beside a finding's bytes. */
export interface FindingMeta {
  case: Partial<FuzzCase>;
  breaches: Breach[];
  ms?: number;
}

/**
 * Saves `bytes` as `<dir>/<12 hex of sha256><ext>` with `<same>.json` beside it; returns the
 * capture's path. The same bytes found twice land in the same file.
 */
export function saveFinding(dir: string, bytes: Uint8Array, meta: FindingMeta): string {
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const path = join(dir, `${hash}${captureExtension(bytes)}`);
  writeFileSync(path, bytes);
  writeFileSync(join(dir, `${hash}.json`), `${JSON.stringify(meta, null, 2)}\n`);
  return path;
}

/** The captures saved in a findings folder (every file but the .json recipes and the README). */
export function listFindings(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.(pcap|pcapng)(\.gz)?$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** The modes a saved finding is replayed in: the one it was found in first, then the others. */
export function replayModes(findingPath: string): TargetMode[] {
  const json = findingPath.replace(/\.(pcap|pcapng)(\.gz)?$/, '.json');
  let first: TargetMode | undefined;
  try {
    first = (JSON.parse(readFileSync(json, 'utf8')) as FindingMeta).case.mode;
  } catch {
    first = undefined; // no recipe: replay in every mode
  }
  const all: TargetMode[] = ['cli', 'pipeline', 'cli-spool'];
  return first === undefined ? all : [first, ...all.filter((m) => m !== first)];
}

/** Replays one saved finding in every mode; the breaches found (empty once it is fixed). */
export async function replayFinding(path: string, workDir: string): Promise<{ mode: TargetMode; breaches: Breach[] }[]> {
  const bytes = new Uint8Array(readFileSync(path));
  const out: { mode: TargetMode; breaches: Breach[] }[] = [];
  for (const mode of replayModes(path)) {
    const r = await runTarget(bytes, mode, workDir);
    // Time on a loaded test machine is not a regression signal for a replay; the rest is.
    out.push({ mode, breaches: r.breaches.filter((b) => b.invariant !== 'time') });
  }
  return out;
}

/** A breach's kind without its numbers: findings of one bug share it (used to save only a few of each). */
export function breachSignature(b: Breach): string {
  const firstLine = b.message.split('\n')[0] ?? '';
  const frame = /\n\s+at [^\n]*/.exec(b.message)?.[0].trim() ?? '';
  return `${b.invariant}: ${firstLine.replace(/\d+/g, 'N').slice(0, 160)} ${frame.replace(/:\d+:\d+\)?$/, '')}`.trim();
}
