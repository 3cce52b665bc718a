import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Statistics of one native handle: libpcap's `pcap_stats` plus the addon's own counters. */
export interface NativeCaptureStats {
  /** `ps_recv`: packets that passed the filter, delivered or dropped (Linux: since open). */
  received: number;
  /** `ps_drop`: packets the kernel ring had no room for. */
  kernelDrops: number;
  /** `ps_ifdrop`: packets the interface or driver dropped (Linux: rx_dropped since open). */
  ifDrops: number;
  /** Batches handed to JavaScript. */
  batches: number;
  /** Packets handed to JavaScript. */
  packets: number;
  /** Captured bytes handed to JavaScript. */
  bytes: number;
  /** Packets longer than the snap length, delivered cut (caplen < len). */
  truncated: number;
  /** Packets the batch buffer could not take (never expected: it keeps room for one snaplen). */
  batchOverflow: number;
}

/** Options of the native `open()`; the TypeScript {@link LiveCapture} fills the defaults. */
export interface NativeOpenOptions {
  device: string;
  filter?: string;
  snaplen?: number;
  bufferBytes?: number;
  timeoutMs?: number;
  batchBytes?: number;
  batchPackets?: number;
  promisc?: boolean;
  nanoseconds?: boolean;
}

/** One open libpcap handle of the addon (native/live_capture.c). */
export interface NativeCaptureHandle {
  /** DLT_* of the interface. */
  readonly linkType: number;
  /** Timestamp precision libpcap gives: `nano` when the kernel and libpcap support it. */
  readonly precision: 'nano' | 'micro';
  /** What `pcap_activate` warned about (e.g. promiscuous mode not supported), or null. */
  readonly warning: string | null;
  /** The snap length libpcap applies. */
  readonly snaplen: number;
  /** Header capacity of one batch. */
  readonly batchPackets: number;
  /** Batch headers: HEADER_WORDS uint32 per packet (ts sec, ts nsec, caplen, len, offset). Held by the addon while open. */
  readonly headers: ArrayBuffer;
  /** Batch packet bytes, at the headers' offsets. Held by the addon while open. */
  readonly data: ArrayBuffer;
  stats(): NativeCaptureStats;
  setFilter(filter: string): void;
  /** Sends one frame out of the interface (`pcap_inject`); returns the bytes sent. */
  inject(frame: Uint8Array): number;
  /** Stops capturing and closes libpcap; idempotent, allowed inside onBatch. */
  close(): void;
}

/** The addon's exports. */
export interface LiveCaptureBinding {
  /** uint32 words per packet header in a batch. */
  readonly HEADER_WORDS: number;
  open(options: NativeOpenOptions, onBatch: (count: number) => void, onError?: (err: Error) => void): NativeCaptureHandle;
  /** `pcap_lib_version()`. */
  libVersion(): string;
}

/** Why live capture is unavailable, said exactly (the addon is optional: offline analysis works without it). */
export class LiveCaptureUnavailable extends Error {
  override readonly name = 'LiveCaptureUnavailable';
}

/** What makes the addon build and load on Debian/Ubuntu (node-gyp needs make, g++, python3). */
export const BUILD_NEEDS = 'make, g++, python3 and libpcap-dev (Debian/Ubuntu: apt-get install -y make g++ python3 libpcap-dev)';
const OFFLINE_WORKS = 'Offline analysis works without it.';
const BUILD_COMMAND = 'node scripts/ensure.mjs --cap';
const ADDON = 'live_capture.node';

/**
 * Where the addon may be: beside the sources (libs/live-capture/build/Release, the workspace) or
 * beside an app bundle (dist/apps/<app>/live_capture.node, copied there by scripts/build-app.mjs).
 */
export function addonCandidates(): string[] {
  return [new URL(`../build/Release/${ADDON}`, import.meta.url), new URL(`./${ADDON}`, import.meta.url)].map((u) => fileURLToPath(u));
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

let cached: LiveCaptureBinding | null = null;

/**
 * Loads callscope's libpcap addon, or explains which piece is missing: the build itself, the
 * libpcap shared library it links against, or a build for another Node.js.
 * @param candidates - where to look, first found wins (default {@link addonCandidates}; a bundle
 *   of a bench or tool that does not sit beside the addon names the path)
 * @throws LiveCaptureUnavailable with the reason and the command that fixes it
 */
export function loadLiveCaptureBinding(candidates: readonly string[] = addonCandidates()): LiveCaptureBinding {
  if (cached !== null) return cached;
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) {
    throw new LiveCaptureUnavailable(
      `live capture needs callscope's libpcap addon, which is not built (no ${candidates.join(' nor ')}). ` +
        `Install ${BUILD_NEEDS}, then run "${BUILD_COMMAND}" (npm start and npm test run it). ${OFFLINE_WORKS}`,
    );
  }
  const require = createRequire(import.meta.url);
  try {
    cached = require(path) as LiveCaptureBinding;
    return cached;
  } catch (err) {
    const detail = firstLine(err);
    let cause: string;
    if (/libpcap\.so/.test(detail)) cause = 'the libpcap shared library is missing or broken (Debian/Ubuntu: apt-get install --reinstall -y libpcap0.8)';
    else if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version|Node-API version/.test(detail)) cause = `it was built for another Node.js version: run "${BUILD_COMMAND}" with this one (${process.version})`;
    else cause = `rebuild it with "${BUILD_COMMAND}" (needs ${BUILD_NEEDS})`;
    throw new LiveCaptureUnavailable(`live capture needs callscope's libpcap addon ${path}, which is built but did not load (${detail}): ${cause}. ${OFFLINE_WORKS}`);
  }
}
