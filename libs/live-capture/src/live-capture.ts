import { LinkType, createPacketRecord, type PacketRecord } from '@callscope/pcap-format';
import { LiveCaptureUnavailable, loadLiveCaptureBinding, type LiveCaptureBinding, type NativeCaptureHandle, type NativeCaptureStats } from './load-binding.js';

/** Defaults a VoIP engineer expects: whole SIP/RTP packets, a ring of seconds at 100k packets/s. */
export const LIVE_CAPTURE_DEFAULTS = {
  /** Whole frames up to 64 KiB (SIP over UDP with big SDP included); cut packets are counted. */
  snaplen: 65_535,
  /** Kernel ring (TPACKET_V3 blocks): about 250,000 packets of 214-byte G.711 RTP. */
  bufferBytes: 64 * 1024 * 1024,
  /** TPACKET_V3 block timeout: the longest a packet waits in a half-full block. */
  timeoutMs: 100,
  /** Batch buffer handed to JavaScript (at least 4 x snaplen). */
  batchBytes: 1024 * 1024,
  promisc: true,
} as const;

/** What to capture and how; every field but `device` has a default ({@link LIVE_CAPTURE_DEFAULTS}). */
export interface LiveCaptureOptions {
  /** Interface name (`eth1`, `any`). */
  device: string;
  /** BPF filter; empty captures everything. */
  filter?: string;
  /** Bytes kept of each packet (64..262144). */
  snaplen?: number;
  /** Kernel ring size in bytes (at least 1 MiB). */
  bufferBytes?: number;
  /** Block timeout in ms (1..60000): a quiet link still delivers within this. */
  timeoutMs?: number;
  /** Batch data buffer in bytes (at least snaplen). */
  batchBytes?: number;
  /** Promiscuous mode (default true: a SPAN port carries other hosts' traffic). */
  promisc?: boolean;
  /**
   * A capture error after open (the interface went away): the capture is closed, then this is
   * called. Without it the error is kept in {@link LiveCapture.error}.
   */
  onError?: (err: Error) => void;
}

/** Counters of one capture (see {@link NativeCaptureStats}); `error` is the failure that closed it, if any. */
export interface LiveCaptureStats extends NativeCaptureStats {
  device: string;
  error: string | null;
}

/** DLT values of live Linux captures the packet decoder reads (DLT == LINKTYPE for these). */
const SUPPORTED_LINK_TYPES: ReadonlySet<number> = new Set<number>(Object.values(LinkType));

/**
 * One batch of packets as the addon hands it over, for consumers that take a batch at a time
 * ({@link CaptureBatchConsumer}). Valid only during the call: the addon reuses both buffers.
 */
export interface CaptureBatch {
  /** LINKTYPE_* of every packet (the interface's). */
  readonly linkType: number;
  /** Packets in the batch. */
  count: number;
  /**
   * `words` u32 per packet, in capture order: seconds, nanoseconds (microseconds x 1000 when
   * `precision` is micro), caplen, original length, offset of its bytes in `data`. Packets lie
   * back to back in `data`: each one's offset is the previous one's offset + caplen.
   */
  readonly headers: Uint32Array;
  readonly words: number;
  readonly data: Uint8Array;
}

/**
 * Takes the packets a batch at a time instead of one {@link PacketRecord} per packet: no view and
 * no call per packet (the mirror-sender copies a batch's bytes in runs).
 */
export interface CaptureBatchConsumer {
  onBatch(batch: CaptureBatch): void;
}

/**
 * Live packets from one interface through callscope's libpcap addon: TPACKET_V3 ring, packets
 * handed over in batches, each with its kernel capture timestamp (ns where libpcap gives it),
 * caplen and original length. A function consumer runs once per packet, synchronously, with ONE
 * reused {@link PacketRecord} whose `data` aliases the batch buffer: copy what you keep, the next
 * batch overwrites it. A {@link CaptureBatchConsumer} gets each batch whole, on the same terms.
 */
export class LiveCapture {
  /** LINKTYPE_* of the interface. */
  readonly linkType: number;
  /** `nano` when timestamps carry nanoseconds, `micro` when libpcap could only give microseconds. */
  readonly precision: 'nano' | 'micro';
  /** `pcap_activate`'s warning, or null. */
  readonly warning: string | null;
  readonly device: string;
  /** The capture error that closed this capture, or null. */
  error: Error | null = null;
  private readonly handle: NativeCaptureHandle;
  private readonly record: PacketRecord = createPacketRecord();
  private readonly headers: Uint32Array;
  private readonly data: Uint8Array;
  private readonly words: number;
  /** What a batch consumer gets (set once the handle is open; the addon calls back only after). */
  private batch: CaptureBatch | null = null;
  private delivered = 0;

  /**
   * Opens the capture and starts delivering on the event loop.
   * @throws LiveCaptureUnavailable when the addon is missing or libpcap refuses (its message)
   * @throws TypeError / RangeError for bad options
   */
  constructor(options: LiveCaptureOptions, consumer: ((rec: PacketRecord) => void) | CaptureBatchConsumer, binding: LiveCaptureBinding = loadLiveCaptureBinding()) {
    this.device = options.device;
    const onError = options.onError;
    let handle: NativeCaptureHandle;
    try {
      handle = binding.open(
        {
          device: options.device,
          filter: options.filter ?? '',
          snaplen: options.snaplen ?? LIVE_CAPTURE_DEFAULTS.snaplen,
          bufferBytes: options.bufferBytes ?? LIVE_CAPTURE_DEFAULTS.bufferBytes,
          timeoutMs: options.timeoutMs ?? LIVE_CAPTURE_DEFAULTS.timeoutMs,
          batchBytes: options.batchBytes ?? Math.max(LIVE_CAPTURE_DEFAULTS.batchBytes, 4 * (options.snaplen ?? LIVE_CAPTURE_DEFAULTS.snaplen)),
          promisc: options.promisc ?? LIVE_CAPTURE_DEFAULTS.promisc,
        },
        (count) => {
          if (typeof consumer === 'function') this.onBatch(count, consumer);
          else {
            const batch = this.batch!;
            batch.count = count;
            this.delivered += count;
            consumer.onBatch(batch);
          }
        },
        (err) => {
          this.error = err;
          onError?.(err);
        },
      );
    } catch (err) {
      if (err instanceof TypeError || err instanceof RangeError) throw err;
      // A refused open: the interface or the rights are the usual cause, a filter names itself.
      const hint = (err as { code?: unknown }).code === 'ERR_CAPTURE_FILTER' ? '' : ' (needs root or CAP_NET_RAW, and an existing interface)';
      throw new LiveCaptureUnavailable(`${firstLine(err)}${hint}`);
    }
    this.handle = handle;
    if (!SUPPORTED_LINK_TYPES.has(handle.linkType)) {
      handle.close();
      throw new LiveCaptureUnavailable(`interface "${options.device}" has link type ${handle.linkType} (DLT), which callscope cannot decode`);
    }
    this.linkType = handle.linkType;
    this.precision = handle.precision;
    this.warning = handle.warning;
    this.headers = new Uint32Array(handle.headers);
    this.data = new Uint8Array(handle.data);
    this.words = binding.HEADER_WORDS;
    this.record.linkType = handle.linkType;
    this.batch = { linkType: handle.linkType, count: 0, headers: this.headers, words: this.words, data: this.data };
  }

  /** One batch: `count` headers, read synchronously (the addon reuses both buffers afterwards). */
  private onBatch(count: number, onPacket: (rec: PacketRecord) => void): void {
    const rec = this.record;
    const h = this.headers;
    const w = this.words;
    for (let i = 0, o = 0; i < count; i++, o += w) {
      rec.tsSec = h[o]!;
      rec.tsNsec = h[o + 1]!;
      rec.capLen = h[o + 2]!;
      rec.origLen = h[o + 3]!;
      const off = h[o + 4]!;
      rec.data = this.data.subarray(off, off + rec.capLen);
      rec.index = this.delivered++;
      onPacket(rec);
    }
  }

  /** libpcap's counters (received, kernel and interface drops) and the addon's; still answers after close. */
  stats(): LiveCaptureStats {
    return { device: this.device, ...this.handle.stats(), error: this.error === null ? null : this.error.message };
  }

  /**
   * Replaces the BPF filter (config reload); the old one stays when the new one does not compile.
   * @throws Error with libpcap's message
   */
  setFilter(filter: string): void {
    this.handle.setFilter(filter);
  }

  /** Sends one frame out of the interface (`pcap_inject`), for tests and tools; returns bytes sent. */
  inject(frame: Uint8Array): number {
    return this.handle.inject(frame);
  }

  /** Stops capturing; idempotent, allowed inside `onPacket` (takes effect after the batch). */
  close(): void {
    this.handle.close();
  }
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
