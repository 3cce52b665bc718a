/**
 * Live capture gives the same answer as offline analysis: two network namespaces joined by a veth
 * pair; real captures are replayed into one end (libpcap inject) while `sniffer live` captures on
 * the other, and its records must equal `sniffer analyze` of the same files in everything that
 * does not depend on the clock. Needs root (namespaces) and the libpcap addon (libs/live-capture):
 * npm test installs libpcap-dev and the build tools, builds the addon, and CI runs as root.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');
const replay = join(root, 'e2e/tools/replay-pcap.cjs');
const files = ['basic-caller-bye-pcma.pcap', 'dtmf-rfc2833.pcap', 'reject-486-busy.pcap'].map((f) => join(root, 'fixtures/corpus', f));
const tag = `cs${process.pid % 100000}`;
const nsA = `${tag}a`;
const nsB = `${tag}b`;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message || ''}`);
  return r.stdout;
}

interface Rec {
  type: string;
  call_id: string;
  caller: string;
  called: string;
  last_sip_code: number | null;
  bye_by: string | null;
  end_reason: string;
  sip_packets: number;
  dtmf: { digit: string }[];
  streams: { ssrc: string; side: string; packets: number; lost: number; seq_errors: number; codec: string | null }[];
}

/** The clock-free part of a call record. */
const essence = (r: Rec) => ({
  call_id: r.call_id, caller: r.caller, called: r.called, last_sip_code: r.last_sip_code, bye_by: r.bye_by,
  end_reason: r.end_reason, sip_packets: r.sip_packets, dtmf: r.dtmf.map((d) => d.digit).join(''),
  streams: r.streams.map((s) => `${s.ssrc} ${s.side} ${s.packets} ${s.lost} ${s.seq_errors} ${s.codec}`).sort(),
});

beforeAll(() => {
  sh('ip', ['netns', 'add', nsA]);
  sh('ip', ['netns', 'add', nsB]);
  sh('ip', ['link', 'add', 'veth0', 'netns', nsA, 'type', 'veth', 'peer', 'name', 'veth1', 'netns', nsB]);
  sh('ip', ['-n', nsA, 'link', 'set', 'veth0', 'up']);
  sh('ip', ['-n', nsB, 'link', 'set', 'veth1', 'up']);
});

afterAll(() => {
  spawnSync('ip', ['netns', 'del', nsA]);
  spawnSync('ip', ['netns', 'del', nsB]);
});

/** What one `sniffer live` run on veth1 printed while the test files were replayed into veth0. */
interface LiveRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  spool: string;
}

/** Runs `sniffer live` (with `nodeArgs` before the script) while the three files are replayed. */
async function captureLive(nodeArgs: string[]): Promise<LiveRun> {
  const spool = mkdtempSync(join(tmpdir(), 'callscope-live-spool-'));
  const live = spawn('ip', ['netns', 'exec', nsB, process.execPath, ...nodeArgs, sniffer, 'live', '-i', 'veth1', '--spool', spool], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    live.once('exit', (code, signal) => {
      resolve([code, signal]);
    });
  });
  let stdout = '';
  let stderr = '';
  live.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const started = new Promise<void>((resolve, reject) => {
    live.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('live capture started')) resolve();
    });
    live.once('exit', (code) => {
      reject(new Error(`sniffer live exited early (${String(code)}): ${stderr}`));
    });
  });
  await started;
  for (const f of files) sh('ip', ['netns', 'exec', nsA, process.execPath, replay, 'veth0', f, '8']);
  await new Promise((r) => setTimeout(r, 500));
  live.kill('SIGTERM');
  const [code, signal] = await exited;
  return { code, signal, stdout, stderr, spool };
}

/** Asserts a live run reported the three calls as `sniffer analyze` does and spooled the PCMA call. */
function expectSameAsAnalyze(run: LiveRun): void {
  // A freed capture buffer shows as a crash (SIGSEGV, SIGABRT from the allocator) or as wrong records.
  expect(run.code, `sniffer live ended by ${run.signal ?? `exit ${String(run.code)}`}: ${run.stderr.slice(-2000)}`).toBe(0);
  expect(run.stderr).toContain('live capture stopped');

  const offline = spawnSync(process.execPath, [sniffer, 'analyze', ...files], { encoding: 'utf8' });
  const expected = offline.stdout.trim().split('\n').map((l) => JSON.parse(l) as Rec).filter((r) => r.type === 'call').map(essence);
  const got = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Rec).filter((r) => r.type === 'call').map(essence);
  expect(expected).toHaveLength(3);
  expect(got.sort((a, b) => a.call_id.localeCompare(b.call_id))).toEqual(expected.sort((a, b) => a.call_id.localeCompare(b.call_id)));

  // The live spool kept the calls: the PCMA call comes back with its 7 SIP and 812 RTP packets.
  const rec = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Rec & { start: string }).find((r) => r.call_id === '1-2798@192.0.2.10')!;
  const pcap = spawnSync(process.execPath, [sniffer, 'pcap', '--spool', run.spool, '--call-id', rec.call_id, '--start', rec.start], { encoding: 'buffer' });
  expect(pcap.status).toBe(0);
  expect(pcap.stderr.toString()).toContain('819 packets');
}

describe('sniffer live', () => {
  test('captures replayed calls through libpcap and reports what analyze reports for the files', async () => {
    expectSameAsAnalyze(await captureLive([]));
  }, 60_000);

  // Regression guard: cap 0.2.1 (the binding used before libs/live-capture) kept only a raw
  // pointer to the Buffer given to open(), so a collected buffer was freed while libpcap still
  // copied packets into it; our addon creates and holds its buffers itself. Full collections every few milliseconds during the capture: a buffer that
  // nothing held would be gone, and the calls' records or the spooled packets would differ.
  test('gives the same records while garbage collection runs throughout the capture', async () => {
    const hook = join(mkdtempSync(join(tmpdir(), 'callscope-gc-hook-')), 'force-gc.mjs');
    writeFileSync(
      hook,
      [
        "if (typeof globalThis.gc !== 'function') throw new Error('force-gc.mjs needs node --expose-gc');",
        'let runs = 0;',
        'setInterval(() => { globalThis.gc(); runs++; }, 5).unref();',
        "process.on('exit', () => process.stderr.write(`forced gc runs: ${runs}\\n`));",
      ].join('\n'),
    );
    const run = await captureLive(['--expose-gc', '--import', pathToFileURL(hook).href]);
    expectSameAsAnalyze(run);
    // The collections happened while packets arrived: the replay of the three files lasts seconds.
    const runs = Number(/forced gc runs: (\d+)/.exec(run.stderr)?.[1] ?? '0');
    expect(runs).toBeGreaterThan(100);
  }, 90_000);
});
