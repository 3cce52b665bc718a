import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpoolRetention, SpoolWriter, spoolMinuteDir } from '../src/index.js';
import { loadFrames, retrieve, tempSpool, walk } from './spool-fixtures.js';
import type { Frame } from './spool-fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
let frames: Frame[] = [];
beforeAll(async () => {
  frames = (await loadFrames('basic-caller-bye-pcma.pcap')).slice(0, 100);
});

const T0 = 1_795_975_860; // 2026-11-29T18:11:00Z

function treeBytes(dir: string): number {
  return walk(dir).reduce((a, f) => a + f.size, 0);
}

/** A writer + retention pair wired as the sniffer does. */
function pair(dir: string, maxBytes?: number, maxAgeDays?: number, nowSec = T0 + 86_400) {
  let writer: SpoolWriter | null = null;
  const retention = new SpoolRetention({
    spoolDir: dir,
    ...(maxBytes === undefined ? {} : { maxBytes }),
    ...(maxAgeDays === undefined ? {} : { maxAgeDays }),
    openMinutes: () => writer?.openMinuteDirectories() ?? [],
    now: () => nowSec * 1000,
  });
  writer = new SpoolWriter({ spoolDir: dir, onBytesWritten: (m, b) => {
      retention.recordWrite(m, b);
    },
  });
  return { writer, retention };
}

async function oneCall(writer: SpoolWriter, callId: string, startSec: number, end = true) {
  const ref = { callId, startSec, startUsec: 0 };
  for (const f of frames) writer.write(ref, f.kind, startSec, f.tsNsec, f.data, f.origLen, f.linkType);
  if (end) await writer.endCall(ref);
  return ref;
}

describe('SpoolRetention', () => {
  it('holds a size cap while several times the cap is written, deleting the oldest minutes first', async () => {
    const dir = tempSpool('ret-size');
    dirs.push(dir);
    const { writer, retention } = pair(dir, 100_000);
    let written = 0;
    for (let m = 0; m < 60; m++) {
      await oneCall(writer, `c${m}`, T0 + m * 60 + 2 * 86_400 * Math.floor(m / 30)); // two days, 30 minutes each
      written = writer.stats().bytesWritten;
      await retention.run();
      expect(retention.stats().totalBytes).toBeLessThanOrEqual(100_000);
      expect(treeBytes(dir)).toBe(retention.stats().totalBytes); // the running account matches the disk
    }
    await writer.close();
    expect(written).toBeGreaterThan(5 * 100_000);
    const s = retention.stats();
    expect(s.runs).toBe(60);
    expect(s.bytesDeleted).toBe(written - treeBytes(dir));
    expect(s.filesDeleted).toBe(2 * 60 - walk(dir).length);
    // what is left is the newest minutes; the first day's directory is gone entirely
    const left = new Set(walk(dir).map((f) => f.rel.split('/').slice(0, 3).join('/')));
    expect(left.has(spoolMinuteDir(T0 + 59 * 60 + 2 * 86_400))).toBe(true);
    expect(left.has(spoolMinuteDir(T0))).toBe(false);
    expect(existsSync(join(dir, '2026-11-29'))).toBe(false);
  });

  it('seeds its account with one scan of an existing tree', async () => {
    const dir = tempSpool('ret-seed');
    dirs.push(dir);
    const { writer } = pair(dir);
    for (let m = 0; m < 5; m++) await oneCall(writer, `s${m}`, T0 + m * 60);
    await writer.close();
    const fresh = new SpoolRetention({ spoolDir: dir, maxBytes: 1e12 });
    await fresh.run();
    expect(fresh.stats().totalBytes).toBe(treeBytes(dir));
    expect(fresh.stats().minutes).toBe(5);
    expect(fresh.stats().filesDeleted).toBe(0);
  });

  it('deletes minutes older than maxAgeDays, and their empty hour/day directories', async () => {
    const dir = tempSpool('ret-age');
    dirs.push(dir);
    const now = T0 + 10 * 86_400;
    const { writer, retention } = pair(dir, undefined, 3, now);
    const old = await oneCall(writer, 'old', now - 4 * 86_400);
    const edge = await oneCall(writer, 'edge', now - 3 * 86_400 + 120); // 2 minutes inside the limit
    const fresh = await oneCall(writer, 'fresh', now - 60);
    await writer.close();
    await retention.run();
    const q = (r: typeof old) => retrieve(dir, { callId: r.callId, startSec: r.startSec, startUsec: 0 });
    await expect(q(old)).rejects.toMatchObject({ code: 'SPOOL_CALL_NOT_FOUND' });
    expect((await q(edge)).records).toHaveLength(frames.length);
    expect((await q(fresh)).records).toHaveLength(frames.length);
    expect(existsSync(join(dir, spoolMinuteDir(old.startSec).slice(0, 10)))).toBe(false);
    expect(retention.stats().minutesDeleted).toBe(1);
  });

  it('never deletes the minute of a call still open, even when it is the oldest and over the cap', async () => {
    const dir = tempSpool('ret-open');
    dirs.push(dir);
    const { writer, retention } = pair(dir, 0);
    const open = await oneCall(writer, 'open', T0, false);
    await writer.flush();
    for (let m = 1; m < 4; m++) await oneCall(writer, `done${m}`, T0 + m * 60);
    await retention.run();
    // kept: the open call's minute, and the newest minute, whose segment stays open for more calls
    const kept = [spoolMinuteDir(T0), spoolMinuteDir(T0 + 3 * 60)];
    expect([...new Set(walk(dir).map((f) => f.rel.slice(0, 16)))]).toEqual(kept);
    expect(retention.stats().skippedOpen).toBe(2);
    // the open call keeps writing into its minute, then ends: the next run removes it
    writer.write(open, 'sip', T0 + 5, 0, frames[0]!.data, frames[0]!.origLen, frames[0]!.linkType);
    await writer.endCall(open);
    const got = await retrieve(dir, { callId: 'open', startSec: T0, startUsec: 0 });
    expect(got.records).toHaveLength(frames.length + 1);
    await retention.run();
    expect([...new Set(walk(dir).map((f) => f.rel.slice(0, 16)))]).toEqual([kept[1]]);
    await writer.close();
    await retention.run();
    expect(walk(dir)).toEqual([]);
  });

  it.each([
    [{ spoolDir: '/x', maxBytes: -1 }],
    [{ spoolDir: '/x', maxBytes: 1.5 }],
    [{ spoolDir: '/x', maxAgeDays: 0 }],
    [{ spoolDir: '/x', maxAgeDays: Number.NaN }],
  ])('%j is a RangeError', (options) => {
    expect(() => new SpoolRetention(options)).toThrow(RangeError);
  });
});
