/**
 * The waveform under the audio player: the call's WAV (RIFF, PCM 16-bit little-endian, the
 * sensor's 8 kHz mono or stereo) reduced to one min/max pair per pixel column and channel. Pure,
 * tested; the component draws the result on a canvas.
 */

/** Format of a PCM WAV and where its samples are. */
export interface WavInfo {
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
  /** Byte offset of the `data` chunk's samples. */
  readonly dataOffset: number;
  /** Bytes of samples present (the announced size, cut to what the buffer holds). */
  readonly dataBytes: number;
}

const ascii = (v: DataView, at: number): string => String.fromCharCode(v.getUint8(at), v.getUint8(at + 1), v.getUint8(at + 2), v.getUint8(at + 3));

/**
 * Reads the RIFF header of a PCM WAV (`fmt ` and `data` chunks, others skipped).
 *
 * @returns null when the bytes are not a 16-bit PCM WAV this page can draw
 */
export function parseWavHeader(buf: ArrayBuffer): WavInfo | null {
  const v = new DataView(buf);
  if (v.byteLength < 12 || ascii(v, 0) !== 'RIFF' || ascii(v, 8) !== 'WAVE') return null;
  let at = 12;
  let fmt: { channels: number; sampleRate: number; bitsPerSample: number } | null = null;
  while (at + 8 <= v.byteLength) {
    const id = ascii(v, at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (body + 16 > v.byteLength) return null;
      const format = v.getUint16(body, true);
      // 1 = PCM; 0xfffe = WAVE_FORMAT_EXTENSIBLE (PCM sub-format assumed: the sensor writes plain PCM).
      if (format !== 1 && format !== 0xfffe) return null;
      fmt = { channels: v.getUint16(body + 2, true), sampleRate: v.getUint32(body + 4, true), bitsPerSample: v.getUint16(body + 14, true) };
    } else if (id === 'data') {
      // An odd offset cannot be read as 16-bit samples in place (typed arrays need alignment).
      if (fmt === null || fmt.bitsPerSample !== 16 || fmt.channels < 1 || body % 2 !== 0) return null;
      const frame = 2 * fmt.channels;
      const present = Math.min(size, v.byteLength - body);
      return { ...fmt, dataOffset: body, dataBytes: present - (present % frame) };
    }
    // Chunks are padded to an even size (RIFF).
    at = body + size + (size & 1);
  }
  return null;
}

/** Per channel, `columns` pairs of min and max sample (-1..1). */
export interface WavPeaks {
  readonly info: WavInfo;
  /** Duration of the samples present, s. */
  readonly seconds: number;
  /** `min[channel][column]`, `max[channel][column]`. */
  readonly min: Float32Array[];
  readonly max: Float32Array[];
}

/** Reduces a WAV to `columns` min/max pairs per channel; null when it is not a WAV this page draws. */
export function wavPeaks(buf: ArrayBuffer, columns: number): WavPeaks | null {
  if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`columns ${columns} is not a positive integer`);
  const info = parseWavHeader(buf);
  if (info === null) return null;
  const ch = info.channels;
  const frames = info.dataBytes / (2 * ch);
  const samples = new Int16Array(buf, info.dataOffset, frames * ch);
  const min = Array.from({ length: ch }, () => new Float32Array(columns));
  const max = Array.from({ length: ch }, () => new Float32Array(columns));
  for (let col = 0; col < columns; col++) {
    const f0 = Math.floor((col * frames) / columns);
    const f1 = Math.max(f0 + 1, Math.floor(((col + 1) * frames) / columns));
    for (let c = 0; c < ch; c++) {
      let lo = 0;
      let hi = 0;
      for (let f = f0; f < f1 && f < frames; f++) {
        const s = samples[f * ch + c]!;
        if (s < lo) lo = s;
        if (s > hi) hi = s;
      }
      min[c]![col] = lo / 32768;
      max[c]![col] = hi / 32768;
    }
  }
  return { info, seconds: info.sampleRate ? frames / info.sampleRate : 0, min, max };
}
