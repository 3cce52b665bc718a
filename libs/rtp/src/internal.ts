/**
 * @callscope/rtp/internal: the layout of the shared state slabs behind {@link RtpStreamStats}, for
 * the call engine's media streams (which keep their per-packet match fields in a stream's owner
 * words) and for benchmarks that account the slabs' memory. Not a public API: the public surface
 * is `index.ts`, and what is here changes with the slab layout (README "Memory layout").
 */
export { RTP_STREAM_OWNER_WORDS, rtpStreamOwnerIndex, rtpStreamSlab, rtpStreamStateMemory } from './rtp-stream-stats.js';
