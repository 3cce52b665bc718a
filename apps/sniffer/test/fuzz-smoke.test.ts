/**
 * Issue 12: the fuzz target's short bounded run inside `npm test`, and its parts.
 * - a deterministic round (fixed run seed, 150 inputs) through the same harness as
 *   `npm run fuzz`: no input may break an invariant;
 * - every saved finding under apps/sniffer/fuzz/findings/ is replayed in every mode: a finding
 *   stays a failing test until the bug it found is fixed;
 * - the invariant checks themselves, fed hand-made breaches (so the round can fail);
 * - the mutators are pure and reproducible: same (seed, mutator, PRNG seed), same bytes, seed untouched;
 * - the harness's framing reader writes every seed back byte for byte.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parseLayout, serializeLayout } from '../fuzz/capture-layout.js';
import { buildInput, listFindings, loadSeeds, planCase, replayFinding, runCase, type CaseResult } from '../fuzz/harness.js';
import { checkAccounting, checkExitCode, checkHeapGrowth, checkResources, checkStdout, FUZZ_LIMITS } from '../fuzz/invariants.js';
import { MUTATORS, mutateInput } from '../fuzz/mutators.js';
import { runTarget } from '../fuzz/target.js';
import { ExitCode } from '../src/cli/exit-code.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const FINDINGS = new URL('../fuzz/findings/', import.meta.url).pathname;
/** The smoke round's seeds: the corpus and synth captures up to 400 KB, so 150 inputs stay short. */
const seeds = loadSeeds(ROOT, 400_000);
const work = mkdtempSync(join(tmpdir(), 'callscope-fuzz-smoke-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('fuzz smoke round', () => {
  test('150 inputs of run seed 14 keep every invariant', async () => {
    const broken: string[] = [];
    const results: CaseResult[] = [];
    for (let i = 0; i < 150; i++) {
      const r = await runCase(planCase(14, 0, i, seeds), seeds, work);
      results.push(r);
      if (r.breaches.length > 0) {
        const c = r.case;
        broken.push(`${c.seed} ${c.mutator} prng ${c.prngSeed} (${c.mode}): ${r.breaches.map((b) => `${b.invariant}: ${b.message.split('\n')[0] ?? ''}`).join('; ')}`);
      }
    }
    expect(broken).toEqual([]);
    // The round is not vacuous: every mutator and every mode ran, and packets reached the pipeline.
    expect(new Set(results.map((r) => r.case.mode)).size).toBe(3);
    expect(new Set(results.map((r) => r.case.mutator)).size).toBe(MUTATORS.length);
    expect(results.filter((r) => r.packets > 0).length).toBeGreaterThan(75);
  }, 120_000);

  test('the findings folder is there (with its README)', () => {
    expect(existsSync(join(FINDINGS, 'README.md'))).toBe(true);
  });

  test('every saved finding replays without a breach', async () => {
    const failing: string[] = [];
    for (const f of listFindings(FINDINGS)) {
      for (const r of await replayFinding(f, work)) {
        if (r.breaches.length > 0) failing.push(`${f} [${r.mode}]: ${r.breaches.map((b) => `${b.invariant}: ${b.message.split('\n')[0] ?? ''}`).join('; ')}`);
      }
    }
    expect(failing).toEqual([]);
  }, 120_000);
});

describe('the invariant checks report breaches', () => {
  test('a real run keeps them: stdout records, accounting, exit code', async () => {
    const seed = seeds.find((s) => s.name.endsWith('basic-caller-bye-pcma.pcap'))!;
    for (const mode of ['cli', 'pipeline', 'cli-spool'] as const) {
      const r = await runTarget(seed.bytes, mode, work);
      expect(r.breaches).toEqual([]);
      expect(r.packets).toBe(829);
    }
  });

  test('stdout: a line that is not JSON, a record of no known type, one that breaks its validator, no final newline', () => {
    expect(checkStdout('')).toEqual([]);
    expect(checkStdout('{"type":"call"\n').map((b) => b.invariant)).toEqual(['stdout-json']);
    expect(checkStdout('analyzed 3 packets\n').map((b) => b.invariant)).toEqual(['stdout-json']);
    expect(checkStdout('{"type":"cdr"}\n')).toEqual([{ invariant: 'record-invalid', message: 'stdout line 1: type "cdr" is neither "call" nor "register"\n{"type":"cdr"}' }]);
    expect(checkStdout('[1]\n')[0]?.message).toContain('not a JSON object');
    // A call record without its arrays makes validateCallRecord throw: still a breach, not a crash.
    const noStreams = { type: 'call', start: '2024-01-01T00:00:00.000000Z', end: '2024-01-01T00:00:01.000000Z', answer: null, caller_ip: '10.0.0.1', callee_ip: '10.0.0.2', sensor: 's' };
    expect(checkStdout(`${JSON.stringify(noStreams)}\n`).map((b) => b.invariant)).toEqual(['record-invalid']);
    expect(checkStdout('{"type":"register"}').map((b) => b.invariant)).toEqual(['stdout-json', 'record-invalid']);
  });

  test('accounting: fates that do not add up, counts that are not counts, reader and pipeline apart, internal errors', () => {
    const ok = { packets: 3, packets_read: 3, fates: { sip_call: 2, udp_other: 1 }, internal_errors: 0, files: [{ file: 'a', packets: 3, capture: { packets: 3 } }] };
    expect(checkAccounting(ok, 3)).toEqual([]);
    expect(checkAccounting({ ...ok, fates: { sip_call: 2 } })[0]?.message).toContain('add up to 2, not packets 3');
    expect(checkAccounting({ ...ok, fates: { sip_call: 2.5, udp_other: 0.5 } }).map((b) => b.invariant)).toEqual(['accounting', 'accounting', 'accounting']);
    expect(checkAccounting({ ...ok, packets_read: 4 }).map((b) => b.invariant)).toEqual(['accounting']);
    expect(checkAccounting(ok, 4)[0]?.message).toBe('the reader delivered 4 packets, the pipeline counted 3');
    expect(checkAccounting({ ...ok, files: [{ file: 'a', packets: 3, capture: { packets: 4 } }] })[0]?.message).toBe("the reader's summary counts 4 packets, 3 were handed to the pipeline");
    expect(checkAccounting({ ...ok, internal_errors: 1, first_internal_error: 'TypeError: x' })).toEqual([{ invariant: 'internal-error', message: '1 packet(s) threw inside the pipeline: TypeError: x' }]);
    expect(checkAccounting(null).map((b) => b.invariant)).toEqual(['accounting']);
    expect(checkAccounting({ packets: 1 })[0]?.message).toBe('stats.fates is missing');
  });

  test('exit codes: 0 and 3 pass; InternalError, usage, storage and undocumented codes do not', () => {
    expect(checkExitCode(ExitCode.Ok)).toEqual([]);
    expect(checkExitCode(ExitCode.InputFile)).toEqual([]);
    expect(checkExitCode(ExitCode.InternalError).map((b) => b.invariant)).toEqual(['internal-error']);
    expect(checkExitCode(ExitCode.Usage).map((b) => b.invariant)).toEqual(['exit-code']);
    expect(checkExitCode(ExitCode.Storage).map((b) => b.invariant)).toEqual(['exit-code']);
    expect(checkExitCode(9).map((b) => b.invariant)).toEqual(['exit-code']);
  });

  test('time and memory bounds', () => {
    expect(checkResources(10, 100 * 1024 ** 2, 200 * 1024 ** 2)).toEqual([]);
    expect(checkResources(FUZZ_LIMITS.inputMs + 1, 0, 0).map((b) => b.invariant)).toEqual(['time']);
    expect(checkResources(0, FUZZ_LIMITS.heapBytes + 1, FUZZ_LIMITS.rssBytes + 1).map((b) => b.invariant)).toEqual(['memory', 'memory']);
    expect(checkHeapGrowth(50e6, 50e6 + FUZZ_LIMITS.heapGrowthBytes)).toEqual([]);
    expect(checkHeapGrowth(50e6, 50e6 + FUZZ_LIMITS.heapGrowthBytes + 1).map((b) => b.invariant)).toEqual(['memory']);
  });
});

describe('mutators', () => {
  const small = seeds.filter((s) => /register-auth|reject-486-busy|sip-tcp|encap-vxlan/.test(s.name));
  const donors = seeds.map((s) => s.bytes);

  test.each(MUTATORS.map((m) => m.name))('%s: same PRNG seed, same bytes; the seed is not modified', (name) => {
    for (const seed of small) {
      const before = sha(seed.bytes);
      for (const prngSeed of [1, 2, 0xdeadbeef]) {
        const a = mutateInput(seed.bytes, name, prngSeed, donors);
        const b = mutateInput(seed.bytes, name, prngSeed, donors);
        expect(sha(a)).toBe(sha(b));
      }
      expect(sha(seed.bytes)).toBe(before);
      expect(donors.every((d, i) => d === seeds[i]!.bytes)).toBe(true);
    }
  });

  test('they change the input (most of the time)', () => {
    let changed = 0;
    let total = 0;
    for (const m of MUTATORS) {
      for (const seed of small) {
        for (let s = 0; s < 5; s++) {
          total++;
          if (sha(mutateInput(seed.bytes, m.name, s, donors)) !== sha(seed.bytes)) changed++;
        }
      }
    }
    expect(changed / total).toBeGreaterThan(0.9);
  });

  test('a case is rebuilt from its recipe alone', () => {
    const c = planCase(99, 3, 17, seeds);
    expect(sha(buildInput(c, seeds))).toBe(sha(buildInput({ seed: c.seed, mutator: c.mutator, prngSeed: c.prngSeed }, seeds)));
    expect(planCase(99, 3, 17, seeds)).toEqual(c);
  });

  test("to-pcapng: a pcap rewritten as pcapng under an honest µs or ns resolution gives the pcap's own records", async () => {
    const seed = seeds.find((s) => s.name.endsWith('basic-caller-bye-pcma.pcap'))!;
    const stdoutOf = async (bytes: Uint8Array) => {
      const r = await runTarget(bytes, 'cli', work);
      expect(r.breaches).toEqual([]);
      return r;
    };
    const ref = await stdoutOf(seed.bytes);
    // PRNG seeds 7 and 8 draw if_tsresol 6 (µs) and 9 (ns) with converted timestamps.
    for (const prngSeed of [7, 8]) {
      const bytes = mutateInput(seed.bytes, 'to-pcapng', prngSeed, donors);
      expect(parseLayout(bytes)?.format).toBe('pcapng');
      expect(bytes[48]).toBe(prngSeed === 7 ? 6 : 9); // the IDB's if_tsresol value
      const r = await stdoutOf(bytes);
      expect(r.packets).toBe(ref.packets);
      expect(r.stdout).toBe(ref.stdout);
    }
    expect(ref.stdout.split('\n')).toHaveLength(2); // one call record
  });

  test.each(seeds.map((s) => s.name))('framing: %s is written back byte for byte', (name) => {
    const seed = seeds.find((s) => s.name === name)!;
    const layout = parseLayout(seed.bytes);
    expect(layout).not.toBeNull();
    expect(layout!.tail.length).toBe(0);
    expect(layout!.records.length).toBeGreaterThan(0);
    expect(sha(serializeLayout(layout!))).toBe(sha(seed.bytes));
  });
});
