import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkCompression, rebuildSpoolIndex, scanArchive, SpoolWriter, spoolCallName, spoolFileName, spoolFilePath, spoolMinuteDir, TAR_BLOCK } from '../src/index.js';
import { loadFrames, retrieve, sameRecords, tempSpool, walk } from './spool-fixtures.js';
import type { Frame } from './spool-fixtures.js';
import { CaptureParseStatus } from '@callscope/pcap-format';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let base: Frame[] = [];
beforeAll(async () => {
  base = await loadFrames('basic-caller-bye-pcma.pcap');
});

/** GNU tar's verdict on an archive: exit status 0 = every member complete. */
function tarStatus(path: string): number | null {
  return spawnSync('tar', ['tf', path], { encoding: 'utf8' }).status;
}

/**
 * SIGKILL of the sniffer is equivalent, for the files, to a writer that is dropped without
 * close(): whatever was handed to the disk stays, buffers in memory vanish. The segment must then
 * be a valid tar whose complete members hold exactly the packets reported written. (The e2e kill
 * test does it with a real SIGKILL of a writer process.)
 */
describe.each(Object.values(ChunkCompression))('a writer abandoned mid-run (compression %s)', (compression) => {
  it('leaves a segment whose every complete chunk is retrievable; a torn tail costs its last chunk only, and fsck cuts it', async () => {
    const dir = tempSpool(`crash-${compression}`);
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, flushBytes: 2048, compression });
    const ref = { callId: 'killed@host', startSec: base[0]!.tsSec, startUsec: 0 };
    const half = Math.floor(base.length / 2);
    for (const f of base.slice(0, half)) writer.write(ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.flush();
    const onDisk = writer.stats().packetsWritten;
    expect(onDisk).toBe(half);
    const chunks = writer.stats().chunksWritten;
    // More packets sit in memory and die with the process: never close(), never endCall().
    for (const f of base.slice(half, half + 5)) writer.write(ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);

    const files = walk(dir).map((f) => f.rel.replace(/^.*\//, ''));
    expect(files.sort()).toEqual(['seg.0.idx', 'seg.0.tar']);
    const tarPath = join(dir, spoolMinuteDir(ref.startSec), 'seg.0.tar');
    expect(tarStatus(tarPath)).toBe(0);
    expect(execFileSync('tar', ['tf', tarPath], { encoding: 'utf8' }).trim().split('\n')).toHaveLength(chunks);
    const query = { callId: ref.callId, startSec: ref.startSec, startUsec: 0 };
    const whole = await retrieve(dir, query);
    expect(sameRecords(whole.records, base.slice(0, half))).toBeNull();
    expect(whole.summary.skipped).toEqual([]);

    // A kill during write(2) leaves a torn last member: cut the archive inside its data.
    const last = (await scanArchive(tarPath)).entries.at(-1)!;
    const cut = last.offset + TAR_BLOCK + Math.floor(last.size / 2);
    truncateSync(tarPath, cut);
    expect(tarStatus(tarPath)).not.toBe(0);
    const torn = await retrieve(dir, query);
    expect(torn.status).toBe(CaptureParseStatus.End); // the merged output itself is clean
    expect(torn.summary.skipped).toEqual([
      { path: tarPath, offset: last.offset, reason: `torn tail: ${cut - last.offset} bytes after the last complete member` },
      { path: tarPath, offset: 0, reason: '1 index entries point past the archive or are impossible' },
    ]);
    const lost = half - torn.records.length;
    expect(lost).toBeGreaterThan(0);
    expect(lost).toBeLessThanOrEqual(Math.ceil(2048 / 60));
    // the lost records are one chunk: a contiguous run of one group's packets (with gzip, chunks
    // reach the archive in the order their compression ends, so not necessarily the group's last);
    // everything else arrives intact, in order
    const firstHalf = base.slice(0, half);
    const missing: Frame[] = [];
    let j = 0;
    for (const f of firstHalf) {
      const r = torn.records[j];
      if (r !== undefined && r.tsSec === f.tsSec && r.tsNsec === f.tsNsec && Buffer.from(r.data).equals(Buffer.from(f.data))) j++;
      else missing.push(f);
    }
    expect(j).toBe(torn.records.length);
    expect(missing).toHaveLength(lost);
    const ofGroup = firstHalf.filter((f) => f.kind === last.group);
    const from = ofGroup.indexOf(missing[0]!);
    expect(from).toBeGreaterThanOrEqual(0);
    expect(missing).toEqual(ofGroup.slice(from, from + lost));
    const without = (): Frame[] => firstHalf.filter((f) => !missing.includes(f));

    const report = await rebuildSpoolIndex(dir);
    expect(report).toEqual({
      minutes: 1,
      segments: 1,
      chunks: chunks - 1,
      indexedBefore: chunks - 1,
      badIndexEntries: 1,
      tornIndexBytes: 0,
      tornSegments: 1,
      tornTarBytes: cut - last.offset,
      indexesWritten: 1,
      archivesCut: 1,
    });
    expect(statSync(tarPath).size).toBe(last.offset);
    expect(tarStatus(tarPath)).toBe(0);
    const repaired = await retrieve(dir, query);
    expect(repaired.summary.skipped).toEqual([]);
    expect(sameRecords(repaired.records, without())).toBeNull();
    // a second pass finds nothing to do
    expect(await rebuildSpoolIndex(dir)).toMatchObject({ chunks: chunks - 1, indexedBefore: chunks - 1, tornSegments: 0, badIndexEntries: 0, archivesCut: 0 });
  });
});

describe('an index that lags its archive (writer killed between the data and the index write)', () => {
  it('is completed by scanning the archive tail at retrieval, and rebuilt whole by fsck', async () => {
    const dir = tempSpool('lag');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, flushBytes: 2048 });
    const ref = { callId: 'lag@host', startSec: base[0]!.tsSec, startUsec: 0 };
    for (const f of base) writer.write(ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.close();
    const idxPath = join(dir, spoolMinuteDir(ref.startSec), 'seg.0.idx');
    const idx = readFileSync(idxPath);
    const entries = (idx.length - 8) / 32;
    // keep the first third of the entries and half of the next one (a torn append)
    writeFileSync(idxPath, idx.subarray(0, 8 + Math.floor(entries / 3) * 32 + 16));
    const query = { callId: ref.callId, startSec: ref.startSec, startUsec: 0 };
    expect(sameRecords((await retrieve(dir, query)).records, base)).toBeNull();
    rmSync(idxPath);
    expect(sameRecords((await retrieve(dir, query)).records, base)).toBeNull(); // no index at all: the archive alone
    const report = await rebuildSpoolIndex(dir);
    expect(report).toMatchObject({ segments: 1, chunks: entries, indexedBefore: 0, tornSegments: 0, indexesWritten: 1 });
    expect(readFileSync(idxPath)).toEqual(idx);
  });
});

describe('damaged segment members', () => {
  it('a member whose bytes are not a pcap is skipped and reported, the other chunks still merge', async () => {
    const dir = tempSpool('corrupt');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir });
    const ref = { callId: 'c', startSec: base[0]!.tsSec, startUsec: 0 };
    for (const f of base) writer.write(ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.close();
    const tarPath = join(dir, spoolMinuteDir(ref.startSec), 'seg.0.tar');
    const first = (await scanArchive(tarPath)).entries[0]!;
    const bytes = readFileSync(tarPath);
    bytes.fill(0x41, first.offset + TAR_BLOCK, first.offset + TAR_BLOCK + 24); // its pcap header
    writeFileSync(tarPath, bytes);
    const got = await retrieve(dir, { callId: 'c', startSec: ref.startSec, startUsec: 0 });
    expect(got.summary.skipped).toHaveLength(1);
    expect(got.summary.skipped[0]).toMatchObject({ path: tarPath, offset: first.offset });
    expect(got.records.length).toBeGreaterThan(0);
    expect(got.records.length).toBeLessThan(base.length);
    expect(got.status).toBe(CaptureParseStatus.End);
  });

  it('gives every record after a damaged record header, those the end of the chunk confirmed included', async () => {
    const dir = tempSpool('resync');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, flushBytes: 1024 * 1024 });
    const ref = { callId: 'damaged@host', startSec: base[0]!.tsSec, startUsec: 0 };
    for (const f of base) writer.write(ref, 'sip', f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.close();
    const tarPath = join(dir, spoolMinuteDir(ref.startSec), 'seg.0.tar');
    const bytes = readFileSync(tarPath);
    // Walk to the second-to-last record of the one chunk and flip a high bit of its captured
    // length: the parser resynchronises on the last record, which only the chunk's end can confirm.
    let off = TAR_BLOCK + 24;
    for (let i = 0; i < base.length - 2; i++) off += 16 + bytes.readUInt32LE(off + 8);
    bytes[off + 10] = bytes[off + 10]! ^ 0x10;
    writeFileSync(tarPath, bytes);
    const { records } = await retrieve(dir, { callId: ref.callId, startSec: ref.startSec, startUsec: 0 });
    expect(records).toHaveLength(base.length - 1);
    expect(Buffer.from(records.at(-1)!.data)).toEqual(Buffer.from(base.at(-1)!.data));
  });
});

describe('a spool of the old per-call layout', () => {
  it('stays readable next to segments, and a corrupt old file is a CorruptFile error, not a crash', async () => {
    const dir = tempSpool('old');
    dirs.push(dir);
    const startSec = base[0]!.tsSec;
    const name = spoolCallName('old@host', startSec, 0);
    mkdirSync(join(dir, spoolMinuteDir(startSec)), { recursive: true });
    // an old-layout SIP file, written by hand: ns pcap header + records
    const sip = base.filter((f) => f.kind === 'sip');
    const parts: Buffer[] = [Buffer.from('4d3cb2a1020004000000000000000000000004000100000000', 'hex').subarray(0, 24)];
    for (const f of sip) {
      const h = Buffer.alloc(16);
      h.writeUInt32LE(f.tsSec, 0);
      h.writeUInt32LE(f.tsNsec, 4);
      h.writeUInt32LE(f.data.length, 8);
      h.writeUInt32LE(f.origLen, 12);
      parts.push(h, Buffer.from(f.data));
    }
    writeFileSync(spoolFilePath(dir, spoolMinuteDir(startSec), spoolFileName(name, 'sip', 0, false)), Buffer.concat(parts));
    // and the same call's RTP through the segment writer
    const writer = new SpoolWriter({ spoolDir: dir });
    const ref = { callId: 'old@host', startSec, startUsec: 0 };
    for (const f of base.filter((x) => x.kind === 'rtp')) writer.write(ref, 'rtp', f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.close();
    const got = await retrieve(dir, { callId: 'old@host', startSec, startUsec: 0 });
    expect(sameRecords(got.records, base)).toBeNull();
    expect(got.summary.files.map((f) => f.replace(/^.*\//, ''))).toEqual(['seg.0.tar', `${name}.sip.pcap`]);
    // regression: with a sensor asked for (the web GUI always passes the CDR's), the old layout
    // (which names no sensor) is still included; only other sensors' chunks are left out
    const withSensor = await retrieve(dir, { callId: 'old@host', startSec, startUsec: 0, sensor: '' });
    expect(sameRecords(withSensor.records, base)).toBeNull();
    expect(withSensor.summary.files.map((f) => f.replace(/^.*\//, ''))).toEqual(['seg.0.tar', `${name}.sip.pcap`]);
    const otherSensor = await retrieve(dir, { callId: 'old@host', startSec, startUsec: 0, sensor: 'sensor-2' });
    expect(sameRecords(otherSensor.records, sip)).toBeNull();
    expect(otherSensor.summary.files.map((f) => f.replace(/^.*\//, ''))).toEqual([`${name}.sip.pcap`]);

    const bad = spoolFilePath(dir, spoolMinuteDir(startSec), spoolFileName(spoolCallName('c', startSec, 0), 'sip', 0, false));
    writeFileSync(bad, Buffer.from('not a capture file at all'));
    await expect(retrieve(dir, { callId: 'c', startSec, startUsec: 0 })).rejects.toMatchObject({ code: 'SPOOL_CORRUPT_FILE' });
  });
});
