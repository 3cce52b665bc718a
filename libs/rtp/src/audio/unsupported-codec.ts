import { CODEC_NAMES, Codec, type PayloadTypeMap } from '../codec.js';

/**
 * Codecs the audio renderer decodes: G.711 by table, Opus through `opus-decoder` (libopus in
 * WebAssembly; the renderer needs `opusDecoders` for it). G.722 is left out (no maintained
 * decoder package, see README "Codecs and audio"); the rest have no decoder here.
 */
const DECODABLE: ReadonlySet<Codec> = new Set<Codec>([Codec.PCMU, Codec.PCMA, Codec.Opus]);

/**
 * Payload types that carry no audio of their own and are skipped by the renderer (RFC 4733
 * telephone-event, RFC 3389 comfort noise rendered as silence): never a reason to refuse a call.
 */
const SKIPPED: ReadonlySet<Codec> = new Set<Codec>([Codec.TelephoneEvent, Codec.CN]);

/**
 * A stream's payload type has no decoder. Thrown by {@link assertAudioDecodable} before any audio
 * is produced, so an HTTP layer can answer 415 naming the codec (`code` is stable, match on it).
 */
export class UnsupportedCodecError extends Error {
  /** Stable error code for an HTTP error catalogue. */
  readonly code = 'UNSUPPORTED_CODEC';
  /**
   * @param payloadType the RTP payload type (0..127)
   * @param codecName the codec's name from the session's payload-type map (`G729`, `opus`,
   *   `unknown` for a dynamic type without rtpmap, ...)
   */
  constructor(
    readonly payloadType: number,
    readonly codecName: string,
  ) {
    super(`audio codec ${codecName} (payload type ${payloadType}) cannot be decoded; supported: PCMU, PCMA, opus`);
    this.name = 'UnsupportedCodecError';
  }
}

/** True when the renderer decodes this payload type to audio (G.711 µ-law or A-law, Opus). */
export function isDecodableAudio(payloadType: number, payloadTypes: PayloadTypeMap): boolean {
  return DECODABLE.has(payloadTypes.codec[payloadType & 0x7f]! as Codec);
}

/**
 * Check, before rendering, that every payload type a call's streams use is either decodable
 * (PCMU, PCMA, opus) or skipped (telephone-event, CN).
 *
 * @throws UnsupportedCodecError for the first payload type that is neither
 * @throws RangeError for a payload type outside 0..127 (programmer error)
 */
export function assertAudioDecodable(payloadTypesUsed: Iterable<number>, payloadTypes: PayloadTypeMap): void {
  for (const pt of payloadTypesUsed) {
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) throw new RangeError(`payload type ${pt} outside 0..127`);
    const codec = payloadTypes.codec[pt]! as Codec;
    if (!DECODABLE.has(codec) && !SKIPPED.has(codec)) throw new UnsupportedCodecError(pt, CODEC_NAMES[codec] ?? 'unknown');
  }
}
