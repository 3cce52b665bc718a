import type { Writable } from 'node:stream';

/**
 * Buffered line output with back-pressure: lines collect in memory up to `highWater` bytes, then
 * `flush()` writes them and resolves once the stream has drained, so a slow consumer (a pipe into
 * `jq`, a terminal) paces the capture reader instead of growing memory.
 */
export class LineOutput {
  private parts: string[] = [];
  private bytes = 0;

  constructor(
    private readonly stream: Writable,
    private readonly highWater = 256 * 1024,
  ) {}

  push(line: string): void {
    this.parts.push(line, '\n');
    this.bytes += line.length + 1;
  }

  /** True when enough is buffered that the caller should `await flush()`. */
  get full(): boolean {
    return this.bytes >= this.highWater;
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.bytes = 0;
    if (!this.stream.write(text)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          this.stream.off('error', onError);
          resolve();
        };
        const onError = (err: Error) => {
          this.stream.off('drain', onDrain);
          reject(err);
        };
        this.stream.once('drain', onDrain);
        this.stream.once('error', onError);
      });
    }
  }
}
