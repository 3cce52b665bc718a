import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WAV_HEADER_LENGTH, decodeAlawSample, decodePcma, decodePcmu, decodeUlawSample, writeWav } from '../src/index.js';

const oracle = JSON.parse(readFileSync(new URL('./fixtures/g711-audioop.json', import.meta.url), 'utf8')) as { ulaw: number[]; alaw: number[] };

describe('G.711 decoding', () => {
  it('matches the reference tables (Python audioop) for all 256 octets', () => {
    for (let i = 0; i < 256; i++) {
      expect(decodeUlawSample(i), `ulaw ${i}`).toBe(oracle.ulaw[i]);
      expect(decodeAlawSample(i), `alaw ${i}`).toBe(oracle.alaw[i]);
    }
  });

  it('decodes buffers with offsets and stops at the room left in out', () => {
    const buf = Uint8Array.from([0x00, 0xff, 0x7f, 0xd5, 0x55]);
    const out = new Int16Array(3);
    expect(decodePcmu(buf, 1, 4, out)).toBe(3);
    expect(Array.from(out)).toEqual([0, 0, oracle.ulaw[0xd5]]);
    expect(decodePcma(buf, 3, 2, out, 1)).toBe(2);
    expect(Array.from(out.subarray(1))).toEqual([8, -8]);
  });

  it('throws RangeError for a range outside the input or an outOffset outside out (programmer error)', () => {
    const buf = Uint8Array.from([0x00, 0xff, 0x7f, 0xd5, 0x55]);
    const out = new Int16Array(3);
    expect(() => decodePcma(buf, 10, 4, out)).toThrow(new RangeError('decodePcma: range 10+4 outside a buffer of length 5'));
    expect(() => decodePcmu(buf, 2, 4, out)).toThrow(new RangeError('decodePcmu: range 2+4 outside a buffer of length 5'));
    expect(() => decodePcmu(buf, 0, 1, out, 4)).toThrow(new RangeError('decodePcmu out: range 4+0 outside a buffer of length 3'));
    expect(decodePcmu(buf, 0, 5, out, 3)).toBe(0); // no room left is not an error
  });
});

describe('writeWav', () => {
  it('writes a canonical 44-byte RIFF/WAVE PCM header and little-endian samples', () => {
    const wav = writeWav(Int16Array.from([1, -2, 32767]), 8000);
    const v = new DataView(wav.buffer);
    expect(wav.length).toBe(WAV_HEADER_LENGTH + 6);
    expect(Buffer.from(wav.subarray(0, 4)).toString()).toBe('RIFF');
    expect(v.getUint32(4, true)).toBe(36 + 6);
    expect(Buffer.from(wav.subarray(8, 16)).toString()).toBe('WAVEfmt ');
    expect([v.getUint16(20, true), v.getUint16(22, true), v.getUint32(24, true), v.getUint32(28, true), v.getUint16(32, true), v.getUint16(34, true)]).toEqual([1, 1, 8000, 16000, 2, 16]);
    expect(Buffer.from(wav.subarray(36, 40)).toString()).toBe('data');
    expect(v.getUint32(40, true)).toBe(6);
    expect([v.getInt16(44, true), v.getInt16(46, true), v.getInt16(48, true)]).toEqual([1, -2, 32767]);
  });
  it('refuses bad parameters (programmer errors throw)', () => {
    expect(() => writeWav(new Int16Array(0), 0)).toThrow(RangeError);
    expect(() => writeWav(new Int16Array(0), 8000, 3)).toThrow(RangeError);
  });
});
