import { CdrWriter, type CdrWriterStats } from '@callscope/cdr-schema';
import type { PinoLikeLogger } from '@callscope/runtime';
import type { AnalyzeRecord } from '@callscope/cdr-model';

/** What the sniffer needs to write CDRs: the database, where the outage queue lives, batching. */
export interface CdrSinkOptions {
  url: string;
  queueDir: string;
  batchSize: number;
  batchMs: number;
  queueMaxMb: number;
  /** Records neither the database nor the queue takes wait this long in memory, s. */
  holdS: number;
  /** Sensor name, recorded in the queue's target. */
  sensor: string;
  /** Which command holds the queue ("sniffer analyze"), for a second writer's error. */
  owner: string;
  /** Replay a queue of another database into this one (`sniffer queue replay --force`). */
  force?: boolean;
  logger: PinoLikeLogger;
}

/** Records in flight to the writer before the packet path waits (back-pressure). */
const MAX_IN_FLIGHT = 5000;

/** How a sink's records ended, once it is closed (R = in_database + queued + lost). */
export interface CdrDelivery {
  /** Records of this run handed to the writer. */
  records: number;
  /** Of them, in the database: new rows plus rows it already held. */
  in_database: number;
  new: number;
  already_present: number;
  /** Of them, waiting in the queue for a later run or `sniffer queue replay`. */
  queued: number;
  /** Of them, neither in the database nor in the queue. */
  lost: number;
  /** Why, by reason, non-zero reasons only. */
  lost_reasons: Record<string, number>;
  /** Text of the last storage error behind a loss, if any. */
  lost_error: string | null;
  /** What earlier runs left in the queue and this run replayed. */
  earlier: { replayed: number; new: number; already_present: number; rejected: number; waiting: number; torn_records: number; torn_bytes: number; torn_lost_records: number };
  queue: { dir: string; records: number; bytes: number };
  /** Why the database is not used for the queue (another database's queue), or null. */
  target_refused: string | null;
  /** Last database error while records still wait, or null. */
  db_error: string | null;
}

/**
 * CDRs from the call table to MySQL through the batched, idempotent @callscope/cdr-schema writer.
 * The call table hands records over synchronously; `needsPause` tells the packet loop to await
 * `drainSome()` so a slow database paces the capture reader instead of growing memory, and every
 * record the writer could not store is counted (`failed`), never dropped silently.
 *
 * The database need not be up at start: the writer creates and migrates it on first contact,
 * and until then records go to the on-disk queue (issue 18, finding 5).
 */
export class CdrSink {
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  failed = 0;
  lastError: Error | null = null;

  private constructor(private readonly writer: CdrWriter) {}

  /**
   * Opens the writer and its queue (taking the queue's lock and checking its target), then tries
   * the database once. Resolves with the sink and, when the database could not be reached or
   * prepared, why (the records then wait in the queue until it can).
   *
   * @throws QueueLockedError, CdrQueueTargetError (from @callscope/cdr-schema)
   */
  static async open(options: CdrSinkOptions): Promise<{ sink: CdrSink; unreachable: string | null }> {
    const writer = await CdrWriter.open({
      db: options.url,
      queueDir: options.queueDir,
      batchSize: options.batchSize,
      flushIntervalMs: options.batchMs,
      maxDiskBytes: options.queueMaxMb * 1024 * 1024,
      holdTimeoutMs: options.holdS * 1000,
      prepareDatabase: true,
      sensor: options.sensor,
      owner: options.owner,
      force: options.force === true,
      logger: options.logger,
    });
    const unreachable = await writer.connect();
    return { sink: new CdrSink(writer), unreachable };
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
   * Flushes and closes the writer, waiting up to `waitMs` for the database to take what is
   * queued (calling `onWait` about every `progressMs` while it waits), then waits until every
   * record pushed has settled; returns the writer's final counters and how the records ended.
   * (Closing first matters: a partial batch waits for the writer's flush timer, which does not
   * keep the process alive on its own.)
   */
  async close(waitMs = 0, onWait?: (st: CdrWriterStats, leftMs: number) => void, progressMs = 5000): Promise<{ stats: CdrWriterStats; delivery: CdrDelivery }> {
    const deadline = Date.now() + waitMs;
    const timer =
      onWait === undefined
        ? null
        : setInterval(() => {
            const st = this.writer.stats();
            if (st.queue_records > 0 || st.pending > 0) onWait(st, Math.max(0, deadline - Date.now()));
          }, progressMs);
    try {
      await this.writer.close({ drainTimeoutMs: waitMs });
    } finally {
      if (timer !== null) clearInterval(timer);
    }
    while (this.inFlight > 0) await this.drainSome();
    const stats = this.writer.stats();
    return { stats, delivery: deliveryOf(stats, this.lastError) };
  }
}

/** The counters as the summary states them. */
export function deliveryOf(st: CdrWriterStats, lastError: Error | null): CdrDelivery {
  const lostReasons = Object.fromEntries(Object.entries(st.lost_reasons).filter(([, n]) => n > 0));
  return {
    records: st.records,
    in_database: st.this_run_new + st.this_run_present,
    new: st.this_run_new,
    already_present: st.this_run_present,
    queued: st.queue_own_records,
    lost: st.dropped,
    lost_reasons: lostReasons,
    lost_error: st.dropped > 0 ? (lastError?.message ?? null) : null,
    earlier: {
      replayed: st.earlier_replayed,
      new: st.earlier_new,
      already_present: st.earlier_present,
      rejected: st.earlier_rejected,
      waiting: st.queue_records - st.queue_own_records,
      torn_records: st.torn_records,
      torn_bytes: st.torn_bytes,
      torn_lost_records: st.torn_lost_records,
    },
    queue: { dir: st.queue_dir, records: st.queue_records, bytes: st.disk_bytes },
    target_refused: st.target_refused,
    db_error: st.queue_records > 0 ? st.db_error : null,
  };
}

/**
 * The summary line of a closed sink, e.g. `database: 20000 records of this run: 13365 in the
 * database (13365 new, 0 already present), 6635 wait in the queue /x/var/cdr-queue, 0 lost`.
 */
export function describeDelivery(d: CdrDelivery): string {
  let line =
    `database: ${d.records} records of this run: ${d.in_database} in the database (${d.new} new, ${d.already_present} already present), ` +
    `${d.queued} wait in the queue ${d.queue.dir}, ${d.lost} lost`;
  if (d.lost > 0) {
    line += ` (${Object.entries(d.lost_reasons)
      .map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`)
      .join(', ')}${d.lost_error === null ? '' : `: ${d.lost_error}`})`;
  }
  const e = d.earlier;
  if (e.replayed > 0 || e.waiting > 0 || e.torn_records > 0 || e.rejected > 0) {
    line +=
      `; earlier backlog: ${e.replayed} replayed (${e.new} new, ${e.already_present} already present), ${e.waiting} still queued, ` +
      `${e.torn_records} torn records skipped (${e.torn_bytes} bytes${e.torn_lost_records > 0 ? `, ${e.torn_lost_records} CDRs in them` : ''})` +
      (e.rejected > 0 ? `, ${e.rejected} rejected by the database` : '');
  }
  if (d.target_refused !== null) line += `; not replayed: ${d.target_refused}`;
  else if (d.queue.records > 0) line += `; the database did not take them${d.db_error === null ? '' : ` (${d.db_error})`}: the next run on this queue, or \`sniffer queue replay\`, delivers them`;
  return line;
}
