import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INDEX_ENTRY_BYTES, readIndexEntry, SpoolWriter, spoolMinuteDir, writeIndexEntry } from '../src/index.js';
import { loadFrames, retrieve, sameRecords, shift, tempSpool, walk, writeInterleaved } from './spool-fixtures.js';
import type { Frame, TestCall } from './spool-fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
let base: Frame[] = [];
beforeAll(async () => {
  base = await loadFrames('basic-caller-bye-pcma.pcap');
});

describe('the call key includes the sensor', () => {
  it('the same Call-ID and start on two sensors are retrieved separately, or together without a sensor', async () => {
    const dir = tempSpool('sensors');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, sensor: 'central' });
    const first = base[0]!;
    const key = { callId: 'same@pbx', startSec: first.tsSec, startUsec: Math.floor(first.tsNsec / 1000) };
    // sensor B sees the call 3 ms later (another PBX leg); the writer's own sensor sees a third copy
    const a: TestCall = { ref: { ...key, sensor: 'sensor-a' }, frames: base };
    const b: TestCall = { ref: { ...key, sensor: 'sensor-b' }, frames: shift(base, 3, 1) };
    const own: TestCall = { ref: { ...key }, frames: shift(base, 5, 2).slice(0, 10) };
    writeInterleaved(writer, [a, b, own]);
    await writer.close();
    expect(writer.stats().packetsWritten).toBe(2 * base.length + 10);
    const ga = await retrieve(dir, { ...key, sensor: 'sensor-a' });
    expect(sameRecords(ga.records, a.frames)).toBeNull();
    const gb = await retrieve(dir, { ...key, sensor: 'sensor-b' });
    expect(sameRecords(gb.records, b.frames)).toBeNull();
    const gown = await retrieve(dir, { ...key, sensor: 'central' });
    expect(sameRecords(gown.records, own.frames)).toBeNull();
    await expect(retrieve(dir, { ...key, sensor: 'sensor-c' })).rejects.toMatchObject({ code: 'SPOOL_CALL_NOT_FOUND' });
    const all = await retrieve(dir, key);
    const merged = [...a.frames, ...b.frames, ...own.frames].sort((x, y) => x.tsSec - y.tsSec || x.tsNsec - y.tsNsec);
    expect(all.records).toHaveLength(merged.length);
    expect(all.records.map((r) => `${r.tsSec}.${r.tsNsec}`)).toEqual(merged.map((f) => `${f.tsSec}.${f.tsNsec}`));
  });
});

describe('a long call', () => {
  it('spanning 90 minutes of capture is retrieved whole from its start minute, whatever the other minutes hold', async () => {
    const dir = tempSpool('long');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, flushBytes: 4096 });
    const rtp = base.filter((f) => f.kind === 'rtp');
    const t0 = base[0]!.tsSec - (base[0]!.tsSec % 60);
    // one packet every 6.6 s for 90 minutes: 812 packets; short calls start in every minute meanwhile
    const long: TestCall = {
      ref: { callId: 'long@host', startSec: t0, startUsec: 0 },
      frames: rtp.map((f, i) => ({ ...f, tsSec: t0 + Math.floor((i * 5400) / rtp.length), tsNsec: i })),
    };
    const shorts: TestCall[] = Array.from({ length: 90 }, (_, m) => ({
      ref: { callId: `short-${m}`, startSec: t0 + m * 60 + 1, startUsec: 0 },
      frames: base.slice(0, 20).map((f, i) => ({ ...f, tsSec: t0 + m * 60 + 1, tsNsec: i })),
    }));
    writeInterleaved(writer, [long, ...shorts]);
    for (const s of shorts) await writer.endCall(s.ref);
    // every minute but the long call's start minute (and the newest) is finished while the call runs
    expect(writer.openMinuteDirectories()).toEqual(new Set([spoolMinuteDir(t0), spoolMinuteDir(t0 + 89 * 60 + 1)]));
    await writer.endCall(long.ref);
    await writer.close();
    const got = await retrieve(dir, { callId: 'long@host', startSec: t0, startUsec: 0 });
    expect(sameRecords(got.records, long.frames)).toBeNull();
    expect(got.summary.files).toEqual([join(dir, spoolMinuteDir(t0), 'seg.0.tar')]);
    expect(got.summary.chunks).toBeGreaterThan(40);
    expect(new Set(walk(dir).map((f) => f.rel.slice(0, 16))).size).toBe(90);
  });
});

describe('a hostile index', () => {
  it('entries pointing at another call\'s member, or at a non-header, are skipped and reported; the rest merges', async () => {
    const dir = tempSpool('hostile-idx');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, flushBytes: 2048 });
    const t = base[0]!.tsSec;
    const calls: TestCall[] = ['x', 'y'].map((id, k) => ({ ref: { callId: id, startSec: t, startUsec: k }, frames: shift(base, k, 0).slice(0, 60) }));
    writeInterleaved(writer, calls);
    await writer.close();
    const idxPath = join(dir, spoolMinuteDir(t), 'seg.0.idx');
    const idx = readFileSync(idxPath);
    const entries = Array.from({ length: (idx.length - 8) / INDEX_ENTRY_BYTES }, (_, i) => readIndexEntry(idx, 8 + i * INDEX_ENTRY_BYTES)!);
    const xHi = entries[0]!.callHi;
    const ofY = entries.filter((e) => e.callHi !== xHi);
    // append: an entry for call x pointing at y's first member, and one pointing into the middle of a member
    const extra = Buffer.alloc(2 * INDEX_ENTRY_BYTES);
    writeIndexEntry(extra, 0, { ...ofY[0]!, callHi: entries[0]!.callHi, callLo: entries[0]!.callLo, chunkNo: 999 });
    writeIndexEntry(extra, INDEX_ENTRY_BYTES, { ...entries[0]!, offset: entries[0]!.offset + 512, chunkNo: 998 });
    writeFileSync(idxPath, Buffer.concat([idx, extra]));
    const got = await retrieve(dir, { callId: 'x', startSec: t, startUsec: 0 });
    expect(sameRecords(got.records, calls[0]!.frames)).toBeNull();
    expect(got.summary.skipped.map((s) => s.reason).sort()).toEqual(['member header differs from its index entry', 'no member header (checksum)']);
  });
});
