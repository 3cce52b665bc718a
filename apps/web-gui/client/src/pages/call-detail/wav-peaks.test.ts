import { describe, expect, it } from 'vitest';
import { parseWavHeader, wavPeaks } from './wav-peaks.ts';

/** A PCM WAV as the sensor writes it (44-byte header), with an optional extra chunk before `data`. */
function wav(channels: number, samples: number[], extraChunk = false, announced?: number): ArrayBuffer {
  const dataBytes = samples.length * 2;
  const extra = extraChunk ? 8 + 3 + 1 : 0;
  const buf = new ArrayBuffer(44 + extra + dataBytes);
  const v = new DataView(buf);
  const put = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  put(0, 'RIFF');
  v.setUint32(4, 36 + extra + dataBytes, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, 8000, true);
  v.setUint32(28, 8000 * 2 * channels, true);
  v.setUint16(32, 2 * channels, true);
  v.setUint16(34, 16, true);
  let at = 36;
  if (extraChunk) {
    // An odd-sized LIST chunk: padded to even.
    put(at, 'LIST');
    v.setUint32(at + 4, 3, true);
    at += 12;
  }
  put(at, 'data');
  v.setUint32(at + 4, announced ?? dataBytes, true);
  samples.forEach((s, i) => { v.setInt16(at + 8 + 2 * i, s, true); });
  return buf;
}

describe('parseWavHeader', () => {
  it('reads the format and finds the data chunk after other chunks', () => {
    expect(parseWavHeader(wav(2, [1, 2, 3, 4], true))).toEqual({ channels: 2, sampleRate: 8000, bitsPerSample: 16, dataOffset: 56, dataBytes: 8 });
  });
  it('cuts the data to what arrived, in whole frames', () => {
    // Announced 4 frames of stereo; 3 samples present: one whole frame.
    expect(parseWavHeader(wav(2, [1, 2, 3], false, 16))?.dataBytes).toBe(4);
  });
  it('refuses what is not a WAV: JSON error body, truncated header', () => {
    expect(parseWavHeader(new TextEncoder().encode('{"error":{"code":"NO_AUDIO"}}').buffer)).toBeNull();
    expect(parseWavHeader(wav(1, [1]).slice(0, 30))).toBeNull();
  });
});

describe('wavPeaks', () => {
  it('gives min and max per column and channel, scaled to -1..1', () => {
    // Stereo: left rises, right is a loud negative spike in the second half.
    const frames = [
      [0, 0], [16384, 0], [-16384, 0], [0, 0],
      [8192, 0], [0, -32768], [0, 0], [32767, 0],
    ];
    const p = wavPeaks(wav(2, frames.flat()), 2)!;
    expect(p.seconds).toBe(8 / 8000);
    expect(Array.from(p.min[0]!)).toEqual([-0.5, 0]);
    expect(Array.from(p.max[0]!)).toEqual([0.5, 32767 / 32768]);
    expect(Array.from(p.min[1]!)).toEqual([0, -1]);
    expect(Array.from(p.max[1]!)).toEqual([0, 0]);
  });
  it('handles more columns than samples (each column at least one frame)', () => {
    const p = wavPeaks(wav(1, [16384, -16384]), 4)!;
    expect(Array.from(p.max[0]!)).toEqual([0.5, 0.5, 0, 0]);
    expect(Array.from(p.min[0]!)).toEqual([0, 0, -0.5, -0.5]);
  });
  it('refuses a column count that is not a positive integer', () => {
    expect(() => wavPeaks(wav(1, [1]), 0)).toThrow(RangeError);
  });
});
