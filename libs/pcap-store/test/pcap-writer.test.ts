import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fc, test } from '@fast-check/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter, readCaptureFile, readCaptureStream } from '../src/index.js';
import { bytes } from './payload.js';
import { LinkType, type PcapResolution } from '@callscope/pcap-format';
import { corpusPath } from '@callscope/testing';

const tmp = mkdtempSync(join(tmpdir(), 'pcap-store-writer-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** An in-memory sink; `delay` makes every write complete on a later turn (a slow disk). */
class MemorySink extends Writable {
  readonly parts: Buffer[] = [];
  constructor(highWaterMark: number, private readonly delay = false) {
    super({ highWaterMark });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.parts.push(Buffer.from(chunk));
    if (this.delay) setImmediate(done);
    else done();
  }
  get content(): Buffer {
    return Buffer.concat(this.parts);
  }
}

describe('PcapWriter', () => {
  it.each(['basic-call-linux-sll.pcap', 'ipv6-call.pcap', 'cancel-487.pcap'])(
    'copies %s byte for byte (reader -> writer, same header parameters)',
    async (file) => {
      const source = corpusPath(file);
      const original = readFileSync(source);
      const target = join(tmp, file);
      let writer: PcapWriter | null = null;
      await readCaptureFile(source, (r) => {
        writer ??= PcapWriter.toFile(target, {
          linkType: r.linkType,
          snaplen: 262144,
          resolution: original.readUInt32LE(0) === 0xa1b23c4d ? 'ns' : 'us',
          batchSize: 4096,
        });
        return writer.write(r);
      });
      await writer!.close();
      expect(readFileSync(target).equals(original)).toBe(true);
    },
  );

  it('cuts packets to the snaplen and keeps the original length', async () => {
    const sink = new MemorySink(1 << 20);
    const w = new PcapWriter(sink, { linkType: LinkType.Ethernet, snaplen: 100, resolution: 'ns' });
    expect(w.writePacket(5, 6, bytes(300))).toBeUndefined();
    await w.close();
    const got: Array<[number, number, number]> = [];
    await readCaptureStream(Readable.from([sink.content]), (r) => void got.push([r.capLen, r.origLen, r.data[99]!]));
    expect(got).toEqual([[100, 300, bytes(300)[99]!]]);
    expect(w.bytes).toBe(24 + 16 + 100);
  });

  it('applies back-pressure from a slow sink and delivers every byte in order', async () => {
    const sink = new MemorySink(1024, true);
    const w = new PcapWriter(sink, { linkType: LinkType.Ethernet, batchSize: 512 });
    let waits = 0;
    for (let i = 0; i < 200; i++) {
      const pending = w.writePacket(i, i * 1000, bytes(200, i));
      if (pending !== undefined) {
        waits++;
        await pending;
      }
    }
    await w.close();
    expect(waits).toBeGreaterThan(10);
    const seen: number[] = [];
    let wrong = 0;
    await readCaptureStream(Readable.from([sink.content]), (r) => {
      seen.push(r.tsSec);
      if (!Buffer.from(r.data).equals(Buffer.from(bytes(200, r.tsSec)))) wrong++;
    });
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(wrong).toBe(0);
  });

  it('surfaces a sink error on close and on the next write', async () => {
    const sink = new Writable({
      write(_chunk, _enc, done) {
        done(new Error('disk full'));
      },
    });
    const w = new PcapWriter(sink, { linkType: 1, batchSize: 64 });
    w.writePacket(1, 0, bytes(100)); // larger than the batch: written at once, fails
    await expect(w.close()).rejects.toThrow('disk full');
    expect(() => w.writePacket(1, 0, bytes(1))).toThrow('disk full');
  });

  const recordArb = fc.record({
    tsSec: fc.nat({ max: 0xffff_ffff }),
    tsNsec: fc.nat({ max: 999_999_999 }),
    data: fc.uint8Array({ maxLength: 300 }),
    extra: fc.nat({ max: 70_000 }),
  });

  test.prop([fc.array(recordArb, { maxLength: 40 }), fc.constantFrom<PcapResolution>('us', 'ns'), fc.integer({ min: 24, max: 2048 })], { numRuns: 60 })(
    'write -> read round-trips exactly (µs files keep the µs part of tsNsec)',
    async (records, resolution, batchSize) => {
      const sink = new MemorySink(4096);
      const w = new PcapWriter(sink, { linkType: 228, resolution, batchSize });
      for (const r of records) await w.writePacket(r.tsSec, r.tsNsec, r.data, r.data.length + r.extra);
      await w.close();
      const back: Array<{ tsSec: number; tsNsec: number; data: Uint8Array; origLen: number; linkType: number }> = [];
      const summary = await readCaptureStream(Readable.from([sink.content]), (r) => {
        back.push({ tsSec: r.tsSec, tsNsec: r.tsNsec, data: Uint8Array.from(r.data), origLen: r.origLen, linkType: r.linkType });
      });
      expect(back).toEqual(
        records.map((r) => ({
          tsSec: r.tsSec,
          tsNsec: resolution === 'ns' ? r.tsNsec : r.tsNsec - (r.tsNsec % 1000),
          data: r.data,
          origLen: r.data.length + r.extra,
          linkType: 228,
        })),
      );
      expect(summary.bytes).toBe(w.bytes);
      expect(w.packets).toBe(records.length);
    },
  );
});
