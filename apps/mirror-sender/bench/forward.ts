/**
 * Issue 16: mirror-sender forwarding cost and wire size per compression, in one run (`npm run
 * bench`, or alone: `npm run bench -- apps/mirror-sender/bench/forward`).
 *
 * For each capture (the synth-1k-concurrent capture the sniffer benches use, a real G.711 carrier
 * capture and the SIP-heavy corpus capture), each compression and protocol version, the real
 * MirrorSender with its real MirrorConnection (TCP, HMAC handshake, window, acks) runs ALONE in a
 * child process (bench/paced-sender.ts, bundled) and forwards over loopback to a receiver in
 * another child process that does what the sniffer's receiver does per batch (frame decode,
 * checkBatch, mirror-codec decompression, PacketList or flow-block decode, ReceiveWindow,
 * cumulative Ack). The sender process is fed like a live capture: the capture's first
 * CASE_PACKETS packets sit in one buffer, and every millisecond the packets due at RATE packets/s
 * go to `MirrorSender.addCaptured` as one capture batch (as the sender's LiveInput takes
 * @callscope/live-capture's batches; MIRROR_BENCH_FEED=packet: to `MirrorSender.add` one by one
 * through a reused record with a fresh view each); one warm-up pass, then PASSES measured passes. The same loop
 * without a sender is measured too ("pacing loop alone"): the feed's own cost, to subtract.
 *
 * Until 2026-12-05 the sender ran inside this process on packets held as 400,000 objects: every
 * major GC marked them, and the compressors' short-lived output buffers (external memory) set off
 * a major GC every 80-150 ms, 40-60 ms each (`--trace-gc`): that, the unpaced replay loop and the
 * per-case JIT warm-up were measured as the sender's CPU (21-26 % of a core per 100k packets/s).
 *
 * With CALLSCOPE_BENCH_BASELINE=<rev> the paced sender of that revision (its src and libs, built
 * with scripts/build-revision.mjs) runs beside this checkout's, alternately, MIRROR_BENCH_RUNS
 * times each: medians and spread side by side.
 *
 * Reported per case:
 * - pkt/s: packets delivered / delivery time of the measured passes (below RATE only when the
 *   sender cannot keep up).
 * - cpu/100k: the sender process' CPU (user + system, every thread) during the measured passes
 *   (delivery, then until every batch is acknowledged) per packet, x 10: % of one core per
 *   100,000 packets/s. Split: main thread / other threads (V8's GC and compiler workers, libuv),
 *   and the kernel's share; GC: main-thread pauses (PerformanceObserver), ms per 100k packets.
 * - wire B/pkt: bytes written to the socket during the measured passes (frames, heartbeats) /
 *   packets, and ratio = raw / wire, raw being the captured bytes (caplen, no pcap record headers).
 * - hdr B/pkt: the header cost. payload_c = sum over batches of the same compression applied to
 *   the concatenated RTP payloads of the batch alone (bytes after the RTP header: 12 + 4*CC +
 *   extension; UDP over Ethernet/VLAN/Linux-cooked, IPv4/IPv6, version 2, not RTCP); for `none`
 *   the payload bytes themselves. hdr = (wire - payload_c) / packets: what everything but the RTP
 *   payloads costs on the wire (link/IP/UDP/RTP headers, non-RTP packets such as SIP whole, the
 *   protobuf fields and the framing). Target < 8 B/packet.
 * Then, per capture, the sender's own per-packet time by stage in this process without the
 * network (see `split`).
 */
import { fork, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ZSTD_PAYLOAD_LEVEL, compressBatch, compressZstdSplit, compressionWire } from '@callscope/mirror-codec';
import { FlowBlockEncoder, PROTOCOL_VERSION, PacketList, rawPacketData, type Packet } from '@callscope/mirror-protocol';
import { compress as zstdCompress } from '@cloudpss/zstd';
import { readCaptureFile } from '@callscope/pcap-store';
import { DEFAULT_BATCH_PACKETS, DEFAULT_BUFFER_MB, MIRROR_COMPRESSIONS, type MirrorCompression } from '../src/config.js';
import { PacketBatcher, type PendingBatch } from '../src/batcher.js';
import { MirrorPeer } from '../test/mirror-peer.js';
import { FlowBlockEncoderB474c54 } from './baseline/flow-block-b474c54.js';
import type { PacedCase, PacedResult } from './paced-sender.js';

const root = process.env['CALLSCOPE_ROOT'] ?? process.cwd();
const SECRET = Buffer.from('bench-secret-of-at-least-16-bytes');
/** MIRROR_BENCH_BATCH_PACKETS: the sender's batch.maxPackets (default: the config's default). */
const BATCH_PACKETS = Number(process.env['MIRROR_BENCH_BATCH_PACKETS'] ?? DEFAULT_BATCH_PACKETS);
/**
 * MIRROR_BENCH_BUFFER_MB: the sender's buffer.maxMb (default: the config's, 256). Until
 * 2026-12-05 the bench used 64 MiB: at 1,000,000 pkt/s that is 0.28 s of raw batches, less than
 * an ack can lag on this shared 2-core machine, and the overflow (and its reconnect) was measured.
 */
const BUFFER_MB = Number(process.env['MIRROR_BENCH_BUFFER_MB'] ?? DEFAULT_BUFFER_MB);
const TARGET_HEADER_BYTES = 8;
/**
 * Packets forwarded per case: a longer capture is cut, a shorter one repeated (the same packets
 * again: compression sees the same bytes, the rate is not dominated by the handshake and the last
 * batch's ack).
 */
const CASE_PACKETS = Number(process.env['MIRROR_BENCH_PACKETS'] ?? 400_000);
/** MIRROR_BENCH_SPLIT_ONLY=1: only the per-packet split (no forwarding runs), for quick profiling. */
const SPLIT_ONLY = process.env['MIRROR_BENCH_SPLIT_ONLY'] === '1';
/**
 * MIRROR_BENCH_RECEIVER=ack: the receiver checks and acks each batch without decompressing or
 * decoding it, so that the sender can be run at 1,000,000 pkt/s on this 2-core machine (the full
 * receiver then falls behind, the sender's buffer overflows, and what is measured is the overflow).
 * The sender's work is the same; only the receiver's share of the machine shrinks.
 */
const RECEIVER_ACK_ONLY = process.env['MIRROR_BENCH_RECEIVER'] === 'ack';

/**
 * MIRROR_BENCH_PIN=1: the sender process runs on CPU 1 alone and the receiver on CPU 0 alone
 * (`taskset`), every thread of each: the target read literally, 1,000,000 pkt/s forwarded by a
 * sender that has one core (its GC and compiler threads and the kernel's loopback delivery
 * included). Its rate then shows whether it kept up.
 */
const PIN = process.env['MIRROR_BENCH_PIN'] === '1';

/** MIRROR_BENCH_RATE: packets/s the paced sender is fed (default 250,000). */
const RATE = Number(process.env['MIRROR_BENCH_RATE'] ?? 250_000);
/**
 * MIRROR_BENCH_TICK_MS: ms between two deliveries of the paced feed (default 1). A live capture
 * gets packets a kernel block at a time (TPACKET_V3), i.e. every few ms at these rates: 1 ms
 * wakes the sender more often than that.
 */
const TICK_MS = Number(process.env['MIRROR_BENCH_TICK_MS'] ?? 1);
/**
 * MIRROR_BENCH_FEED: `batch` (default) hands each tick's packets to `MirrorSender.addCaptured` as
 * one capture batch, as the sender's LiveInput takes LiveCapture's batches; `packet` hands them
 * one by one to `MirrorSender.add` (a record and a view each), as it did until 2026-12-05. A
 * baseline revision's paced sender feeds the way that revision did.
 */
const FEED: 'batch' | 'packet' = process.env['MIRROR_BENCH_FEED'] === 'packet' ? 'packet' : 'batch';
/** MIRROR_BENCH_PASSES: measured passes over the case's packets after the warm-up pass (default 2). */
const PASSES = Number(process.env['MIRROR_BENCH_PASSES'] ?? 2);
/** MIRROR_BENCH_RUNS: runs of every case (per revision, alternating); medians and spread (default 1). */
const RUNS = Number(process.env['MIRROR_BENCH_RUNS'] ?? 1);
/**
 * MIRROR_BENCH_VERSIONS=2: only those protocol versions (default 1,2,3); a baseline revision that
 * speaks less offers its highest instead (its line then shows that version).
 */
const VERSIONS = (process.env['MIRROR_BENCH_VERSIONS'] ?? '1,2,3').split(',').map(Number);
/** MIRROR_BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR": node options of the sender processes (profiling). */
const NODE_FLAGS = (process.env['MIRROR_BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
/** MIRROR_BENCH_CAPTURES=synth,busy: only the captures whose names contain one of those. */
const ONLY_CAPTURES = process.env['MIRROR_BENCH_CAPTURES']?.split(',');
/** MIRROR_BENCH_NO_SPLIT=1: the forwarding cases only (no per-stage split). */
const NO_SPLIT = process.env['MIRROR_BENCH_NO_SPLIT'] === '1';
/** MIRROR_BENCH_PROFILE_DIR=DIR: a CPU profile of every case's measured passes (sender process) goes there. */
const PROFILE_DIR = process.env['MIRROR_BENCH_PROFILE_DIR'] ?? '';
let profiles = 0;
/** MIRROR_BENCH_PROFILE_HEAP=1: allocation profiles (.heapprofile, collected objects included) instead of CPU profiles. */
const PROFILE_HEAP = process.env['MIRROR_BENCH_PROFILE_HEAP'] === '1';
/** MIRROR_BENCH_COMPRESSIONS=zstd,lz4: only those forwarding cases. */
const ONLY_COMPRESSIONS = process.env['MIRROR_BENCH_COMPRESSIONS']?.split(',');

interface BenchPacket {
  linkType: number;
  tsSec: number;
  tsNsec: number;
  origLen: number;
  data: Uint8Array;
}

/** The synth-1k-concurrent capture of the sniffer benches (same arguments and file: generated once). */
function synth1k(): string {
  const out = join(root, 'var/bench/synth-1k-concurrent.pcap');
  if (!existsSync(out)) {
    mkdirSync(join(root, 'var/bench'), { recursive: true });
    const args = ['--calls', '1000', '--concurrent', '1000', '--duration', '20', '--codec', 'pcma', '--seed', '7', '--out', out];
    const r = spawnSync('python3', [join(root, 'tools/synth-pcap.py'), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('synth-pcap.py failed');
  }
  return out;
}

async function load(file: string): Promise<BenchPacket[]> {
  const packets: BenchPacket[] = [];
  await readCaptureFile(file, (rec) => {
    if (packets.length < CASE_PACKETS) packets.push({ linkType: rec.linkType, tsSec: rec.tsSec, tsNsec: rec.tsNsec, origLen: rec.origLen, data: rec.data.slice() });
    return undefined;
  });
  const once = packets.length;
  for (let i = 0; packets.length < CASE_PACKETS && once > 0; i++) packets.push(packets[i % once]!);
  return packets;
}

/** Offset of the RTP payload in a captured frame, or -1 when it is not RTP over UDP. */
function rtpPayloadOffset(p: BenchPacket): number {
  const d = p.data;
  let off: number;
  let etherType: number;
  if (p.linkType === 1) {
    if (d.length < 14) return -1;
    etherType = (d[12]! << 8) | d[13]!;
    off = 14;
    while ((etherType === 0x8100 || etherType === 0x88a8) && off + 4 <= d.length) {
      etherType = (d[off + 2]! << 8) | d[off + 3]!;
      off += 4;
    }
  } else if (p.linkType === 113) {
    if (d.length < 16) return -1;
    etherType = (d[14]! << 8) | d[15]!;
    off = 16;
  } else {
    return -1;
  }
  let proto: number;
  if (etherType === 0x0800) {
    if (off + 20 > d.length) return -1;
    proto = d[off + 9]!;
    off += (d[off]! & 0x0f) * 4;
  } else if (etherType === 0x86dd) {
    if (off + 40 > d.length) return -1;
    proto = d[off + 6]!;
    off += 40;
  } else {
    return -1;
  }
  if (proto !== 17 || off + 8 + 12 > d.length) return -1;
  off += 8;
  const b0 = d[off]!;
  const pt = d[off + 1]! & 0x7f;
  if (b0 >> 6 !== 2 || (pt >= 72 && pt <= 76)) return -1;
  let rtp = off + 12 + (b0 & 0x0f) * 4;
  if ((b0 & 0x10) !== 0) {
    if (rtp + 4 > d.length) return -1;
    rtp += 4 + ((d[rtp + 2]! << 8) | d[rtp + 3]!) * 4;
  }
  return rtp <= d.length ? rtp : -1;
}

/**
 * Bytes of the RTP payloads compressed alone, batch by batch, with `name`; for zstd under version
 * 3 at {@link ZSTD_PAYLOAD_LEVEL}, the level its payload frame gets (the header cost then counts
 * what the headers cost, not the payload level's difference).
 */
function payloadCost(packets: BenchPacket[], offsets: Int32Array, name: MirrorCompression, version: number): number {
  let total = 0;
  for (let i = 0; i < packets.length; i += BATCH_PACKETS) {
    const parts: Uint8Array[] = [];
    for (let k = i; k < Math.min(i + BATCH_PACKETS, packets.length); k++) if (offsets[k]! >= 0) parts.push(packets[k]!.data.subarray(offsets[k]));
    const joined = Buffer.concat(parts);
    if (name === 'none') total += joined.length;
    else if (name === 'zstd' && version >= 3) total += zstdCompress(joined, ZSTD_PAYLOAD_LEVEL).length;
    else total += compressBatch(compressionWire(name), joined).length;
  }
  return total;
}

/** A bundle of bench/paced-sender.ts: this checkout's, or a baseline revision's. */
interface SenderBundle {
  label: string;
  path: string;
  /** The highest protocol version its code speaks: a case of a higher version offers this one instead. */
  maxVersion: number;
}

/** PROTOCOL_VERSION of the tree at `tree` (a baseline revision may speak less than this checkout). */
function protocolVersionOf(tree: string): number {
  const src = readFileSync(join(tree, 'libs/mirror-protocol/src/protocol-constants.ts'), 'utf8');
  const m = /export const PROTOCOL_VERSION = (\d+);/.exec(src);
  if (m === null) throw new Error(`no PROTOCOL_VERSION in ${tree}`);
  return Number(m[1]);
}

/** Bundles bench/paced-sender.ts of the tree at `tree` (its own src and libs) into `outfile`. */
async function bundlePacedSender(tree: string, outfile: string): Promise<void> {
  const entry = join(tree, 'apps/mirror-sender/bench/paced-sender.ts');
  // A revision from before the paced sender existed gets this checkout's (it uses the sender's public API only).
  if (!existsSync(entry)) copyFileSync(join(root, 'apps/mirror-sender/bench/paced-sender.ts'), entry);
  await build({
    entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning',
    plugins: [
      {
        name: 'externalize-npm',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@callscope/') || a.path.startsWith('node:') ? undefined : { path: a.path, external: true }));
        },
      },
    ],
  });
}

/** This checkout's paced sender, and CALLSCOPE_BENCH_BASELINE's (scripts/build-revision.mjs) when set. */
async function senderBundles(): Promise<SenderBundle[]> {
  const out = join(root, 'dist/bench/apps/mirror-sender');
  mkdirSync(out, { recursive: true });
  const bundles: SenderBundle[] = [];
  const baseline = process.env['CALLSCOPE_BENCH_BASELINE'] ?? '';
  if (baseline !== '') {
    const r = spawnSync(process.execPath, [join(root, 'scripts/build-revision.mjs'), baseline, 'apps/mirror-sender'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`build-revision ${baseline} failed`);
    // .../var/bench/rev-<sha>/dist/apps/mirror-sender/main.js -> .../var/bench/rev-<sha>
    const tree = dirname(dirname(dirname(dirname(r.stdout.trim()))));
    const path = join(out, `paced-sender-${basename(tree)}.mjs`);
    await bundlePacedSender(tree, path);
    bundles.push({ label: baseline, path, maxVersion: protocolVersionOf(tree) });
  }
  const path = join(out, 'paced-sender.mjs');
  await bundlePacedSender(root, path);
  bundles.push({ label: 'this', path, maxVersion: PROTOCOL_VERSION });
  return bundles;
}

/** One paced case: a receiver child, the sender child (bundle), the sender's result. */
async function paced(bundle: SenderBundle, file: string, name: MirrorCompression, version: number, floor: boolean): Promise<PacedResult> {
  const receiver = fork(fileURLToPath(import.meta.url), ['receiver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => receiver.once('message', (m) => { resolve(m as number); }));
  if (PIN) pinTo(0, receiver.pid!);
  version = Math.min(version, bundle.maxVersion);
  const c: PacedCase = { file, packets: CASE_PACKETS, rate: RATE, tickMs: TICK_MS, passes: PASSES, compression: name, version, port, secretHex: SECRET.toString('hex'), batchPackets: BATCH_PACKETS, bufferMb: BUFFER_MB, floor, feed: FEED };
  if (PROFILE_DIR !== '') c.profileFile = join(PROFILE_DIR, `${basename(file).replace(/\W+/g, '-')}-${name}-v${version}-${bundle.label}${floor ? '-floor' : ''}-${++profiles}.${PROFILE_HEAP ? 'heapprofile' : 'cpuprofile'}`);
  const argv = [process.execPath, ...NODE_FLAGS, '--expose-gc', bundle.path, JSON.stringify(c)];
  // Pinned from its start, so that every thread it creates inherits the one CPU.
  if (PIN) argv.unshift('taskset', '-c', '1');
  const child = spawn(argv[0]!, argv.slice(1), { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    return await new Promise<PacedResult>((resolve, reject) => {
      child.once('message', (m) => { resolve(m as PacedResult); });
      child.once('exit', (code) => { reject(new Error(`paced sender exited with ${code} before its result`)); });
    });
  } finally {
    receiver.kill();
  }
}

/** Every thread of `pid` onto CPU `cpu` alone. */
function pinTo(cpu: number, pid: number): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset failed (MIRROR_BENCH_PIN needs util-linux's taskset): ${r.stderr || String(r.error)}`);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
/** "median (min-max)" of several runs, the value alone for one. */
const spread = (xs: number[], digits = 1): string =>
  xs.length === 1 ? xs[0]!.toFixed(digits) : `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
/** CPU as % of one core per 100,000 packets/s = CPU microseconds per packet x 10. */
const per100k = (cpuS: number, packets: number): number => (cpuS / packets) * 1e6 * 10;

async function receiver(): Promise<void> {
  const peer = new MirrorPeer(SECRET);
  // The bench checks acks, not the packets themselves: decoded and checked, not kept (a lighter
  // receiver leaves more of the 2-core machine to the sender it measures).
  peer.keepPackets = false;
  peer.decodeBatches = !RECEIVER_ACK_ONLY;
  const port = await peer.listen();
  process.send!(port);
  process.on('disconnect', () => { void peer.close().then(() => process.exit(0)); });
}

async function main(): Promise<void> {
  const captures = [
    { name: 'synth-1k-concurrent', file: synth1k() },
    { name: 'carrier/rtp-stall-8s', file: join(root, 'fixtures/carrier/rtp-stall-8s.pcap') },
    { name: 'corpus/busy-hour-a', file: join(root, 'fixtures/corpus/busy-hour-a.pcap') },
  ].filter((c) => ONLY_CAPTURES?.some((n) => c.name.includes(n)) ?? true);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const bundles = SPLIT_ONLY ? [] : await senderBundles();
  if (!SPLIT_ONLY) out(`mirror-sender forwarding (issue 16): the sender in its own process fed like a live capture at ${RATE.toLocaleString('en-US')} pkt/s every ${TICK_MS} ms (one warm-up pass, ${PASSES} measured passes of ${CASE_PACKETS.toLocaleString('en-US')} packets), batches of ${BATCH_PACKETS}, buffer ${BUFFER_MB} MiB, ${PIN ? 'the sender pinned to CPU 1 and the receiver to CPU 0 (MIRROR_BENCH_PIN=1), ' : ''}loopback TCP to a receiver process that acks ${RECEIVER_ACK_ONLY ? 'after checking each batch, without decompressing or decoding it (MIRROR_BENCH_RECEIVER=ack)' : 'after decompress + decode'}`);
  if (!SPLIT_ONLY) out(`cpu%/100k = the sender process' CPU (every thread) per packet x 10, i.e. % of one core per 100,000 pkt/s; target <= 10 (1,000,000 pkt/s on one core); hdr = (wire bytes - the same compression of the batch's RTP payloads alone) / packets, target < 8 B/pkt`);
  if (!SPLIT_ONLY) out(`runs: ${RUNS}${RUNS > 1 ? ' (median (min-max))' : ''}; revisions: ${bundles.map((b) => b.label).join(', ')}; threads: cpu%/100k of the main thread / the others (V8's GC and compiler workers, libuv's pool), and of all in the kernel (sys); gc: main-thread pauses, ms per 100k packets`);
  for (const c of captures) {
    const packets = await load(c.file);
    const offsets = Int32Array.from(packets, rtpPayloadOffset);
    const raw = packets.reduce((s, p) => s + p.data.length, 0);
    const rtp = offsets.reduce((n, o) => n + (o >= 0 ? 1 : 0), 0);
    const payloadRaw = packets.reduce((s, p, i) => s + (offsets[i]! >= 0 ? p.data.length - offsets[i]! : 0), 0);
    out(`\n${c.name}: ${packets.length} packets (${rtp} RTP; cut or repeated to ${CASE_PACKETS}), raw ${(raw / packets.length).toFixed(1)} B/pkt, of which RTP payload ${(payloadRaw / packets.length).toFixed(1)} and headers ${((raw - payloadRaw) / packets.length).toFixed(1)}`);
    if (!SPLIT_ONLY) {
      const floor: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const r = await paced(bundles[bundles.length - 1]!, c.file, 'none', 2, true);
        floor.push(per100k(r.cpuS, r.packets));
      }
      out(`  pacing loop alone (no sender: the feed's own cost, part of every figure below): cpu%/100k ${spread(floor)}`);
      out('  compression v revision      pkt/s  cpu%/100k pkt/s         main/helpers sys    gc ms/100k  wire B/pkt  ratio  payload_c  hdr B/pkt  1M/core  hdr<8');
    }
    for (const name of SPLIT_ONLY ? [] : MIRROR_COMPRESSIONS.filter((n) => ONLY_COMPRESSIONS?.includes(n) ?? true)) {
      for (const version of VERSIONS) {
        const results = new Map<string, PacedResult[]>(bundles.map((b) => [b.label, []]));
        for (let run = 0; run < RUNS; run++) {
          // Alternate the order so that neither side always runs first.
          const order = run % 2 === 0 ? bundles : [...bundles].reverse();
          for (const b of order) results.get(b.label)!.push(await paced(b, c.file, name, version, false));
        }
        for (const b of bundles) {
          const rs = results.get(b.label)!;
          const cpu = rs.map((r) => per100k(r.cpuS, r.packets));
          const th = (k: string) => median(rs.map((r) => per100k(r.threads[k] ?? 0, r.packets))).toFixed(1);
          const wire = median(rs.map((r) => r.wireBytes / r.packets));
          const payloadC = payloadCost(packets, offsets, name, Math.min(version, b.maxVersion));
          const hdr = wire - payloadC / packets.length;
          const pps = median(rs.map((r) => r.achievedPps));
          out(
            `  ${name.padEnd(11)} ${Math.min(version, b.maxVersion)} ${b.label.padEnd(8).slice(0, 8)} ${Math.round(pps).toLocaleString('en-US').padStart(10)} ${spread(cpu).padStart(16)} ${`${th('main')}/${th('helpers')} ${median(rs.map((r) => per100k(r.sysS, r.packets))).toFixed(1)}`.padStart(20)} ${median(rs.map((r) => (r.gcMs / r.packets) * 1e5)).toFixed(1).padStart(13)} ${wire.toFixed(1).padStart(11)} ${(raw / packets.length / wire).toFixed(2).padStart(6)} ${(payloadC / packets.length).toFixed(1).padStart(10)} ${hdr.toFixed(1).padStart(10)} ${(median(cpu) <= 10 ? 'yes' : 'no').padStart(8)} ${(hdr < TARGET_HEADER_BYTES ? 'yes' : 'no').padStart(6)}  reused ${median(rs.map((r) => r.reused))}/${median(rs.map((r) => r.batches))}${rs.every((r) => r.acked) ? '' : '  (NOT ALL ACKED)'}${rs.some((r) => r.packetsDropped > 0) ? `  (DROPPED by the sender's buffer: ${rs.map((r) => r.packetsDropped).join(', ')} packets)` : ''}`,
          );
        }
      }
    }
    if (!NO_SPLIT) split(packets);
  }
}

/**
 * The sender's own per-packet time by stage, in this process without the network (best of 5
 * passes over the capture in batches of BATCH_PACKETS): batcher (copy into the raw batch),
 * version 1 PacketList.encode, version 2 flow-block encode (the current encoder and the frozen
 * one of b474c54, before the CPU work: bench/baseline/), and zstd (level 1, the sender's, and the
 * fast levels -1, -3, -7 for comparison: time and size) / lz4 of each.
 */
function split(packets: BenchPacket[]): void {
  const batches: PendingBatch[] = [];
  const us = (f: () => void): number => {
    let best = Infinity;
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      f();
      best = Math.min(best, performance.now() - t0);
    }
    return (best * 1000) / packets.length;
  };
  const batcherUs = us(() => {
    batches.length = 0;
    const b = new PacketBatcher({ maxPackets: BATCH_PACKETS, maxBytes: 1 << 20 });
    for (const p of packets) {
      const closed = b.add(p);
      if (closed !== null) batches.push(closed);
    }
    const last = b.flush();
    if (last !== null) batches.push(last);
  });
  const lists: Uint8Array[] = [];
  const v1Us = us(() => {
    lists.length = 0;
    for (const { raw } of batches) {
      const list: Packet[] = [];
      for (let i = 0; i < raw.count; i++) list.push({ linkType: raw.linkType[i]!, tsSec: raw.tsSec[i]!, tsNsec: raw.tsNsec[i]!, origLen: raw.origLen[i]!, data: rawPacketData(raw, i) });
      lists.push(PacketList.encode({ packets: list }).finish());
    }
  });
  // Encode only (the block aliases the encoder's buffer), then once more keeping copies for the compressors.
  const v2BaseUs = us(() => {
    const enc = new FlowBlockEncoderB474c54();
    for (const { raw } of batches) enc.encode(raw);
  });
  const v2Us = us(() => {
    const enc = new FlowBlockEncoder();
    for (const { raw } of batches) enc.encode(raw);
  });
  const blocks: Uint8Array[] = [];
  const base: Uint8Array[] = [];
  const enc = new FlowBlockEncoder();
  const encBase = new FlowBlockEncoderB474c54();
  for (const { raw } of batches) {
    blocks.push(enc.encode(raw).slice());
    base.push(encBase.encode(raw).slice());
  }
  const same = blocks.every((b, i) => Buffer.compare(b, base[i]!) === 0);
  const zstd = compressionWire('zstd');
  const lz4 = compressionWire('lz4');
  const zstdV1 = us(() => { for (const l of lists) compressBatch(zstd, l); });
  const zstdV2 = us(() => { for (const b of blocks) compressBatch(zstd, b); });
  const lz4V2 = us(() => { for (const b of blocks) compressBatch(lz4, b); });
  const f = (v: number) => v.toFixed(2);
  const n = packets.length;
  process.stdout.write(
    `  per packet, us (no network, best of 5): batcher ${f(batcherUs)}; v1 PacketList.encode ${f(v1Us)} + zstd ${f(zstdV1)} = ${f(batcherUs + v1Us + zstdV1)}; ` +
      `v2 flow block ${f(v2Us)} (b474c54: ${f(v2BaseUs)}, ${(v2BaseUs / v2Us).toFixed(2)}x; blocks ${same ? 'identical' : 'DIFFER'}) + zstd ${f(zstdV2)} = ${f(batcherUs + v2Us + zstdV2)} (lz4 ${f(lz4V2)})\n`,
  );
  const payloadAt = blocks.map(() => 0);
  const encSplit = new FlowBlockEncoder();
  batches.forEach(({ raw }, i) => {
    encSplit.encode(raw);
    payloadAt[i] = encSplit.payloadOffset;
  });
  let splitBytes = 0;
  const zstdV3 = us(() => {
    splitBytes = 0;
    blocks.forEach((b, i) => {
      for (const part of compressZstdSplit(b, payloadAt[i]!)) splitBytes += part.length;
    });
  });
  process.stdout.write(`  v3 zstd (header sections at level 1, payload section at ${ZSTD_PAYLOAD_LEVEL}, two frames): ${f(zstdV3)} us, ${(splitBytes / n).toFixed(1)} B/pkt\n`);
  const levels = [1, -1, -3, -7].map((level) => {
    let bytes = 0;
    const t = us(() => {
      bytes = 0;
      for (const b of blocks) bytes += zstdCompress(b, level).length;
    });
    return `${level}: ${f(t)} us, ${(bytes / n).toFixed(1)} B/pkt`;
  });
  let lz4Bytes = 0;
  for (const b of blocks) lz4Bytes += compressBatch(lz4, b).length;
  const blockBytes = blocks.reduce((s, b) => s + b.length, 0);
  process.stdout.write(`  v2 block ${(blockBytes / n).toFixed(1)} B/pkt; zstd level ${levels.join('; ')}; lz4 ${f(lz4V2)} us, ${(lz4Bytes / n).toFixed(1)} B/pkt\n`);
}

if (process.argv[2] === 'receiver') await receiver();
else await main();
