import { LiveCapture } from '@callscope/live-capture';
import type { DeepReadonly } from '@callscope/runtime';
import type { SnifferConfig } from '../config.js';
import type { PacketSink, PacketSource, SourceStats } from './packet-source.js';

/** What one interface is captured with (config `capture.*`, `bpfFilter`, `capture.filters`). */
export interface InterfaceSourceOptions {
  device: string;
  filter: string;
  snaplen: number;
  bufferBytes: number;
  timeoutMs: number;
  /** Told when the capture fails while running (interface gone): that source then stops. */
  onError?: (err: Error) => void;
}

/** The capture filter of one interface: its own from `capture.filters`, else `bpfFilter`. */
export function interfaceFilter(config: DeepReadonly<SnifferConfig>, device: string): string {
  return config.capture.filters.find((f) => f.interface === device)?.filter ?? config.bpfFilter;
}

/**
 * One network interface captured through our libpcap binding (@callscope/live-capture): packets in
 * batches with their kernel capture timestamps, libpcap's drop counters read on every stats call.
 */
export class InterfaceSource implements PacketSource {
  readonly kind = 'pcap' as const;
  readonly name: string;
  private capture: LiveCapture | null = null;

  constructor(
    private readonly options: InterfaceSourceOptions,
    private readonly sink: PacketSink,
  ) {
    this.name = options.device;
  }

  start(): Promise<void> {
    if (this.capture !== null) return Promise.resolve();
    this.capture = new LiveCapture(
      {
        device: this.options.device,
        filter: this.options.filter,
        snaplen: this.options.snaplen,
        bufferBytes: this.options.bufferBytes,
        timeoutMs: this.options.timeoutMs,
        ...(this.options.onError !== undefined ? { onError: this.options.onError } : {}),
      },
      this.sink,
    );
    return Promise.resolve();
  }

  /** Replaces the capture filter (SIGHUP); throws with libpcap's message when it does not compile. */
  setFilter(filter: string): void {
    this.capture?.setFilter(filter);
    this.options.filter = filter;
  }

  /** Live packets carry the kernel's wall-clock time. */
  clockUs(): number {
    return Date.now() * 1000;
  }

  stop(): Promise<void> {
    this.capture?.close();
    return Promise.resolve();
  }

  stats(): SourceStats {
    const st = this.capture?.stats();
    return {
      kind: this.kind,
      name: this.name,
      received: st?.packets ?? 0,
      kernel_drops: st?.kernelDrops ?? 0,
      if_drops: st?.ifDrops ?? 0,
      queue_drops: 0,
      /** libpcap's count of packets that passed the filter (ps_recv: delivered + dropped in the ring). */
      pcap_received: st?.received ?? 0,
      bytes: st?.bytes ?? 0,
      truncated: st?.truncated ?? 0,
      batches: st?.batches ?? 0,
      /** Packets a batch could not take (larger than the batch buffer): lost, counted. */
      batch_overflow: st?.batchOverflow ?? 0,
      filter: this.options.filter,
      error: st?.error ?? null,
    };
  }
}
