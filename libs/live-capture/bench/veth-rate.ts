/**
 * Live capture throughput on a veth pair (run by `npm run bench`; needs root, iproute2, tcpreplay,
 * ethtool): tcpreplay --topspeed sends G.711-sized RTP frames (214 bytes) into one end while
 * LiveCapture delivers the other end's packets to a trivial consumer in this process. Prints,
 * per ring size and offload setting: packets sent (tcpreplay), delivered, kernel drops, the
 * check received + drops = sent, send rate, and this process's CPU per 100,000 packets/s.
 * The old binding (`cap` 0.2.1) lost 5-12 % at top speed with offloads on (issue 13).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveCapture, loadLiveCaptureBinding } from '../src/index.js';

const FRAMES = 50_000;
const LOOPS = 10;
const FRAME_LEN = 214;

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** A classic pcap of FRAMES Ethernet/IPv4/UDP frames of FRAME_LEN bytes, RTP-like payload. */
function writeCapture(path: string): void {
  const rec = 16 + FRAME_LEN;
  const buf = Buffer.alloc(24 + FRAMES * rec);
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(65535, 16);
  buf.writeUInt32LE(1, 20);
  for (let i = 0; i < FRAMES; i++) {
    const o = 24 + i * rec;
    buf.writeUInt32LE(1_700_000_000 + Math.floor(i / 50), o);
    buf.writeUInt32LE((i % 50) * 20_000, o + 4);
    buf.writeUInt32LE(FRAME_LEN, o + 8);
    buf.writeUInt32LE(FRAME_LEN, o + 12);
    const f = o + 16;
    buf.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00], f);
    buf.set([0x45, 0, (FRAME_LEN - 14) >> 8, (FRAME_LEN - 14) & 0xff, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], f + 14);
    buf.writeUInt16BE(4000, f + 34);
    buf.writeUInt16BE(4002, f + 36);
    buf.writeUInt16BE(FRAME_LEN - 34, f + 38);
    buf.set([0x80, 8], f + 42);
    buf.writeUInt16BE(i & 0xffff, f + 44);
  }
  writeFileSync(path, buf);
}

interface RunResult {
  ring: string;
  offloads: string;
  sent: number;
  delivered: number;
  kernelDrops: number;
  balanced: boolean;
  sendRate: number;
  cpuPer100k: string;
  batches: number;
}

async function runOnce(tx: string, rx: string, file: string, bufferBytes: number, offloads: boolean): Promise<RunResult> {
  for (const dev of [tx, rx]) spawnSync('ethtool', ['-K', dev, 'tso', offloads ? 'on' : 'off', 'gso', offloads ? 'on' : 'off', 'gro', offloads ? 'on' : 'off']);
  let delivered = 0;
  let sum = 0;
  const cap = new LiveCapture(
    { device: rx, filter: 'udp', bufferBytes },
    (rec) => {
      delivered++;
      sum += rec.data[rec.capLen - 1]!;
    },
    binding,
  );
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const replay = spawn('tcpreplay', ['-i', tx, '--topspeed', `--loop=${LOOPS}`, '--preload-pcap', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  replay.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await new Promise((resolve) => replay.once('exit', resolve));
  const t1 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, 500)); // the last blocks time out and are delivered
  const cpu = process.cpuUsage(cpu0);
  const st = cap.stats();
  cap.close();
  const sent = Number(/Successful packets:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const secs = Number(t1 - t0) / 1e9;
  const rate = sent / secs;
  const cpuS = (cpu.user + cpu.system) / 1e6;
  if (sum < 0) throw new Error('unreachable');
  return {
    ring: `${bufferBytes >> 20} MiB`,
    offloads: offloads ? 'on' : 'off',
    sent,
    delivered,
    kernelDrops: st.kernelDrops,
    balanced: delivered + st.kernelDrops === sent && st.received === sent,
    sendRate: Math.round(rate),
    // CPU seconds this process spent per second of traffic, scaled to 100,000 packets/s.
    cpuPer100k: `${((cpuS / secs / (delivered / secs)) * 100_000 * 100).toFixed(1)} %`,
    batches: st.batches,
  };
}

// Bundled into dist/bench by scripts/bench.mjs (cwd: the repo root), away from the addon.
const binding = loadLiveCaptureBinding([join(process.cwd(), 'libs/live-capture/build/Release/live_capture.node')]);
const dir = mkdtempSync(join(tmpdir(), 'callscope-veth-rate-'));
const file = join(dir, 'rtp.pcap');
writeCapture(file);
const tx = `hAb${process.pid % 10000}t`;
const rx = `hAb${process.pid % 10000}r`;
spawnSync('ip', ['link', 'del', tx]);
sh('ip', ['link', 'add', tx, 'type', 'veth', 'peer', 'name', rx]);
for (const dev of [tx, rx]) {
  spawnSync('sysctl', ['-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
  sh('ip', ['link', 'set', dev, 'up']);
}
try {
  const rows: RunResult[] = [];
  for (const offloads of [true, false]) {
    for (const ring of [64, 16]) {
      for (let i = 0; i < 3; i++) rows.push(await runOnce(tx, rx, file, ring << 20, offloads));
    }
  }
  console.table(rows);
} finally {
  spawnSync('ip', ['link', 'del', tx]);
  rmSync(dir, { recursive: true, force: true });
}
