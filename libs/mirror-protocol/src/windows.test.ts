import { describe, expect, it } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { AckStatus, SendWindow } from './send-window.js';
import { ReceiveStatus, ReceiveWindow } from './receive-window.js';

describe('SendWindow', () => {
  it('assigns sequences from 1, releases on cumulative ack, lists the rest in order', () => {
    const w = new SendWindow<string>({ maxBytes: 100 });
    expect(w.nextSequence).toBe(1);
    expect(['a', 'b', 'c', 'd'].map((s) => w.push(s, 10))).toEqual([1, 2, 3, 4]);
    expect(w.ack(2)).toBe(AckStatus.Advanced);
    expect(w.unacked().map((e) => [e.sequence, e.item])).toEqual([[3, 'c'], [4, 'd']]);
    expect(w.resumeSequence).toBe(3);
    expect(w.retainedBytes).toBe(20);
    expect(w.ack(2)).toBe(AckStatus.Stale);
    expect(w.ack(1)).toBe(AckStatus.Stale);
    expect(w.ack(5)).toBe(AckStatus.Invalid);
    expect(w.stats).toMatchObject({ pushed: 4, acked: 2, staleAcks: 2, invalidAcks: 1, droppedBatches: 0 });
    expect(w.ack(4)).toBe(AckStatus.Advanced);
    expect(w.unacked()).toEqual([]);
    expect(w.resumeSequence).toBe(5);
  });

  it('overflow drops the OLDEST batches and counts them', () => {
    const w = new SendWindow<number>({ maxBytes: 25 });
    for (let i = 0; i < 5; i++) w.push(i, 10);
    expect(w.unacked().map((e) => e.sequence)).toEqual([4, 5]);
    expect(w.stats.droppedBatches).toBe(3);
    expect(w.stats.droppedBytes).toBe(30);
    expect(w.retainedBytes).toBe(20);
    expect(w.resumeSequence).toBe(4);
  });

  it('a batch larger than the bound is itself dropped, counted, and its sequence still used', () => {
    const w = new SendWindow<number>({ maxBytes: 25 });
    w.push(0, 10);
    expect(w.push(1, 26)).toBe(2);
    expect(w.size).toBe(0);
    expect(w.stats.droppedBatches).toBe(2);
    expect(w.nextSequence).toBe(3);
  });

  it('dropOldest evicts the oldest retained batch, counted as an overflow; 0 when empty', () => {
    const w = new SendWindow<number>({ maxBytes: 1000 });
    for (let i = 0; i < 3; i++) w.push(i, 10 + i);
    expect(w.dropOldest()).toBe(1);
    expect(w.stats).toMatchObject({ droppedBatches: 1, droppedBytes: 10 });
    expect(w.resumeSequence).toBe(2);
    expect(w.retainedBytes).toBe(23);
    w.ack(2);
    expect(w.dropOldest()).toBe(3);
    expect(w.dropOldest()).toBe(0);
    expect(w.stats).toMatchObject({ pushed: 3, acked: 1, droppedBatches: 2, droppedBytes: 22 });
    expect(w.resumeSequence).toBe(4);
  });

  it('rejects programmer errors', () => {
    expect(() => new SendWindow({ maxBytes: 0 })).toThrow(RangeError);
    expect(() => new SendWindow({ maxBytes: 1, firstSequence: 0 })).toThrow(RangeError);
    expect(() => new SendWindow({ maxBytes: 1 }).push(1, -1)).toThrow(RangeError);
  });

  it('stays correct across queue compaction (thousands of entries)', () => {
    const w = new SendWindow<number>({ maxBytes: 1e9 });
    for (let i = 1; i <= 5000; i++) w.push(i, 1);
    w.ack(3000);
    expect(w.size).toBe(2000);
    expect(w.unacked()[0]).toEqual({ sequence: 3001, item: 3001, byteLength: 1 });
    for (let i = 5001; i <= 6000; i++) w.push(i, 1);
    w.ack(5999);
    expect(w.unacked()).toEqual([{ sequence: 6000, item: 6000, byteLength: 1 }]);
  });

  // Model: ops are push(size) | ack(k-th sent sequence) | reconnect. After any reconnect the resend
  // list must be exactly the pushed sequences above the last ack, minus the oldest ones dropped.
  const op = fc.oneof(
    fc.record({ t: fc.constant('push' as const), size: fc.integer({ min: 0, max: 40 }) }),
    fc.record({ t: fc.constant('ack' as const), k: fc.nat() }),
    fc.record({ t: fc.constant('reconnect' as const) }),
  );
  fcTest.prop([fc.array(op, { maxLength: 200 }), fc.integer({ min: 1, max: 200 })])(
    'resend after reconnect covers exactly the unacked batches; overflow is counted',
    (ops, maxBytes) => {
      const w = new SendWindow<number>({ maxBytes });
      const model: { seq: number; size: number }[] = [];
      let dropped = 0;
      let acked = 0;
      let next = 1;
      for (const o of ops) {
        if (o.t === 'push') {
          expect(w.push(next, o.size)).toBe(next);
          model.push({ seq: next++, size: o.size });
          let bytes = model.reduce((n, e) => n + e.size, 0);
          while (bytes > maxBytes && model.length > 0) {
            bytes -= model.shift()!.size;
            dropped++;
          }
        } else if (o.t === 'ack') {
          if (next === 1) continue;
          const seq = o.k % next; // 0..next-1: sent sequences, plus 0
          const status = w.ack(seq);
          expect(status).toBe(seq > acked ? AckStatus.Advanced : AckStatus.Stale);
          acked = Math.max(acked, seq);
          while (model.length > 0 && model[0]!.seq <= acked) model.shift();
        } else {
          const resend = w.unacked();
          expect(resend.map((e) => e.sequence)).toEqual(model.map((e) => e.seq));
          expect(resend.every((e) => e.item === e.sequence)).toBe(true);
          expect(w.resumeSequence).toBe(model[0]?.seq ?? next);
        }
        expect(w.retainedBytes).toBeLessThanOrEqual(maxBytes);
        expect(w.stats.droppedBatches).toBe(dropped);
        // Every pushed batch is exactly one of: retained, acked, dropped.
        expect(w.stats.pushed).toBe(w.size + w.stats.acked + w.stats.droppedBatches);
      }
    },
  );
});

describe('ReceiveWindow', () => {
  it('acks contiguous sequences and flags resends as duplicates', () => {
    const r = new ReceiveWindow();
    expect(r.ackSequence).toBe(0);
    expect(r.resume(1)).toBe(0);
    expect([1, 2, 3].map((s) => r.receive(s))).toEqual([ReceiveStatus.New, ReceiveStatus.New, ReceiveStatus.New]);
    expect(r.ackSequence).toBe(3);
    // Reconnect: the sender never saw the ack for 2..3 and resends them, then 4.
    expect(r.resume(2)).toBe(0);
    expect([2, 3, 4].map((s) => r.receive(s))).toEqual([ReceiveStatus.Duplicate, ReceiveStatus.Duplicate, ReceiveStatus.New]);
    expect(r.ackSequence).toBe(4);
    expect(r.stats).toEqual({ accepted: 4, duplicates: 2, lost: 0, invalid: 0 });
  });

  it('counts sequences the sender dropped as lost when it resumes above them', () => {
    const r = new ReceiveWindow({ ackedSequence: 10 });
    expect(r.resume(15)).toBe(4); // 11..14 never arrive
    expect(r.ackSequence).toBe(14);
    expect(r.receive(15)).toBe(ReceiveStatus.New);
    expect(r.stats.lost).toBe(4);
  });

  it('a fresh receiver adopts the first sequence without inventing losses', () => {
    const r = new ReceiveWindow();
    expect(r.receive(500)).toBe(ReceiveStatus.New);
    expect(r.ackSequence).toBe(500);
    expect(r.stats.lost).toBe(0);
  });

  it('holds out-of-order sequences within the bound, then gives up on the gap (counted)', () => {
    const r = new ReceiveWindow({ ackedSequence: 0, maxAhead: 2 });
    expect(r.receive(3)).toBe(ReceiveStatus.New);
    expect(r.receive(3)).toBe(ReceiveStatus.Duplicate);
    expect(r.receive(4)).toBe(ReceiveStatus.New);
    expect(r.ackSequence).toBe(0);
    expect(r.receive(1)).toBe(ReceiveStatus.New);
    expect(r.ackSequence).toBe(1);
    expect(r.receive(6)).toBe(ReceiveStatus.New);
    expect(r.receive(7)).toBe(ReceiveStatus.New); // 3 held above the gap at 2: stop waiting for 2
    expect(r.ackSequence).toBe(4);
    expect(r.stats.lost).toBe(1);
    expect(r.receive(2)).toBe(ReceiveStatus.Duplicate);
  });

  it('counts invalid sequences', () => {
    const r = new ReceiveWindow();
    expect(r.receive(0)).toBe(ReceiveStatus.Invalid);
    expect(r.receive(1.5)).toBe(ReceiveStatus.Invalid);
    expect(r.resume(0)).toBe(0);
    expect(r.stats.invalid).toBe(3);
    expect(() => new ReceiveWindow({ maxAhead: 0 })).toThrow(RangeError);
  });

  // End to end: a sender with a bounded window, a lossy link that cuts the connection at random
  // points, and a receiver. Every pushed batch is delivered exactly once or counted dropped/lost.
  fcTest.prop([
    fc.array(fc.oneof(fc.constant('push' as const), fc.constant('deliver' as const), fc.constant('cut' as const)), { maxLength: 300 }),
    fc.integer({ min: 1, max: 12 }),
  ])('with resend after reconnect every batch is delivered exactly once or counted', (ops, capacity) => {
    const sender = new SendWindow<number>({ maxBytes: capacity });
    const receiver = new ReceiveWindow({ ackedSequence: 0 });
    let inFlight: number[] = [];
    const delivered: number[] = [];
    const connect = (): void => {
      receiver.resume(sender.resumeSequence);
      inFlight = sender.unacked().map((e) => e.sequence);
    };
    connect();
    for (const o of ops) {
      if (o === 'push') inFlight.push(sender.push(0, 1));
      else if (o === 'deliver' && inFlight.length > 0) {
        const seq = inFlight.shift()!;
        if (receiver.receive(seq) === ReceiveStatus.New) delivered.push(seq);
        sender.ack(receiver.ackSequence);
      } else if (o === 'cut') connect(); // in-flight bytes are lost with the connection
    }
    connect();
    while (inFlight.length > 0) {
      const seq = inFlight.shift()!;
      if (receiver.receive(seq) === ReceiveStatus.New) delivered.push(seq);
    }
    sender.ack(receiver.ackSequence);
    const pushed = sender.nextSequence - 1;
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(delivered).toEqual([...delivered].sort((a, b) => a - b));
    expect(receiver.ackSequence).toBe(pushed);
    expect(sender.size).toBe(0);
    // Nothing silent: every sequence is delivered or counted lost by the receiver, and the receiver
    // never counts more lost than the sender dropped.
    expect(delivered.length + receiver.stats.lost).toBe(pushed);
    expect(receiver.stats.lost).toBeLessThanOrEqual(sender.stats.droppedBatches);
  });
});
