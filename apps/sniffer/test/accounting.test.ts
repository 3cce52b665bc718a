/**
 * Issue 12: every packet read is accounted for. `analyze --stats` reports what became of each
 * packet (`fates`); on every corpus capture, the demo and the synth captures, the packets the
 * reader delivered equal the packets the pipeline took equal the sum of the fates, and capinfos
 * (the corpus truth, a counter we did not write) agrees with the count read. The media fates are
 * the call table's own counters, so this checks two counting points against each other.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { corpusCaptures } from '@callscope/testing';
import { afterAll, describe, expect, test } from 'vitest';
import { runAnalyze, summarize } from '../src/cli/analyze.cli.js';
import { ExitCode } from '../src/cli/exit-code.js';
import type { PipelineStats } from '@callscope/call-engine';

const FIXTURES = new URL('../../../fixtures/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'callscope-accounting-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** A Writable that keeps what it is given. */
function sink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      w.text += chunk.toString('utf8');
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

interface StatsDoc extends PipelineStats {
  packets_read: number;
  files: { file: string; packets: number; capture: { packets: number } | null }[];
  exit_code: number;
}

/** `sniffer analyze <files> --stats <tmp>` in process; the stats document, stdout and stderr. */
async function analyze(files: string[]): Promise<{ stats: StatsDoc; stdout: string; stderr: string; exit: ExitCode }> {
  const statsFile = join(work, `stats-${Math.random().toString(36).slice(2)}.json`);
  const stdout = sink();
  const stderr = sink();
  const exit = await runAnalyze([...files, '--no-db', '--no-spool', '--stats', statsFile], { stdout, stderr, env: {} });
  return { stats: JSON.parse(readFileSync(statsFile, 'utf8')) as StatsDoc, stdout: stdout.text, stderr: stderr.text, exit };
}

function expectAccountingCloses(st: StatsDoc): void {
  const fateSum = Object.values(st.fates).reduce((a, b) => a + b, 0);
  expect(Object.values(st.fates).every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
  expect(st.packets).toBe(st.packets_read);
  expect(fateSum).toBe(st.packets);
  expect(st.files.reduce((a, f) => a + f.packets, 0)).toBe(st.packets_read);
  for (const f of st.files) expect(f.capture?.packets).toBe(f.packets);
  expect(st.internal_errors).toBe(0);
}

describe('packets read = the sum of what became of them', () => {
  test.each(corpusCaptures().map((c) => ({ name: c.name, path: c.path, capinfos: c.truth.capture.packets })))('$name', async ({ path, capinfos }) => {
    const { stats, exit } = await analyze([path]);
    expect(exit).toBe(ExitCode.Ok);
    expect(stats.packets_read).toBe(capinfos);
    expectAccountingCloses(stats);
  });

  const synth = readdirSync(join(FIXTURES, 'synth')).filter((f) => f.endsWith('.pcap.gz')).sort();
  test('the synth captures are there', () => {
    expect(synth.length).toBeGreaterThanOrEqual(4);
  });
  test.each(synth)('synth: %s', async (file) => {
    const { stats, stdout, exit } = await analyze([join(FIXTURES, 'synth', file)]);
    expect(exit).toBe(ExitCode.Ok);
    expectAccountingCloses(stats);
    // synth-pcap.py: 20 answered calls, two streams each, every packet SIP or RTP of a call.
    expect(stdout.trim().split('\n')).toHaveLength(20);
    expect(stats.fates['sip_call']! + stats.fates['rtp_in_call']!).toBe(stats.packets);
  });

  test('several files at once, the demo among them, as one run', async () => {
    const files = [join(FIXTURES, 'demo/demo-calls.pcap'), join(FIXTURES, 'synth', synth[0]!), ...corpusCaptures().slice(0, 3).map((c) => c.path)];
    const { stats } = await analyze(files);
    expectAccountingCloses(stats);
    expect(stats.files).toHaveLength(5);
  });
});

describe('the summary shows every non-zero counter', () => {
  test('fates and counters outside the first line get their own lines', () => {
    const st: PipelineStats = {
      packets: 10,
      fates: { rtp_in_call: 3, rtcp_in_call: 0, rtp_without_call: 0, udp_other: 0, sip_call: 2, rtp_over_stream_cap: 4, other_l4: 1 },
      sip: { messages: 2, rejected: { TooManyHeaders: 1 }, methods: {} },
      calls: { calls_closed: 1, calls_evicted: 0, sip_out_of_dialog: 0, streams_over_cap: 4, clock_outliers: 2 },
      registrations: { registers: 0, evicted: 3 },
      tcp: { messages: 0, overflows: 1 },
      ip_reassembly: { timed_out: 5 },
      internal_errors: 0,
      first_internal_error: null,
    };
    const text = summarize(st);
    expect(text).toMatch(/^analyzed 10 packets: 1 calls, 0 registrations, 2 SIP messages \(1 unparsable/);
    for (const part of ['rtp_over_stream_cap 4', 'other_l4 1', 'TooManyHeaders 1', 'streams_over_cap 4', 'clock_outliers 2', 'evicted 3', 'overflows 1', 'timed_out 5']) {
      expect(text).toContain(part);
    }
  });
});
