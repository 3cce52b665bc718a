/**
 * Runs one fuzz input through the sniffer's offline path, in process, and checks the invariants
 * of ./invariants.ts on what came out. Three modes:
 * - `cli`: `runAnalyze([file, --format jsonl, --no-db, --no-spool, --stats <file>])` with in-memory
 *   stdout/stderr: the real CLI output is what the stdout-JSON invariant reads;
 * - `cli-spool`: the same with `--spool <dir>` (the spool path has crashed before);
 * - `pipeline`: readCaptureFile + PacketPipeline directly (faster), the reader's packet count
 *   checked against the pipeline's, records serialized as the CLI does.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { PacketPipeline } from '@callscope/call-engine';
import { CaptureError } from '@callscope/pcap-format';
import { readCaptureFile } from '@callscope/pcap-store';
import { pipelineOptionsFrom, runAnalyze } from '../src/cli/analyze.cli.js';
import { loadSnifferConfig } from '../src/config.js';
import { checkAccounting, checkExitCode, checkResources, checkStdout, type Breach, type StatsDocument } from './invariants.js';

/** How an input is run; see the file comment. */
export type TargetMode = 'cli' | 'cli-spool' | 'pipeline';
export const TARGET_MODES: readonly TargetMode[] = ['cli', 'cli-spool', 'pipeline'];

export interface TargetResult {
  breaches: Breach[];
  /** Wall time of the run. */
  ms: number;
  /** Packets the pipeline was given (from stats), or -1 when unknown. */
  packets: number;
  exit: number | null;
  /** What the run wrote to stdout (pipeline mode: the records serialized as the CLI does). */
  stdout: string;
}

/** A Writable keeping its text (stderr is capped: a flood of warnings is not the point here). */
class TextSink extends Writable {
  readonly parts: string[] = [];
  private size = 0;

  constructor(private readonly cap = Number.POSITIVE_INFINITY) {
    super();
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const s = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.size < this.cap) this.parts.push(s);
    this.size += s.length;
    cb();
  }

  get text(): string {
    return this.parts.join('');
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message).slice(0, 2000) : String(err);
}

let pipelineOptions: ReturnType<typeof pipelineOptionsFrom> | null = null;

/** The pipeline settings `analyze` uses with no config file and no environment. */
function defaultPipelineOptions(): ReturnType<typeof pipelineOptionsFrom> {
  pipelineOptions ??= pipelineOptionsFrom(loadSnifferConfig([], {}).config, 'fuzz');
  return pipelineOptions;
}

/**
 * Writes `input` to `<workDir>/input.bin` and runs it in `mode`. Never throws for anything the
 * input does: an escaping exception is a breach in the result.
 */
export async function runTarget(input: Uint8Array, mode: TargetMode, workDir: string): Promise<TargetResult> {
  const file = join(workDir, 'input.bin');
  writeFileSync(file, input);
  const t0 = performance.now();
  const r = mode === 'pipeline' ? await runPipeline(file) : await runCli(file, mode === 'cli-spool' ? join(workDir, 'spool') : null, workDir);
  const ms = performance.now() - t0;
  const mem = process.memoryUsage();
  r.breaches.push(...checkResources(ms, mem.heapUsed, mem.rss));
  return { ...r, ms };
}

async function runCli(file: string, spoolDir: string | null, workDir: string): Promise<Omit<TargetResult, 'ms'>> {
  const statsFile = join(workDir, 'stats.json');
  rmSync(statsFile, { force: true });
  const stdout = new TextSink();
  const stderr = new TextSink(64 * 1024);
  const args = [file, '--format', 'jsonl', '--no-db', '--stats', statsFile, ...(spoolDir === null ? ['--no-spool'] : ['--spool', spoolDir])];
  let exit: number;
  try {
    exit = await runAnalyze(args, { stdout, stderr, env: {} });
  } catch (err) {
    return { breaches: [{ invariant: 'exception', message: `runAnalyze threw: ${describe(err)}` }], packets: -1, exit: null, stdout: stdout.text };
  } finally {
    if (spoolDir !== null) rmSync(spoolDir, { recursive: true, force: true });
  }
  const text = stdout.text;
  const breaches = [...checkExitCode(exit), ...checkStdout(text)];
  let stats: StatsDocument | null = null;
  try {
    stats = JSON.parse(readFileSync(statsFile, 'utf8')) as StatsDocument;
  } catch (err) {
    breaches.push({ invariant: 'accounting', message: `no readable --stats file: ${describe(err)}` });
  }
  if (stats !== null) {
    breaches.push(...checkAccounting(stats));
    if (stats.exit_code !== exit) breaches.push({ invariant: 'exit-code', message: `--stats says exit ${String(stats.exit_code)}, runAnalyze returned ${exit}` });
  }
  // The exit code and the stats both report internal errors: one breach is enough.
  return { breaches: dedupe(breaches), packets: typeof stats?.packets === 'number' ? stats.packets : -1, exit, stdout: text };
}

async function runPipeline(file: string): Promise<Omit<TargetResult, 'ms'>> {
  const lines: string[] = [];
  const pipeline = new PacketPipeline(defaultPipelineOptions(), {
    onCall: (r) => lines.push(JSON.stringify(r), '\n'),
    onRegister: (r) => lines.push(JSON.stringify(r), '\n'),
  });
  let read = 0;
  let capture: { packets: number } | null = null;
  try {
    capture = await readCaptureFile(file, (rec) => {
      read++;
      pipeline.onPacket(rec);
    });
  } catch (err) {
    // A capture the reader refuses is an answer (exit 3 in the CLI); anything else escaped.
    if (!(err instanceof CaptureError)) return { breaches: [{ invariant: 'exception', message: `readCaptureFile threw: ${describe(err)}` }], packets: read, exit: null, stdout: lines.join('') };
  }
  try {
    pipeline.finish();
    const stats = pipeline.stats();
    const doc: StatsDocument = { ...stats, packets_read: read, files: [{ file, packets: read, capture }] };
    const text = lines.join('');
    return { breaches: [...checkStdout(text), ...checkAccounting(doc, read)], packets: stats.packets, exit: null, stdout: text };
  } catch (err) {
    return { breaches: [{ invariant: 'exception', message: `pipeline finish/stats threw: ${describe(err)}` }], packets: read, exit: null, stdout: lines.join('') };
  }
}

function dedupe(breaches: Breach[]): Breach[] {
  const internal = breaches.filter((b) => b.invariant === 'internal-error');
  if (internal.length < 2) return breaches;
  return [...breaches.filter((b) => b.invariant !== 'internal-error'), internal.reduce((a, b) => (b.message.length > a.message.length ? b : a))];
}
