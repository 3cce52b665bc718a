import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { SipFrame, SipFraming, SipTcpReassembler, TcpFlag, frameSipMessage } from '../src/index.js';
import { hexToBytes, loadCaptureFixtures } from './corpus-fixtures.js';

const hex = (b: Uint8Array, o: number, l: number): string => Buffer.from(b.subarray(o, o + l)).toString('hex');
const tcpFixture = loadCaptureFixtures().find((f) => f.capture === 'sip-tcp.pcap')!;
const messages = tcpFixture.messages.map((m) => hexToBytes(m.payload));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('frameSipMessage', () => {
  const f = new SipFrame();
  const frame = (s: string): SipFraming => {
    const b = new TextEncoder().encode(s);
    return frameSipMessage(b, 0, b.length, f);
  };
  it('answers NotSip | Partial | Complete | Multiple', () => {
    expect(frame('\x16\x03\x01 TLS')).toBe(SipFraming.NotSip);
    expect(frame('GET / HTTP/1.1\r\n\r\n')).toBe(SipFraming.NotSip);
    expect(frame('\r\n\r\n')).toBe(SipFraming.Partial);
    expect(f.keepaliveBytes).toBe(4);
    expect(frame('OPTIONS sip:a SIP/2.0\r\nl: 3\r\n\r\nab')).toBe(SipFraming.Partial);
    expect(frame('OPTIONS sip:a SIP/2.0\r\nl: 3\r\n\r\nabc')).toBe(SipFraming.Complete);
    expect(f.length).toBe(31 + 3);
    expect(frame('\r\nSIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\nSIP/2.0')).toBe(SipFraming.Multiple);
    expect(f.offset).toBe(2);
    expect(frame('SIP/2.0 200 OK\r\n\r\n')).toBe(SipFraming.Complete);
    expect(f.missingContentLength).toBe(true);
  });
});

describe('SipTcpReassembler on sip-tcp.pcap', () => {
  it('emits exactly the messages tshark dissects, from the raw TCP segments', () => {
    const got: string[] = [];
    const r = new SipTcpReassembler<string>((_k, b, o, l) => got.push(hex(b, o, l)));
    for (const s of tcpFixture.segments!) {
      const p = hexToBytes(s.payload);
      const flags = (s.syn ? TcpFlag.Syn : 0) | (s.fin ? TcpFlag.Fin : 0) | (s.rst ? TcpFlag.Rst : 0);
      r.push(`${s.src}>${s.dst}`, s.frame, s.seq, flags, p, 0, p.length);
    }
    expect(got).toEqual(tcpFixture.messages.map((m) => m.payload));
    expect(r.stats.messages).toBe(7);
    expect({ gaps: r.stats.gaps, discarded: r.stats.discardedBytes, truncated: r.stats.truncatedBytes }).toEqual({ gaps: 0, discarded: 0, truncated: 0 });
    expect(r.flowCount).toBe(0); // both directions closed by FIN once all data was in
    expect(r.stats.flowsClosed).toBe(2);
  });
});

// One direction of a stream: every corpus TCP message, with keepalives between some of them.
const keepalive = new TextEncoder().encode('\r\n\r\n');
const stream = concat([messages[0]!, keepalive, messages[1]!, messages[2]!, keepalive, messages[3]!, messages[4]!, messages[5]!, messages[6]!]);
const ISN = 0xfffffff0; // sequence numbers wrap inside the stream

function feed(r: SipTcpReassembler<number>, cuts: number[], order: number[], now = 0): void {
  r.push(1, now, ISN, TcpFlag.Syn, stream, 0, 0);
  const bounds = [0, ...cuts, stream.length];
  for (const i of order) {
    const start = bounds[i]!;
    const end = bounds[i + 1]!;
    r.push(1, now, (ISN + 1 + start) >>> 0, 0, stream, start, end - start);
  }
}

describe('SipTcpReassembler properties', () => {
  const expected = messages.map((m) => Buffer.from(m).toString('hex'));

  test.prop([
    fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }).map((a) => a.sort((x, y) => x - y)),
    fc.infiniteStream(fc.nat()),
  ], { numRuns: 150 })('same messages for any segmentation and any reordering', (cuts, rnd) => {
    const n = cuts.length + 1;
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rnd.next().value % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    // Retransmit a few segments too.
    const withDupes = [...order, ...order.slice(0, 3)];
    const got: string[] = [];
    const r = new SipTcpReassembler<number>((_k, b, o, l) => got.push(hex(b, o, l)));
    feed(r, cuts, withDupes);
    expect(got).toEqual(expected);
    expect(r.stats.gaps).toBe(0);
  });

  it('a lost segment costs only the message it was in: gap counted, resync on the next start line', () => {
    const got: string[] = [];
    const r = new SipTcpReassembler<number>((_k, b, o, l) => got.push(hex(b, o, l)), { reorderTimeoutMs: 100 });
    // Cut the 3rd message (the 180 Ringing, index 2) in the middle and lose that piece.
    const m2Start = messages[0]!.length + keepalive.length + messages[1]!.length;
    const cuts = [m2Start + 10, m2Start + 20, stream.length - 5];
    r.push(1, 0, ISN, TcpFlag.Syn, stream, 0, 0);
    const bounds = [0, ...cuts, stream.length];
    r.push(1, 0, ISN + 1, 0, stream, 0, bounds[1]!);
    r.push(1, 10, (ISN + 1 + bounds[2]!) >>> 0, 0, stream, bounds[2]!, bounds[3]! - bounds[2]!);
    r.push(1, 500, (ISN + 1 + bounds[3]!) >>> 0, 0, stream, bounds[3]!, bounds[4]! - bounds[3]!);
    expect(got).toEqual(expected.filter((_, i) => i !== 2));
    expect(r.stats.gaps).toBe(1);
    expect(r.stats.discardedBytes).toBeGreaterThan(0);
  });

  it('joins mid-stream without SYN: bytes before the first start line are discarded and counted', () => {
    const got: string[] = [];
    const r = new SipTcpReassembler<number>((_k, b, o, l) => got.push(hex(b, o, l)));
    r.push(1, 0, 1000, 0, stream, 100, stream.length - 100);
    expect(got).toEqual(expected.slice(1));
    expect(r.stats.discardedBytes).toBe(messages[0]!.length + keepalive.length - 100);
  });

  it('skips data that is not SIP (counted) and picks up the next start line', () => {
    const got: string[] = [];
    const r = new SipTcpReassembler<number>((_k, b, o, l) => got.push(hex(b, o, l)));
    const junk = new TextEncoder().encode('\x16\x03\x01garbage\r\nmore junk\r\n');
    const data = concat([junk, messages[0]!, messages[1]!]);
    r.push(1, 0, 0, TcpFlag.Syn, data, 0, 0);
    r.push(1, 0, 1, 0, data, 0, data.length);
    expect(got).toEqual(expected.slice(0, 2));
    expect(r.stats.notSip).toBe(1);
    expect(r.stats.discardedBytes).toBe(junk.length);
  });

  it('bounds the buffer per flow: overflow is counted and the flow resyncs', () => {
    const got: string[] = [];
    const r = new SipTcpReassembler<number>((_k, b, o, l) => got.push(hex(b, o, l)), { maxFlowBytes: 1024 });
    const huge = new TextEncoder().encode(`MESSAGE sip:a SIP/2.0\r\nContent-Length: 1500\r\n\r\n${'x'.repeat(1500)}`);
    r.push(1, 0, 0, TcpFlag.Syn, huge, 0, 0);
    r.push(1, 0, 1, 0, huge, 0, 600);
    r.push(1, 0, 601, 0, huge, 600, huge.length - 600);
    r.push(1, 0, 1 + huge.length, 0, messages[1]!, 0, messages[1]!.length);
    expect(r.stats.overflows).toBe(1);
    expect(got).toEqual([expected[1]]);
  });

  it('caps the flow table (LRU eviction) and expires idle flows by packet time', () => {
    const r = new SipTcpReassembler<string>(() => undefined, { maxFlows: 2, idleTimeoutMs: 1000 });
    const partial = messages[0]!.subarray(0, 50);
    r.push('a', 0, 0, TcpFlag.Syn, partial, 0, 0);
    r.push('a', 0, 1, 0, partial, 0, partial.length);
    r.push('b', 10, 0, TcpFlag.Syn, partial, 0, 0);
    r.push('c', 20, 0, TcpFlag.Syn, partial, 0, 0);
    expect(r.flowCount).toBe(2);
    expect(r.stats.flowsEvicted).toBe(1);
    expect(r.stats.truncatedBytes).toBe(50);
    expect(r.expire(2000)).toBe(2);
    expect(r.flowCount).toBe(0);
    expect(r.stats.flowsExpired).toBe(2);
    r.push('d', 0, 0, TcpFlag.Syn, partial, 0, 0);
    r.push('d', 0, 0, TcpFlag.Rst, partial, 0, 0);
    expect(r.stats.flowsClosed).toBe(1);
    expect(() => new SipTcpReassembler(() => undefined, { maxFlows: 0 })).toThrow(RangeError);
  });

  test.prop([fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 200 })), { maxLength: 30 })], { numRuns: 200 })(
    'never throws and stays bounded on random segments',
    (segs) => {
      const r = new SipTcpReassembler<number>(() => undefined, { maxFlowBytes: 4096, maxPendingSegments: 4 });
      for (const [seq, flags, data] of segs) r.push(seq % 3, 0, seq, flags, data, 0, data.length);
      expect(r.flowCount).toBeLessThanOrEqual(3);
    },
  );
});
