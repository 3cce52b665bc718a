import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCaptureFile, SpoolWriter } from '../src/index.js';
import { parseCapture } from './parse-capture.js';
import { loadFrames, retrieve, sameRecords, tempSpool, walk } from './spool-fixtures.js';
import type { Frame } from './spool-fixtures.js';
import { CaptureErrorCode, CaptureParseStatus, type CaptureSummary } from '@callscope/pcap-format';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let base: Frame[] = [];
beforeAll(async () => {
  base = await loadFrames('basic-caller-bye-pcma.pcap');
});

async function countRecords(path: string): Promise<{ n: number; summary: CaptureSummary }> {
  let n = 0;
  const summary = await readCaptureFile(path, () => {
    n++;
  });
  return { n, summary };
}

/**
 * SIGKILL of the sniffer is equivalent, for the files, to a writer that is dropped without
 * close(): whatever was handed to the disk stays, buffers in memory vanish. The files must then
 * be valid pcaps holding exactly the packets reported written.
 */
describe.each([false, true])('a writer abandoned mid-run (gzip %s)', (gzip) => {
  it('leaves files readable up to a record boundary, and a torn tail is reported, not fatal', async () => {
    const dir = tempSpool(`crash-${gzip}`);
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, flushBytes: 2048, gzip });
    const ref = { callId: 'killed@host', startSec: base[0]!.tsSec, startUsec: 0 };
    const half = Math.floor(base.length / 2);
    for (const f of base.slice(0, half)) writer.write(ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.flush();
    const onDisk = writer.stats().packetsWritten;
    expect(onDisk).toBe(half);
    // More packets sit in memory and die with the process: never close(), never endCall().
    for (const f of base.slice(half, half + 5)) writer.write(ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);

    const files = walk(dir).map((f) => join(dir, f.rel));
    expect(files).toHaveLength(2);
    let total = 0;
    for (const path of files) {
      const { n, summary } = await countRecords(path);
      expect(summary.truncation).toBeNull();
      total += n;
    }
    expect(total).toBe(onDisk);
    const whole = await retrieve(dir, { callId: ref.callId, startSec: ref.startSec, startUsec: 0 });
    expect(sameRecords(whole.records, base.slice(0, half))).toBeNull();

    // A kill during write(2) leaves a torn last record: cut the RTP file by a few bytes.
    const rtpPath = files.find((p) => p.includes('.rtp.'))!;
    const size = readFileSync(rtpPath).length;
    truncateSync(rtpPath, size - (gzip ? 100 : 5)); // gzip: into the deflate data, past the 8-byte trailer
    const torn = await retrieve(dir, { callId: ref.callId, startSec: ref.startSec, startUsec: 0 });
    expect(torn.status).toBe(CaptureParseStatus.End); // the merged output itself is clean
    expect(torn.summary.truncated).toEqual([{ path: rtpPath, code: gzip ? CaptureErrorCode.GZIP_ERROR : CaptureErrorCode.TRUNCATED_RECORD_DATA }]);
    const rtpWritten = base.slice(0, half).filter((f) => f.kind === 'rtp').length;
    const lost = half - torn.records.length;
    // plain: exactly the torn record is lost; gzip: at most the last member (one flushed buffer)
    if (gzip) {
      expect(lost).toBeGreaterThan(0);
      expect(lost).toBeLessThanOrEqual(Math.ceil(2048 / 230) + 1);
    } else {
      expect(lost).toBe(1);
      const { n, summary } = await countRecords(rtpPath);
      expect(n).toBe(rtpWritten - 1);
      expect(summary.truncation?.code).toBe(CaptureErrorCode.TRUNCATED_RECORD_DATA);
    }
    // the lost records are the last ones of the RTP file: everything else arrives intact, in order
    const firstHalf = base.slice(0, half);
    const keptRtp = new Set(firstHalf.filter((f) => f.kind === 'rtp').slice(0, rtpWritten - lost));
    expect(sameRecords(torn.records, firstHalf.filter((f) => f.kind === 'sip' || keptRtp.has(f)))).toBeNull();
    await writer.close();
  });
});

describe('a corrupt spool file', () => {
  it('is a CorruptFile error, not a crash', async () => {
    const dir = tempSpool('corrupt');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir });
    const ref = { callId: 'c', startSec: base[0]!.tsSec, startUsec: 0 };
    const f = base[0]!;
    writer.write(ref, 'sip', f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.close();
    const path = join(dir, walk(dir)[0]!.rel);
    writeFileSync(path, Buffer.from('not a capture file at all'));
    await expect(retrieve(dir, { callId: 'c', startSec: ref.startSec, startUsec: 0 })).rejects.toMatchObject({ code: 'SPOOL_CORRUPT_FILE' });
    expect(parseCapture(readFileSync(path)).status).toBe(CaptureParseStatus.Error);
  });
});

describe('a spool file with a damaged record header near its end', () => {
  it('gives every record after the damage, those the end of the file confirmed included', async () => {
    const dir = tempSpool('resync');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir });
    const ref = { callId: 'damaged@host', startSec: base[0]!.tsSec, startUsec: 0 };
    for (const f of base) writer.write(ref, 'sip', f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.close();
    const path = join(dir, walk(dir)[0]!.rel);
    const bytes = readFileSync(path);
    // Walk to the second-to-last record and flip a high bit of its captured length: the parser
    // resynchronises on the last record, which only the end of the file can confirm.
    let off = 24;
    for (let i = 0; i < base.length - 2; i++) off += 16 + bytes.readUInt32LE(off + 8);
    bytes[off + 10] = bytes[off + 10]! ^ 0x10;
    writeFileSync(path, bytes);
    const { records } = await retrieve(dir, { callId: ref.callId, startSec: ref.startSec, startUsec: 0 });
    expect(records).toHaveLength(base.length - 1);
    expect(Buffer.from(records.at(-1)!.data)).toEqual(Buffer.from(base.at(-1)!.data));
  });
});
