/**
 * @callscope/call-artifacts: what the GUI shows of one call, read back from the sniffer's spool
 * (libs/pcap-store): its SIP messages for a ladder, and per-second series of its RTP streams.
 * This file is the package's only public surface.
 */
export type { CallArtifactQuery } from './spool-records.js';
export { DEFAULT_MAX_SIP_MESSAGES, readCallSip } from './read-call-sip.js';
export type { CallSipLadder, ReadCallSipOptions, SipLadderMessage } from './read-call-sip.js';
export type { SipLadderTransport, SipWalkCounters } from './sip-walker.js';
export { MAX_SERIES_STREAMS, SERIES_BUCKET_MS, readCallStreamSeries } from './read-call-stream-series.js';
export type { CallStreamSeries, SeriesSide, StreamBucket, StreamSeries } from './read-call-stream-series.js';
export { CALL_AUDIO_READABLE_HIGH_WATER_MARK, CALL_AUDIO_SAMPLE_RATE, MAX_CALL_AUDIO_MS, NoCallAudioError, NoCallAudioReason, openCallAudio, readCallAudio } from './read-call-audio.js';
export type { CallAudio, CallAudioLegCounters, CallAudioOptions, CallAudioPlan, CallAudioSink, CallAudioStream, CallAudioSummary } from './read-call-audio.js';
