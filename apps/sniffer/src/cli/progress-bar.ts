import type { Writable } from 'node:stream';

/**
 * A one-line progress bar on a TTY (stderr): file position, packets and open calls, redrawn at
 * most every 200 ms so drawing never costs more than the analysis.
 */
export class ProgressBar {
  private lastDraw = 0;
  private readonly started = Date.now();
  private counter = 0;

  constructor(
    private readonly stream: Writable & { columns?: number },
    private readonly name: string,
    private readonly size: number,
  ) {}

  update(offset: number, packets: number, openCalls: number): void {
    // Date.now() per packet would dominate: look at the clock every 4096 packets.
    if ((++this.counter & 4095) !== 0) return;
    const now = Date.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const frac = this.size > 0 ? Math.min(1, offset / this.size) : 0;
    const width = 30;
    const filled = Math.round(frac * width);
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? Math.round(packets / secs) : 0;
    const line = `${this.name.slice(-30)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0)}% ${packets} pkts ${rate}/s ${openCalls} open calls`;
    this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 120) - 1)}\x1b[K`);
  }

  done(): void {
    if (this.lastDraw > 0) this.stream.write('\r\x1b[K');
  }
}
