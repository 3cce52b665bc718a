/**
 * The built sniffer run as a child process the way an operator runs it, for tests that must act
 * while it runs (stop the database, free disk space, start a second writer): stdout counted line
 * by line (analyze prints one jsonl record per call), stderr kept whole, the moment the
 * `database: ` summary line appeared recorded. Plus the parsers of the CDR delivery lines of
 * issue 18's contract (the analyze summary and the `queue replay` line) and a small tmpfs for
 * disk-full cases.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;

/**
 * The sniffer bundle under test: `dist/apps/sniffer/main.js` (`node scripts/build-app.mjs
 * apps/sniffer`), or `CALLSCOPE_E2E_SNIFFER` to run the same checks against another build (an
 * older revision, to see a regression test fail).
 */
export const SNIFFER = process.env['CALLSCOPE_E2E_SNIFFER'] ?? join(root, 'dist/apps/sniffer/main.js');

/** How a sniffer process ended. */
export interface SnifferExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Lines printed on stdout (jsonl records for analyze). */
  stdoutLines: number;
  /** The first 1 MiB of stdout (enough for `queue status --json` and friends). */
  stdout: string;
  stderr: string;
  /** `Date.now()` when the process exited. */
  exitedAt: number;
  /** `Date.now()` when a stderr line starting with `database: ` arrived, or null. */
  summaryAt: number | null;
}

/** Options of {@link startSniffer}. */
export interface SnifferOptions {
  cwd: string;
  /** Added to the environment (every inherited `CALLSCOPE_*` variable is removed first). */
  env?: Record<string, string>;
}

const STDOUT_KEEP = 1024 * 1024;

/** Every sniffer started here that has not exited yet (for {@link killSniffers}). */
const live = new Set<SnifferProcess>();

/** SIGKILLs every sniffer still running (afterAll: a failed test must not leave one behind). */
export async function killSniffers(): Promise<void> {
  const running = [...live];
  for (const p of running) p.kill('SIGKILL');
  await Promise.allSettled(running.map((p) => p.done));
}

/** A running sniffer; see the module documentation. */
export class SnifferProcess {
  readonly child: ChildProcess;
  readonly args: readonly string[];
  readonly done: Promise<SnifferExit>;
  stdoutLines = 0;
  stdout = '';
  stderr = '';
  summaryAt: number | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(args: readonly string[], options: SnifferOptions) {
    this.args = args;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('CALLSCOPE_')) env[k] = v;
    Object.assign(env, { CALLSCOPE_SNIFFER_CONFIG: '' }, options.env);
    this.child = spawn(process.execPath, [SNIFFER, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this);
    this.child.stdout!.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) this.stdoutLines++;
      if (this.stdout.length < STDOUT_KEEP) this.stdout += chunk.toString('utf8');
      this.notify();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
      if (this.summaryAt === null && /^database: /m.test(this.stderr)) this.summaryAt = Date.now();
      this.notify();
    });
    this.done = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      // 'close' (not 'exit'): both pipes are drained, so stdout and stderr are complete.
      this.child.once('close', (code, signal) => {
        const exitedAt = Date.now();
        live.delete(this);
        this.notify();
        resolve({ code, signal, stdoutLines: this.stdoutLines, stdout: this.stdout, stderr: this.stderr, exitedAt, summaryAt: this.summaryAt });
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Whether the process has not exited yet. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private notify(): void {
    for (const w of this.waiters) w();
  }

  /**
   * Resolves with the first match of `re` on stderr; rejects when the process ends without one or
   * after `timeoutMs` (the message carries stderr).
   */
  async waitForStderr(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return this.waitFor(() => re.exec(this.stderr), `stderr matching ${String(re)}`, timeoutMs);
  }

  /** Resolves once `check()` returns non-null; re-checked on every output and at the end. */
  async waitFor<T>(check: () => T | null, what: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = (err: Error | null, value?: T) => {
        this.waiters.delete(poll);
        clearTimeout(timer);
        if (err !== null) reject(err);
        else resolve(value as T);
      };
      const poll = () => {
        const value = check();
        if (value !== null) finish(null, value);
        else if (!this.running) finish(new Error(`sniffer ${this.args.join(' ')} ended (code ${this.child.exitCode}) before ${what}; stderr:\n${this.stderr}`));
      };
      const timer = setTimeout(() => {
        finish(new Error(`no ${what} within ${timeoutMs} ms from sniffer ${this.args.join(' ')}; stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.waiters.add(poll);
      poll();
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** Starts `sniffer <args>`; the test acts while it runs and awaits {@link SnifferProcess.done}. */
export function startSniffer(args: readonly string[], options: SnifferOptions): SnifferProcess {
  return new SnifferProcess(args, options);
}

/** Runs `sniffer <args>` to its end. */
export async function runSniffer(args: readonly string[], options: SnifferOptions): Promise<SnifferExit> {
  return startSniffer(args, options).done;
}

/** The counts of the analyze summary line (contract of issue 18). */
export interface DeliverySummary {
  /** R: records this run produced. */
  records: number;
  /** D: of them in the database now, and how (new rows / rows it already held). */
  inDatabase: number;
  new: number;
  alreadyPresent: number;
  /** Q: waiting in the on-disk queue, and where. */
  queued: number;
  queueDir: string;
  /** L: lost, and why (null when the line gives no reason). */
  lost: number;
  lostReason: string | null;
  /** The earlier backlog's part, when the line has one. */
  earlier: { replayed: number; new: number; alreadyPresent: number; waiting: number; tornRecords: number; tornBytes: number } | null;
}

/** The numbers of the summary line; what follows them (an explanation) is not part of the shape checked here. */
const SUMMARY_RE =
  /^database: (\d+) records of this run: (\d+) in the database \((\d+) new, (\d+) already present\), (\d+) wait in the queue (.+?), (\d+) lost(?: \(([^)]*(?:\([^)]*\)[^)]*)*)\))?(?:; earlier backlog: (\d+) replayed \((\d+) new, (\d+) already present\), (\d+) still queued, (\d+) torn records skipped \((\d+) bytes\))?/m;

/**
 * The whole summary line as the contract of issue 18 gives it: the counts first (a reason in
 * parentheses after L, the earlier backlog's part after a `; `), then only `; `-separated
 * explanations (why records wait, the transaction count).
 */
export const SUMMARY_LINE_EXACT_RE =
  /^database: \d+ records of this run: \d+ in the database \(\d+ new, \d+ already present\), \d+ wait in the queue \/\S+, \d+ lost(?: \(.*?\))?(?:; earlier backlog: \d+ replayed \(\d+ new, \d+ already present\), \d+ still queued, \d+ torn records skipped \(\d+ bytes[^)]*\)[^;]*)?(?:; [^;]+)*$/;

/** The `database: ` line of stderr, or null. */
export function summaryLine(stderr: string): string | null {
  return /^database: .*$/m.exec(stderr)?.[0] ?? null;
}

/** Parses the `database: ` summary line of analyze's stderr; throws (quoting stderr) when there is none. */
export function parseDeliverySummary(stderr: string): DeliverySummary {
  const m = SUMMARY_RE.exec(stderr);
  if (m === null) throw new Error(`no "database: R records of this run: ..." summary line on stderr:\n${stderr}`);
  const n = (i: number): number => Number(m[i]);
  return {
    records: n(1),
    inDatabase: n(2),
    new: n(3),
    alreadyPresent: n(4),
    queued: n(5),
    queueDir: m[6]!,
    lost: n(7),
    lostReason: m[8] ?? null,
    earlier: m[9] === undefined ? null : { replayed: n(9), new: n(10), alreadyPresent: n(11), waiting: n(12), tornRecords: n(13), tornBytes: n(14) },
  };
}

/** The counts of the `queue replay` line. */
export interface ReplaySummary {
  replayed: number;
  new: number;
  alreadyPresent: number;
  stillQueued: number;
  tornRecords: number;
}

const REPLAY_RE = /replayed (\d+) records: (\d+) new, (\d+) already present; (\d+) still queued; (\d+) torn records skipped/;

/** Parses the `replayed E records: ...` line of `sniffer queue replay` (stdout or stderr). */
export function parseReplaySummary(output: string): ReplaySummary {
  const m = REPLAY_RE.exec(output);
  if (m === null) throw new Error(`no "replayed E records: ..." line in the output of queue replay:\n${output}`);
  return { replayed: Number(m[1]), new: Number(m[2]), alreadyPresent: Number(m[3]), stillQueued: Number(m[4]), tornRecords: Number(m[5]) };
}

/** Mounts a tmpfs of `bytes` on the existing directory `dir`; throws (loudly) when mount fails. */
export function mountTmpfs(dir: string, bytes: number): void {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`mount -t tmpfs on ${dir} failed (the disk-full tests need root or CAP_SYS_ADMIN): ${e.stderr?.toString().trim() ?? e.message}`);
  }
}

/** Unmounts `dir` (lazily when it is still busy). */
export function unmountTmpfs(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  }
}

/**
 * Writes `file` until the filesystem it is on has at most `leaveBytes` available (0: until
 * ENOSPC); returns the bytes written.
 */
export function fillFilesystem(file: string, leaveBytes: number): number {
  const chunk = Buffer.alloc(64 * 1024, 0x46);
  const fd = openSync(file, 'a');
  let written = 0;
  try {
    for (;;) {
      const st = statfsSync(file);
      const avail = st.bavail * st.bsize;
      const want = Math.min(chunk.length, avail - leaveBytes);
      if (want <= 0) return written;
      try {
        written += writeSync(fd, chunk, 0, want);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return written;
        throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Bytes available on the filesystem holding `path`. */
export function availableBytes(path: string): number {
  const st = statfsSync(path);
  return st.bavail * st.bsize;
}
