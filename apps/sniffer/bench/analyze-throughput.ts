/**
 * Whole-sniffer benchmarks, each figure next to a baseline measured in the same run:
 * - issue 3: decoding every frame vs the bare pcap record walk;
 * - issue 4: `analyze` packets/s with 1,000 and 10,000 concurrent calls vs `tshark -q -z
 *   rtp,streams` on the same file, and the memory held per concurrent call at 10,000 open calls
 *   (in total, per stream with its RTP statistics, and per call without its streams);
 * - issue 7: `analyze` with the per-call spool vs without, and spool throughput.
 *
 * Run through `npm run bench` (bundled by scripts/bench.mjs, node --expose-gc).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { PacketDecoder, createDecodedPacket, formatIp } from '@callscope/packet';
import { readCaptureFile } from '@callscope/pcap-store';
import { PayloadTypeMap, RtpHeader } from '@callscope/rtp';
import { rtpStreamStateMemory } from '@callscope/rtp/internal';
import { MediaStream } from '@callscope/call-engine/internal';
import { CallSpool } from '../src/output/call-spool.js';
import { CONCURRENCY_CASES, fmt, synth } from './lib/synth-captures.js';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '@callscope/call-engine';

const gc = (globalThis as { gc?: () => void }).gc;

async function walk(file: string): Promise<{ packets: number; seconds: number }> {
  let packets = 0;
  const t0 = process.hrtime.bigint();
  await readCaptureFile(file, () => {
    packets++;
  });
  return { packets, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function walkDecode(file: string): Promise<{ packets: number; seconds: number }> {
  const decoder = new PacketDecoder();
  const out = createDecodedPacket();
  let packets = 0;
  const t0 = process.hrtime.bigint();
  await readCaptureFile(file, (rec) => {
    decoder.decode(rec.data, 0, rec.capLen, rec.linkType, rec.tsSec, rec.tsNsec, out);
    packets++;
  });
  return { packets, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/**
 * Memory held by live objects: JS heap plus ArrayBuffers, with the RTP statistics' shared state
 * slabs counted as the blocks in use. A slab outlives the streams that used it (its blocks are
 * reused), so counting slab bytes would charge one measurement for blocks another one freed —
 * and a measurement taken after an earlier run would see its streams' state for free.
 */
function liveBytes(): number {
  const m = process.memoryUsage();
  const slabs = rtpStreamStateMemory();
  return m.heapUsed + m.arrayBuffers - slabs.slabBytes + slabs.blocksInUse * slabs.blockBytes;
}

/**
 * Collect until the figure settles: full GCs with turns of the event loop between them, so that
 * FinalizationRegistry callbacks (a collected stream's block back to its slab) and ArrayBuffer
 * frees have run before memory is read.
 */
async function settledLiveBytes(): Promise<number> {
  if (gc === undefined) throw new Error('run with --expose-gc (npm run bench does)');
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  gc();
  return liveBytes();
}

/**
 * Memory of `n` streams (MediaStream with its RTP statistics) built and fed as the pipeline
 * does: own address strings, a shared payload-type map, a first packet each.
 */
async function bytesPerStream(n: number): Promise<number> {
  const types = new PayloadTypeMap();
  const w = new Uint32Array(4);
  const h = new RtpHeader();
  h.payloadType = 8;
  const before = await settledLiveBytes();
  const keep: MediaStream[] = [];
  for (let i = 0; i < n; i++) {
    const src = 0xc0000200 + i;
    const s = new MediaStream(i, 'caller', 4, src, src + 1, w, w, 20000, 40000, formatIp(4, src, w), formatIp(4, src + 1, w), types);
    s.onPacket(h, 1_700_000_000, i, new Uint8Array(0), 0, 160);
    keep.push(s);
  }
  const after = await settledLiveBytes();
  return keep.length > 0 ? (after - before) / n : 0;
}

/**
 * Memory held mid-capture by the open calls: a pipeline fed the capture up to `samplePacket`
 * (every call set up and in its RTP phase), measured against the same pipeline before its first
 * packet (the reader's buffers already allocated), then stopped. A pass of its own, so that the
 * timed pass carries no forced GC.
 */
async function memoryAtOpenCalls(file: string, samplePacket: number): Promise<{ bytes: number; calls: number; streams: number }> {
  const pipeline = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall: () => undefined, onRegister: () => undefined }, null);
  const stop = new AbortController();
  let base = 0;
  const sample = { bytes: 0, calls: 0, streams: 0, taken: false };
  try {
    await readCaptureFile(
      file,
      (rec): Promise<void> | undefined => {
        if (rec.index === 0) {
          return settledLiveBytes().then((b) => {
            base = b;
            pipeline.onPacket(rec);
          });
        }
        pipeline.onPacket(rec);
        if (rec.index !== samplePacket) return undefined;
        return settledLiveBytes().then((b) => {
          sample.bytes = b - base;
          sample.calls = pipeline.calls.openCalls;
          sample.streams = pipeline.calls.openStreams();
          sample.taken = true;
          stop.abort();
        });
      },
      { signal: stop.signal },
    );
  } catch (err) {
    if (!stop.signal.aborted) throw err;
  }
  if (!sample.taken) throw new Error(`${file} has no packet ${samplePacket}`);
  return sample;
}

async function analyze(file: string, spoolDir: string | null = null): Promise<{ packets: number; seconds: number; calls: number; spoolPackets: number }> {
  let calls = 0;
  const spool = spoolDir === null ? null : new CallSpool({ dir: spoolDir, mode: 'sip_rtp', compress: 'none', maxSizeBytes: 50 * 1024 ** 3, maxAgeDays: 365, maxOpenFiles: 4096 });
  const pipeline = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall: () => calls++, onRegister: () => undefined }, spool);
  const t0 = process.hrtime.bigint();
  await readCaptureFile(file, (rec): Promise<void> | undefined => {
    pipeline.onPacket(rec);
    if (spool?.needsPause === true) return spool.drain();
    return undefined;
  });
  pipeline.finish();
  await spool?.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { packets: pipeline.counters.packets, seconds, calls, spoolPackets: spool?.stats().packetsWritten ?? 0 };
}

function tshark(file: string): number | null {
  const probe = spawnSync('tshark', ['--version'], { stdio: 'ignore' });
  if (probe.status !== 0) return null;
  const t0 = process.hrtime.bigint();
  const r = spawnSync('tshark', ['-n', '-q', '-r', file, '-z', 'rtp,streams'], { stdio: ['ignore', 'ignore', 'ignore'] });
  if (r.status !== 0) return null;
  return Number(process.hrtime.bigint() - t0) / 1e9;
}


console.log('sniffer analyze throughput (one core, in-process; tshark in the same run)');
for (const c of CONCURRENCY_CASES) {
  const file = synth(c.name, c.args);
  const mb = statSync(file).size / 1e6;
  await walk(file); // warm the page cache so every pass below reads from memory alike
  const w = await walk(file);
  const d = await walkDecode(file);
  const a = await analyze(file);
  const spoolDir = mkdtempSync(join(tmpdir(), 'callscope-bench-spool-'));
  const s = await analyze(file, spoolDir);
  rmSync(spoolDir, { recursive: true, force: true });
  const t = tshark(file);
  const pps = a.packets / a.seconds;
  console.log(`\n${c.name}: ${fmt(a.packets)} packets, ${mb.toFixed(0)} MB, ${fmt(a.calls)} calls`);
  console.log(`  record walk only   ${fmt(w.packets / w.seconds)} packets/s (${w.seconds.toFixed(2)} s)`);
  console.log(`  walk + decode      ${fmt(d.packets / d.seconds)} packets/s (${d.seconds.toFixed(2)} s) = ${(d.seconds / w.seconds).toFixed(2)}x the walk`);
  console.log(`  analyze            ${fmt(pps)} packets/s (${a.seconds.toFixed(2)} s) = ${(a.seconds / w.seconds).toFixed(2)}x the walk`);
  console.log(`  analyze --spool    ${fmt(s.packets / s.seconds)} packets/s (${s.seconds.toFixed(2)} s) = ${(s.seconds / a.seconds).toFixed(2)}x analyze; ${fmt(s.spoolPackets)} packets spooled, ${fmt(a.calls / s.seconds)} calls/s`);
  if (t !== null) console.log(`  tshark rtp,streams ${fmt(a.packets / t)} packets/s (${t.toFixed(2)} s) -> analyze is ${(t / a.seconds).toFixed(1)}x tshark`);
  else console.log('  tshark not installed: no baseline (apt-get install tshark)');
  if (c.memory) {
    // Measured the same way (live bytes after settled GCs, state blocks as blocks in use): the
    // open calls mid-capture, and streams alone; a call without its streams is the difference.
    const m = await memoryAtOpenCalls(file, Math.floor(w.packets / 2));
    const perStream = await bytesPerStream(20_000);
    const perCall = (m.bytes - m.streams * perStream) / m.calls;
    const block = rtpStreamStateMemory().blockBytes;
    console.log(
      `  memory at ${fmt(m.calls)} open calls with ${fmt(m.streams)} streams: ${fmt(m.bytes / m.calls)} bytes per call in all; ` +
        `a stream with its RTP statistics ${fmt(perStream)} bytes (${fmt(block)} of them its state block); a call without its streams ${fmt(perCall)} bytes`,
    );
  }
}
