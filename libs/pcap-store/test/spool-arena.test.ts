/**
 * The spool worker's arena (SpoolWriterInternals): records whose bytes lie in the same ArrayBuffer
 * as the chunk blocks are copied with copyWithin, the others with a view; blocks come from the
 * arena first and from the writer's own slabs once it is used up. Here the arena holds 6 blocks
 * and the calls need hundreds, so both kinds of block and both copies are in every chunk chain,
 * and records cross block boundaries. Each call must come back exactly.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpoolWriter } from '../src/index.js';
import { PCAP_RECORD_HEADER_LENGTH } from '@callscope/pcap-format';
import { loadFrames, retrieve, sameRecords, shift, tempSpool } from './spool-fixtures.js';
import type { Frame, TestCall } from './spool-fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
let base: Frame[] = [];
beforeAll(async () => {
  base = await loadFrames('basic-caller-bye-pcma.pcap');
});

const HEAD_BYTES = 64 * 1024;
const BLOCK = 4096;

describe('SpoolWriter with an arena (the spool worker thread)', () => {
  it.each([
    ['every record from the arena', true],
    ['every record from another buffer', false],
  ])('%s: every call back exactly, from arena blocks and slab blocks alike', async (_name, fromArena) => {
    const dir = tempSpool('arena');
    dirs.push(dir);
    const arena = Buffer.allocUnsafeSlow(HEAD_BYTES + 6 * BLOCK);
    const outside = Buffer.allocUnsafeSlow(HEAD_BYTES);
    const writer = new SpoolWriter({ spoolDir: dir, flushBytes: 3 * BLOCK }, { arena: arena.subarray(HEAD_BYTES) });
    const calls: TestCall[] = [0, 1, 2, 3].map((k) => {
      const frames = shift(base, k * 250, k * 11 + 1);
      const first = frames[0]!;
      return { ref: { callId: `arena-${k}@192.0.2.10`, startSec: first.tsSec, startUsec: Math.floor(first.tsNsec / 1000) }, frames };
    });
    const all = calls.flatMap((c) => c.frames.map((f) => ({ c, f })));
    all.sort((a, b) => a.f.tsSec - b.f.tsSec || a.f.tsNsec - b.f.tsNsec);
    // As the worker lays records out in its batch buffer: the pcap record header, then the frame,
    // at varying offsets (any alignment) in the arena's head, or in a buffer of its own.
    const src = fromArena ? arena : outside;
    let at = 0;
    for (const { c, f } of all) {
      const len = PCAP_RECORD_HEADER_LENGTH + f.data.length;
      if (at + len > HEAD_BYTES) at = 0;
      src.writeUInt32LE(f.tsSec, at);
      src.writeUInt32LE(f.tsNsec, at + 4);
      src.writeUInt32LE(f.data.length, at + 8);
      src.writeUInt32LE(f.origLen, at + 12);
      src.set(f.data, at + PCAP_RECORD_HEADER_LENGTH);
      writer.storeRecord(c.ref, f.kind === 'sip' ? 0 : 1, f.tsSec, f.tsNsec, src, at + PCAP_RECORD_HEADER_LENGTH, f.data.length, f.origLen, f.linkType, true);
      at += len + (at % 7) + 1;
    }
    await Promise.all(calls.map((c) => writer.endCall(c.ref)));
    await writer.close();
    const stats = writer.stats();
    expect(stats.packetsWritten).toBe(all.length);
    expect(stats.bytesWritten).toBeGreaterThan(20 * 6 * BLOCK); // far beyond the arena's blocks
    for (const c of calls) {
      const got = await retrieve(dir, { callId: c.ref.callId, startSec: c.ref.startSec, startUsec: c.ref.startUsec });
      expect(sameRecords(got.records, c.frames)).toBeNull();
    }
  });
});
