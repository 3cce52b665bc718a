/**
 * @callscope/rtp/opus: the Opus decoder of the call audio (libopus in WebAssembly, npm
 * `opus-decoder`). A separate entry point so that only what renders audio loads the package:
 * the sniffer and the other users of `@callscope/rtp` never import it.
 */
export { OpusAudioDecoder, createOpusAudioDecoder } from './audio/opus-audio-decoder.js';
