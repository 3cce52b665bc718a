import { LiveCapture, type LiveCaptureStats } from '@callscope/live-capture';
import type { Logger } from '@callscope/runtime';
import type { MirrorSender } from './mirror-sender.js';

/** Options of a {@link LiveInput}. */
export interface LiveInputOptions {
  devices: readonly string[];
  /** BPF capture filter of every interface. */
  filter: string;
  logger: Logger;
}

/**
 * Live capture on one or more interfaces through callscope's libpcap binding
 * (@callscope/live-capture, the same as the sensor daemon's): every packet goes to the sender
 * with its kernel timestamp, link type and original length. A live capture cannot wait, so when
 * the link cannot keep up the sender's window overflows and counts it; libpcap's own drops
 * (kernel ring, interface) are summed into the sender's `kernelDrops`.
 */
export class LiveInput {
  private readonly captures: LiveCapture[] = [];

  constructor(
    private readonly options: LiveInputOptions,
    private readonly sender: MirrorSender,
  ) {}

  /**
   * Opens every interface; a failure closes those already open.
   * @throws LiveCaptureUnavailable (addon missing, no rights, no such interface, bad filter)
   */
  start(): void {
    const log = this.options.logger;
    try {
      for (const device of this.options.devices) {
        const capture = new LiveCapture(
          {
            device,
            filter: this.options.filter,
            onError: (err) => {
              log.error({ interface: device, err: err.message }, 'capture failed; this interface is closed (the others go on)');
            },
          },
          // Batch by batch: no record, view or call per packet (the sender copies runs of packets).
          { onBatch: (batch) => { this.sender.addCaptured(batch); } },
        );
        this.captures.push(capture);
        log.info({ interface: device, linkType: capture.linkType, precision: capture.precision, warning: capture.warning }, 'capturing');
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Per-interface libpcap counters; also refreshes the sender's `kernelDrops` (kernel + interface drops). */
  stats(): LiveCaptureStats[] {
    const all = this.captures.map((c) => c.stats());
    this.sender.counters.kernelDrops = all.reduce((sum, s) => sum + s.kernelDrops + s.ifDrops, 0);
    return all;
  }

  /** Closes every capture (idempotent). */
  close(): void {
    for (const c of this.captures) c.close();
  }
}
