/**
 * @callscope/call-engine/internal: engine parts that benchmarks and tests build directly (a
 * media stream without a call, to measure its memory). Not for apps: the public surface is
 * `index.ts`, and what is here may change with the engine's layout.
 */
export { MediaStream } from './media-stream.js';
