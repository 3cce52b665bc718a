/**
 * Spool write throughput with 10 000 concurrent calls and 214-byte frames (G.711 20 ms RTP over
 * Ethernet/IPv4/UDP: 14 + 20 + 8 + 12 + 160). One iteration = 50 packets of every call (one
 * second of one direction at 50 pps, what accumulates between two timer flushes at 2 s for a
 * one-way stream), then `flush()`: packets/s = hz x 500 000, disk writes included. The time
 * spent inside the synchronous `write` calls alone (the packet path) is measured separately and
 * printed at exit. Files go to a temporary spool under os.tmpdir(), removed at exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bench, describe } from 'vitest';
import { ChunkCompression, SpoolMode, SpoolWriter } from '../src/index.js';
import type { SpoolCallRef } from '../src/index.js';
import { LinkType } from '@callscope/pcap-format';

const CALLS = 10_000;
const PACKETS_PER_CALL = 50;
const dir = mkdtempSync(join(tmpdir(), 'callscope-spool-bench-'));
const syncMs = new Map<string, { ms: number; packets: number }>();
process.on('exit', () => {
  rmSync(dir, { recursive: true, force: true });
});

/** A G.711 RTP frame: Ethernet, IPv4, UDP 4000 -> 4002, RTP v2 PT 8, 160 bytes of payload. */
function rtpFrame(): Uint8Array {
  const f = new Uint8Array(214).fill(0xd5);
  f.set([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00], 0);
  f.set([0x45, 0, 0, 200, 0, 0, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 10, 198, 51, 100, 20], 14);
  f.set([0x0f, 0xa0, 0x0f, 0xa2, 0, 180, 0, 0], 34);
  f.set([0x80, 0x08, 0, 1, 0, 0, 0, 160, 0x1a, 0x2b, 0x3c, 0x4d], 42);
  return f;
}

const frame = rtpFrame();
/** Where the sniffer's decode puts the end of this frame's RTP header (14 + 20 + 8 + 12); the writer cuts there in rtp_headers mode only. */
const RTP_HEADER_END = 54;
const t0 = 1_795_975_860;
let round = 0;
console.log(`spool bench: ${CALLS} concurrent calls x ${PACKETS_PER_CALL} packets = ${CALLS * PACKETS_PER_CALL} packets of ${frame.length} bytes per iteration; spool ${dir}`);

function makeWriter(mode: SpoolMode, compression: ChunkCompression, maxBufferedBytes = 64 * 1024 * 1024): { writer: SpoolWriter; calls: SpoolCallRef[] } {
  const writer = new SpoolWriter({ spoolDir: join(dir, `${mode}-${compression}-${maxBufferedBytes}`), mode, compression, maxBufferedBytes });
  const calls = Array.from({ length: CALLS }, (_, i): SpoolCallRef => ({ callId: `bench-${i}@192.0.2.10`, startSec: t0 + (i % 600), startUsec: i }));
  return { writer, calls };
}

async function writeRound(name: string, writer: SpoolWriter, calls: SpoolCallRef[]): Promise<void> {
  const sec = t0 + 600 + round++;
  const t = syncMs.get(name) ?? { ms: 0, packets: 0 };
  syncMs.set(name, t);
  for (let p = 0; p < PACKETS_PER_CALL; p++) {
    const started = performance.now();
    for (let i = 0; i < CALLS; i++) writer.write(calls[i]!, 'rtp', sec, p * 20_000_000 + i, frame, 214, LinkType.Ethernet, RTP_HEADER_END);
    t.ms += performance.now() - started;
    t.packets += CALLS;
    // A sniffer returns to the event loop between capture batches; so does the bench, letting I/O
    // run. Pacing on the memory account measures the sustainable rate instead of the drop rate.
    await new Promise((resolve) => setImmediate(resolve));
    while (writer.stats().bufferedBytes > writer.options.maxBufferedBytes / 2) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await writer.flush();
  console.log(`${name}: write() alone ${Math.round(t.packets / (t.ms / 1000)).toLocaleString('en')} packets/s (${((t.ms * 1e6) / t.packets).toFixed(0)} ns/packet) over ${t.packets} packets`);
  const dropped = Object.values(writer.stats().packetsDropped).reduce((a, b) => a + b, 0);
  if (dropped > 0) console.log(`${name}: ${dropped} of ${t.packets} packets dropped so far (memory cap: the disk did not keep up)`);
}

const options = { time: 0, warmupTime: 0, warmupIterations: 1, iterations: 2 };

describe(`spool write, ${CALLS} concurrent calls`, () => {
  const plain = makeWriter(SpoolMode.SIP_RTP, ChunkCompression.NONE);
  bench(`sip_rtp, ${CALLS * PACKETS_PER_CALL} packets + flush`, () => writeRound('sip_rtp', plain.writer, plain.calls), options);

  const wide = makeWriter(SpoolMode.SIP_RTP, ChunkCompression.NONE, 256 * 1024 * 1024);
  bench(`sip_rtp, maxBufferedBytes 256 MiB (larger chunks), ${CALLS * PACKETS_PER_CALL} packets + flush`, () => writeRound('sip_rtp-256MiB', wide.writer, wide.calls), options);

  const headers = makeWriter(SpoolMode.RTP_HEADERS, ChunkCompression.NONE);
  bench(`rtp_headers (cut at the caller's header end), ${CALLS * PACKETS_PER_CALL} packets + flush`, () => writeRound('rtp_headers', headers.writer, headers.calls), options);

  const gz = makeWriter(SpoolMode.SIP_RTP, ChunkCompression.GZIP);
  bench(`sip_rtp + gzip level 1, ${CALLS * PACKETS_PER_CALL} packets + flush`, () => writeRound('gzip', gz.writer, gz.calls), options);

  const zst = makeWriter(SpoolMode.SIP_RTP, ChunkCompression.ZSTD);
  bench(`sip_rtp + zstd level 1, ${CALLS * PACKETS_PER_CALL} packets + flush`, () => writeRound('zstd', zst.writer, zst.calls), options);
});

describe('call churn', () => {
  const churn = makeWriter(SpoolMode.SIP_RTP, ChunkCompression.NONE);
  let next = 0;
  bench(
    `${CALLS} calls opened, 10 packets each, ended (their chunks written and indexed)`,
    async () => {
      const calls = Array.from({ length: CALLS }, (_, i): SpoolCallRef => ({ callId: `churn-${next}-${i}`, startSec: t0 + next, startUsec: i }));
      next++;
      for (let p = 0; p < 10; p++) for (const c of calls) churn.writer.write(c, 'rtp', t0 + next, p, frame, 214, LinkType.Ethernet);
      await Promise.all(calls.map((c) => churn.writer.endCall(c)));
    },
    { time: 0, warmupTime: 0, warmupIterations: 0, iterations: 2 },
  );
});
