import { describe, expect, it } from 'vitest';
import { DtmfDetector, MAX_DTMF_EVENTS, dtmfDigit } from './dtmf.js';

function ev(event: number, end: boolean, duration: number): Uint8Array {
  return Uint8Array.from([event, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]);
}

describe('DtmfDetector (RFC 4733)', () => {
  it('counts three end-packet repeats once and converts the duration with the clock', () => {
    const d = new DtmfDetector(8000);
    d.update(1000, 10, 0, ev(5, false, 160), 0, 4);
    d.update(1000, 10, 20_000_000, ev(5, false, 320), 0, 4);
    for (let k = 0; k < 3; k++) d.update(1000, 10, 40_000_000 + k * 1_000_000, ev(5, true, 400), 0, 4);
    d.finish();
    expect(d.count).toBe(1);
    expect(d.digits()).toBe('5');
    expect(d.durationMs[0]).toBe(50);
    expect([d.startSec[0], d.startNsec[0], d.volume[0], d.ended[0]]).toEqual([10, 0, 10, 1]);
  });

  it('detects a new event by timestamp even when its marker packet and the previous end were lost', () => {
    const d = new DtmfDetector(8000);
    d.update(1000, 1, 0, ev(1, false, 160), 0, 4);
    d.update(1000, 1, 20, ev(1, false, 320), 0, 4); // end packets lost
    d.update(3000, 2, 0, ev(1, false, 480), 0, 4); // same digit again, new timestamp
    d.update(3000, 2, 5, ev(1, true, 800), 0, 4);
    expect(d.count).toBe(2);
    expect(d.digits()).toBe('11');
    expect(d.ended[0]).toBe(0);
    expect(d.durationMs[0]).toBe(40);
    expect(d.durationMs[1]).toBe(100);
  });

  it('counts malformed payloads and keeps a bounded ring', () => {
    const d = new DtmfDetector();
    d.update(1, 0, 0, Uint8Array.from([1, 2]), 0, 2);
    expect(d.malformed).toBe(1);
    // A range outside the buffer is the caller's bug, not a malformed payload: it throws.
    expect(() => {
      d.update(1, 0, 0, Uint8Array.from([1, 2]), 0, 4);
    }).toThrow(
      new RangeError('DtmfDetector.update: range 0+4 outside a buffer of length 2'),
    );
    expect(d.malformed).toBe(1);
    for (let i = 0; i < MAX_DTMF_EVENTS + 6; i++) d.update(i * 1000, i, 0, ev(i % 12, true, 160), 0, 4);
    expect(d.count).toBe(MAX_DTMF_EVENTS + 6);
    expect(d.kept).toBe(MAX_DTMF_EVENTS);
    expect(d.event[d.slot(0)]).toBe(6 % 12);
    expect(dtmfDigit(10) + dtmfDigit(15) + dtmfDigit(16) + dtmfDigit(200)).toBe('*D!?');
  });
});
