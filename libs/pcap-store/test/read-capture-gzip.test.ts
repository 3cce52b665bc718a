/**
 * Damaged gzip captures (callscope issue 12, finding 2): trailing garbage after a valid member,
 * a cut-off .gz, concatenated members. One rule with the plain file: every packet that could be
 * decompressed is delivered, then the damage is reported in the summary (never a rejection once
 * the capture's file header was read). Built from a real corpus capture.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureErrorCode } from '@callscope/pcap-format';
import { corpusPath } from '@callscope/testing';
import { readCaptureFile } from '../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'pcap-store-gzip-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const PLAIN = readFileSync(corpusPath('basic-caller-bye-pcma.pcap'));
const GZ = gzipSync(PLAIN);

/** Offsets (in PLAIN) where each record starts, walked from the classic pcap layout. */
function recordStarts(file: Buffer): number[] {
  const starts: number[] = [];
  for (let at = 24; at + 16 <= file.length; at += 16 + file.readUInt32LE(at + 8)) starts.push(at);
  return starts;
}
const STARTS = recordStarts(PLAIN);

async function readAll(name: string, content: Uint8Array, chunkSize?: number): Promise<{ seen: number; offsets: number[]; summary: Awaited<ReturnType<typeof readCaptureFile>> }> {
  const path = join(tmp, name);
  writeFileSync(path, content);
  const offsets: number[] = [];
  const summary = await readCaptureFile(path, (r) => {
    offsets.push(r.fileOffset);
  }, chunkSize === undefined ? {} : { chunkSize });
  return { seen: offsets.length, offsets, summary };
}

describe('gzip captures with damage', () => {
  it('reads the plain corpus file and its .gz alike (baseline)', async () => {
    const plain = await readAll('base.pcap', PLAIN);
    const gz = await readAll('base.pcap.gz', GZ);
    expect(plain.seen).toBe(STARTS.length);
    expect(gz.seen).toBe(STARTS.length);
    expect(gz.summary.gzip).toEqual({ members: 1, compressedBytes: GZ.length, trailingGarbageBytes: 0, crcMismatches: 0, damage: null });
    expect(plain.summary.gzip).toBeNull();
  });

  it('trailing garbage after a valid member: every packet delivered, garbage counted, no rejection', async () => {
    const garbage = Buffer.alloc(100, 0x41);
    for (const chunkSize of [undefined, 4096, 64]) {
      const out = await readAll('garbage.pcap.gz', Buffer.concat([GZ, garbage]), chunkSize);
      expect(out.seen).toBe(STARTS.length);
      expect(out.offsets).toEqual(STARTS);
      expect(out.summary.packets).toBe(STARTS.length);
      expect(out.summary.truncation).toBeNull();
      expect(out.summary.gzip).toMatchObject({ members: 1, trailingGarbageBytes: 100, damage: null });
    }
  });

  it('trailing garbage that starts like a gzip member (1f 8b then junk) is garbage too, counted', async () => {
    const junk = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x77]), Buffer.alloc(20, 0x55)]);
    const out = await readAll('garbage2.pcap.gz', Buffer.concat([GZ, junk]));
    expect(out.seen).toBe(STARTS.length);
    expect(out.summary.gzip?.members).toBe(1);
    expect(out.summary.gzip?.damage).toMatchObject({ code: CaptureErrorCode.GZIP_ERROR });
  });

  it('a .gz cut in the middle: the complete packets before the cut, truncation reported, no rejection', async () => {
    const cut = GZ.subarray(0, GZ.length >> 1);
    for (const chunkSize of [undefined, 1000]) {
      const out = await readAll('cut.pcap.gz', cut, chunkSize);
      expect(out.seen).toBeGreaterThan(STARTS.length / 4);
      expect(out.seen).toBeLessThan(STARTS.length);
      expect(out.offsets).toEqual(STARTS.slice(0, out.seen));
      expect(out.summary.packets).toBe(out.seen);
      expect(out.summary.truncation).not.toBeNull();
      expect(out.summary.gzip?.damage).toMatchObject({ code: CaptureErrorCode.GZIP_TRUNCATED });
    }
  });

  it('a .gz cut inside its 8-byte trailer: every packet, truncation reported', async () => {
    const out = await readAll('cut-trailer.pcap.gz', GZ.subarray(0, GZ.length - 3));
    expect(out.seen).toBe(STARTS.length);
    expect(out.summary.gzip?.damage).toMatchObject({ code: CaptureErrorCode.GZIP_TRUNCATED });
    expect(out.summary.truncation).toMatchObject({ code: CaptureErrorCode.GZIP_TRUNCATED });
  });

  it('strictTruncation rejects a cut .gz after delivering what decompressed', async () => {
    const path = join(tmp, 'cut-strict.pcap.gz');
    writeFileSync(path, GZ.subarray(0, GZ.length >> 1));
    let seen = 0;
    await expect(readCaptureFile(path, () => {
      seen++;
    }, { strictTruncation: true })).rejects.toHaveProperty('code');
    expect(seen).toBeGreaterThan(0);
  });

  it('two gzip members concatenated (cat a.gz b.gz): all packets of both', async () => {
    const half = STARTS[Math.floor(STARTS.length / 2)]!;
    const two = Buffer.concat([gzipSync(PLAIN.subarray(0, half)), gzipSync(PLAIN.subarray(half))]);
    for (const chunkSize of [undefined, 333]) {
      const out = await readAll('two.pcap.gz', two, chunkSize);
      expect(out.offsets).toEqual(STARTS);
      expect(out.summary.gzip).toMatchObject({ members: 2, compressedBytes: two.length, trailingGarbageBytes: 0, damage: null });
    }
  });

  it('a CRC-32 mismatch in a member trailer is counted, the packets are delivered', async () => {
    const bad = Buffer.from(GZ);
    bad[bad.length - 8]! ^= 0xff;
    const out = await readAll('crc.pcap.gz', bad);
    expect(out.seen).toBe(STARTS.length);
    expect(out.summary.gzip?.crcMismatches).toBe(1);
  });

  it('deflate data corrupt from the start: nothing readable, GZIP_ERROR rejection', async () => {
    const bad = Buffer.from(GZ);
    bad.fill(0xff, 10, 40);
    const path = join(tmp, 'bad.pcap.gz');
    writeFileSync(path, bad);
    await expect(readCaptureFile(path, () => undefined)).rejects.toMatchObject({ code: CaptureErrorCode.GZIP_ERROR });
  });
});

describe('damaged record headers through readCaptureFile (issue 12, finding 3)', () => {
  it('a flipped caplen bit (bit 20) costs one packet, plain and gzip alike; a damaged second-to-last record too', async () => {
    for (const k of [Math.floor(STARTS.length / 2), STARTS.length - 2]) {
      const damaged = Buffer.from(PLAIN);
      damaged[STARTS[k]! + 8 + 2]! ^= 0x10;
      for (const [name, content] of [['flip.pcap', damaged], ['flip.pcap.gz', gzipSync(damaged)]] as const) {
        for (const chunkSize of [undefined, 500]) {
          const out = await readAll(name, content, chunkSize);
          expect(out.offsets).toEqual(STARTS.filter((_, i) => i !== k));
          expect(out.summary.counters).toMatchObject({ resyncs: 1, skippedBytes: STARTS[k + 1]! - STARTS[k]! });
          expect(out.summary.firstDamage).toMatchObject({ code: CaptureErrorCode.CAPLEN_TOO_LARGE, offset: STARTS[k] });
          expect(out.summary.truncation).toBeNull();
        }
      }
    }
  });
});
