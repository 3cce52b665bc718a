/**
 * A stateful decoder of one stream's payloads to 16-bit samples at 8 kHz (`AUDIO_SAMPLE_RATE`):
 * what `CallAudioRenderer` needs for a codec that is not a per-octet table (Opus). Feed a
 * leg's packets in arrival order; one decoder per leg.
 */
export interface AudioPayloadDecoder {
  /**
   * Decode `buf[offset .. + length)` into `out` from `outOffset`; returns the samples written (0
   * when the payload does not decode: counted by the decoder, never thrown).
   */
  decode(buf: Uint8Array, offset: number, length: number, out: Int16Array, outOffset: number): number;
}
