/**
 * The file side of reading captures: readCaptureFile / readCaptureStream over real files and
 * streams (gzip by magic, I/O errors, truncation policy, options). The parser's own byte-level
 * tests (hand-built pcap/pcapng, malformed table, properties) are in libs/pcap-format/test.
 * Inputs come from pcap-store's PcapWriter (classic pcap), the reference corpus
 * (register-auth.pcapng) and the hand-built multi-section.pcapng of ./fixtures.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { fc, test } from '@fast-check/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter, readCaptureFile, readCaptureStream } from '../src/index.js';
import { CaptureError, CaptureErrorCode, CaptureParseStatus, LinkType, type PacketRecord, type PcapResolution } from '@callscope/pcap-format';
import { corpusPath } from '@callscope/testing';
import { parseCapture } from './parse-capture.js';
import { bytes } from './payload.js';

const tmp = mkdtempSync(join(tmpdir(), 'pcap-store-read-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const FIXTURES = new URL('./fixtures/', import.meta.url);
const REGISTER_AUTH = readFileSync(corpusPath('register-auth.pcapng'));
const MULTI_SECTION = readFileSync(fileURLToPath(new URL('multi-section.pcapng', FIXTURES)));
const FINAL = new Set<number>([CaptureParseStatus.End, CaptureParseStatus.Truncated, CaptureParseStatus.Error]);

/** A classic pcap (Ethernet, little-endian) written in memory by pcap-store's own PcapWriter. */
async function writePcap(resolution: PcapResolution, packets: Array<[tsSec: number, tsNsec: number, data: Uint8Array]>): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      parts.push(Buffer.from(chunk));
      done();
    },
  });
  const writer = new PcapWriter(sink, { linkType: LinkType.Ethernet, resolution });
  for (const [tsSec, tsNsec, data] of packets) await writer.writePacket(tsSec, tsNsec, data);
  await writer.close();
  return Buffer.concat(parts);
}

/**
 * End offset of the `n`-th packet block (EPB, SPB or OPB) of a one-section pcapng, found by walking
 * the block lengths (pcapng draft section 3.1), independently of the parser.
 */
function endOfPacketBlock(file: Buffer, n: number): number {
  const le = file.readUInt32LE(8) === 0x1a2b3c4d;
  let seen = 0;
  for (let at = 0; at + 8 <= file.length; ) {
    const type = le ? file.readUInt32LE(at) : file.readUInt32BE(at);
    at += le ? file.readUInt32LE(at + 4) : file.readUInt32BE(at + 4);
    if ((type === 6 || type === 3 || type === 2) && ++seen === n) return at;
  }
  throw new Error(`fewer than ${n} packet blocks`);
}

/** [tsSec, tsNsec, capLen] of every frame of a saved tshark oracle (`<capture>.frames.csv`). */
function oracleFrames(name: string): Array<[number, number, number]> {
  return readFileSync(fileURLToPath(new URL(name, FIXTURES)), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [epoch, , capLen] = line.split(',');
      const [sec, frac] = epoch!.split('.');
      return [Number(sec), Number(frac!.padEnd(9, '0')), Number(capLen)];
    });
}

describe('readCaptureFile', () => {
  it('gzip: readCaptureFile decompresses pcapng and pcap by magic', async () => {
    const ng = REGISTER_AUTH;
    const classic = await writePcap('ns', [[8, 9, bytes(77)]]);
    for (const [name, content] of [['a.pcapng.gz', ng], ['b.pcap.gz', classic]] as const) {
      const path = join(tmp, name);
      writeFileSync(path, gzipSync(content));
      const seen: Array<[number, number, number]> = [];
      const summary = await readCaptureFile(path, (r: PacketRecord) => {
        seen.push([r.tsSec, r.tsNsec, r.capLen]);
      });
      expect(summary.compressed).toBe(true);
      expect(summary.bytes).toBe(content.length);
      expect(seen).toEqual(name.endsWith('pcapng.gz') ? oracleFrames('register-auth.frames.csv') : [[8, 9, 77]]);
    }
  });

  it('the read-ahead (next chunk read while this one is parsed): every packet in order at any chunk size, with synchronous and asynchronous callbacks', async () => {
    const frames = Array.from({ length: 300 }, (_, i) => [i, i * 1000, bytes(40 + ((i * 37) % 400), i)] as [number, number, Uint8Array]);
    const path = join(tmp, 'ahead.pcap');
    writeFileSync(path, await writePcap('ns', frames));
    for (const chunkSize of [64, 100, 333, 4096, 1 << 20]) {
      for (const asyncEvery of [0, 1, 7]) {
        const seen: string[] = [];
        let n = 0;
        await readCaptureFile(
          path,
          (r: PacketRecord) => {
            // The record's bytes are read now or after the await: neither may see the next chunk's bytes.
            const take = (): void => {
              seen.push(`${r.tsSec}.${r.tsNsec}:${Buffer.from(r.data).toString('hex')}`);
            };
            if (asyncEvery > 0 && n++ % asyncEvery === 0) return new Promise<void>((resolve) => setImmediate(() => { take(); resolve(); }));
            take();
            return undefined;
          },
          { chunkSize },
        );
        expect(seen, `chunkSize ${chunkSize}, async every ${asyncEvery}`).toEqual(frames.map(([s, ns, b]) => `${s}.${ns}:${Buffer.from(b).toString('hex')}`));
      }
    }
  });

  it('a callback that throws mid-file (a read ahead in flight) rejects with its error, and the file is closed', async () => {
    const path = join(tmp, 'throw-ahead.pcap');
    writeFileSync(path, await writePcap('us', Array.from({ length: 200 }, (_, i) => [i, 0, bytes(200, i)] as [number, number, Uint8Array])));
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      let seen = 0;
      await expect(
        readCaptureFile(path, () => {
          if (++seen === 50) throw new Error('consumer failed');
        }, { chunkSize: 1000 }),
      ).rejects.toThrow('consumer failed');
      const abort = new AbortController();
      await expect(
        readCaptureFile(path, () => {
          abort.abort(new Error('stopped'));
        }, { chunkSize: 1000, signal: abort.signal }),
      ).rejects.toThrow('stopped');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      // Both handles were closed: the file can be replaced and read again in full.
      writeFileSync(path, await writePcap('us', [[1, 0, bytes(10)]]));
      let again = 0;
      await readCaptureFile(path, () => {
        again++;
      });
      expect(again).toBe(1);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('rejects programmer errors in options (chunkSize) with RangeError', async () => {
    await expect(readCaptureFile(join(tmp, 'unused'), () => undefined, { chunkSize: 10 })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('file-level errors', () => {
  it('rejects with CaptureError, having delivered the packets before the fault', async () => {
    const path = join(tmp, 'lying.pcapng');
    // register-auth.pcapng (little-endian) cut after its 2nd packet, then an EPB naming interface 7
    const fault = endOfPacketBlock(REGISTER_AUTH, 2);
    const strayEpb = Buffer.alloc(32);
    strayEpb.writeUInt32LE(6, 0);
    strayEpb.writeUInt32LE(32, 4);
    strayEpb.writeUInt32LE(7, 8);
    strayEpb.writeUInt32LE(32, 28);
    writeFileSync(path, Buffer.concat([REGISTER_AUTH.subarray(0, fault), strayEpb]));
    let seen = 0;
    const reading = readCaptureFile(path, () => {
      seen++;
    });
    await expect(reading).rejects.toBeInstanceOf(CaptureError);
    await expect(reading).rejects.toMatchObject({ code: CaptureErrorCode.UNKNOWN_INTERFACE, offset: fault });
    expect(seen).toBe(2);
  });

  it('a block with a lying length is resynchronised over, not fatal (issue 12 finding 3)', async () => {
    const path = join(tmp, 'lying-length.pcapng');
    const fault = endOfPacketBlock(REGISTER_AUTH, 2);
    const zeroLengthBlock = Buffer.alloc(12);
    zeroLengthBlock.writeUInt32LE(0x0bad, 0);
    writeFileSync(path, Buffer.concat([REGISTER_AUTH.subarray(0, fault), zeroLengthBlock, REGISTER_AUTH.subarray(fault)]));
    let seen = 0;
    const summary = await readCaptureFile(path, () => {
      seen++;
    });
    expect(summary.firstDamage).toMatchObject({ code: CaptureErrorCode.BLOCK_TOO_SHORT, offset: fault });
    expect(summary.counters).toMatchObject({ resyncs: 1, skippedBytes: 12 });
    expect(seen).toBe(parseCapture(REGISTER_AUTH).records.length);
  });

  it('truncated last record: flag by default, rejection with strictTruncation', async () => {
    const path = join(tmp, 'cut.pcap');
    const full = await writePcap('us', [
      [1, 0, bytes(40)],
      [2, 0, bytes(40)],
    ]);
    writeFileSync(path, full.subarray(0, full.length - 3));
    let seen = 0;
    const summary = await readCaptureFile(path, () => {
      seen++;
    });
    expect(seen).toBe(1);
    expect(summary.packets).toBe(1);
    expect(summary.truncation).toMatchObject({ code: CaptureErrorCode.TRUNCATED_RECORD_DATA, offset: 80 });
    seen = 0;
    await expect(readCaptureFile(path, () => {
      seen++;
    }, { strictTruncation: true })).rejects.toMatchObject({
      code: CaptureErrorCode.TRUNCATED_RECORD_DATA,
      offset: 80,
    });
    expect(seen).toBe(1);
  });

  it('a truncated gzip resolves with the packets that decompressed and GZIP_TRUNCATED; corrupt gzip data before the file header rejects with GZIP_ERROR', async () => {
    const content = await writePcap('us', Array.from({ length: 50 }, (_, i) => [i, 0, bytes(100, i)] as [number, number, Uint8Array]));
    const gz = gzipSync(content);
    const cutPath = join(tmp, 'cut.pcap.gz');
    writeFileSync(cutPath, gz.subarray(0, gz.length - 20));
    let seen = 0;
    const summary = await readCaptureFile(cutPath, () => {
      seen++;
    }, { chunkSize: 256 });
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThanOrEqual(50);
    expect(summary.packets).toBe(seen);
    expect(summary.gzip?.damage).toMatchObject({ code: CaptureErrorCode.GZIP_TRUNCATED });
    expect(summary.truncation).not.toBeNull();
    const badPath = join(tmp, 'bad.pcap.gz');
    const bad = Buffer.from(gz);
    bad.fill(0xff, 10, 40);
    writeFileSync(badPath, bad);
    await expect(readCaptureFile(badPath, () => undefined)).rejects.toMatchObject({ code: CaptureErrorCode.GZIP_ERROR });
  });

  it('missing file rejects with the Node I/O error, not a CaptureError', async () => {
    await expect(readCaptureFile(join(tmp, 'nope.pcap'), () => undefined)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('readCaptureStream never throws anything but CaptureError', () => {
  const REAL = [readFileSync(corpusPath('cancel-487.pcap')), REGISTER_AUTH];
  const mutation = fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 8 });
  test.prop([fc.constantFrom(...REAL, MULTI_SECTION), mutation, fc.nat(), fc.integer({ min: 1, max: 2048 })], { numRuns: 200 })(
    'randomly mutated and cut real files only ever fail with CaptureError (readCaptureStream)',
    async (file, edits, cutSeed, chunkSize) => {
      const input = Buffer.from(file);
      for (const [at, value] of edits) input[at % input.length] = value;
      const cut = input.subarray(0, input.length - (cutSeed % 64));
      const chunks: Buffer[] = [];
      for (let i = 0; i < cut.length; i += chunkSize) chunks.push(cut.subarray(i, i + chunkSize));
      let delivered = 0;
      try {
        const summary = await readCaptureStream(Readable.from(chunks), () => {
          delivered++;
        });
        expect(summary.packets).toBe(delivered);
      } catch (err) {
        expect(err).toBeInstanceOf(CaptureError);
      }
      const sync = parseCapture(cut, chunkSize);
      expect(FINAL.has(sync.status)).toBe(true);
      expect(sync.records.length).toBe(delivered);
    },
  );
});
