import { describe, expect, it } from 'vitest';
import { PayloadTypeMap, RtpHeader } from '@callscope/rtp';
import { MediaStream } from './media-stream.js';

const none = new Uint32Array(4);

function v4(ssrc: number, src4: number, dst4: number): MediaStream {
  return new MediaStream(ssrc, 'caller', 4, src4, dst4, none, none, 20000, 40000, 'a', 'b', new PayloadTypeMap());
}

describe('MediaStream match fields in its state block', () => {
  it('matches an IPv4 packet through the block alone, signed or unsigned 32-bit inputs alike', () => {
    const s = v4(0xdeadbeef, 0xc0000201, 0xc6336401);
    const block = s.stateBlock;
    expect(MediaStream.matchesAt(block, 0xdeadbeef, 0xc0000201, 0xc6336401, 20000, 40000)).toBe(true);
    expect(MediaStream.matchesAt(block, 0xdeadbeef | 0, 0xc0000201 | 0, 0xc6336401 | 0, 20000, 40000)).toBe(true);
    expect(s.matches(0xdeadbeef, 4, 0xc0000201, 0xc6336401, none, none, 20000, 40000)).toBe(true);
    // Each field on its own makes it another stream (regression: a field left out of the match).
    expect(MediaStream.matchesAt(block, 0xdeadbeee, 0xc0000201, 0xc6336401, 20000, 40000)).toBe(false);
    expect(MediaStream.matchesAt(block, 0xdeadbeef, 0xc0000202, 0xc6336401, 20000, 40000)).toBe(false);
    expect(MediaStream.matchesAt(block, 0xdeadbeef, 0xc0000201, 0xc6336402, 20000, 40000)).toBe(false);
    expect(MediaStream.matchesAt(block, 0xdeadbeef, 0xc0000201, 0xc6336401, 20001, 40000)).toBe(false);
    expect(MediaStream.matchesAt(block, 0xdeadbeef, 0xc0000201, 0xc6336401, 20000, 40001)).toBe(false);
    expect(MediaStream.matchesAt(block, 0xdeadbeef, 0xc0000201, 0xc6336401, 40000, 20000)).toBe(false);
  });

  it('an IPv6 stream never matches through the block; its object compares the addresses', () => {
    const a = Uint32Array.of(0x20010db8, 0, 0, 1);
    const b = Uint32Array.of(0x20010db8, 0, 0, 2);
    const s = new MediaStream(7, 'callee', 6, 0, 0, a, b, 20000, 40000, '2001:db8::1', '2001:db8::2', new PayloadTypeMap());
    expect(MediaStream.matchesAt(s.stateBlock, 7, 0, 0, 20000, 40000)).toBe(false);
    expect(s.matches(7, 6, 0, 0, a, b, 20000, 40000)).toBe(true);
    expect(s.matches(7, 6, 0, 0, b, a, 20000, 40000)).toBe(false);
    expect(s.matches(7, 4, 0, 0, a, b, 20000, 40000)).toBe(false);
  });

  it('keeps the first audio payload type; telephone-event and CN do not set it', () => {
    const types = new PayloadTypeMap();
    types.setRtpmap(101, 'telephone-event', 8000);
    const s = new MediaStream(1, 'caller', 4, 1, 2, none, none, 1, 2, 'a', 'b', types);
    const h = new RtpHeader();
    const payload = new Uint8Array(4);
    expect(s.audioPayloadType).toBe(-1);
    for (const [i, pt] of [101, 13, 8, 0].entries()) {
      h.sequenceNumber = i;
      h.timestamp = i * 160;
      h.payloadType = pt;
      s.onPacket(h, 100, i * 20_000_000, payload, 0, 4);
    }
    expect(s.audioPayloadType).toBe(8);
    expect(s.dtmf).not.toBeNull();
    expect(s.packets).toBe(4);
  });
});
