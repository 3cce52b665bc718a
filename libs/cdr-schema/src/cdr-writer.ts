/**
 * Batched, idempotent, outage-proof CDR writer.
 *
 * `write()` resolves once the record is durable: committed to MariaDB, or fsync'd to the on-disk
 * queue when the database is unreachable. Records are batched by count and time into one
 * transaction of multi-row INSERTs (parent and child rows together). Idempotency comes from the
 * natural key `(call_id_hash, sensor_id, start)` (the hash of the whole Call-ID, see `SCHEMA_V3`)
 * and child keys `(cdr_id, start, idx)`: a batch replayed after a lost COMMIT acknowledgement
 * inserts nothing twice, and the stats tell the rows the database inserted (`written`) from those
 * it already held (`already_present`). While the on-disk queue holds anything,
 * new batches are appended behind it, so records reach the database in the order they were written.
 *
 * @packageDocumentation
 */
import type { Pool, PoolConnection, QueryOptions, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';
import { validateCallRecord, validateRegisterRecord } from '@callscope/cdr-model';
import {
  CDR_COLUMNS,
  DTMF_COLUMNS,
  REGISTER_COLUMNS,
  RTP_COLUMNS,
  SIP_RESPONSE_COLUMNS,
  Truncator,
  callIdHash,
  isoToSql,
  pushCdrRow,
  pushRtpRow,
  registerRow,
  sqlToIso,
} from './cdr-row.js';
import type { SqlValue } from './cdr-row.js';
import { openPool } from './db-pool.js';
import { PreparedInsert } from './prepared-insert.js';
import { enableLeanExecute, markLean } from './binary-execute.js';
import { adviceText, adviseServerSettings, readServerSettings } from './server-check.js';
import { IpBytesCache } from './ip-address.js';
import type { DbTarget } from './db-pool.js';
import { errorText, isRetryableDbError } from './db-errors.js';
import { DiskQueue } from './disk-queue.js';
import { toLogCallback } from '@callscope/runtime';
import type { LogCallback, LoggerOption } from '@callscope/runtime';
import { toDaysOfIso, toDaysOfMs } from './partition-plan.js';
import { ensurePartitions } from './partitions.js';

/** A record the writer accepts. */
export type CdrWriterRecord = CallRecord | RegisterRecord;

/** Options of {@link CdrWriter.open}. */
export interface CdrWriterOptions {
  /** The database: a mysql2 promise pool (caller keeps ownership) or a URL (the writer owns its pool). */
  db: DbTarget;
  /** Directory of the on-disk queue. One writer per directory. */
  queueDir: string;
  /** Records per batch / transaction (default 500). */
  batchSize?: number;
  /** A partial batch is flushed this long after its first record, ms (default 200). */
  flushIntervalMs?: number;
  /** Records held in memory before `write()` waits (default 10 000). */
  maxPending?: number;
  /** Bound of the on-disk queue, bytes (default 1 GiB). */
  maxDiskBytes?: number;
  /** Size of one on-disk queue segment, bytes (default 16 MiB). */
  segmentBytes?: number;
  /** First delay before retrying the database after a failure, ms (default 500); doubles per failure. */
  retryDelayMs?: number;
  /** Upper bound of the retry delay, ms (default 10 000). */
  retryMaxDelayMs?: number;
  /** Daily partitions kept ready beyond today (default 7). */
  partitionDaysAhead?: number;
  /**
   * Batches in flight to the database at once (default 3): building the next batch's SQL overlaps
   * the server's work on the previous ones, and the server's threads fill each other's round-trip
   * gaps (3 sustained about 9% more CDR/s than 2 in alternating bench runs; the pool needs as many
   * connections, which a URL's own pool has). Batches that fail together may reach the on-disk
   * queue in a different order than they were written; none is lost or duplicated.
   */
  concurrency?: number;
  /** Timeout of each statement of a batch, ms (default 30 000); a timeout counts as an outage. */
  queryTimeoutMs?: number;
  /**
   * Get the ids of the `cdr` rows from `INSERT ... RETURNING` (MariaDB 10.5+) instead of a second
   * `SELECT` through the natural key. Default: detected from `VERSION()` on the first batch.
   * `false` forces the `SELECT` (what a MySQL server needs).
   */
  insertReturning?: boolean;
  /**
   * Encode the INSERTs' parameters with the writer's own COM_STMT_EXECUTE encoder (default true;
   * see binary-execute.ts), about a third less writer CPU per CDR than mysql2's. `false` uses
   * mysql2's encoder: the benchmark's baseline, and a way out should a server disagree.
   */
  leanExecute?: boolean;
  /** Logger callback or pino-like object. */
  logger?: LoggerOption;
}

/** Counters of a {@link CdrWriter}; all are totals since `open` except the gauges noted. */
export interface CdrWriterStats {
  /**
   * Records the database stored as new rows (directly or by replay): what its affected rows /
   * `RETURNING` confirmed, not what was sent.
   */
  written: number;
  /**
   * Records whose row the database already held (same Call-ID, sensor and start): a batch
   * replayed after a lost COMMIT acknowledgement or from the on-disk queue, or the same record
   * written twice. Nothing was inserted for them; `written + already_present` is every record
   * the database accepted.
   */
  already_present: number;
  /** Database transactions committed. */
  batches: number;
  /** Failed database attempts whose batch stays queued and is tried again later. */
  retries: number;
  /** Records appended (fsync'd) to the on-disk queue. */
  queued_to_disk: number;
  /** Records committed from the on-disk queue. */
  replayed: number;
  /** Records lost: on-disk queue full or failed, or rejected by the database one by one. */
  dropped: number;
  /** Database operations that failed, for any reason. */
  db_errors: number;
  /** Strings cut to their column width. */
  truncated_fields: number;
  /**
   * Of `truncated_fields`, Call-IDs longer than `CALL_ID_MAX_CHARS` (1024) whose stored text was
   * cut; their row's key still holds the whole Call-ID (hash), so no two calls merged.
   */
  long_call_ids: number;
  /** Torn/corrupt on-disk queue records skipped. */
  torn_records: number;
  /** Gauge: records in memory waiting for a batch. */
  pending: number;
  /** Gauge: bytes in the on-disk queue. */
  disk_bytes: number;
  /** Gauge: whether the on-disk queue holds records not yet replayed. */
  disk_backlog: boolean;
}

/** Error codes of {@link CdrWriteError}. */
export const CDR_WRITE_ERROR = {
  /** The on-disk queue is full; the record was not stored. */
  queueOverflow: 'CDR_QUEUE_OVERFLOW',
  /** Writing the on-disk queue failed (I/O error); the record was not stored. */
  queueIo: 'CDR_QUEUE_IO',
  /** The database rejected the record itself (bad value); it was not stored. */
  rejected: 'CDR_REJECTED',
  /** `write()` after `close()`. */
  closed: 'CDR_WRITER_CLOSED',
} as const;

/** Why a record passed to `write()` was not stored; `code` is one of {@link CDR_WRITE_ERROR}. */
export class CdrWriteError extends Error {
  /** Machine-readable reason. */
  readonly code: (typeof CDR_WRITE_ERROR)[keyof typeof CDR_WRITE_ERROR];

  constructor(code: (typeof CDR_WRITE_ERROR)[keyof typeof CDR_WRITE_ERROR], message: string) {
    super(message);
    this.name = 'CdrWriteError';
    this.code = code;
  }
}

interface PendingItem {
  record: CdrWriterRecord;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** What the writer knows is stored for one sensor: its id and the span `first_seen..last_seen`. */
interface SensorEntry {
  id: number;
  first: string;
  last: string;
}

/** Per sensor name, the earliest and latest instant of a batch's records. */
type SensorSpans = Map<string, { first: string; last: string }>;

interface VersionRow extends RowDataPacket {
  v: string;
}

interface IdRow extends RowDataPacket {
  /** BIGINT: a string beyond 2^53 under `supportBigNumbers`. */
  id: number | string;
  call_id_hash: Buffer;
  sensor_id: number;
  start: string;
  /** Only from RETURNING: 0 for a row inserted by this statement, more for one already stored. */
  replays?: number;
}

/** What one batch did in the database, per record. */
interface BatchOutcome {
  /** Records inserted as new rows. */
  fresh: number;
  /** Records whose row was already stored. */
  present: number;
}

/** Payload of one on-disk queue record. */
interface DiskBatch {
  v: 1;
  records: CdrWriterRecord[];
}

const columnList = (cols: readonly string[]): string => cols.map((c) => `\`${c}\``).join(',');
const insertHead = (table: string, cols: readonly string[]): string => `INSERT INTO \`${table}\` (${columnList(cols)}) VALUES`;
const ID_COLUMNS = "id, call_id_hash, sensor_id, DATE_FORMAT(start, '%Y-%m-%d %H:%i:%s.%f') AS start";
const SQL_SELECT_IDS = `SELECT ${ID_COLUMNS} FROM cdr WHERE call_id_hash IN (?) AND start BETWEEN ? AND ?`;
/**
 * A duplicate natural key raises `replays` (see `SCHEMA_V3`): the row changes, so the server
 * reports 2 affected rows for it against 1 for a new row (with or without `CLIENT_FOUND_ROWS`),
 * and `RETURNING replays` is 0 only for rows this statement inserted. Capped so a row replayed
 * 65 535 times never fails the batch under strict mode.
 */
const ON_DUPLICATE = 'ON DUPLICATE KEY UPDATE replays = LEAST(replays + 1, 65535)';
/** Affected rows of an upsert of `rows` rows under {@link ON_DUPLICATE} -> the counts. */
function upsertOutcome(rows: number, affected: number): BatchOutcome {
  const present = Math.min(rows, Math.max(0, affected - rows));
  return { fresh: rows - present, present };
}

/** The prepared multi-row INSERTs of one writer, sized so a full batch is one statement per table. */
interface WriterInserts {
  cdr: PreparedInsert;
  /** For a duplicate natural key, RETURNING yields the row as stored, so the existing id comes back. */
  cdrReturning: PreparedInsert;
  rtp: PreparedInsert;
  sip: PreparedInsert;
  dtmf: PreparedInsert;
  register: PreparedInsert;
  registerFailed: PreparedInsert;
}

function writerInserts(batchSize: number): WriterInserts {
  const child = (table: string, cols: readonly string[], perCall: number): PreparedInsert =>
    new PreparedInsert(insertHead(table, cols), cols.length, 'ON DUPLICATE KEY UPDATE cdr_id = cdr_id', batchSize * perCall);
  const register = (table: string): PreparedInsert =>
    new PreparedInsert(insertHead(table, REGISTER_COLUMNS), REGISTER_COLUMNS.length, ON_DUPLICATE, batchSize);
  return {
    cdr: new PreparedInsert(insertHead('cdr', CDR_COLUMNS), CDR_COLUMNS.length, ON_DUPLICATE, batchSize),
    cdrReturning: new PreparedInsert(insertHead('cdr', CDR_COLUMNS), CDR_COLUMNS.length, `${ON_DUPLICATE} RETURNING ${ID_COLUMNS}, replays`, batchSize),
    // Sized for the common call: two streams, a few final responses, a digit or two.
    rtp: child('cdr_rtp', RTP_COLUMNS, 2),
    sip: child('cdr_sip_response', SIP_RESPONSE_COLUMNS, 4),
    dtmf: child('cdr_dtmf', DTMF_COLUMNS, 2),
    register: register('register'),
    registerFailed: register('register_failed'),
  };
}
const SQL_UPSERT_SENSOR = `INSERT INTO sensors (name, first_seen, last_seen) VALUES (?, ?, ?)
  ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), first_seen = LEAST(first_seen, VALUES(first_seen)),
  last_seen = GREATEST(last_seen, VALUES(last_seen))`;
const SQL_WIDEN_SENSOR = 'UPDATE sensors SET first_seen = LEAST(first_seen, ?), last_seen = GREATEST(last_seen, ?) WHERE id = ?';

/**
 * Whether a server's `VERSION()` names a MariaDB that has `INSERT ... RETURNING` (10.5+,
 * https://mariadb.com/kb/en/insertreturning/). MySQL has no RETURNING.
 */
export function supportsInsertReturning(version: string): boolean {
  const m = /^(\d+)\.(\d+)\.\d+.*mariadb/i.exec(version);
  if (m === null) return false;
  const major = Number(m[1]);
  return major > 10 || (major === 10 && Number(m[2]) >= 5);
}

/** See the module documentation. Create with {@link CdrWriter.open}. */
export class CdrWriter {
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly disk: DiskQueue;
  private readonly log: LogCallback;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxPending: number;
  private readonly retryDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly aheadDays: number;
  private readonly truncator = new Truncator();
  private readonly pending: PendingItem[] = [];
  private readonly spaceWaiters: (() => void)[] = [];
  private readonly readyDays = new Set<number>();
  /** The partition work of the batches in flight, one after the other (see `ensureDays`). */
  private partitionWork: Promise<void> = Promise.resolve();
  /** Sensors by name, as last committed; forgotten after any database failure. */
  private readonly sensors = new Map<string, SensorEntry>();
  /** `INSERT ... RETURNING` usable; `null` until the first batch asks the server. */
  private returning: boolean | null;
  private readonly inserts: WriterInserts;
  private readonly ipCache = new IpBytesCache();
  /** Address text -> bytes through {@link CdrWriter.ipCache}. */
  private readonly ip = (text: string): Buffer | null => this.ipCache.bytes(text);
  private aheadCheckedDay = -1;
  /** The server's settings were checked (once per writer; see server-check.ts). */
  private serverChecked = false;
  private running: Promise<void> | null = null;
  private readonly concurrency: number;
  private readonly lean: boolean;
  private readonly queryTimeoutMs: number;
  private inFlight = 0;
  private readonly flightWaiters: (() => void)[] = [];
  /** Serialises every DiskQueue call: flights that fail append while the pump replays. */
  private diskChain: Promise<unknown> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private flushDue = false;
  private closing = false;
  private closed = false;
  private retryAt = 0;
  private currentDelay: number;
  private readonly counters = {
    written: 0,
    already_present: 0,
    batches: 0,
    retries: 0,
    queued_to_disk: 0,
    replayed: 0,
    dropped: 0,
    db_errors: 0,
  };

  private constructor(options: CdrWriterOptions, disk: DiskQueue, log: LogCallback) {
    const { pool, owned } = openPool(options.db);
    this.pool = pool;
    this.ownsPool = owned;
    this.disk = disk;
    this.log = log;
    this.batchSize = positive('batchSize', options.batchSize ?? 500);
    this.flushIntervalMs = positive('flushIntervalMs', options.flushIntervalMs ?? 200);
    this.maxPending = Math.max(positive('maxPending', options.maxPending ?? 10_000), this.batchSize);
    this.retryDelayMs = positive('retryDelayMs', options.retryDelayMs ?? 500);
    this.retryMaxDelayMs = Math.max(options.retryMaxDelayMs ?? 10_000, this.retryDelayMs);
    this.aheadDays = options.partitionDaysAhead ?? 7;
    this.concurrency = Math.floor(positive('concurrency', options.concurrency ?? 3));
    this.queryTimeoutMs = positive('queryTimeoutMs', options.queryTimeoutMs ?? 30_000);
    this.currentDelay = this.retryDelayMs;
    this.returning = options.insertReturning ?? null;
    const lean = options.leanExecute === false ? null : enableLeanExecute();
    this.lean = lean?.enabled === true;
    if (lean !== null && !lean.enabled) log('warn', "cdr writer: lean statement encoder unavailable; using mysql2's (slower)", { reason: lean.reason });
    this.inserts = writerInserts(this.batchSize);
  }

  /**
   * Opens the on-disk queue (finding batches a previous process left) and starts replaying them in
   * the background if there are any. Does not connect to the database until there is work.
   */
  static async open(options: CdrWriterOptions): Promise<CdrWriter> {
    const log = toLogCallback(options.logger);
    const disk = await DiskQueue.open({
      dir: options.queueDir,
      log,
      ...(options.maxDiskBytes !== undefined ? { maxBytes: options.maxDiskBytes } : {}),
      ...(options.segmentBytes !== undefined ? { segmentBytes: options.segmentBytes } : {}),
    });
    const writer = new CdrWriter(options, disk, log);
    if (disk.hasBacklog()) {
      log('info', 'cdr writer: replaying on-disk queue left by a previous run', { bytes: disk.stats().bytes });
      void writer.kick();
    }
    return writer;
  }

  /** Counters and gauges. */
  stats(): CdrWriterStats {
    const disk = this.disk.stats();
    return {
      ...this.counters,
      truncated_fields: this.truncator.truncated,
      long_call_ids: this.truncator.callIdsCut,
      torn_records: disk.torn,
      pending: this.pending.length,
      disk_bytes: disk.bytes,
      disk_backlog: this.disk.hasBacklog(),
    };
  }

  /**
   * Queues one record. Resolves when it is committed to the database or fsync'd to the on-disk
   * queue; waits first while `maxPending` records are already in memory (back-pressure).
   *
   * @throws TypeError (as a rejection) for a malformed record: a bug in the producer.
   * @throws CdrWriteError (as a rejection) when the record could not be stored at all.
   */
  async write(record: CdrWriterRecord): Promise<void> {
    const problem = record.type === 'call' ? validateCallRecord(record, this.ip) : validateRegisterRecord(record, this.ip);
    if (problem !== null) throw new TypeError(`invalid ${record.type} record ${record.call_id}: ${problem}`);
    while (this.pending.length >= this.maxPending && !this.closed) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
    if (this.closed) throw new CdrWriteError(CDR_WRITE_ERROR.closed, 'CdrWriter is closed');
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ record, resolve, reject });
      if (this.pending.length >= this.batchSize) void this.kick();
      else this.armFlushTimer();
    });
  }

  /** A partial batch is flushed `flushIntervalMs` after it starts waiting. */
  private armFlushTimer(): void {
    if (this.flushTimer !== null || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flushDue = true;
      void this.kick();
    }, this.flushIntervalMs);
    this.flushTimer.unref();
  }

  /**
   * Flushes everything in memory (to the database, or to disk if it is down), replays the on-disk
   * backlog while the database accepts it (waiting up to `drainTimeoutMs` for it to come back), and
   * releases resources. What cannot be replayed stays on disk for the next writer.
   */
  async close(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    const deadline = Date.now() + (options.drainTimeoutMs ?? 0);
    for (;;) {
      await this.kick();
      if (this.inFlight > 0) {
        await new Promise<void>((resolve) => this.flightWaiters.push(resolve));
        continue;
      }
      if (this.pending.length > 0 || this.spaceWaiters.length > 0) continue;
      if (!this.disk.hasBacklog() || Date.now() >= deadline) break;
      await sleep(Math.max(10, Math.min(this.retryAt - Date.now(), deadline - Date.now(), 200)));
    }
    this.closed = true;
    for (const wake of this.spaceWaiters.splice(0)) wake();
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    await this.diskChain;
    await this.disk.close();
    if (this.ownsPool) await this.pool.end();
    if (this.disk.hasBacklog()) {
      this.log('warn', 'cdr writer closed with an on-disk backlog; the next writer on this queue replays it', {
        disk_bytes: this.disk.stats().bytes,
      });
    }
  }

  /** Runs the pump unless it is running; every caller gets a promise for the current run. */
  private kick(): Promise<void> {
    this.running ??= this.pump().finally(() => {
      this.running = null;
      // With every flight slot busy, the next finishing flight kicks instead.
      const ready = this.pending.length >= this.batchSize || (this.flushDue && this.pending.length > 0);
      if (!this.closed && ready && this.inFlight < this.concurrency) void this.kick();
    });
    return this.running;
  }

  /**
   * The single scheduler: sends full or due batches to the database (up to `concurrency` at once)
   * or, while the database is down or the on-disk queue is not empty, to the queue; replays the
   * queue when the database is up.
   */
  private async pump(): Promise<void> {
    for (;;) {
      if (this.pending.length >= this.batchSize || (this.pending.length > 0 && (this.flushDue || this.closing))) {
        if (this.disk.hasBacklog() || Date.now() < this.retryAt) {
          await this.toDisk(this.takeBatch());
          continue;
        }
        if (this.inFlight < this.concurrency) {
          this.startFlight(this.takeBatch());
          continue;
        }
        return;
      }
      if (this.disk.hasBacklog()) {
        if (Date.now() >= this.retryAt) {
          await this.replayOne();
          continue;
        }
        this.scheduleRetry();
      }
      return;
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.kick();
    }, Math.max(0, this.retryAt - Date.now()));
    this.retryTimer.unref();
  }

  private dbFailed(err: unknown, what: string): void {
    // The database may come back restored or recreated: ask it again for sensor ids.
    this.sensors.clear();
    this.counters.db_errors++;
    this.counters.retries++;
    this.retryAt = Date.now() + this.currentDelay;
    this.log('warn', `cdr writer: database unavailable during ${what}; queueing to disk`, {
      error: errorText(err),
      retry_in_ms: this.currentDelay,
    });
    this.currentDelay = Math.min(this.currentDelay * 2, this.retryMaxDelayMs);
  }

  private dbSucceeded(): void {
    this.currentDelay = this.retryDelayMs;
  }

  private takeBatch(): PendingItem[] {
    const items = this.pending.splice(0, this.batchSize);
    this.flushDue = false;
    // What is left over (a partial batch) gets its own deadline.
    if (this.pending.length > 0) this.armFlushTimer();
    for (const wake of this.spaceWaiters.splice(0)) wake();
    return items;
  }

  private startFlight(items: PendingItem[]): void {
    this.inFlight++;
    void this.flight(items).finally(() => {
      this.inFlight--;
      for (const wake of this.flightWaiters.splice(0)) wake();
      void this.kick();
    });
  }

  private withDisk<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.diskChain.then(fn, fn);
    this.diskChain = run.catch(() => undefined);
    return run;
  }

  /** One batch straight to the database; to disk if the database is unreachable. */
  private async flight(items: PendingItem[]): Promise<void> {
    const records = items.map((i) => i.record);
    try {
      this.count(await this.insertBatch(records));
      this.dbSucceeded();
      for (const i of items) i.resolve();
    } catch (err) {
      if (isRetryableDbError(err)) {
        this.dbFailed(err, 'batch insert');
        await this.toDisk(items);
        return;
      }
      this.counters.db_errors++;
      const outcome = await this.insertOneByOne(records, err);
      const requeue: PendingItem[] = [];
      items.forEach((item, n) => {
        const result = outcome[n];
        if (result === 'ok') item.resolve();
        else if (result === 'queue') requeue.push(item);
        else item.reject(new CdrWriteError(CDR_WRITE_ERROR.rejected, result ?? 'rejected'));
      });
      // The database went away meanwhile: these go first into the next flush, which goes to disk.
      this.pending.unshift(...requeue);
    }
  }

  /**
   * A non-retryable error in a batch: find the culprit(s) by inserting records alone. Returns per
   * record `'ok'`, `'queue'` (the database went away meanwhile) or the rejection text.
   */
  private async insertOneByOne(records: CdrWriterRecord[], batchErr: unknown): Promise<string[]> {
    this.log('warn', 'cdr writer: batch rejected by the database; retrying records one by one', { error: errorText(batchErr) });
    const out: string[] = [];
    let down = false;
    for (const record of records) {
      if (down) {
        out.push('queue');
        continue;
      }
      try {
        this.count(await this.insertBatch([record]));
        out.push('ok');
      } catch (err) {
        if (isRetryableDbError(err)) {
          this.dbFailed(err, 'single insert');
          down = true;
          out.push('queue');
          continue;
        }
        this.counters.db_errors++;
        this.counters.dropped++;
        const text = errorText(err);
        this.log('error', 'cdr writer: record rejected by the database and dropped', { call_id: record.call_id, type: record.type, error: text });
        out.push(text);
      }
    }
    return out;
  }

  private async toDisk(items: PendingItem[]): Promise<void> {
    const batch: DiskBatch = { v: 1, records: items.map((i) => i.record) };
    let error: CdrWriteError | null = null;
    try {
      const payload = Buffer.from(JSON.stringify(batch));
      if (await this.withDisk(() => this.disk.append(payload))) {
        this.counters.queued_to_disk += items.length;
        for (const i of items) i.resolve();
        return;
      }
      error = new CdrWriteError(CDR_WRITE_ERROR.queueOverflow, 'on-disk CDR queue is full');
    } catch (err) {
      error = new CdrWriteError(CDR_WRITE_ERROR.queueIo, `on-disk CDR queue write failed: ${errorText(err)}`);
    }
    this.counters.dropped += items.length;
    this.log('error', 'cdr writer: records dropped, neither database nor on-disk queue could take them', {
      records: items.length,
      reason: error.code,
      disk_bytes: this.disk.stats().bytes,
    });
    for (const i of items) i.reject(error);
  }

  private async replayOne(): Promise<void> {
    let payload: Buffer | null;
    try {
      payload = await this.withDisk(() => this.disk.peek());
    } catch (err) {
      this.log('error', 'cdr writer: reading the on-disk queue failed', { error: errorText(err) });
      this.retryAt = Date.now() + this.retryMaxDelayMs;
      return;
    }
    if (payload === null) return;
    let batch: DiskBatch;
    try {
      batch = JSON.parse(payload.toString('utf8')) as DiskBatch;
    } catch (err) {
      // The checksum matched, so this is a writer bug, not a torn write: count and move on.
      this.counters.dropped++;
      this.log('error', 'cdr writer: undecodable on-disk batch skipped', { error: errorText(err) });
      await this.withDisk(() => this.disk.ack());
      return;
    }
    let outcome: BatchOutcome;
    try {
      outcome = await this.insertBatch(batch.records);
      this.dbSucceeded();
    } catch (err) {
      if (isRetryableDbError(err)) {
        this.dbFailed(err, 'replay');
        return;
      }
      this.counters.db_errors++;
      const outcome = await this.insertOneByOne(batch.records, err);
      if (outcome.includes('queue')) return; // the database went away: retry the whole batch later
      const ok = outcome.filter((o) => o === 'ok').length;
      this.counters.replayed += ok;
      await this.withDisk(() => this.disk.ack());
      return;
    }
    this.count(outcome);
    this.counters.replayed += batch.records.length;
    await this.withDisk(() => this.disk.ack());
  }

  /** Adds what a committed batch did to the counters. */
  private count(outcome: BatchOutcome): void {
    this.counters.written += outcome.fresh;
    this.counters.already_present += outcome.present;
  }

  /**
   * A statement with the writer's timeout: a server that accepts TCP but never answers (hung,
   * SIGSTOPped, half-open connection) must fail the batch to disk, not stall the writer forever.
   */
  private q(sql: string): QueryOptions {
    return { sql, timeout: this.queryTimeoutMs };
  }

  /**
   * Sensor ids for a batch. A sensor the writer has not seen yet is upserted by name on its own
   * (autocommit), which yields its id; later batches reuse the id and only widen
   * `first_seen`/`last_seen` inside their own transaction (`widenSensors`), so a batch costs one
   * commit (one log flush) instead of two.
   */
  private async sensorIds(conn: PoolConnection, spans: SensorSpans): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    for (const [name, span] of spans) {
      const known = this.sensors.get(name);
      if (known !== undefined) {
        ids.set(name, known.id);
        continue;
      }
      const [res] = await conn.query<ResultSetHeader>(this.q(SQL_UPSERT_SENSOR), [this.truncator.cut(name, 64), isoToSql(span.first), isoToSql(span.last)]);
      ids.set(name, res.insertId);
      this.sensors.set(name, { id: res.insertId, first: span.first, last: span.last });
    }
    return ids;
  }

  /**
   * Widens the stored span of each known sensor the batch goes beyond, in the batch's transaction.
   * Runs last before COMMIT so the row lock on `sensors` is held only for the commit itself, and
   * in id order so two batches never wait for each other's sensors crosswise. Returns what to
   * apply to the cache once the COMMIT succeeded.
   */
  private async widenSensors(conn: PoolConnection, spans: SensorSpans): Promise<(() => void)[]> {
    const todo: [SensorEntry, { first: string; last: string }][] = [];
    for (const [name, span] of spans) {
      const known = this.sensors.get(name);
      if (known !== undefined && (span.first < known.first || span.last > known.last)) todo.push([known, span]);
    }
    todo.sort((a, b) => a[0].id - b[0].id);
    const commits: (() => void)[] = [];
    for (const [known, span] of todo) {
      await conn.query(this.q(SQL_WIDEN_SENSOR), [isoToSql(span.first), isoToSql(span.last), known.id]);
      commits.push(() => {
        if (span.first < known.first) known.first = span.first;
        if (span.last > known.last) known.last = span.last;
      });
    }
    return commits;
  }

  /**
   * Gives each day of the batch its partition (and keeps days ahead ready) before inserting. The
   * batches in flight share one queue for this, so two of them never race to split the same day.
   */
  private ensureDays(records: CdrWriterRecord[]): Promise<void> {
    const run = this.partitionWork.then(() => this.ensureDaysNow(records));
    this.partitionWork = run.catch(() => undefined);
    return run;
  }

  private async ensureDaysNow(records: CdrWriterRecord[]): Promise<void> {
    const today = toDaysOfMs(Date.now());
    const fresh = new Set<number>();
    for (const r of records) {
      const day = toDaysOfIso(r.type === 'call' ? r.start : r.first);
      if (!this.readyDays.has(day)) fresh.add(day);
    }
    if (fresh.size === 0 && this.aheadCheckedDay === today) return;
    await ensurePartitions(this.pool, fresh, { aheadDays: this.aheadDays, log: this.log });
    for (const d of fresh) this.readyDays.add(d);
    this.aheadCheckedDay = today;
  }

  /**
   * One transaction: sensors, cdr rows, their ids, child rows, registrations. Returns how many
   * records the database inserted and how many it already held, once committed.
   */
  private async insertBatch(records: CdrWriterRecord[]): Promise<BatchOutcome> {
    await this.ensureDays(records);
    const conn = await this.pool.getConnection();
    let broken = false;
    try {
      if (!this.serverChecked) {
        this.serverChecked = true;
        for (const advice of adviseServerSettings(await readServerSettings(conn))) {
          this.log('warn', `cdr writer: database server setting too small: ${adviceText(advice)}`, {
            setting: advice.setting,
            value: advice.value,
            minimum: advice.minimum,
          });
        }
      }
      if (this.returning === null) {
        const [rows] = await conn.query<VersionRow[]>(this.q('SELECT VERSION() AS v'));
        this.returning = supportsInsertReturning(rows[0]?.v ?? '');
      }
      const spans = sensorSpans(records);
      const sensors = await this.sensorIds(conn, spans);
      await conn.query(this.q('START TRANSACTION'));
      const calls = records.filter((r): r is CallRecord => r.type === 'call');
      const outcome: BatchOutcome = calls.length > 0 ? await this.insertCalls(conn, calls, sensors) : { fresh: 0, present: 0 };
      const regs = records.filter((r): r is RegisterRecord => r.type === 'register');
      const ok: SqlValue[] = [];
      const failed: SqlValue[] = [];
      let okRows = 0;
      for (const r of regs) {
        (r.result === 'ok' ? ok : failed).push(...registerRow(r, sensors.get(r.sensor)!, this.truncator, this.ip));
        if (r.result === 'ok') okRows++;
      }
      for (const [insert, values, rows] of [
        [this.inserts.register, ok, okRows],
        [this.inserts.registerFailed, failed, regs.length - okRows],
      ] as const) {
        const { fresh, present } = upsertOutcome(rows, (await this.insertRows(conn, insert, values)).affected);
        outcome.fresh += fresh;
        outcome.present += present;
      }
      const widened = await this.widenSensors(conn, spans);
      await conn.query(this.q('COMMIT'));
      for (const apply of widened) apply();
      this.counters.batches++;
      return outcome;
    } catch (err) {
      broken = isRetryableDbError(err);
      if (!broken) await conn.query(this.q('ROLLBACK')).catch((rollbackErr: unknown) => {
        broken = true;
        this.log('warn', 'cdr writer: rollback failed; discarding the connection', { error: errorText(rollbackErr) });
      });
      throw err;
    } finally {
      // A connection that saw a socket error is never handed back to the pool.
      if (broken) conn.destroy();
      else conn.release();
    }
  }

  private async insertCalls(conn: PoolConnection, calls: CallRecord[], sensors: Map<string, number>): Promise<BatchOutcome> {
    const rows: SqlValue[] = [];
    const hashes = calls.map((c) => callIdHash(c.call_id));
    calls.forEach((r, n) => {
      pushCdrRow(rows, r, sensors.get(r.sensor)!, this.truncator, this.ip, hashes[n]!);
    });
    // Ids of inserted and already-present rows alike: RETURNING hands them back with the INSERT
    // (one statement, no second lookup of every natural key); otherwise read them through the key.
    let idRows: IdRow[];
    let outcome: BatchOutcome;
    if (this.returning === true) {
      idRows = (await this.insertRows(conn, this.inserts.cdrReturning, rows)).rows;
      outcome = { fresh: 0, present: 0 };
      for (const row of idRows) {
        if (row.replays === 0) outcome.fresh++;
        else outcome.present++;
      }
    } else {
      outcome = upsertOutcome(calls.length, (await this.insertRows(conn, this.inserts.cdr, rows)).affected);
      let minStart = calls[0]!.start;
      let maxStart = minStart;
      for (const c of calls) {
        if (c.start < minStart) minStart = c.start;
        if (c.start > maxStart) maxStart = c.start;
      }
      [idRows] = await conn.query<IdRow[]>(this.q(SQL_SELECT_IDS), [hashes, isoToSql(minStart), isoToSql(maxStart)]);
    }
    // The hash as a string key (latin1: one character per byte, no decoding cost).
    const idByKey = new Map<string, number>();
    for (const row of idRows) idByKey.set(`${row.sensor_id}\u0000${row.call_id_hash.toString('latin1')}\u0000${sqlToIso(row.start)}`, Number(row.id));
    const rtp: SqlValue[] = [];
    const sip: SqlValue[] = [];
    const dtmf: SqlValue[] = [];
    for (const [n, c] of calls.entries()) {
      const id = idByKey.get(`${sensors.get(c.sensor)!}\u0000${hashes[n]!.toString('latin1')}\u0000${c.start}`);
      if (id === undefined) throw new Error(`cdr row for ${c.call_id} not found after insert`);
      const start = isoToSql(c.start);
      c.streams.forEach((s, idx) => {
        pushRtpRow(rtp, id, start, idx, s, this.truncator, this.ip);
      });
      c.sip_responses.forEach((x, idx) =>
        sip.push(id, start, idx, x.code, this.truncator.cut(x.reason, 128), isoToSql(x.time), this.truncator.cut(x.cseq_method, 32), x.from_side),
      );
      c.dtmf.forEach((d, idx) => dtmf.push(id, start, idx, this.truncator.cut(d.digit, 4), isoToSql(d.ts), d.method, d.duration_ms));
    }
    await this.insertRows(conn, this.inserts.rtp, rtp);
    await this.insertRows(conn, this.inserts.sip, sip);
    await this.insertRows(conn, this.inserts.dtmf, dtmf);
    return outcome;
  }

  /**
   * Runs a prepared multi-row INSERT over `values` (the rows' values one after another); returns
   * the rows of its RETURNING clause, if any, and the affected rows of the others.
   */
  private async insertRows(conn: PoolConnection, insert: PreparedInsert, values: SqlValue[]): Promise<{ rows: IdRow[]; affected: number }> {
    const rows: IdRow[] = [];
    let affected = 0;
    for (const [sql, chunk] of insert.flatStatements(values)) {
      const [result] = await conn.execute<IdRow[] | ResultSetHeader>(this.q(sql), this.lean ? markLean(chunk) : chunk);
      if (Array.isArray(result)) for (const row of result) rows.push(row);
      else affected += result.affectedRows;
    }
    return { rows, affected };
  }
}

/** Per sensor name, the earliest and latest instant of a batch's records. */
function sensorSpans(records: CdrWriterRecord[]): SensorSpans {
  const spans: SensorSpans = new Map();
  for (const r of records) {
    const [first, last] = r.type === 'call' ? [r.start, r.end] : [r.first, r.last];
    const span = spans.get(r.sensor);
    if (span === undefined) spans.set(r.sensor, { first, last });
    else {
      if (first < span.first) span.first = first;
      if (last > span.last) span.last = last;
    }
  }
  return spans;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
