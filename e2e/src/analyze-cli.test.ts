/**
 * The built sniffer as a user runs it: `node dist/apps/sniffer/main.js analyze ...` — stdout
 * carries only jsonl, diagnostics go to stderr, exit codes follow the usage text.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');
const corpus = (name: string) => join(root, 'fixtures/corpus', name);

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [sniffer, ...args], { encoding: 'utf8', env: { ...process.env, CALLSCOPE_SNIFFER_CONFIG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function analyze(...args: string[]) {
  return run('analyze', ...args);
}

describe('sniffer analyze (built bundle)', () => {
  test('jsonl on stdout: one parseable record per line, nothing else', () => {
    const r = analyze(corpus('cancel-487.pcap'), corpus('register-auth.pcapng'));
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as { type: string; call_id: string; end_reason?: string });
    expect(records.map((x) => x.type).sort()).toEqual(['call', 'register', 'register', 'register', 'register']);
    expect(records.find((x) => x.type === 'call')).toMatchObject({ call_id: '1-3302@192.0.2.10', end_reason: 'cancelled' });
    expect(r.stderr).toMatch(/analyzed \d+ packets: 1 calls, 4 registrations/);
  });

  test('gzip-compressed captures read like plain ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-e2e-'));
    const gz = join(dir, 'reject.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(corpus('reject-486-busy.pcap'))));
    const plain = analyze(corpus('reject-486-busy.pcap'));
    const zipped = analyze(gz);
    expect(zipped.code).toBe(0);
    expect(zipped.stdout).toBe(plain.stdout);
  });

  test('a missing file and a non-capture give exit 3 and a clear message; the other files are still analysed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-e2e-'));
    const junk = join(dir, 'notes.txt');
    writeFileSync(junk, 'this is not a capture file at all\n');
    const r = analyze(join(dir, 'nope.pcap'), junk, corpus('reject-404-not-found.pcap'));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('nope.pcap: no such file');
    expect(r.stderr).toMatch(/notes\.txt: not a readable capture/);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  test('a capture cut in the middle of a record: every complete packet analysed, a warning, exit 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-e2e-'));
    const cut = join(dir, 'cut.pcap');
    copyFileSync(corpus('reject-486-busy.pcap'), cut);
    const bytes = readFileSync(cut);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 7));
    const r = analyze(cut);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('cut short');
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ last_sip_code: 486 });
  });

  test('bad usage: exit 2 with the usage text', () => {
    const r = analyze('--format', 'xml', corpus('cancel-487.pcap'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format must be jsonl or table');
    expect(analyze().code).toBe(2);
  });

  test('table format for people', () => {
    const r = analyze('--format', 'table', join(root, 'fixtures/demo/demo-calls.pcap'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('6 call(s)');
    expect(r.stdout).toMatch(/walter\s+ivan\s+200 bye_confirmed/);
  });

  // Where a run's time went (issue 17): the phases are consecutive parts of the run, each present
  // only with its output (spool, database).
  test('--stats timing: seconds per phase, in order, within the total; spool and database closing only with them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-e2e-'));
    const demo = join(root, 'fixtures/demo/demo-calls.pcap');
    type Timing = { setup_s: number; packets_s: number; finish_s: number; spool_close_s: number | null; db_close_s: number | null; total_s: number };
    const timingOf = (...args: string[]): Timing => {
      const statsFile = join(dir, `stats-${args.length}.json`);
      const r = analyze(demo, '--no-db', '--stats', statsFile, ...args);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(readFileSync(statsFile, 'utf8')) as { timing: Timing }).timing;
    };
    const spooled = timingOf('--spool', join(dir, 'spool'));
    const plain = timingOf('--no-spool');
    expect(plain.spool_close_s).toBeNull();
    for (const t of [spooled, plain]) {
      expect(t.db_close_s).toBeNull();
      const parts = [t.setup_s, t.packets_s, t.finish_s, t.spool_close_s ?? 0];
      for (const x of [...parts, t.total_s]) expect(Number.isFinite(x) && x >= 0, JSON.stringify(t)).toBe(true);
      // Loading the bundle alone takes longer than a millisecond; the demo's packets are analysed.
      expect(t.setup_s).toBeGreaterThan(0);
      expect(t.packets_s).toBeGreaterThan(0);
      // Consecutive phases: their sum never exceeds the total (each is rounded to the millisecond).
      expect(parts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(t.total_s + 0.004);
    }
    expect(spooled.spool_close_s).toEqual(expect.any(Number));
  });

  // Where the cores went (issue 17): the packet thread and the spool's writer thread, each a part
  // of the process's CPU; the writer's only when it has a thread of its own.
  test('--stats cpu: the process, the packet thread and the spool writer thread, each a part of the whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-e2e-'));
    const demo = join(root, 'fixtures/demo/demo-calls.pcap');
    type Cpu = { process_s: number; packet_thread_s: number | null; spool_thread_s: number | null };
    let n = 0;
    const cpuOf = (env: Record<string, string>, ...args: string[]): Cpu => {
      const statsFile = join(dir, `stats-${n++}.json`);
      const r = spawnSync(process.execPath, [sniffer, 'analyze', demo, '--no-db', '--stats', statsFile, ...args], {
        encoding: 'utf8',
        env: { ...process.env, CALLSCOPE_SNIFFER_CONFIG: '', ...env },
      });
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(readFileSync(statsFile, 'utf8')) as { cpu: Cpu }).cpu;
    };
    const threaded = cpuOf({}, '--spool', join(dir, 'spool-a'));
    const inThread = cpuOf({ CALLSCOPE_SNIFFER_SPOOL_WRITER_THREAD: 'false' }, '--spool', join(dir, 'spool-b'));
    const plain = cpuOf({}, '--no-spool');
    for (const c of [threaded, inThread, plain]) {
      // Starting Node and loading the bundle alone costs tens of milliseconds on the packet thread.
      expect(c.packet_thread_s, JSON.stringify(c)).toBeGreaterThan(0);
      // Per-thread times tick in hundredths of a second: each within the process's total.
      expect(c.packet_thread_s! + (c.spool_thread_s ?? 0)).toBeLessThanOrEqual(c.process_s + 0.02);
    }
    // The writer thread starts a Node environment of its own: never free.
    expect(threaded.spool_thread_s).toBeGreaterThan(0);
    expect(inThread.spool_thread_s).toBeNull();
    expect(plain.spool_thread_s).toBeNull();
  });

  test('--name=value and --name value mean the same in every command', () => {
    const demo = join(root, 'fixtures/demo/demo-calls.pcap');
    const spaced = analyze('--format', 'table', demo);
    const joined = analyze(demo, '--format=table');
    expect(joined.code).toBe(0);
    expect(joined.stdout).toBe(spaced.stdout);
    const dir = mkdtempSync(join(tmpdir(), 'callscope-e2e-'));
    // Both forms reach the spool lookup: exit 6 (no such call), not a usage error.
    for (const args of [['--spool', dir, '--call-id', 'x'], [`--spool=${dir}`, '--call-id=x']]) {
      const r = run('pcap', ...args, '--start=2026-11-29T18:11:32.745046Z');
      expect([r.code, r.stderr]).toEqual([6, expect.stringContaining(`no packets of call "x"`) as unknown]);
    }
  });

  // Regression (issue 11): `pcap --spool` with no value used the current directory; live rejected --x=v.
  test.each([
    [['pcap', '--call-id', 'x', '--start', '2026-11-29T18:11:32.745046Z', '--spool'], 'sniffer pcap: --spool needs a value'],
    [['pcap', '--spool', '--sip', '--call-id', 'x'], 'sniffer pcap: --spool needs a value, got the option "--sip"'],
    [['live', '-i'], 'sniffer live: -i/--interface needs a value'],
    [['live', '--interface=lo', '--duration=0'], 'sniffer live: --duration must be a positive number of seconds'],
    [['live', '--interface=lo', '--bogus'], 'sniffer live: unknown option --bogus'],
    [['analyze', 'x.pcap', '--db'], 'sniffer analyze: --db needs a value'],
    [['analyze', 'x.pcap', '--spool='], 'sniffer analyze: --spool needs a non-empty value'],
    [['analyze', 'x.pcap', '--progress=yes'], 'sniffer analyze: --progress takes no value'],
    [['config', '--bogus'], 'sniffer config: unknown option --bogus'],
    [['nonsense'], 'sniffer: unknown command "nonsense"'],
  ])('usage error, exit 2: %j', (args, message) => {
    const r = run(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  test('live: config bpfFilter is the capture filter when no --filter is given', (ctx) => {
    const live = (filter: string) => {
      const r = spawnSync(process.execPath, [sniffer, 'live', '-i', 'lo', '--duration=0.2', '--quiet'], {
        encoding: 'utf8',
        env: { ...process.env, CALLSCOPE_SNIFFER_CONFIG: '', CALLSCOPE_SNIFFER_BPF_FILTER: filter },
      });
      return r.stderr;
    };
    const good = live('udp port 5060');
    if (/libpcap addon|needs root/.test(good)) ctx.skip();
    expect(good).not.toContain('filter');
    expect(live('not a ( filter')).toContain("can't parse filter expression");
  });

  test.each([['analyze'], ['live'], ['pcap'], ['config']])('%s --help: usage on stdout, exit 0', (command) => {
    const r = run(command, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: sniffer ${command}`));
  });

  test('a reader that closes early (| head) ends the command quietly, not with an EPIPE stack', () => {
    for (const args of [['config'], ['analyze', corpus('busy-hour-a.pcap'), '--format', 'jsonl']]) {
      const r = spawnSync('bash', ['-c', 'set -o pipefail; node "$@" | head -c 10 > /dev/null', 'pipe', sniffer, ...args], {
        encoding: 'utf8',
        env: { ...process.env, CALLSCOPE_SNIFFER_CONFIG: '' },
      });
      expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
      expect(r.status).toBe(0);
    }
  });
});
