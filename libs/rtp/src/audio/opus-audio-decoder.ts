import { OpusDecoder } from 'opus-decoder';
import type { AudioPayloadDecoder } from './audio-payload-decoder.js';
import { AUDIO_SAMPLE_RATE } from './stream-renderer.js';

/**
 * Opus (RFC 6716, RTP payload RFC 7587) decoded by libopus compiled to WebAssembly (npm
 * `opus-decoder`, eshaz/wasm-audio-decoders): mono, straight at {@link AUDIO_SAMPLE_RATE} (libopus
 * decodes at 8 kHz itself, no resampler of ours; a stereo stream is downmixed by libopus).
 * Lost packets are silence (no PLC), as for G.711. The WASM module is embedded in the package:
 * no file or network access. Create with {@link createOpusAudioDecoder}, release with {@link free}.
 */
export class OpusAudioDecoder implements AudioPayloadDecoder {
  /** Payloads decoded. */
  decoded = 0;
  /** Payloads libopus refused (corrupt or truncated), rendered as silence. */
  errors = 0;

  private freed = false;

  /** @internal use {@link createOpusAudioDecoder}, which waits for the WebAssembly module */
  constructor(private readonly decoder: OpusDecoder<8000>) {}

  decode(buf: Uint8Array, offset: number, length: number, out: Int16Array, outOffset: number): number {
    if (this.freed) throw new Error('OpusAudioDecoder: decode after free');
    if (length <= 0) return 0;
    // The package copies the frame into WASM memory and returns fresh Float32Arrays: one
    // allocation per 20 ms packet that we cannot avoid from outside it.
    const r = this.decoder.decodeFrame(buf.subarray(offset, offset + length));
    if (r.errors.length > 0 || r.samplesDecoded === 0) {
      this.errors++;
      return 0;
    }
    const pcm = r.channelData[0]!;
    const n = Math.min(r.samplesDecoded, out.length - outOffset);
    for (let i = 0; i < n; i++) {
      const s = Math.round(pcm[i]! * 32768);
      out[outOffset + i] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
    }
    this.decoded++;
    return n;
  }

  /** Release the WebAssembly memory. Idempotent. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.decoder.free();
  }
}

/** A ready {@link OpusAudioDecoder} (the WebAssembly module compiled and instantiated). */
export async function createOpusAudioDecoder(): Promise<OpusAudioDecoder> {
  const decoder = new OpusDecoder({ sampleRate: AUDIO_SAMPLE_RATE, channels: 1 });
  await decoder.ready;
  return new OpusAudioDecoder(decoder);
}
