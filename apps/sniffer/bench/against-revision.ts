/**
 * `analyze` of this checkout next to `analyze` of another revision, in the same run, on the same
 * synth captures (issue 11: the restructure must stay within 5 % of the code before it). Both
 * bundles run as the user runs them (`node main.js analyze FILE --format jsonl > /dev/null`),
 * alternating, several rounds; the figure is packets per CPU-second of the child (user + system),
 * which a shared machine disturbs less than wall time: the median and the best round of each (on a
 * shared machine other work only ever adds time, so the best round is the least disturbed), with
 * wall time beside them.
 *
 *   CALLSCOPE_BENCH_BASELINE=<rev> npm run bench -- apps/sniffer
 *
 * Without the variable it says so and measures nothing.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CONCURRENCY_CASES, fmt, root, synth } from './lib/synth-captures.js';

const baseline = process.env['CALLSCOPE_BENCH_BASELINE'];
const rounds = Number(process.env['CALLSCOPE_BENCH_ROUNDS'] ?? '7');

interface Run {
  packets: number;
  cpu: number;
  wall: number;
}

/** One `analyze` run: CPU and wall seconds from bash's `time`, packets from the summary line. */
function runAnalyze(bundle: string, file: string): Run {
  const script = `TIMEFORMAT='%U %S %R'; time node "$1" analyze "$2" --format jsonl > /dev/null`;
  const r = spawnSync('bash', ['-c', script, 'bench', bundle, file], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`analyze failed (${bundle}): ${r.stderr.slice(-500)}`);
  const packets = /analyzed (\d+) packets/.exec(r.stderr);
  const times = /^([\d.]+) ([\d.]+) ([\d.]+)$/m.exec(r.stderr);
  if (packets === null || times === null) throw new Error(`no summary or times from ${bundle}: ${r.stderr.slice(-500)}`);
  return { packets: Number(packets[1]), cpu: Number(times[1]) + Number(times[2]), wall: Number(times[3]) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const best = (xs: number[]): number => Math.max(...xs);

function bundleOf(args: string[]): string {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`build failed: ${args.join(' ')}`);
  return r.stdout.trim().split('\n').pop()!;
}

if (baseline === undefined || baseline === '') {
  console.log('analyze against another revision: skipped (set CALLSCOPE_BENCH_BASELINE=<git revision>)');
} else {
  bundleOf([join(root, 'scripts/build-app.mjs'), 'apps/sniffer']);
  const current = join(root, 'dist/apps/sniffer/main.js');
  const old = bundleOf([join(root, 'scripts/build-revision.mjs'), baseline]);
  console.log(`analyze: this checkout vs ${baseline}, ${rounds} alternating rounds, packets per CPU-second of each run (median and best), wall beside`);
  for (const c of CONCURRENCY_CASES) {
    const file = synth(c.name, c.args);
    const runs: { old: Run[]; cur: Run[] } = { old: [], cur: [] };
    runAnalyze(current, file); // page cache and disk warm for both
    for (let i = 0; i < rounds; i++) {
      // Alternate which goes first so a slow phase of the machine hits both alike.
      if (i % 2 === 0) {
        runs.old.push(runAnalyze(old, file));
        runs.cur.push(runAnalyze(current, file));
      } else {
        runs.cur.push(runAnalyze(current, file));
        runs.old.push(runAnalyze(old, file));
      }
    }
    const pps = (rs: Run[], key: 'cpu' | 'wall', pick: (xs: number[]) => number) => pick(rs.map((r) => r.packets / r[key]));
    if (runs.old[0]!.packets !== runs.cur[0]!.packets) throw new Error(`packet counts differ: ${runs.old[0]!.packets} vs ${runs.cur[0]!.packets}`);
    const line = (rs: Run[]) =>
      `median ${fmt(pps(rs, 'cpu', median))}, best ${fmt(pps(rs, 'cpu', best))} packets/CPU-s (wall median ${fmt(pps(rs, 'wall', median))} packets/s)`;
    const ratio = (pick: (xs: number[]) => number) => ((100 * pps(runs.cur, 'cpu', pick)) / pps(runs.old, 'cpu', pick)).toFixed(1);
    console.log(`\n${c.name}: ${fmt(runs.cur[0]!.packets)} packets`);
    console.log(`  ${baseline.padEnd(13)} ${line(runs.old)}`);
    console.log(`  this checkout ${line(runs.cur)}`);
    console.log(`  = ${ratio(median)} % of ${baseline} (median), ${ratio(best)} % (best)`);
  }
}
