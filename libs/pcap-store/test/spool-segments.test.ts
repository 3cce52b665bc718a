import { readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkCompression, SpoolWriter, openCallPcap, rebuildSpoolIndex, spoolMinuteDir } from '../src/index.js';
import { parseCapture } from './parse-capture.js';
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

describe('large writes', () => {
  it.each(Object.values(ChunkCompression))('~40 MB queued in one minute goes out in writes of at most 16 MiB; every chunk indexed, every call back exactly, fsck finds nothing to mend (compression %s)', async (compression) => {
    // Nothing is written until the calls end (long timer, large write threshold), so one segment
    // holds everything queued: the writer cuts it into several writes of whole chunks.
    const dir = tempSpool('bigwrite');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, compression, flushIntervalMs: 60_000, segmentWriteBytes: 64 * 1024 * 1024, maxBufferedBytes: 1024 * 1024 * 1024 });
    const startSec = base[0]!.tsSec - (base[0]!.tsSec % 60);
    // Random payloads (compression keeps their size), 600 calls x 300 frames: ~43 MB.
    let seed = 7;
    const noise = (f: Frame): Frame => {
      const data = new Uint8Array(f.data);
      for (let i = 60; i < data.length; i++) data[i] = (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
      return { ...f, data };
    };
    const calls: TestCall[] = Array.from({ length: 600 }, (_, k) => ({ ref: { callId: `big-${k}`, startSec, startUsec: k }, frames: shift(base, k, k).map(noise) }));
    writeInterleaved(writer, calls);
    const writes: number[] = [];
    const bytesBefore = (): number => writer.stats().bytesWritten;
    let last = bytesBefore();
    const ends = Promise.all(calls.map((c) => writer.endCall(c.ref)));
    // Sample the bytes written while the writes run: no step larger than one write's bound.
    const sampler = setInterval(() => {
      const now = bytesBefore();
      if (now > last) writes.push(now - last);
      last = now;
    }, 0);
    await ends;
    clearInterval(sampler);
    await writer.close();
    const s = writer.stats();
    expect(s.packetsWritten).toBe(600 * base.length);
    expect(s.writeErrors).toBe(0);
    expect(s.bytesWritten).toBeGreaterThan(32 * 1024 * 1024);
    expect(writes.length).toBeGreaterThan(1);
    for (const w of writes) expect(w).toBeLessThanOrEqual(2 * (16 * 1024 * 1024 + 1024 * 1024));
    const report = await rebuildSpoolIndex(dir, { repair: false });
    expect(report).toMatchObject({ badIndexEntries: 0, tornIndexBytes: 0, tornSegments: 0, tornTarBytes: 0 });
    expect(report.chunks).toBe(report.indexedBefore);
    for (const c of calls.filter((_, k) => k % 37 === 0)) {
      const got = await retrieve(dir, { callId: c.ref.callId, startSec: c.ref.startSec, startUsec: c.ref.startUsec });
      expect(sameRecords(got.records, c.frames)).toBeNull();
    }
  }, 60_000);
});

// Retrieval copies a chunk whose records all precede the other runs' next record in one piece
// (issue 17: a one-hour call took 188 ms record by record). Each frame carries its own number, so
// a chunk copied at the wrong place, twice or cut shows in the comparison; SIP in the middle of an
// RTP chunk, ties with RTP and the last records force the record-by-record merge around them.
describe('retrieval of a long call', () => {
  it.each(Object.values(ChunkCompression))('gives every record in time order when chunks are copied whole (compression %s)', async (compression) => {
    const dir = tempSpool(`long-${compression}`);
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, compression, flushBytes: 4096 });
    const t0 = 1_800_000_000 - (1_800_000_000 % 60);
    const frame = (kind: 'sip' | 'rtp', n: number, sec: number, nsec: number): Frame => {
      const data = new Uint8Array(kind === 'sip' ? 400 : 214).fill(n & 0xff);
      new DataView(data.buffer).setUint32(0, n, true);
      return { kind, tsSec: sec, tsNsec: nsec, data, origLen: data.length, linkType: 1, rtpHeaderEnd: 0 };
    };
    const frames: Frame[] = [];
    for (let k = 0; k < 3000; k++) {
      frames.push(frame('rtp', k, t0 + Math.floor(k / 50), (k % 50) * 20_000_000));
      // SIP at the start (a tie with RTP's first record), inside the middle and at the end
      if (k === 0 || k === 1517 || k === 2999) frames.push(frame('sip', 100_000 + k, t0 + Math.floor(k / 50), (k % 50) * 20_000_000));
    }
    const call: TestCall = { ref: { callId: 'long@192.0.2.10', startSec: t0, startUsec: 0 }, frames };
    writeInterleaved(writer, [call]);
    await writer.endCall(call.ref);
    await writer.close();
    expect(writer.stats().chunksWritten).toBeGreaterThan(100); // ~17 records per 4 KiB chunk
    const got = await retrieve(dir, { callId: call.ref.callId, startSec: t0, startUsec: 0 });
    expect(got.summary.packets).toBe(frames.length);
    expect(got.summary.bytes).toBe(got.bytes.length);
    // the expected order: by time, SIP first on a tie (the merge's rule)
    const expected = [...frames].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec || (a.kind === b.kind ? 0 : a.kind === 'sip' ? -1 : 1));
    expect(sameRecords(got.records, expected)).toBeNull();
    // RTP alone: one run, every chunk copied whole
    const rtp = await retrieve(dir, { callId: call.ref.callId, startSec: t0, startUsec: 0, kinds: ['rtp'] });
    expect(sameRecords(rtp.records, frames.filter((f) => f.kind === 'rtp'))).toBeNull();
  });
});

// A consumer that gives each chunk back (`recycle`) gets the same bytes from reused memory: the
// read buffers are reused once their chunks are copied out, the output buffers once given back.
// Reused too early, a read buffer would show here as records of the wrong number: each frame
// carries its own, and a second call's chunks between the long call's make the reads skip gaps.
describe('retrieval with chunks given back', () => {
  it.each(Object.values(ChunkCompression))('gives the same bytes as a retrieval whose chunks are kept, from a few buffers (compression %s)', async (compression) => {
    const dir = tempSpool(`recycle-${compression}`);
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, compression });
    const t0 = 1_800_000_000 - (1_800_000_000 % 60);
    const frame = (kind: 'sip' | 'rtp', n: number, sec: number, nsec: number): Frame => {
      const data = new Uint8Array(kind === 'sip' ? 400 : 214).fill(n & 0xff);
      new DataView(data.buffer).setUint32(0, n, true);
      return { kind, tsSec: sec, tsNsec: nsec, data, origLen: data.length, linkType: 1, rtpHeaderEnd: 0 };
    };
    const long: TestCall = { ref: { callId: 'long@192.0.2.10', startSec: t0, startUsec: 0 }, frames: [] };
    const other: TestCall = { ref: { callId: 'other@192.0.2.11', startSec: t0, startUsec: 1 }, frames: [] };
    for (let k = 0; k < 40_000; k++) {
      const sec = t0 + Math.floor(k / 100);
      const nsec = (k % 100) * 10_000_000;
      long.frames.push(frame('rtp', k, sec, nsec));
      if (k % 4 === 0) other.frames.push(frame('rtp', 500_000 + k, sec, nsec + 1));
      if (k % 5000 === 0) long.frames.push(frame('sip', 100_000 + k, sec, nsec));
    }
    writeInterleaved(writer, [long, other]);
    await writer.endCall(long.ref);
    await writer.endCall(other.ref);
    await writer.close();
    const query = { callId: long.ref.callId, startSec: t0, startUsec: 0 };

    const keptStream = await openCallPcap(dir, query);
    const kept: Buffer[] = [];
    for await (const chunk of keptStream.chunks()) kept.push(chunk);
    expect(keptStream.recycle(kept[0]!)).toBe(false); // a stream that was not asked to recycle takes nothing back

    const stream = await openCallPcap(dir, query, { recycle: true });
    const copies: Buffer[] = [];
    const memory = new Set<ArrayBufferLike>();
    for await (const chunk of stream.chunks()) {
      copies.push(Buffer.from(chunk));
      memory.add(chunk.buffer);
      expect(stream.recycle(chunk)).toBe(true);
      expect(stream.recycle(chunk)).toBe(false); // given back once
    }
    expect(stream.recycle(Buffer.alloc(16))).toBe(false); // not one of its chunks
    const bytes = Buffer.concat(copies);
    expect(bytes.equals(Buffer.concat(kept))).toBe(true);
    expect(stream.summary.packets).toBe(long.frames.length);
    expect(bytes.length).toBeGreaterThan(8 * 1024 * 1024); // several read-ahead spans of 1 MiB
    expect(copies.length).toBeGreaterThan(100);
    expect(memory.size).toBeLessThanOrEqual(2);
    const expected = [...long.frames].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec || (a.kind === b.kind ? 0 : a.kind === 'sip' ? -1 : 1));
    expect(sameRecords(parseCapture(bytes, 7001).records, expected)).toBeNull();
  }, 60_000);
});
