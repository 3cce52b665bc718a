import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rawPacketData, type RawBatch } from '@callscope/mirror-protocol';
import { createLogger } from '@callscope/runtime';
import { BATCH_COMPRESSORS } from './compression.js';
import { BatchFrameEncoder } from './batch-encoder.js';
import { MirrorSender, type BatchLink } from './mirror-sender.js';

/** Writes everything retained past its cursor while flowing, like the connection does. */
class FakeLink implements BatchLink {
  flowing = true;
  sent: number[] = [];
  sender: MirrorSender | null = null;
  cursor = 1;
  frames = new BatchFrameEncoder(BATCH_COMPRESSORS.none);
  pump(): void {
    const s = this.sender!;
    while (this.flowing && this.cursor < s.window.nextSequence) {
      this.cursor = Math.max(this.cursor, s.window.resumeSequence);
      const raw = s.batchAt(this.cursor);
      if (raw === null) break;
      const frame = this.frames.encode(this.cursor, raw);
      this.sent.push(this.cursor);
      s.wrote(this.cursor, frame.length);
      this.cursor++;
    }
  }
}

function makeSender(options: { bufferBytes: number; maxPackets?: number }) {
  const logs = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  logs.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const logger = createLogger({ app: 'mirror-sender-test', level: 'info', pretty: false, destination: logs });
  let now = 0;
  const sender = new MirrorSender({
    batch: { maxPackets: options.maxPackets ?? 10, maxBytes: 1 << 20, maxMs: 20 },
    bufferBytes: options.bufferBytes,
    compressor: BATCH_COMPRESSORS.none,
    logger,
    now: () => now,
  });
  const link = new FakeLink();
  link.sender = sender;
  sender.attach(link);
  return { sender, link, lines, advance: (ms: number) => (now += ms) };
}

const packet = (i: number) => ({ linkType: 1, tsSec: i, tsNsec: 0, origLen: 200, data: new Uint8Array(200).fill(i & 0xff) });

afterEach(() => {
  vi.useRealTimers();
});

describe('MirrorSender', () => {
  it('numbers batches from 1, writes new ones while the link flows, releases them on ack', () => {
    const { sender, link } = makeSender({ bufferBytes: 1 << 20 });
    for (let i = 0; i < 30; i++) sender.add(packet(i));
    expect(link.sent).toEqual([1, 2, 3]);
    expect(sender.counters).toMatchObject({ packetsCaptured: 30, batchesBuilt: 3, batchesSent: 3, bytesRaw: 6000 });
    sender.acknowledge(2);
    expect(sender.counters.batchesAcked).toBe(2);
    expect(sender.window.unacked().map((e) => e.sequence)).toEqual([3]);
    expect(sender.batchAt(2)).toBeNull();
    expect(sender.batchAt(3)?.count).toBe(10);
    expect(sender.batchAt(4)).toBeNull();
    sender.close();
  });

  it('hands acknowledged and evicted batches back to the batcher; a reference kept to one sees no packets, every retained batch keeps its own', () => {
    /** [tsSec, first data byte] of every packet of a batch. */
    const contents = (raw: RawBatch | null) => (raw === null ? null : Array.from({ length: raw.count }, (_, i) => [raw.tsSec[i]!, rawPacketData(raw, i)[0]!]));
    const expected = (batch: number) => Array.from({ length: 10 }, (_, k) => [(batch - 1) * 10 + k, ((batch - 1) * 10 + k) & 0xff]);
    // 10 packets of 200 bytes a batch: about 2,250 bytes of footprint each, so 5 fit in 12,000.
    const { sender, link } = makeSender({ bufferBytes: 12_000 });
    for (let i = 0; i < 30; i++) sender.add(packet(i));
    const kept = sender.batchAt(1)!;
    expect(contents(kept)).toEqual(expected(1));
    sender.acknowledge(2);
    // Released: the object is emptied rather than refilled under the old reference.
    expect(kept.count).toBe(0);
    expect(sender.batchAt(1)).toBeNull();
    // Batch 4 was opened before the ack (fresh); from batch 5 on the released buffers are refilled.
    for (let i = 30; i < 60; i++) sender.add(packet(i));
    expect(sender.counters.batchesBuilt).toBe(6);
    expect(sender.counters.batchesReused).toBe(2);
    for (let b = 3; b <= 6; b++) expect(contents(sender.batchAt(b))).toEqual(expected(b));
    // Eviction: the link stops, the window overflows, the evicted batches' buffers are reused too.
    link.flowing = false;
    for (let i = 60; i < 200; i++) sender.add(packet(i));
    expect(sender.counters.batchesBuilt).toBe(20);
    expect(sender.counters.batchesReused).toBeGreaterThan(10);
    const first = sender.window.resumeSequence;
    expect(first).toBeGreaterThan(3);
    for (let b = first; b <= 20; b++) expect(contents(sender.batchAt(b))).toEqual(expected(b));
    sender.close();
  });

  it('flushes a partial batch after batch.maxMs', () => {
    vi.useFakeTimers();
    const { sender, link } = makeSender({ bufferBytes: 1 << 20 });
    sender.add(packet(1));
    sender.add(packet(2));
    expect(link.sent).toEqual([]);
    vi.advanceTimersByTime(20);
    expect(link.sent).toEqual([1]);
    expect(sender.openPackets).toBe(0);
    sender.close();
  });

  it('flushes a partial batch maxMs after ITS first packet, not after an earlier batch closed on count', () => {
    vi.useFakeTimers();
    const { sender, link } = makeSender({ bufferBytes: 1 << 20 });
    for (let i = 0; i < 10; i++) sender.add(packet(i));
    expect(link.sent).toEqual([1]);
    vi.advanceTimersByTime(15);
    sender.add(packet(10));
    sender.add(packet(11));
    // The timer armed at 0 fires at 20: batch 2 is 5 ms old and waits.
    vi.advanceTimersByTime(10);
    expect(link.sent).toEqual([1]);
    expect(sender.openPackets).toBe(2);
    vi.advanceTimersByTime(9);
    expect(link.sent).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(link.sent).toEqual([1, 2]);
    expect(sender.openPackets).toBe(0);
    // Nothing open: no timer left behind.
    expect(vi.getTimerCount()).toBe(0);
    sender.close();
  });

  it('addCaptured (a live capture batch at a time): the batches, counters and batch.maxMs timing of add() per packet', () => {
    vi.useFakeTimers();
    /** `packets` as a capture batch: 5 u32 per packet, bytes back to back. */
    const captureBatch = (from: number, to: number) => {
      const n = to - from;
      const headers = new Uint32Array(n * 5);
      const data = new Uint8Array(n * 200);
      for (let k = 0; k < n; k++) {
        const p = packet(from + k);
        headers.set([p.tsSec, p.tsNsec, 200, p.origLen, k * 200], k * 5);
        data.set(p.data, k * 200);
      }
      return { linkType: 1, count: n, headers, words: 5, data };
    };
    const byBatch = makeSender({ bufferBytes: 1 << 20 });
    const byPacket = makeSender({ bufferBytes: 1 << 20 });
    const feed = (from: number, to: number) => {
      byBatch.sender.addCaptured(captureBatch(from, to));
      for (let i = from; i < to; i++) byPacket.sender.add(packet(i));
    };
    feed(0, 25); // two batches close on count, 5 packets stay open
    expect(byBatch.link.sent).toEqual([1, 2]);
    vi.advanceTimersByTime(15);
    feed(25, 27); // join the open batch: its timer still runs from its first packet
    vi.advanceTimersByTime(4);
    expect(byBatch.link.sent).toEqual([1, 2]);
    vi.advanceTimersByTime(1);
    expect(byBatch.link.sent).toEqual([1, 2, 3]);
    feed(27, 28);
    vi.advanceTimersByTime(20);
    expect(byBatch.link.sent).toEqual([1, 2, 3, 4]);
    feed(28, 28); // an empty batch changes nothing
    expect(vi.getTimerCount()).toBe(0);
    for (const { link } of [byBatch, byPacket]) expect(link.sent).toEqual([1, 2, 3, 4]);
    const packetsOfSent = (s: MirrorSender, seq: number) => {
      const raw = s.batchAt(seq)!;
      return Array.from({ length: raw.count }, (_, i) => `${raw.tsSec[i]} ${Buffer.from(rawPacketData(raw, i)).toString('hex')}`);
    };
    for (let seq = 1; seq <= 4; seq++) expect(packetsOfSent(byBatch.sender, seq)).toEqual(packetsOfSent(byPacket.sender, seq));
    expect(byBatch.sender.counters).toEqual(byPacket.sender.counters);
    byBatch.sender.close();
    byPacket.sender.close();
  });

  it('keeps batches built while the link is down and hands them over for the next connection', () => {
    const { sender, link } = makeSender({ bufferBytes: 1 << 20 });
    link.flowing = false;
    for (let i = 0; i < 20; i++) sender.add(packet(i));
    expect(link.sent).toEqual([]);
    expect(sender.counters.batchesSent).toBe(0);
    expect(sender.window.unacked().map((e) => e.sequence)).toEqual([1, 2]);
    link.flowing = true;
    link.pump();
    // Never written before: these count as sent, not resent.
    expect(link.sent).toEqual([1, 2]);
    expect(sender.counters).toMatchObject({ batchesSent: 2, batchesResent: 0 });
    // A new connection starts again at the oldest unacknowledged batch.
    link.cursor = sender.window.resumeSequence;
    link.pump();
    expect(sender.counters).toMatchObject({ batchesSent: 2, batchesResent: 2 });
    sender.close();
  });

  it('counts every batch and packet an overflow evicts, and logs it (rate-limited, and once more at close)', () => {
    // One batch of 10 x 200-byte packets holds 2.2-2.5 kB raw (bytes + 24 per packet slot); 5 kB hold two of them.
    const { sender, link, lines, advance } = makeSender({ bufferBytes: 5000 });
    link.flowing = false;
    for (let i = 0; i < 100; i++) sender.add(packet(i));
    expect(sender.counters.batchesBuilt).toBe(10);
    expect(sender.window.size).toBe(2);
    expect(sender.counters.batchesDropped).toBe(8);
    expect(sender.counters.packetsDropped).toBe(80);
    // Conservation: every captured packet is dropped, retained or still in the open batch.
    expect(sender.counters.packetsDropped + sender.window.size * 10 + sender.openPackets).toBe(100);
    const warnings = () => lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('mirror buffer full'));
    expect(warnings()).toHaveLength(1);
    advance(6000);
    sender.add(packet(1000));
    for (let i = 0; i < 9; i++) sender.add(packet(i));
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]).toMatchObject({ droppedBatches: 9, droppedPackets: 90, newlyEvictedBatches: 8 });
    sender.add(packet(1));
    for (let i = 0; i < 9; i++) sender.add(packet(i));
    expect(warnings()).toHaveLength(2);
    sender.close();
    expect(warnings()).toHaveLength(3);
    expect(warnings()[2]).toMatchObject({ droppedBatches: 10, droppedPackets: 100, newlyEvictedBatches: 1 });
    expect(sender.counters.packetsDropped + sender.window.size * 10 + sender.openPackets).toBe(120);
  });

  it('a batch evicted after it was written is in doubt, not dropped: an Ack at or above it delivers it, a handshake below it drops it', () => {
    // Two 2.2-2.5 kB raw batches fit in 5 kB; the link writes each batch as it is built.
    const { sender, link } = makeSender({ bufferBytes: 5000 });
    for (let i = 0; i < 50; i++) sender.add(packet(i));
    expect(link.sent).toEqual([1, 2, 3, 4, 5]);
    expect(sender.window.unacked().map((e) => e.sequence)).toEqual([4, 5]);
    expect({ inDoubt: sender.inDoubtBatches, packets: sender.inDoubtPacketCount, dropped: sender.counters.batchesDropped }).toEqual({ inDoubt: 3, packets: 30, dropped: 0 });
    expect(sender.unackedBatches).toBe(5);
    // The next Hello asks about the oldest batch in doubt, not the oldest retained.
    expect(sender.helloSequence).toBe(1);
    sender.acknowledge(2);
    expect(sender.counters).toMatchObject({ batchesAcked: 2, batchesDropped: 0 });
    expect(sender.helloSequence).toBe(3);
    // A handshake whose acked_sequence is 2: batch 3 never arrived (dropped); 3 is also a hole below 4.
    expect(sender.resumed(2)).toBe(1);
    expect(sender.counters).toMatchObject({ batchesAcked: 2, batchesDropped: 1, packetsDropped: 10 });
    expect(sender.inDoubtBatches).toBe(0);
    expect(sender.helloSequence).toBe(4);
    // After that handshake nothing retained was written again: evicting 4 drops it at once.
    link.flowing = false;
    for (let i = 0; i < 10; i++) sender.add(packet(i));
    expect(sender.counters).toMatchObject({ batchesDropped: 2, packetsDropped: 20 });
    expect(sender.inDoubtBatches).toBe(0);
    // Conservation: captured = acked + retained + in doubt + dropped (+ open batch).
    expect(sender.counters.batchesAcked * 10 + sender.window.size * 10 + sender.inDoubtPacketCount + sender.counters.packetsDropped).toBe(60);
    sender.close();
  });

  it('room(): a replay waits while the link does not flow or the window is half full, and resumes on ack', async () => {
    const { sender, link } = makeSender({ bufferBytes: 5000, maxPackets: 10 });
    expect(sender.room()).toBeUndefined();
    for (let i = 0; i < 20; i++) sender.add(packet(i));
    const waiting = sender.room();
    expect(waiting).toBeInstanceOf(Promise);
    let resumed = false;
    void waiting!.then(() => (resumed = true));
    await Promise.resolve();
    expect(resumed).toBe(false);
    sender.acknowledge(2);
    await Promise.resolve();
    expect(resumed).toBe(true);
    link.flowing = false;
    expect(sender.room()).toBeInstanceOf(Promise);
    sender.close();
  });
});
