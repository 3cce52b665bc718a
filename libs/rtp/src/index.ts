// Public surface of @callscope/rtp: explicit named exports only (STYLE.md). The state-slab layout
// (owner words, slab access, slab memory) is behind `@callscope/rtp/internal` (internal.ts); the
// Opus decoder (a WebAssembly package only the call audio needs) behind `@callscope/rtp/opus`.
export { RtpStatus, RTP_STATUS_COUNT } from './rtp-status.js';
export { RtpHeader, RTP_FIXED_HEADER_LENGTH, parseRtpHeader } from './rtp-header.js';
export {
  HeaderExtensionElement,
  HeaderExtensionStatus,
  ONE_BYTE_EXTENSION_PROFILE,
  TWO_BYTE_EXTENSION_PROFILE,
  nextHeaderExtensionElement,
} from './rtp-header-extension.js';
export { isLikelyRtp, isRtcp } from './rtp-demux.js';
export { RtcpStatus, RTCP_STATUS_COUNT } from './rtcp-status.js';
export {
  MAX_BYE_SSRCS,
  MAX_CNAMES,
  MAX_REPORT_BLOCKS,
  MAX_VOIP_METRICS,
  RtcpCompound,
  RtcpPacketType,
  XR_UNAVAILABLE,
  XrVoipMetrics,
} from './rtcp-compound.js';
export { parseRtcpCompound } from './rtcp-parser.js';
export { RtcpSessionStats } from './rtcp-session-stats.js';
export { CODEC_NAMES, Codec, PayloadTypeMap, codecFromEncodingName, payloadTypeMapsEpoch } from './codec.js';
export { WiresharkRtpAnalysis } from './wireshark-rtp-analysis.js';
export { PLAYOUT_STALL_MS, PlayoutBuffer, PlayoutBufferKind } from './playout-buffer.js';
export {
  JitterBufferIndex,
  PDV_BUCKET_EDGES_MS,
  RTP_CODEC_LOG_CAPACITY,
  RtpStreamStats,
  type RtpCodecUse,
  type RtpPacketFields,
  type RtpStreamStatsOptions,
} from './rtp-stream-stats.js';
export {
  G711_NO_PLC,
  R_DEFAULT,
  burstRatio,
  codecImpairment,
  delayImpairment,
  eModelR,
  effectiveEquipmentImpairment,
  rToMos,
  type CodecImpairment,
} from './e-model.js';
export { DtmfDetector, MAX_DTMF_EVENTS, dtmfDigit } from './dtmf.js';
export { decodeAlawSample, decodePcma, decodePcmu, decodeUlawSample } from './g711.js';
export { WAV_HEADER_LENGTH, writeWav } from './wav-writer.js';
// Call audio (issue 14): G.711 and Opus onto the call's timeline, leg layouts, WAV header, codec refusal.
export {
  AUDIO_SAMPLE_RATE,
  AudioStreamRenderer,
  MAX_PACKET_SAMPLES,
  US_PER_SAMPLE,
  type AudioRtpFields,
} from './audio/stream-renderer.js';
export {
  AudioLeg,
  AudioLegsLayout,
  CallAudioRenderer,
  mixSaturating,
  type CallAudioRendererOptions,
} from './audio/call-audio-renderer.js';
export { WAV_PCM_HEADER_LENGTH, WAV_STREAMING_DATA_BYTES, writeWavHeader } from './audio/wav-header.js';
export { UnsupportedCodecError, assertAudioDecodable, isDecodableAudio } from './audio/unsupported-codec.js';
export type { AudioPayloadDecoder } from './audio/audio-payload-decoder.js';
export { opusPacketSamples } from './audio/opus-packet.js';
