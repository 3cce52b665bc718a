import { CdrWriter, ensureDatabase, migrate, type CdrWriterStats } from '@callscope/cdr-schema';
import type { PinoLikeLogger } from '@callscope/runtime';
import type { AnalyzeRecord } from '@callscope/cdr-model';

/** What the sniffer needs to write CDRs: the database, where the outage queue lives, batching. */
export interface CdrSinkOptions {
  url: string;
  queueDir: string;
  batchSize: number;
  batchMs: number;
  queueMaxMb: number;
  logger: PinoLikeLogger;
}

/** Records in flight to the writer before the packet path waits (back-pressure). */
const MAX_IN_FLIGHT = 5000;

/**
 * CDRs from the call table to MySQL through the batched, idempotent @callscope/cdr-schema writer.
 * The call table hands records over synchronously; `needsPause` tells the packet loop to await
 * `drainSome()` so a slow database paces the capture reader instead of growing memory, and every
 * record the writer could not store is counted (`failed`), never dropped silently.
 */
export class CdrSink {
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  failed = 0;
  lastError: Error | null = null;

  private constructor(private readonly writer: CdrWriter) {}

  /** Creates the database if needed, runs the migrations, opens the writer (and its disk queue). */
  static async open(options: CdrSinkOptions): Promise<CdrSink> {
    await ensureDatabase(options.url);
    await migrate(options.url, { logger: options.logger });
    const writer = await CdrWriter.open({
      db: options.url,
      queueDir: options.queueDir,
      batchSize: options.batchSize,
      flushIntervalMs: options.batchMs,
      maxDiskBytes: options.queueMaxMb * 1024 * 1024,
      logger: options.logger,
    });
    return new CdrSink(writer);
  }

  push(record: AnalyzeRecord): void {
    this.inFlight++;
    this.writer.write(record).then(
      () => {
        this.settle();
      },
      (err: unknown) => {
        this.failed++;
        this.lastError = err instanceof Error ? err : new Error(String(err));
        this.settle();
      },
    );
  }

  /** Records pushed and not yet settled (stored, queued on disk, or failed). */
  get inFlightCount(): number {
    return this.inFlight;
  }

  /** The writer's counters now (the daemon's stats and heartbeat read them while it runs). */
  stats(): CdrWriterStats {
    return this.writer.stats();
  }

  get needsPause(): boolean {
    return this.inFlight >= MAX_IN_FLIGHT;
  }

  /** Resolves once the records in flight fall below half the limit. */
  drainSome(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private settle(): void {
    this.inFlight--;
    if (this.inFlight <= MAX_IN_FLIGHT / 2 || this.inFlight === 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
    }
  }

  /**
   * Flushes and closes the writer, then waits until every record pushed has settled; returns the
   * writer's final counters. (Closing first matters: a partial batch waits for the writer's
   * flush timer, which does not keep the process alive on its own.)
   */
  async close(): Promise<CdrWriterStats> {
    await this.writer.close();
    while (this.inFlight > 0) await this.drainSome();
    return this.writer.stats();
  }
}

