import { writeWavHeader } from './audio/wav-header.js';

/** Size of the canonical RIFF/WAVE header written by {@link writeWav}. */
export const WAV_HEADER_LENGTH = 44;

/**
 * Write 16-bit PCM samples as a canonical RIFF/WAVE file (format tag 1, little-endian) into a
 * new buffer: `RIFF` size `WAVE`, `fmt ` chunk of 16 bytes, `data` chunk. Not a hot-path
 * function: it allocates the output once.
 *
 * @param samples interleaved samples (`channels` per frame)
 * @param sampleRate frames per second (8000 for G.711)
 * @param channels 1 (mono) or 2 (e.g. caller/callee side by side)
 * @see http://soundfile.sapp.org/doc/WaveFormat/ (Microsoft RIFF WAVE, PCM)
 */
export function writeWav(samples: Int16Array, sampleRate: number, channels = 1): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`sample rate ${sampleRate} invalid`);
  if (channels !== 1 && channels !== 2) throw new RangeError(`channels ${channels} must be 1 or 2`);
  const dataBytes = samples.length * 2;
  const out = new Uint8Array(WAV_HEADER_LENGTH + dataBytes);
  const v = new DataView(out.buffer);
  writeWavHeader(out, 0, dataBytes, sampleRate, channels);
  for (let i = 0; i < samples.length; i++) v.setInt16(WAV_HEADER_LENGTH + i * 2, samples[i]!, true);
  return out;
}
