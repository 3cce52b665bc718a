// Regression: a uint64 absent on the wire (proto3 omits zeros) read as the generated prototype's
// protobufjs Long default, not the number 0, although the generated types say `number`. The
// mirror-sender compared Ack/AuthResult sequences 0 by string coercion and the sniffer normalised
// Hello fields by hand until scripts/generate.mjs rewrote the default to 0.
import { describe, expect, it } from 'vitest';
import { encodeFrame } from './frame-encoder.js';
import { FrameDecoder, FrameStatus, createDecodedFrame } from './frame-decoder.js';
import { Compression, PacketList, type EnvelopeInit } from './messages.js';
import { PacketListDecoder, PacketListStatus, type DecodedPacketList } from './packet-list-decoder.js';

function decodeOne(init: EnvelopeInit) {
  const decoder = new FrameDecoder();
  decoder.push(encodeFrame(init));
  const out = createDecodedFrame();
  expect(decoder.next(out)).toBe(FrameStatus.Frame);
  return out.envelope!;
}

describe('uint64 fields decode as plain numbers', () => {
  it.each<[string, EnvelopeInit, (e: NonNullable<ReturnType<typeof decodeOne>>) => unknown]>([
    ['Ack.sequence', { ack: {} }, (e) => e.ack!.sequence],
    ['AuthResult.ackedSequence', { authResult: { ok: true } }, (e) => e.authResult!.ackedSequence],
    ['Hello.clockSec', { hello: { protocolVersion: 1 } }, (e) => e.hello!.clockSec],
    ['Hello.nextSequence', { hello: { protocolVersion: 1 } }, (e) => e.hello!.nextSequence],
    ['Challenge.clockSec', { challenge: { protocolVersion: 1 } }, (e) => e.challenge!.clockSec],
    ['Heartbeat.clockSec', { heartbeat: { clockNsec: 1 } }, (e) => e.heartbeat!.clockSec],
    ['PacketBatch.sequence', { batch: { compression: Compression.COMPRESSION_ZSTD } }, (e) => e.batch!.sequence],
  ])('%s absent on the wire is the number 0', (_name, init, field) => {
    const value = field(decodeOne(init));
    expect(typeof value).toBe('number');
    expect(value).toBe(0);
  });

  it('present uint64 fields are numbers, exact up to 2^53 - 1', () => {
    const e = decodeOne({ ack: { sequence: Number.MAX_SAFE_INTEGER } });
    expect(e.ack!.sequence).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('Packet.tsSec absent (0) or present decodes as a number through PacketListDecoder', () => {
    const bytes = PacketList.encode({ packets: [{ linkType: 1, tsNsec: 5, origLen: 1, data: Uint8Array.of(1) }, { tsSec: 1_795_000_000 }] }).finish();
    const out: DecodedPacketList = { list: null };
    expect(new PacketListDecoder().decode(bytes, out)).toBe(PacketListStatus.Ok);
    const [a, b] = out.list!.packets!;
    expect(typeof a!.tsSec).toBe('number');
    expect(a!.tsSec).toBe(0);
    expect(b!.tsSec).toBe(1_795_000_000);
  });
});
