/** Size of the canonical RIFF/WAVE PCM header (RIFF + `fmt ` of 16 bytes + `data` header). */
export const WAV_PCM_HEADER_LENGTH = 44;

/**
 * `data` size written by {@link writeWavHeader} when the length is not known in advance: the
 * largest size whose RIFF size (36 + data) still fits 32 bits, a multiple of 4 (whole stereo
 * frames). Players read such a file to its end; prefer an exact size when one can be computed.
 */
export const WAV_STREAMING_DATA_BYTES = 0xffff_ffd8;

/**
 * Write a canonical 44-byte RIFF/WAVE header for 16-bit little-endian PCM into `out` at
 * `offset`: `RIFF` (36 + data) `WAVE`, `fmt ` (16 bytes: format 1, channels, rate, byte rate,
 * block align, 16 bits), `data` (size).
 *
 * @param dataBytes size of the sample data in bytes, or `null` for a stream of unknown length
 *   ({@link WAV_STREAMING_DATA_BYTES})
 * @throws RangeError for a bad rate, channel count or size, or too little room in `out`
 *   (programmer errors)
 * @see http://soundfile.sapp.org/doc/WaveFormat/ (Microsoft RIFF WAVE, PCM)
 */
export function writeWavHeader(out: Uint8Array, offset: number, dataBytes: number | null, sampleRate: number, channels: number): void {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`sample rate ${sampleRate} invalid`);
  if (channels !== 1 && channels !== 2) throw new RangeError(`channels ${channels} must be 1 or 2`);
  const data = dataBytes ?? WAV_STREAMING_DATA_BYTES;
  if (!Number.isInteger(data) || data < 0 || data > WAV_STREAMING_DATA_BYTES || data % (2 * channels) !== 0) {
    throw new RangeError(`WAV data size ${data} is not a whole number of ${channels}-channel 16-bit frames within 32 bits`);
  }
  if (!(Number.isInteger(offset) && offset >= 0 && offset + WAV_PCM_HEADER_LENGTH <= out.length)) {
    throw new RangeError(`writeWavHeader: range ${offset}+${WAV_PCM_HEADER_LENGTH} outside a buffer of length ${out.length}`);
  }
  const v = new DataView(out.buffer, out.byteOffset + offset, WAV_PCM_HEADER_LENGTH);
  const ascii = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + data, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, channels, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * channels * 2, true); // byte rate
  v.setUint16(32, channels * 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  v.setUint32(40, data, true);
}
