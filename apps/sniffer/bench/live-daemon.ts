/**
 * Issue 13: the sensor daemon on a live link (run by `npm run bench`; needs root, iproute2,
 * tcpreplay, tcpdump and the built sniffer in dist/). Two network namespaces joined by a veth pair
 * with the kernel's default offloads on; tcpreplay sends the synth-pcap capture with 1,000
 * concurrent G.711 calls into one end at fixed rates and at top speed while `sniffer run -i`
 * captures the other end (analysis only: no database, no spool). Baseline in the same run:
 * `tcpdump -w /dev/null` on the same interface at the same rate. Per rate: packets sent
 * (tcpreplay's count), received and dropped by each, and each one's CPU per 100,000 packets/s
 * (user + system time of the process over the replay).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTaskCpuSeconds } from '@callscope/runtime';
import { CONCURRENCY_CASES, fmt, root, synth } from './lib/synth-captures.js';

const sniffer = join(root, 'dist/apps/sniffer/main.js');
const tag = `csb${process.pid % 100000}`;
const nsTx = `${tag}t`;
const nsRx = `${tag}r`;
const dir = mkdtempSync(join(tmpdir(), 'callscope-live-bench-'));
/** Packets per run at a fixed rate: 4 s worth, at least 200,000. */
const packetsFor = (pps: number) => Math.max(200_000, pps * 4);

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const seconds = parseTaskCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (seconds === null) throw new Error(`/proc/${pid}/stat: not a stat line`);
  return seconds;
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function replay(file: string, pps: number | null): { sent: number; seconds: number } {
  const args = ['netns', 'exec', nsTx, 'tcpreplay', '-i', 'tx0', ...(pps === null ? ['--topspeed'] : [`--pps=${pps}`, `--limit=${packetsFor(pps)}`]), file];
  const out = sh('ip', args);
  const sent = Number(/Successful packets:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const seconds = Number(/Actual: \d+ packets \(\d+ bytes\) sent in ([\d.]+) seconds/.exec(out)?.[1] ?? NaN);
  return { sent, seconds };
}

interface Measured {
  sent: number;
  seconds: number;
  received: number;
  drops: number;
  cpu: number;
}

async function measureSniffer(file: string, pps: number | null): Promise<Measured> {
  const control = join(dir, 'bench.sock');
  const child: ChildProcess = spawn('ip', ['netns', 'exec', nsRx, process.execPath, sniffer, 'run', '-i', 'rx0', '--control', control, '--jsonl', '/dev/null'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CALLSCOPE_SNIFFER_CONFIG: '' },
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  if (!(await waitFor(() => err.includes('sensor running'), 15_000))) throw new Error(`sniffer run did not start: ${err}`);
  const pid = child.pid!;
  const cpu0 = cpuSeconds(pid);
  const { sent, seconds } = replay(file, pps);
  const stats = () => JSON.parse(sh('ip', ['netns', 'exec', nsRx, process.execPath, sniffer, 'stats', '--control', control])) as { sources: { received: number; kernel_drops: number; if_drops: number }[] };
  let s = stats().sources[0]!;
  await waitFor(() => {
    s = stats().sources[0]!;
    return s.received + s.kernel_drops + s.if_drops >= sent;
  }, 10_000);
  const cpu = cpuSeconds(pid) - cpu0;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { sent, seconds, received: s.received, drops: s.kernel_drops + s.if_drops, cpu };
}

async function measureTcpdump(file: string, pps: number | null): Promise<Measured> {
  const child = spawn('ip', ['netns', 'exec', nsRx, 'tcpdump', '-i', 'rx0', '-w', '/dev/null', '-B', String(128 * 1024), '-s', '0', '--time-stamp-precision=nano'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  if (!(await waitFor(() => err.includes('listening on'), 10_000))) throw new Error(`tcpdump did not start: ${err}`);
  const cpu0 = cpuSeconds(child.pid!);
  const { sent, seconds } = replay(file, pps);
  await new Promise((r) => setTimeout(r, 500));
  const cpu = cpuSeconds(child.pid!) - cpu0;
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
  const received = Number(/(\d+) packets received by filter/.exec(err)?.[1] ?? NaN);
  const drops = Number(/(\d+) packets dropped by kernel/.exec(err)?.[1] ?? NaN);
  return { sent, seconds, received: received - drops, drops, cpu };
}

const row = (label: string, m: Measured) => {
  const rate = m.sent / m.seconds;
  const perHundredK = (m.cpu / m.seconds / (rate / 100_000)) * 100;
  return `  ${label.padEnd(22)} sent ${fmt(m.sent).padStart(9)} at ${fmt(rate).padStart(8)}/s  received ${fmt(m.received).padStart(9)}  dropped ${fmt(m.drops).padStart(7)}  CPU ${(m.cpu / m.seconds * 100).toFixed(0).padStart(3)} % of a core = ${perHundredK.toFixed(1)} % per 100k packets/s`;
};

try {
  sh('ip', ['netns', 'add', nsTx]);
  sh('ip', ['netns', 'add', nsRx]);
  sh('ip', ['link', 'add', 'tx0', 'netns', nsTx, 'type', 'veth', 'peer', 'name', 'rx0', 'netns', nsRx]);
  for (const [ns, ifc] of [[nsTx, 'tx0'], [nsRx, 'rx0']] as const) {
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${ifc}.disable_ipv6=1`]);
    sh('ip', ['-n', ns, 'link', 'set', ifc, 'up']);
  }
  const file = synth(CONCURRENCY_CASES[0].name, CONCURRENCY_CASES[0].args);
  console.log(`sniffer run -i on a veth (offloads on), ${CONCURRENCY_CASES[0].name}, vs tcpdump -w /dev/null on the same link:`);
  let bestZeroDrop = 0;
  for (const pps of [50_000, 100_000, 200_000, null]) {
    const label = pps === null ? 'top speed' : `${fmt(pps)} packets/s`;
    const s = await measureSniffer(file, pps);
    const t = await measureTcpdump(file, pps);
    console.log(`${label}:`);
    console.log(row('sniffer run', s));
    console.log(row('tcpdump -w /dev/null', t));
    console.log(`  sniffer CPU / tcpdump CPU: ${(s.cpu / t.cpu).toFixed(1)}x; accounted (received + dropped = sent): ${s.received + s.drops === s.sent ? 'yes' : `NO (${s.received + s.drops} of ${s.sent})`}`);
    if (s.drops === 0 && s.received === s.sent) bestZeroDrop = Math.max(bestZeroDrop, s.sent / s.seconds);
  }
  console.log(`highest rate with zero drops: ${fmt(bestZeroDrop)} packets/s (tcpreplay's top speed on this machine bounds the test)`);
} finally {
  spawnSync('ip', ['netns', 'del', nsTx]);
  spawnSync('ip', ['netns', 'del', nsRx]);
  rmSync(dir, { recursive: true, force: true });
}
