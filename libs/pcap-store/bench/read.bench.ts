/**
 * Reader/writer throughput on a synthetic capture. Records/s = reported hz x packets per file
 * (printed at start). Input: `CALLSCOPE_BENCH_PCAP` if set, else a capture generated here with
 * PcapWriter under os.tmpdir() (no external tool needed): 200 000 packets, 95 % 214-byte G.711
 * RTP frames and 5 % 900-byte SIP-sized frames, 20 ms apart per stream.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { bench, describe } from 'vitest';
import { PcapWriter, readCaptureFile } from '../src/index.js';
import { CaptureParseStatus, CaptureParser, type PacketRecord, LinkType } from '@callscope/pcap-format';

const PACKETS = 200_000;

async function generate(path: string): Promise<void> {
  const writer = PcapWriter.toFile(path, { linkType: LinkType.Ethernet, resolution: 'us' });
  const rtp = new Uint8Array(214).fill(0x55);
  const sip = new Uint8Array(900).fill(0x41);
  const start = 1_795_976_000;
  for (let i = 0; i < PACKETS; i++) {
    const usec = i * 100; // 100 concurrent streams at 50 pps each = one packet every 0.1 ms
    const pending = writer.writePacket(start + Math.floor(usec / 1e6), (usec % 1e6) * 1000, i % 20 === 0 ? sip : rtp);
    if (pending !== undefined) await pending;
  }
  await writer.close();
}

const envPath = process.env.CALLSCOPE_BENCH_PCAP;
const path = envPath ?? join(tmpdir(), `callscope-bench-${PACKETS}.pcap`);
if (envPath === undefined && !existsSync(path)) await generate(path);
const gzPath = `${path}.gz`;
if (!existsSync(gzPath)) writeFileSync(gzPath, gzipSync(readFileSync(path), { level: 1 }));
const inMemory = readFileSync(path);

let packets = 0;
let checksum = 0;
const onPacket = (r: PacketRecord): void => {
  checksum = (checksum + r.capLen + r.data[r.capLen >> 1]!) | 0;
};
await readCaptureFile(path, () => {
  packets++;
});
console.log(`bench input ${path}: ${packets} packets, ${inMemory.length} bytes`);

class NullSink extends Writable {
  override _write(_chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    done();
  }
}

const options = { time: 1500, warmupTime: 200 };

describe(`read ${packets} packets`, () => {
  bench(
    'CaptureParser.feed, in-memory buffer (pure parse)',
    () => {
      const parser = new CaptureParser();
      parser.feed(inMemory, onPacket);
      while (parser.finish() === CaptureParseStatus.Record) onPacket(parser.record);
    },
    options,
  );

  bench(
    'readCaptureFile, sync callback, 1 MiB chunks',
    async () => {
      await readCaptureFile(path, onPacket);
    },
    options,
  );

  bench(
    'readCaptureFile, promise-returning callback every packet',
    async () => {
      await readCaptureFile(path, (r) => {
        onPacket(r);
        return Promise.resolve();
      });
    },
    options,
  );

  bench(
    'readCaptureFile, gzip (level 1)',
    async () => {
      await readCaptureFile(gzPath, onPacket);
    },
    options,
  );

  bench(
    'read + PcapWriter to a null sink (copy through)',
    async () => {
      const writer = new PcapWriter(new NullSink(), { linkType: LinkType.Ethernet });
      await readCaptureFile(path, (r) => writer.write(r));
      await writer.close();
    },
    options,
  );
});
