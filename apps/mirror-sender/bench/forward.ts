/**
 * Issue 16: mirror-sender forwarding cost and wire size per compression, in one run (`npm run
 * bench`, or alone: `npm run bench -- mirror-sender`).
 *
 * For each capture (the synth-1k-concurrent capture the sniffer benches use, a real G.711 carrier
 * capture and the SIP-heavy corpus capture) and each compression, the real MirrorSender with its
 * real MirrorConnection (TCP, HMAC handshake, window, acks) forwards every packet over loopback to
 * a receiver in a child process that does what the sniffer's receiver does per batch (frame
 * decode, checkBatch, mirror-codec decompression, PacketList decode, ReceiveWindow, cumulative
 * Ack). Packets are read into memory first, so the figures are the sender's, not the file reader's.
 *
 * Every case runs twice, protocol version 1 (PacketList per batch) and version 2 (flow block
 * against the connection's flow context), same packets, same compression, same run.
 *
 * Reported per case:
 * - pkt/s: packets / wall time from the first packet handed to the sender to the last Ack.
 * - cpu/100k: the sender process' CPU (user + system, this process only; the receiver is the
 *   child) as % of one core, scaled to 100,000 packets/s: cpu_seconds / wall_seconds * 100 * 100000 / pkt_per_s.
 * - wire B/pkt: bytes of batch frames written to the socket (u32 length + Envelope, resends
 *   included; the handshake and heartbeats excluded) / packets, and ratio = raw / wire, raw being
 *   the captured bytes (caplen, no pcap record headers).
 * - hdr B/pkt: the header cost. payload_c = sum over batches of the same compression applied to
 *   the concatenated RTP payloads of the batch alone (bytes after the RTP header: 12 + 4*CC +
 *   extension; UDP over Ethernet/VLAN/Linux-cooked, IPv4/IPv6, version 2, not RTCP); for `none`
 *   the payload bytes themselves. hdr = (wire - payload_c) / packets: what everything but the RTP
 *   payloads costs on the wire (link/IP/UDP/RTP headers, non-RTP packets such as SIP whole, the
 *   protobuf fields and the framing). Target < 8 B/packet.
 */
import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressBatch, compressionWire } from '@callscope/mirror-codec';
import { FlowBlockEncoder, PacketList, rawPacketData, type Packet } from '@callscope/mirror-protocol';
import { compress as zstdCompress } from '@cloudpss/zstd';
import { readCaptureFile } from '@callscope/pcap-store';
import { createLogger } from '@callscope/runtime';
import { BATCH_COMPRESSORS } from '../src/compression.js';
import { MIRROR_COMPRESSIONS, type MirrorCompression } from '../src/config.js';
import { MirrorConnection } from '../src/connection.js';
import { MirrorSender } from '../src/mirror-sender.js';
import { PacketBatcher, type PendingBatch } from '../src/batcher.js';
import { MirrorPeer } from '../test/mirror-peer.js';
import { FlowBlockEncoderB474c54 } from './baseline/flow-block-b474c54.js';

const root = process.env['CALLSCOPE_ROOT'] ?? process.cwd();
const SECRET = Buffer.from('bench-secret-of-at-least-16-bytes');
const BATCH_PACKETS = 1000;
const TARGET_PPS = 1_000_000;
const TARGET_HEADER_BYTES = 8;
/**
 * Packets forwarded per case: a longer capture is cut, a shorter one repeated (the same packets
 * again: compression sees the same bytes, the rate is not dominated by the handshake and the last
 * batch's ack).
 */
const CASE_PACKETS = Number(process.env['MIRROR_BENCH_PACKETS'] ?? 400_000);
/** MIRROR_BENCH_SPLIT_ONLY=1: only the per-packet split (no forwarding runs), for quick profiling. */
const SPLIT_ONLY = process.env['MIRROR_BENCH_SPLIT_ONLY'] === '1';
/** MIRROR_BENCH_COMPRESSIONS=zstd,lz4: only those forwarding cases. */
const ONLY_COMPRESSIONS = process.env['MIRROR_BENCH_COMPRESSIONS']?.split(',');
/**
 * MIRROR_BENCH_SHARED_BUFFER=1: the loaded packets share one ArrayBuffer (as views of a capture
 * source's buffer would) instead of one each; it did not change the CPU figures beyond the noise
 * (3 runs each, 2026-12-05), so the default stays as the earlier tables were measured.
 */
const SHARED_BUFFER = process.env['MIRROR_BENCH_SHARED_BUFFER'] === '1';

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
  if (!SHARED_BUFFER) return packets;
  const all = new Uint8Array(packets.reduce((s, p) => s + p.data.length, 0));
  let at = 0;
  return packets.map((p) => {
    all.set(p.data, at);
    at += p.data.length;
    return { ...p, data: all.subarray(at - p.data.length, at) };
  });
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

/** Bytes of the RTP payloads compressed alone, batch by batch, with `name`. */
function payloadCost(packets: BenchPacket[], offsets: Int32Array, name: MirrorCompression): number {
  let total = 0;
  for (let i = 0; i < packets.length; i += BATCH_PACKETS) {
    const parts: Uint8Array[] = [];
    for (let k = i; k < Math.min(i + BATCH_PACKETS, packets.length); k++) if (offsets[k]! >= 0) parts.push(packets[k]!.data.subarray(offsets[k]));
    const joined = Buffer.concat(parts);
    total += name === 'none' ? joined.length : compressBatch(compressionWire(name), joined).length;
  }
  return total;
}

interface CaseResult {
  pps: number;
  cpuPer100k: number;
  wireBytes: number;
  /** Batches built in a released batch's buffers, of all batches built (recycling at work). */
  reused: string;
  acked: boolean;
}

async function forward(packets: BenchPacket[], name: MirrorCompression, version: number): Promise<CaseResult> {
  const child = fork(fileURLToPath(import.meta.url), ['receiver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => { resolve(m as number); }));
  const logger = createLogger({ app: 'mirror-sender-bench', level: 'warn', pretty: false });
  const sender = new MirrorSender({ batch: { maxPackets: BATCH_PACKETS, maxBytes: 1 << 20, maxMs: 50 }, bufferBytes: 64 << 20, compressor: BATCH_COMPRESSORS[name], logger });
  const connection = new MirrorConnection(
    { host: '127.0.0.1', port, tls: null, secret: SECRET, sensorId: '1', sensorName: 'bench', heartbeatIntervalMs: 5000, idleTimeoutMs: 30_000, reconnectMinMs: 50, reconnectMaxMs: 500, logger, maxProtocolVersion: version },
    sender,
  );
  connection.start();
  while (connection.state !== 'streaming') await new Promise((r) => setTimeout(r, 2));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const p of packets) {
    sender.add(p);
    const wait = sender.room();
    if (wait !== undefined) await wait;
  }
  sender.flush();
  const deadline = Date.now() + 120_000;
  while (sender.counters.batchesAcked < sender.counters.batchesBuilt && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const acked = sender.counters.batchesAcked === sender.counters.batchesBuilt;
  const wireBytes = sender.counters.bytesWritten;
  const reused = `${sender.counters.batchesReused}/${sender.counters.batchesBuilt}`;
  sender.close();
  await connection.close(200);
  child.kill();
  const pps = packets.length / wall;
  const cpuFraction = (cpu.user + cpu.system) / 1e6 / wall;
  return { pps, cpuPer100k: (cpuFraction * 100 * 100_000) / pps, wireBytes, acked, reused };
}

async function receiver(): Promise<void> {
  const peer = new MirrorPeer(SECRET);
  const port = await peer.listen();
  // Keep memory flat: the bench checks acks, not the packets themselves.
  const packets = peer.packets;
  setInterval(() => { packets.length = 0; }, 100).unref();
  process.send!(port);
  process.on('disconnect', () => { void peer.close().then(() => process.exit(0)); });
}

async function main(): Promise<void> {
  const captures = [
    { name: 'synth-1k-concurrent', file: synth1k() },
    { name: 'carrier/rtp-stall-8s', file: join(root, 'fixtures/carrier/rtp-stall-8s.pcap') },
    { name: 'corpus/busy-hour-a', file: join(root, 'fixtures/corpus/busy-hour-a.pcap') },
  ];
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`mirror-sender forwarding (issue 16): batches of ${BATCH_PACKETS}, loopback TCP, receiver acks after decompress + decode (child process)`);
  out('hdr = (wire bytes - the same compression of the batch\'s RTP payloads alone) / packets; target: >= 1,000,000 pkt/s on one core, hdr < 8 B/pkt');
  for (const c of captures) {
    const packets = await load(c.file);
    const offsets = Int32Array.from(packets, rtpPayloadOffset);
    const raw = packets.reduce((s, p) => s + p.data.length, 0);
    const rtp = offsets.reduce((n, o) => n + (o >= 0 ? 1 : 0), 0);
    const payloadRaw = packets.reduce((s, p, i) => s + (offsets[i]! >= 0 ? p.data.length - offsets[i]! : 0), 0);
    out(`\n${c.name}: ${packets.length} packets (${rtp} RTP; cut or repeated to ${CASE_PACKETS}), raw ${(raw / packets.length).toFixed(1)} B/pkt, of which RTP payload ${(payloadRaw / packets.length).toFixed(1)} and headers ${((raw - payloadRaw) / packets.length).toFixed(1)}`);
      out('  compression v      pkt/s   cpu%/100k pkt/s  wire B/pkt  ratio  payload_c B/pkt  hdr B/pkt  1M pkt/s  hdr<8');
    for (const name of SPLIT_ONLY ? [] : MIRROR_COMPRESSIONS.filter((n) => ONLY_COMPRESSIONS?.includes(n) ?? true)) {
      const payloadC = payloadCost(packets, offsets, name);
      for (const version of [1, 2]) {
        global.gc?.();
        const r = await forward(packets, name, version);
        const wire = r.wireBytes / packets.length;
        const hdr = (r.wireBytes - payloadC) / packets.length;
        out(
          `  ${name.padEnd(11)} ${version} ${Math.round(r.pps).toLocaleString('en-US').padStart(10)} ${r.cpuPer100k.toFixed(1).padStart(16)} ${wire.toFixed(1).padStart(11)} ${(raw / r.wireBytes).toFixed(2).padStart(6)} ${(payloadC / packets.length).toFixed(1).padStart(16)} ${hdr.toFixed(1).padStart(10)} ${(r.pps >= TARGET_PPS ? 'yes' : 'no').padStart(9)} ${(hdr < TARGET_HEADER_BYTES ? 'yes' : 'no').padStart(6)}  reused ${r.reused}${r.acked ? '' : '  (NOT ALL ACKED)'}`,
        );
      }
    }
    split(packets);
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
