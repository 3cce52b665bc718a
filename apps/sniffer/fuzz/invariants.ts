/**
 * The invariants every fuzz input must keep (callscope issue 12), as pure checks over what a run
 * produced, so they are unit-tested on hand-made breaches and shared by the harness, the smoke
 * test and the replay of saved findings:
 * - no exception escapes; the exit code is a documented {@link ExitCode} and not InternalError;
 * - every stdout line is JSON and a valid call or register record (cdr-model's validators);
 * - accounting closes: packets read = packets the pipeline took = the sum of the fates, each
 *   file's reader count = the packets handed on, no packet counted as an internal error;
 * - time and memory stay under {@link FUZZ_LIMITS}.
 */
import { validateCallRecord, validateRegisterRecord, type CallRecord, type RegisterRecord } from '@callscope/cdr-model';
import { ExitCode } from '../src/cli/exit-code.js';

/** The bounds the harness holds every input to. */
export const FUZZ_LIMITS = {
  /** One input (one analyze run) takes at most this long; longer is a finding ("slow"). */
  inputMs: 5_000,
  /** The harness kills a worker silent for this long on one input and saves it as a hang. */
  hangMs: 10_000,
  /** heapUsed after an input (not collected) stays below this. */
  heapBytes: 512 * 1024 ** 2,
  /** Resident set of a worker stays below this. */
  rssBytes: 1024 ** 3,
  /** Heap after a full GC may grow by at most this much over the first sample of a run. */
  heapGrowthBytes: 128 * 1024 ** 2,
} as const;

/** Which invariant broke. */
export type InvariantName =
  | 'exception'
  | 'exit-code'
  | 'internal-error'
  | 'stdout-json'
  | 'record-invalid'
  | 'accounting'
  | 'time'
  | 'memory'
  | 'hang';

export interface Breach {
  invariant: InvariantName;
  message: string;
}

/** The `analyze --stats` document, as far as the checks read it (every field may be missing). */
export interface StatsDocument {
  packets?: unknown;
  packets_read?: unknown;
  fates?: unknown;
  internal_errors?: unknown;
  first_internal_error?: unknown;
  files?: unknown;
  exit_code?: unknown;
}

const EXIT_CODES: ReadonlySet<number> = new Set(Object.values(ExitCode));
/** Exit codes a mutated capture may legitimately give: done, or the file could not be read. */
export const ACCEPTED_EXIT_CODES: ReadonlySet<number> = new Set([ExitCode.Ok, ExitCode.InputFile]);

/** The exit code is documented, and one a bad capture may give (never InternalError). */
export function checkExitCode(exit: number): Breach[] {
  if (!EXIT_CODES.has(exit)) return [{ invariant: 'exit-code', message: `exit code ${exit} is not an ExitCode` }];
  if (exit === ExitCode.InternalError) return [{ invariant: 'internal-error', message: 'exit code 1 (InternalError)' }];
  if (!ACCEPTED_EXIT_CODES.has(exit)) return [{ invariant: 'exit-code', message: `exit code ${exit} for a capture file (expected 0 or 3)` }];
  return [];
}

/** Every line of `stdout` is JSON and a valid call or register record; stdout ends with a newline. */
export function checkStdout(stdout: string): Breach[] {
  if (stdout === '') return [];
  const breaches: Breach[] = [];
  if (!stdout.endsWith('\n')) breaches.push({ invariant: 'stdout-json', message: 'stdout does not end with a newline' });
  const lines = stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    if (breaches.length >= 5) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      breaches.push({ invariant: 'stdout-json', message: `stdout line ${i + 1} is not JSON (${(err as Error).message}): ${line.slice(0, 120)}` });
      return;
    }
    const problem = validateRecord(value);
    if (problem !== null) breaches.push({ invariant: 'record-invalid', message: `stdout line ${i + 1}: ${problem}\n${line.slice(0, 600)}` });
  });
  return breaches;
}

/** Why a parsed stdout value is not a valid record, or null. A validator that throws is a breach too. */
export function validateRecord(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const type = (value as { type?: unknown }).type;
  try {
    if (type === 'call') return validateCallRecord(value as CallRecord);
    if (type === 'register') return validateRegisterRecord(value as RegisterRecord);
  } catch (err) {
    return `the ${String(type)} record breaks its validator: ${(err as Error).message}`;
  }
  return `type ${JSON.stringify(type)} is neither "call" nor "register"`;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * Accounting closes. `readerPackets`: packets the capture reader delivered, counted by the harness
 * itself (null: not known, e.g. the CLI path where only the stats document counts them).
 */
export function checkAccounting(stats: StatsDocument | null, readerPackets: number | null = null): Breach[] {
  if (stats === null || typeof stats !== 'object') return [{ invariant: 'accounting', message: 'no stats document' }];
  const out: Breach[] = [];
  const fail = (message: string) => out.push({ invariant: 'accounting', message });
  const { packets, fates } = stats;
  if (!isCount(packets)) fail(`stats.packets is ${JSON.stringify(packets)}`);
  if (typeof fates !== 'object' || fates === null) {
    fail('stats.fates is missing');
    return out;
  }
  let sum = 0;
  for (const [k, n] of Object.entries(fates as Record<string, unknown>)) {
    if (!isCount(n)) fail(`fate ${k} is ${JSON.stringify(n)}, not a count`);
    else sum += n;
  }
  if (isCount(packets) && sum !== packets) {
    fail(`the fates add up to ${sum}, not packets ${packets}: ${JSON.stringify(fates)}`);
  }
  if (stats.packets_read !== undefined && stats.packets_read !== packets) fail(`packets_read ${JSON.stringify(stats.packets_read)} != packets ${JSON.stringify(packets)}`);
  if (readerPackets !== null && readerPackets !== packets) fail(`the reader delivered ${readerPackets} packets, the pipeline counted ${String(packets)}`);
  if (Array.isArray(stats.files)) {
    for (const f of stats.files as { file?: unknown; packets?: unknown; capture?: { packets?: unknown } | null }[]) {
      if (f.capture !== null && f.capture !== undefined && f.capture.packets !== f.packets) {
        fail(`the reader's summary counts ${String(f.capture.packets)} packets, ${String(f.packets)} were handed to the pipeline`);
      }
    }
  }
  if (stats.internal_errors !== 0) {
    out.push({ invariant: 'internal-error', message: `${String(stats.internal_errors)} packet(s) threw inside the pipeline: ${String(stats.first_internal_error).slice(0, 600)}` });
  }
  return out;
}

/** Time and memory of one input against {@link FUZZ_LIMITS}. */
export function checkResources(ms: number, heapUsed: number, rss: number): Breach[] {
  const out: Breach[] = [];
  if (ms > FUZZ_LIMITS.inputMs) out.push({ invariant: 'time', message: `took ${Math.round(ms)} ms (limit ${FUZZ_LIMITS.inputMs})` });
  if (heapUsed > FUZZ_LIMITS.heapBytes) out.push({ invariant: 'memory', message: `heapUsed ${mb(heapUsed)} MB after the input (limit ${mb(FUZZ_LIMITS.heapBytes)})` });
  if (rss > FUZZ_LIMITS.rssBytes) out.push({ invariant: 'memory', message: `RSS ${mb(rss)} MB after the input (limit ${mb(FUZZ_LIMITS.rssBytes)})` });
  return out;
}

/** Heap after a full GC against the first such sample of the run. */
export function checkHeapGrowth(baseline: number, now: number): Breach[] {
  return now - baseline > FUZZ_LIMITS.heapGrowthBytes
    ? [{ invariant: 'memory', message: `heap after GC grew from ${mb(baseline)} MB to ${mb(now)} MB over the run (limit +${mb(FUZZ_LIMITS.heapGrowthBytes)} MB)` }]
    : [];
}

function mb(n: number): number {
  return Math.round(n / 1024 ** 2);
}
