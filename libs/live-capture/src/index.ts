/**
 * @callscope/live-capture: live packets through callscope's own libpcap addon (native/, Node-API):
 * TPACKET_V3 ring, batches, kernel capture timestamps, pcap_stats. See README.md for why we own
 * the binding instead of using `cap`. This file is the package's only public surface.
 */
export { LIVE_CAPTURE_DEFAULTS, LiveCapture } from './live-capture.js';
export type { CaptureBatch, CaptureBatchConsumer, LiveCaptureOptions, LiveCaptureStats } from './live-capture.js';
export { BUILD_NEEDS, LiveCaptureUnavailable, addonCandidates, loadLiveCaptureBinding } from './load-binding.js';
export type { LiveCaptureBinding, NativeCaptureHandle, NativeCaptureStats, NativeOpenOptions } from './load-binding.js';
