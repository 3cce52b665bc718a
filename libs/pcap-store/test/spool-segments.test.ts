import { readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpoolWriter, spoolMinuteDir } from '../src/index.js';
import { loadFrames, retrieve, sameRecords, shift, tempSpool, walk, writeInterleaved } from './spool-fixtures.js';
import type { Frame, TestCall } from './spool-fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
let base: Frame[] = [];
beforeAll(async () => {
  base = (await loadFrames('basic-caller-bye-pcma.pcap')).slice(0, 300);
});

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('segments', () => {
  it('60 concurrent calls of one minute share one archive + index: 2 files, 2 descriptors, every packet written', async () => {
    const dir = tempSpool('seg');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, ioConcurrency: 3, flushBytes: 1024, flushIntervalMs: 10, segmentWriteBytes: 8192 });
    const startSec = base[0]!.tsSec - (base[0]!.tsSec % 60);
    const calls: TestCall[] = Array.from({ length: 60 }, (_, k) => {
      const frames = shift(base, k, k);
      return { ref: { callId: `seg-${k}`, startSec, startUsec: k }, frames };
    });
    const before = openFds();
    let maxOpen = 0;
    let maxFds = 0;
    for (let slice = 0; slice < 10; slice++) {
      writeInterleaved(writer, calls.map((c) => ({ ref: c.ref, frames: c.frames.slice(slice * 30, slice * 30 + 30) })));
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 1));
        maxOpen = Math.max(maxOpen, writer.stats().filesOpen);
        maxFds = Math.max(maxFds, openFds() - before);
      }
    }
    await Promise.all(calls.map((c) => writer.endCall(c.ref)));
    await writer.close();
    const s = writer.stats();
    expect(maxOpen).toBe(2);
    expect(maxFds).toBeLessThanOrEqual(2 + 2); // + the readdir handle and slack for vitest's own I/O
    expect(s.filesCreated).toBe(2);
    expect(s.packetsWritten).toBe(60 * base.length);
    expect(s.writeErrors).toBe(0);
    expect(walk(dir).map((f) => f.rel).sort()).toEqual([`${spoolMinuteDir(startSec)}/seg.0.idx`, `${spoolMinuteDir(startSec)}/seg.0.tar`]);
    for (const c of [calls[0]!, calls[31]!, calls[59]!]) {
      const got = await retrieve(dir, { callId: c.ref.callId, startSec: c.ref.startSec, startUsec: c.ref.startUsec });
      expect(sameRecords(got.records, c.frames)).toBeNull();
    }
  });
});
