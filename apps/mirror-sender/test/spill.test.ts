import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@callscope/runtime';
import { BATCH_COMPRESSORS } from '../src/compression.js';
import { MirrorConnection } from '../src/connection.js';
import { MirrorSender } from '../src/mirror-sender.js';
import { SpillStore } from '../src/spill-store.js';
import { MirrorPeer } from './mirror-peer.js';

/**
 * The disk spill (buffer.spillDir) against a receiver built from mirror-protocol: the link is down
 * longer than the memory buffer lasts; what the spill holds arrives exactly once, in order; beyond
 * memory + spill (or after a disk error) the receiver's loss is exactly the sender's count.
 */
const SECRET = Buffer.from('a-shared-secret-of-the-test-0123');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function setup(o: { bufferBytes: number; spillBytes: number; segmentBytes?: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'mirror-spill-link-'));
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const logger = createLogger({ app: 'mirror-sender-test', level: 'info', pretty: false, destination: stream });
  const { store } = SpillStore.open({ dir, maxBytes: o.spillBytes, ...(o.segmentBytes !== undefined ? { segmentBytes: o.segmentBytes } : {}), logger });
  const peer = new MirrorPeer(SECRET);
  const port = await peer.listen();
  const sender = new MirrorSender({ batch: { maxPackets: 10, maxBytes: 1 << 20, maxMs: 10 }, bufferBytes: o.bufferBytes, compressor: BATCH_COMPRESSORS.none, logger, spill: store });
  const connection = new MirrorConnection(
    { host: '127.0.0.1', port, tls: null, secret: SECRET, sensorId: '7', sensorName: 'pbx-spill', heartbeatIntervalMs: 100, idleTimeoutMs: 2000, reconnectMinMs: 20, reconnectMaxMs: 60, logger },
    sender,
  );
  cleanups.push(async () => {
    sender.close();
    await connection.close(200);
    await sender.closeSpill();
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, store, peer, sender, connection, lines };
}

/** Packet `i`: its time says which it is, its bytes too (100 bytes: ~1.3 kB raw per 10-packet batch). */
const packet = (i: number) => ({ linkType: 1, tsSec: 1_764_000_000 + i, tsNsec: i, origLen: 100, data: Buffer.alloc(100, i & 0xff) });

/** The link down (every connection refused) while `n` packets are captured, then up again until every batch settles. */
async function downThenUp(s: Awaited<ReturnType<typeof setup>>, n: number, during?: () => void): Promise<void> {
  // One batch streams first, so the receiver knows the stream (a fresh receiver adopts its first sequence).
  s.connection.start();
  for (let i = 0; i < 10; i++) s.sender.add(packet(i));
  await until('the first batch acknowledged', () => s.sender.counters.batchesAcked === 1);
  s.peer.down = true;
  s.peer.cutAll();
  await until('a failed connect', () => s.sender.counters.connectFailures >= 1);
  for (let i = 10; i < n; i++) s.sender.add(packet(i));
  s.sender.flush();
  // Let the asynchronous spill writes land (the capture path did not wait for them).
  await until('spill written', () => s.store.queuedBytes === 0);
  during?.();
  s.peer.down = false;
  await until('every batch settled', () => s.connection.state === 'streaming' && s.sender.unackedBatches === 0 && s.sender.openPackets === 0);
}

describe('mirror-sender disk spill', () => {
  it('link down longer than memory lasts but within the spill: every packet exactly once, in order, read back from disk; no spill file left', async () => {
    const s = await setup({ bufferBytes: 8 * 1024, spillBytes: 1 << 20, segmentBytes: 16 * 1024 });
    await downThenUp(s, 2000);
    const c = s.sender.counters;
    expect(c.batchesBuilt).toBe(200);
    // Memory holds ~6 batches: the rest went to disk and came back.
    expect(c.spillBatches).toBeGreaterThan(180);
    expect(c.spillReadBatches).toBe(c.spillBatches);
    expect(c.spillBytes).toBeGreaterThan(180 * 1000);
    expect(c).toMatchObject({ batchesDropped: 0, packetsDropped: 0, batchesAcked: 200, spillErrors: 0, spilledNow: 0 });
    expect(s.peer.packets.map((p) => p.tsSec - 1_764_000_000)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    s.peer.packets.forEach((p, i) => {
      expect(p.data.equals(Buffer.alloc(100, i & 0xff))).toBe(true);
    });
    expect(s.peer.counters.duplicates).toBe(0);
    await until('segments deleted', () => readdirSync(s.dir).length === 0, 2000);
  });

  it('cuts and lost batches while the backlog drains from disk: the resend starts at the acknowledged sequence, every packet once, in order', async () => {
    const s = await setup({ bufferBytes: 8 * 1024, spillBytes: 1 << 20, segmentBytes: 16 * 1024 });
    // After the outage: the first connection loses batches 60-61 in flight and is cut at 80; the
    // next is cut at 150 (both deep inside what came back from disk); the third takes the rest.
    let live = -1;
    s.peer.verdict = (seq, conn) => {
      if (s.peer.connections[conn]?.ackedAtAuth === null) return 'accept';
      if (live < 0 && seq > 1) live = conn;
      const k = conn - live;
      if (k === 0) return seq === 60 || seq === 61 ? 'lose' : seq === 80 ? 'cut' : 'accept';
      if (k === 1) return seq === 150 ? 'cut' : 'accept';
      return 'accept';
    };
    await downThenUp(s, 2000);
    const c = s.sender.counters;
    expect(c).toMatchObject({ batchesDropped: 0, packetsDropped: 0, batchesAcked: 200, spillErrors: 0 });
    expect(c.reconnects).toBeGreaterThanOrEqual(3);
    expect(c.batchesResent).toBeGreaterThan(0);
    // The reconnect after the cut at 80 resumed at 60 (lost in flight: the sniffer's mark was 59).
    const afterCut = s.peer.connections.filter((x) => x.ackedAtAuth !== null)[2]!;
    expect(afterCut.hello?.nextSequence).toBe(60);
    expect(s.peer.packets.map((p) => p.tsSec - 1_764_000_000)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(s.peer.counters.duplicates).toBe(0);
  });

  it('beyond memory + spill: the oldest batches are dropped, and the receiver misses exactly packetsDropped', async () => {
    const s = await setup({ bufferBytes: 8 * 1024, spillBytes: 64 * 1024, segmentBytes: 8 * 1024 });
    await downThenUp(s, 3000);
    const c = s.sender.counters;
    expect(c.batchesDropped).toBeGreaterThan(0);
    // Most of what arrived came back through the spill (a burst that overflows it skips writing the
    // records of a segment released before its write, so spillBatches depends on the disk's timing).
    expect(c.spillReadBatches).toBeGreaterThan(30);
    const lost = s.peer.windows.get('7')!.stats.lost;
    expect({ lostBatches: lost, missingPackets: 3000 - s.peer.packets.length }).toEqual({ lostBatches: c.batchesDropped, missingPackets: c.packetsDropped });
    expect(c.batchesAcked + c.batchesDropped).toBe(c.batchesBuilt);
    // The oldest went: after the first batch (delivered before the cut) what arrived is the newest part, in order, once.
    const got = s.peer.packets.map((p) => p.tsSec - 1_764_000_000);
    const kept = got.length - 10;
    expect(got).toEqual([...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: kept }, (_, i) => 3000 - kept + i)]);
    // Memory (8 KiB, ~6 batches) and most of the spill (64 KiB in 8 KiB segments, ~48 batches) held the newest.
    expect(kept).toBeGreaterThan(400);
    expect(s.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('mirror buffer full'))).toBe(true);
  });

  it('a record corrupted on disk: counted as a spill error, its batch (and older ones) dropped exactly, the rest delivered', async () => {
    const s = await setup({ bufferBytes: 8 * 1024, spillBytes: 1 << 20, segmentBytes: 16 * 1024 });
    await downThenUp(s, 1000, () => {
      // Flip a byte in the middle of the last spill segment: a CRC mismatch when it is read back.
      const files = readdirSync(s.dir).sort();
      const file = join(s.dir, files[files.length - 1]!);
      const bytes = readFileSync(file);
      bytes[bytes.length >> 1]! ^= 0xff;
      writeFileSync(file, bytes);
    });
    const c = s.sender.counters;
    expect(c.spillErrors).toBe(1);
    expect(c.batchesDropped).toBeGreaterThan(0);
    const lost = s.peer.windows.get('7')!.stats.lost;
    expect({ lostBatches: lost, missingPackets: 1000 - s.peer.packets.length }).toEqual({ lostBatches: c.batchesDropped, missingPackets: c.packetsDropped });
    expect(new Set(s.peer.packets.map((p) => p.tsSec)).size).toBe(s.peer.packets.length);
    expect(s.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('mirror spill: disk error'))).toBe(true);
  });

  it('a spill directory that vanished (write error): counted, batches back to memory-only eviction, the loss exactly counted', async () => {
    const s = await setup({ bufferBytes: 8 * 1024, spillBytes: 1 << 20 });
    rmSync(s.dir, { recursive: true, force: true });
    await downThenUp(s, 1000);
    const c = s.sender.counters;
    expect(c.spillErrors).toBeGreaterThanOrEqual(1);
    expect(c.spillBatches).toBe(0);
    expect(c.batchesDropped).toBeGreaterThan(0);
    const lost = s.peer.windows.get('7')!.stats.lost;
    expect({ lostBatches: lost, missingPackets: 1000 - s.peer.packets.length }).toEqual({ lostBatches: c.batchesDropped, missingPackets: c.packetsDropped });
    expect(s.sender.memoryBytes).toBeLessThanOrEqual(8 * 1024);
  });
});
