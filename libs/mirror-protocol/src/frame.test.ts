import { describe, expect, it } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { encodeBatchFrameHeader, encodeFrame } from './frame-encoder.js';
import { FrameStatus, FrameDecoder, MalformedReason, createDecodedFrame } from './frame-decoder.js';
import { AuthFailure, Compression, Envelope, PacketList, type EnvelopeInit } from './messages.js';
import { PacketListStatus, PacketListDecoder, type DecodedPacketList } from './packet-list-decoder.js';

const nonce = (seed: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (seed + i * 7) & 0xff);

/** One envelope of every message kind. Fields hold non-default values: proto3 does not encode defaults. */
const EVERY_MESSAGE: EnvelopeInit[] = [
  { hello: { protocolVersion: 1, sensorId: 'pbx-1', sensorName: 'PBX Paris é', clockSec: 1_795_000_000, clockNsec: 123_456_789, clientNonce: nonce(1), nextSequence: 42 } },
  { challenge: { serverNonce: nonce(2), clockSec: 1_795_000_001, clockNsec: 999_999_999, protocolVersion: 1 } },
  { auth: { mac: nonce(3) } },
  { authResult: { reason: AuthFailure.AUTH_FAILURE_BAD_MAC, detail: 'bad mac' } },
  { authResult: { ok: true, ackedSequence: 41 } },
  {
    batch: {
      sequence: 2 ** 40 + 3,
      packets: [
        { linkType: 1, tsSec: 1_795_000_002, tsNsec: 5, origLen: 1514, data: Uint8Array.of(1, 2, 3, 4) },
        { linkType: 113, tsSec: 1_795_000_003, tsNsec: 6, origLen: 2, data: Uint8Array.of(9, 8) },
      ],
    },
  },
  { batch: { sequence: 7, compression: Compression.COMPRESSION_BROTLI, compressedPackets: Uint8Array.of(0x1b, 0, 0) } },
  { ack: { sequence: 2 ** 50 } },
  { heartbeat: { clockSec: 1_795_000_004, clockNsec: 1 } },
];

/**
 * Plain comparable form of an envelope. Decoded protobufjs instances hold defaults on prototypes
 * and empty repeated fields as own `[]`; both sides go through the same replacer.
 */
const replacer = (_k: string, v: unknown): unknown => {
  const value = v instanceof Uint8Array ? Array.from(v) : v;
  return Array.isArray(value) && value.length === 0 ? undefined : value;
};
function plain(env: Envelope | EnvelopeInit): unknown {
  const body = 'body' in env && typeof env.body === 'string' ? env.body : Object.keys(env)[0]!;
  return { body, value: JSON.parse(JSON.stringify(env[body as keyof EnvelopeInit], replacer)) as unknown };
}
const plainInit = plain;

function decodeAll(decoder: FrameDecoder): { statuses: number[]; envelopes: Envelope[] } {
  const out = createDecodedFrame();
  const statuses: number[] = [];
  const envelopes: Envelope[] = [];
  for (;;) {
    const status = decoder.next(out);
    if (status === FrameStatus.NeedMore) break;
    statuses.push(status);
    if (status === FrameStatus.Frame) envelopes.push(out.envelope!);
    if (status === FrameStatus.TooLarge) break;
  }
  return { statuses, envelopes };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('encodeFrame / FrameDecoder round trip', () => {
  it.each(EVERY_MESSAGE.map((e) => [Object.keys(e)[0]!, e] as const))('round-trips %s', (_name, env) => {
    const frame = encodeFrame(env);
    const length = new DataView(frame.buffer, frame.byteOffset).getUint32(0, false);
    expect(length).toBe(frame.length - 4);
    const decoder = new FrameDecoder();
    decoder.push(frame);
    const out = createDecodedFrame();
    expect(decoder.next(out)).toBe(FrameStatus.Frame);
    expect(out.length).toBe(length);
    expect(plain(out.envelope!)).toEqual(plainInit(env));
    // Re-encoding the decoded envelope gives the same bytes (deterministic serialisation).
    expect(encodeFrame(out.envelope!)).toEqual(frame);
    expect(decoder.next(out)).toBe(FrameStatus.NeedMore);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('keeps uint64 sequences above 2^32 exact as numbers', () => {
    const decoder = new FrameDecoder();
    decoder.push(encodeFrame({ ack: { sequence: 2 ** 53 - 1 } }));
    const out = createDecodedFrame();
    expect(decoder.next(out)).toBe(FrameStatus.Frame);
    expect(out.envelope!.ack!.sequence).toBe(2 ** 53 - 1);
  });

  it('round-trips a PacketList (the compressed payload before compression)', () => {
    const list = { packets: [{ linkType: 1, tsSec: 10, tsNsec: 20, origLen: 60, data: Uint8Array.of(0xde, 0xad) }] };
    const out: DecodedPacketList = { list: null };
    expect(new PacketListDecoder().decode(PacketList.encode(list).finish(), out)).toBe(PacketListStatus.Ok);
    const decoded = out.list!;
    expect(decoded.packets![0]!.tsSec).toBe(10);
    expect(decoded.packets![0]!.tsNsec).toBe(20);
    expect(Array.from(decoded.packets![0]!.data!)).toEqual([0xde, 0xad]);
  });

  it('reassembles all frames when the stream is split at every byte boundary', () => {
    const stream = concat(EVERY_MESSAGE.map((e) => encodeFrame(e)));
    const expected = EVERY_MESSAGE.map(plainInit);
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new FrameDecoder({ initialCapacity: 8 });
      const got: unknown[] = [];
      for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
        decoder.push(part);
        const { statuses, envelopes } = decodeAll(decoder);
        expect(statuses.every((s) => s === FrameStatus.Frame)).toBe(true);
        got.push(...envelopes.map(plain));
      }
      expect(got).toEqual(expected);
    }
  });

  it('reassembles frames fed one byte at a time', () => {
    const stream = concat(EVERY_MESSAGE.map((e) => encodeFrame(e)));
    const decoder = new FrameDecoder({ initialCapacity: 4 });
    const got: unknown[] = [];
    for (let i = 0; i < stream.length; i++) {
      decoder.push(stream.subarray(i, i + 1));
      got.push(...decodeAll(decoder).envelopes.map(plain));
    }
    expect(got).toEqual(EVERY_MESSAGE.map(plainInit));
    expect(decoder.stats.frames).toBe(EVERY_MESSAGE.length);
  });

  it('refuses to encode an envelope above the bound (programmer error)', () => {
    expect(() => encodeFrame({ auth: { mac: new Uint8Array(100) } }, 50)).toThrow(RangeError);
  });
});

const be32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const ackFrame = Array.from(encodeFrame({ ack: { sequence: 5 } }));

describe('malformed input', () => {
  // Each row: raw stream bytes, the exact statuses next() returns until NeedMore/TooLarge,
  // and the bytes left pending.
  const rows: { name: string; bytes: number[]; max?: number; statuses: number[]; pending: number }[] = [
    { name: 'empty stream', bytes: [], statuses: [], pending: 0 },
    { name: 'partial length prefix', bytes: [0, 0, 0], statuses: [], pending: 3 },
    { name: 'zero length', bytes: be32(0), statuses: [FrameStatus.Malformed], pending: 0 },
    { name: 'zero length then a good frame', bytes: [...be32(0), ...ackFrame], statuses: [FrameStatus.Malformed, FrameStatus.Frame], pending: 0 },
    { name: 'length lies long (waits for more, keeps bytes)', bytes: [...be32(100), 0x32, 0x02, 0x08, 0x05], statuses: [], pending: 8 },
    { name: 'over the default 16 MiB limit', bytes: [...be32(16 * 1024 * 1024 + 1), 0x32], statuses: [FrameStatus.TooLarge], pending: 0 },
    { name: 'over a custom limit', bytes: [...be32(11), ...new Array<number>(11).fill(0)], max: 10, statuses: [FrameStatus.TooLarge], pending: 0 },
    { name: 'exactly the custom limit', bytes: [...be32(10), 0x32, 0x08, ...new Array<number>(8).fill(0)], max: 10, statuses: [FrameStatus.Malformed], pending: 0 },
    { name: 'length 0xffffffff', bytes: [0xff, 0xff, 0xff, 0xff], statuses: [FrameStatus.TooLarge], pending: 0 },
    { name: 'truncated protobuf: submessage length past frame end', bytes: [...be32(3), 0x32, 0x05, 0x08], statuses: [FrameStatus.Malformed], pending: 0 },
    { name: 'truncated protobuf: unterminated varint', bytes: [...be32(3), 0x32, 0x01, 0x80], statuses: [FrameStatus.Malformed], pending: 0 },
    { name: 'invalid wire type 7', bytes: [...be32(2), 0x0f, 0x00], statuses: [FrameStatus.Malformed], pending: 0 },
    { name: 'length lies short: frame cut inside a field, next prefix garbage', bytes: [...be32(3), ...ackFrame.slice(4)], statuses: [FrameStatus.Malformed], pending: 1 },
    { name: 'malformed frame then a good frame', bytes: [...be32(2), 0x0f, 0x00, ...ackFrame], statuses: [FrameStatus.Malformed, FrameStatus.Frame], pending: 0 },
  ];

  it.each(rows)('$name', ({ bytes, max, statuses, pending }) => {
    const decoder = new FrameDecoder(max === undefined ? {} : { maxFrameLength: max });
    decoder.push(Uint8Array.from(bytes));
    expect(decodeAll(decoder).statuses).toEqual(statuses);
    expect(decoder.pendingBytes).toBe(pending);
  });

  it('counts malformed frames by reason', () => {
    const decoder = new FrameDecoder();
    decoder.push(Uint8Array.from([...be32(0), ...be32(2), 0x0f, 0x00, ...be32(0)]));
    const out = createDecodedFrame();
    expect(decoder.next(out)).toBe(FrameStatus.Malformed);
    expect(out.reason).toBe(MalformedReason.EmptyFrame);
    expect(decoder.next(out)).toBe(FrameStatus.Malformed);
    expect(out.reason).toBe(MalformedReason.Protobuf);
    expect(decoder.next(out)).toBe(FrameStatus.Malformed);
    expect(decoder.stats.malformed[MalformedReason.EmptyFrame]).toBe(2);
    expect(decoder.stats.malformed[MalformedReason.Protobuf]).toBe(1);
  });

  it('TooLarge is sticky and discards later input, counted', () => {
    const decoder = new FrameDecoder({ maxFrameLength: 100 });
    decoder.push(Uint8Array.from(be32(101)));
    const out = createDecodedFrame();
    expect(decoder.next(out)).toBe(FrameStatus.TooLarge);
    expect(out.length).toBe(101);
    decoder.push(Uint8Array.from(ackFrame));
    expect(decoder.next(out)).toBe(FrameStatus.TooLarge);
    expect(decoder.stats.tooLarge).toBe(1);
    expect(decoder.stats.discardedBytes).toBe(4 + ackFrame.length);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('a well-formed envelope of an unknown kind is a Frame with no body, not a drop', () => {
    // Field 15 (wire type 2, empty): a message kind from a newer peer.
    const decoder = new FrameDecoder();
    decoder.push(Uint8Array.from([...be32(2), 0x7a, 0x00]));
    const out = createDecodedFrame();
    expect(decoder.next(out)).toBe(FrameStatus.Frame);
    expect(out.envelope!.body).toBeUndefined();
  });

  it('rejects a bad bound (programmer error)', () => {
    expect(() => new FrameDecoder({ maxFrameLength: 0 })).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameLength: 2 ** 32 })).toThrow(RangeError);
  });
});

describe('properties', () => {
  fcTest.prop([fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), fc.integer({ min: 1, max: 4096 })])(
    'never throws on random bytes in random chunks',
    (chunks, max) => {
      const decoder = new FrameDecoder({ maxFrameLength: max, initialCapacity: 4 });
      const out = createDecodedFrame();
      for (const chunk of chunks) {
        decoder.push(chunk);
        let guard = 0;
        for (;;) {
          const status = decoder.next(out);
          expect([0, 1, 2, 3]).toContain(status);
          if (status === FrameStatus.NeedMore || status === FrameStatus.TooLarge) break;
          expect(++guard).toBeLessThan(1000);
        }
      }
    },
  );

  const envelopeArb = fc.oneof(
    fc.record({ ack: fc.record({ sequence: fc.maxSafeNat() }) }),
    fc.record({ heartbeat: fc.record({ clockSec: fc.nat(), clockNsec: fc.nat({ max: 999_999_999 }) }) }),
    fc.record({
      batch: fc.record({
        sequence: fc.integer({ min: 1, max: 2 ** 40 }),
        packets: fc.array(
          fc.record({ linkType: fc.nat(300), tsSec: fc.nat(), tsNsec: fc.nat(999_999_999), origLen: fc.nat(65535), data: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
          { maxLength: 4 },
        ),
      }),
    }),
  ) as fc.Arbitrary<EnvelopeInit>;

  fcTest.prop([fc.array(envelopeArb, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 })])(
    'random chunking yields the same frames as one push',
    (envelopes, cutSeeds) => {
      const stream = concat(envelopes.map((e) => encodeFrame(e)));
      const whole = new FrameDecoder();
      whole.push(stream);
      const expected = decodeAll(whole).envelopes.map(plain);
      expect(expected).toHaveLength(envelopes.length);
      const cuts = [...new Set(cutSeeds.map((s) => s % (stream.length + 1)))].sort((a, b) => a - b);
      const chunked = new FrameDecoder({ initialCapacity: 4 });
      const got: unknown[] = [];
      let from = 0;
      for (const cut of [...cuts, stream.length]) {
        chunked.push(stream.subarray(from, cut));
        from = cut;
        got.push(...decodeAll(chunked).envelopes.map(plain));
      }
      expect(got).toEqual(expected);
    },
  );
});

describe('encodeBatchFrameHeader', () => {
  // A plain Uint8Array copy: encodeFrame returns a Buffer, which toEqual does not match with one.
  const WIRE = [Compression.COMPRESSION_NONE, Compression.COMPRESSION_DEFLATE, Compression.COMPRESSION_BROTLI, Compression.COMPRESSION_ZSTD, Compression.COMPRESSION_LZ4];
  const whole = (sequence: number, wire: number, field: 4 | 5, body: Uint8Array): Uint8Array => {
    const compression = WIRE[wire]!;
    return Uint8Array.from(encodeFrame({ batch: field === 5 ? { sequence, compression, block: body } : { sequence, compression, compressedPackets: body } }));
  };

  // Edges of the varints (1/2/3-byte lengths and sequences, above 2^32 and 2^53 - 1) and the proto3 defaults (0 not written).
  it.each([
    [1, 1, 5, 1],
    [0, 0, 5, 0],
    [0, 3, 4, 5],
    [127, 2, 5, 127],
    [128, 4, 5, 128],
    [16_383, 1, 4, 16_383],
    [16_384, 1, 5, 16_384],
    [2 ** 32, 3, 5, 20_000],
    [2 ** 53 - 1, 1, 5, 3],
  ] as const)('sequence %d, compression %d, field %d, %d body bytes: header + body = encodeFrame', (sequence, compression, field, n) => {
    const body = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
    expect(concat([encodeBatchFrameHeader(sequence, compression, field, n), body])).toEqual(whole(sequence, compression, field, body));
  });

  fcTest.prop([fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.nat({ max: 4 }), fc.constantFrom(4 as const, 5 as const), fc.uint8Array({ maxLength: 3000 })])(
    'header + body = encodeFrame for any batch',
    (sequence, compression, field, body) => {
      expect(concat([encodeBatchFrameHeader(sequence, compression, field, body.length), body])).toEqual(whole(sequence, compression, field, body));
    },
  );

  it('refuses a frame above the bound and fields that are not non-negative safe integers', () => {
    const length = whole(1, 1, 5, new Uint8Array(1000)).length - 4;
    expect(encodeBatchFrameHeader(1, 1, 5, 1000, length).length).toBe(4 + length - 1000);
    expect(() => encodeBatchFrameHeader(1, 1, 5, 1000, length - 1)).toThrow(RangeError);
    expect(() => encodeBatchFrameHeader(-1, 1, 5, 1)).toThrow(RangeError);
    expect(() => encodeBatchFrameHeader(1.5, 1, 5, 1)).toThrow(RangeError);
    expect(() => encodeBatchFrameHeader(2 ** 53, 1, 5, 1)).toThrow(RangeError);
    expect(() => encodeBatchFrameHeader(1, 1, 5, -1)).toThrow(RangeError);
  });
});
