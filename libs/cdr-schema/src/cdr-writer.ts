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
  CORRELATION_COLUMNS,
  DTMF_COLUMNS,
  REGISTER_COLUMNS,
  RTP_COLUMNS,
  SIP_RESPONSE_COLUMNS,
  Truncator,
  callIdHash,
  isoToSql,
  pushCdrRow,
  pushCorrelationRows,
  pushRtpRow,
  registerRow,
  sqlToIso,
} from './cdr-row.js';
import type { SqlValue } from './cdr-row.js';
import { endPool, ensureDatabase, openPool } from './db-pool.js';
import { migrate } from './migrations.js';
import { PreparedInsert } from './prepared-insert.js';
import { enableLeanExecute, markLean, markLeanStatement } from './binary-execute.js';
import { adviceText, adviseServerSettings, readServerSettings } from './server-check.js';
import { IpBytesCache } from './ip-address.js';
import type { DbTarget } from './db-pool.js';
import { errorText, isRetryableDbError } from './db-errors.js';
import { DiskQueue, type QueueTarget } from './queue/disk-queue.js';
import { toLogCallback } from '@callscope/runtime';
import type { LogCallback, LoggerOption } from '@callscope/runtime';
import { toDaysOfIso, toDaysOfMs } from './partition-plan.js';
import { DEFAULT_MAX_PAST_DAYS, ensurePartitions } from './partitions.js';

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
  /** Who holds the queue's lock, for another writer's error message (default "cdr writer"). */
  owner?: string;
  /**
   * With a URL: create the database if missing and run the migrations on first contact (and
   * again after a failed attempt), so a writer can start while the database is down and its
   * records wait in the queue until it appears (issue 18, finding 5). Default false.
   */
  prepareDatabase?: boolean;
  /** Sensor name recorded in the queue's target (for `sniffer queue status`). */
  sensor?: string;
  /**
   * Replay a queue that belongs to another database (its `target.json`) into this one, and re-bind
   * it. Without it such a queue is refused: {@link CdrQueueTargetError} at open (another URL) or
   * no replay (same URL, another database identity).
   */
  force?: boolean;
  /**
   * How long records that neither the database nor the queue can take (database down and queue
   * disk failing) wait in memory, ms (default 60 000), before they are given up, counted in
   * `lost` and their `write()` rejected. While they wait, `write()` applies back-pressure.
   */
  holdTimeoutMs?: number;
}

/** Why records of this writer were lost (not in the database, not in the queue). */
export interface CdrLostReasons {
  /** The queue was at `maxDiskBytes` while the database was down. */
  queue_full: number;
  /** The database rejected the record itself (bad value). */
  rejected: number;
  /** Neither the database nor the queue's disk took it within `holdTimeoutMs` / the close deadline. */
  not_stored: number;
  /** Appended to the queue by this writer, then found damaged on replay. */
  damaged_in_queue: number;
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
  /** Records committed from the on-disk queue (this writer's and earlier ones'). */
  replayed: number;
  /** Records of this writer lost: `lost_reasons` says why. */
  dropped: number;
  /** Records handed to `write()` (and accepted as well-formed). */
  records: number;
  /** Of `records`, stored as new rows (directly or through the queue). */
  this_run_new: number;
  /** Of `records`, whose row the database already held. */
  this_run_present: number;
  /** Records left in the queue by earlier writers and committed now. */
  earlier_replayed: number;
  /** Of `earlier_replayed`, new rows. */
  earlier_new: number;
  /** Of `earlier_replayed`, rows the database already held. */
  earlier_present: number;
  /** Earlier writers' records the database rejected one by one (bad value). */
  earlier_rejected: number;
  /** Why `dropped` records were lost. */
  lost_reasons: CdrLostReasons;
  /** Gauge: records waiting in the queue (all). */
  queue_records: number;
  /** Gauge: of `queue_records`, this writer's. */
  queue_own_records: number;
  /** Absolute queue directory. */
  queue_dir: string;
  /** Bytes skipped as damaged in the queue. */
  torn_bytes: number;
  /** Records known to be in damaged queue records. */
  torn_lost_records: number;
  /** Why the queue is not replayed into this database (target mismatch), or null. */
  target_refused: string | null;
  /** Last database error, or null once the database took a batch again. */
  db_error: string | null;
  /** Last queue (disk) error, or null once an append succeeded again. */
  disk_error: string | null;
  /** Database operations that failed, for any reason. */
  db_errors: number;
  /** Strings cut to their column width. */
  truncated_fields: number;
  /**
   * Of `truncated_fields`, Call-IDs longer than `CALL_ID_MAX_CHARS` (1024) whose stored text was
   * cut; their row's key still holds the whole Call-ID (hash), so no two calls merged.
   */
  long_call_ids: number;
  /** Damaged regions skipped in the on-disk queue. */
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
  /** The on-disk queue is at its bound and the database is down; the record was not stored. */
  queueOverflow: 'CDR_QUEUE_OVERFLOW',
  /** The database rejected the record itself (bad value); it was not stored. */
  rejected: 'CDR_REJECTED',
  /** `write()` after `close()`. */
  closed: 'CDR_WRITER_CLOSED',
  /** Neither the database nor the on-disk queue took the record in time. */
  notStored: 'CDR_NOT_STORED',
} as const;

/** The queue holds records for another database than the one this writer names. */
export class CdrQueueTargetError extends Error {
  readonly code = 'CDR_QUEUE_TARGET';
  constructor(
    readonly dir: string,
    readonly queued: QueueTarget,
    readonly wanted: string,
    readonly records: number,
  ) {
    super(
      `the CDR queue ${dir} belongs to the database ${queued.database}` +
        (queued.database_uuid === null ? '' : ` (identity ${queued.database_uuid})`) +
        ` and ${records} records wait in it for that database, not for ${wanted}: replay them there first (sniffer queue replay), or into this one on purpose (sniffer queue replay --db ... --force), or give this run its own queue directory`,
    );
    this.name = 'CdrQueueTargetError';
  }
}

/** `host:port/database` of a MySQL URL: the place a queue's records belong to. */
export function databaseKey(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port === '' ? '3306' : u.port}/${decodeURIComponent(u.pathname.replace(/^\//, ''))}`;
}

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
  correlation: PreparedInsert;
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
    // Only carriers that configure correlation headers have any: sized for one per call.
    correlation: child('cdr_correlation', CORRELATION_COLUMNS, 1),
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

/** Longest wait of `close()` for a warm-up still running (see CdrWriter.warmUp). */
const WARM_UP_CLOSE_WAIT_MS = 1000;

/** See the module documentation. Create with {@link CdrWriter.open}. */
export class CdrWriter {
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly url: string | null;
  private readonly disk: DiskQueue;
  private readonly log: LogCallback;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxPending: number;
  private readonly retryDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly holdTimeoutMs: number;
  private readonly aheadDays: number;
  private readonly prepareDatabase: boolean;
  private readonly force: boolean;
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
  /** The warm-up started by `connect()` (see `warmUp`), settled or running; null before. */
  private warming: Promise<void> | null = null;
  /** Database created and migrated (with `prepareDatabase`), once per writer. */
  private migrated = false;
  /** The database was checked as the queue's target since the last failure. */
  private ready: Promise<void> | null = null;
  /** The queue's target as recorded (null: the writer does not bind it, e.g. a caller's pool). */
  private target: QueueTarget | null;
  /** Set when the queue belongs to another database: nothing is replayed, everything queues. */
  private targetRefused: string | null = null;
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
  private retryTimerAt = 0;
  private flushDue = false;
  private closing = false;
  private closed = false;
  private retryAt = 0;
  private currentDelay: number;
  /** After a queue write error, the queue is not tried again before this time. */
  private diskRetryAt = 0;
  private diskDelay: number;
  /** Since when nothing could be stored while records waited (0: not stalled). */
  private stalledSince = 0;
  private lastDbError: string | null = null;
  private lostLoggedAt = 0;
  private lostSinceLog = 0;
  private lastDiskError: string | null = null;
  private readonly counters = {
    written: 0,
    already_present: 0,
    batches: 0,
    retries: 0,
    queued_to_disk: 0,
    replayed: 0,
    dropped: 0,
    db_errors: 0,
    records: 0,
    this_run_new: 0,
    this_run_present: 0,
    earlier_replayed: 0,
    earlier_new: 0,
    earlier_present: 0,
    earlier_rejected: 0,
  };
  private readonly lost: CdrLostReasons = { queue_full: 0, rejected: 0, not_stored: 0, damaged_in_queue: 0 };

  private constructor(options: CdrWriterOptions, disk: DiskQueue, log: LogCallback, target: QueueTarget | null) {
    const { pool, owned } = openPool(options.db);
    this.pool = pool;
    this.ownsPool = owned;
    this.url = typeof options.db === 'string' ? options.db : null;
    this.disk = disk;
    this.log = log;
    this.target = target;
    this.batchSize = positive('batchSize', options.batchSize ?? 500);
    this.flushIntervalMs = positive('flushIntervalMs', options.flushIntervalMs ?? 200);
    this.maxPending = Math.max(positive('maxPending', options.maxPending ?? 10_000), this.batchSize);
    this.retryDelayMs = positive('retryDelayMs', options.retryDelayMs ?? 500);
    this.retryMaxDelayMs = Math.max(options.retryMaxDelayMs ?? 10_000, this.retryDelayMs);
    this.holdTimeoutMs = positive('holdTimeoutMs', options.holdTimeoutMs ?? 60_000);
    this.aheadDays = options.partitionDaysAhead ?? 7;
    this.prepareDatabase = options.prepareDatabase === true;
    this.force = options.force === true;
    this.concurrency = Math.floor(positive('concurrency', options.concurrency ?? 3));
    this.queryTimeoutMs = positive('queryTimeoutMs', options.queryTimeoutMs ?? 30_000);
    this.currentDelay = this.retryDelayMs;
    this.diskDelay = this.retryDelayMs;
    this.returning = options.insertReturning ?? null;
    const lean = options.leanExecute === false ? null : enableLeanExecute();
    this.lean = lean?.enabled === true;
    if (lean !== null && !lean.enabled) log('warn', "cdr writer: lean statement encoder unavailable; using mysql2's (slower)", { reason: lean.reason });
    this.inserts = writerInserts(this.batchSize);
  }

  /**
   * Opens the on-disk queue (taking its lock, finding batches a previous process left, checking
   * they belong to this database) and starts replaying them in the background if there are any.
   * Does not connect to the database until there is work.
   *
   * @throws QueueLockedError when another live process holds the queue directory.
   * @throws CdrQueueTargetError when the queue holds records of another database (without `force`).
   */
  static async open(options: CdrWriterOptions): Promise<CdrWriter> {
    const log = toLogCallback(options.logger);
    const disk = await DiskQueue.open({
      dir: options.queueDir,
      log,
      owner: options.owner ?? 'cdr writer',
      ...(options.maxDiskBytes !== undefined ? { maxBytes: options.maxDiskBytes } : {}),
      ...(options.segmentBytes !== undefined ? { segmentBytes: options.segmentBytes } : {}),
    });
    let target: QueueTarget | null = null;
    try {
      if (typeof options.db === 'string') target = await bindTarget(disk, databaseKey(options.db), options.sensor ?? null, options.force === true, log);
    } catch (err) {
      await disk.close();
      throw err;
    }
    const writer = new CdrWriter(options, disk, log, target);
    if (disk.hasBacklog()) {
      log('info', 'cdr writer: replaying the on-disk queue left by a previous run', { dir: disk.dir, records: disk.stats().records, bytes: disk.stats().bytes });
      void writer.kick();
    }
    return writer;
  }

  /**
   * Tries the database now (creating and migrating it with `prepareDatabase`, checking it is the
   * queue's database): `null` when it is ready, else why not. A failure is an outage like any
   * other: records go to the queue and the database is tried again with backoff. Callers use it
   * to tell the operator at start that the database is away.
   */
  async connect(): Promise<string | null> {
    try {
      await this.ensureReady();
      this.dbSucceeded();
      this.warming ??= this.warmUp();
      return null;
    } catch (err) {
      this.dbFailed(err, 'start');
      return errorText(err);
    }
  }

  /** Counters and gauges. */
  stats(): CdrWriterStats {
    const disk = this.disk.stats();
    return {
      ...this.counters,
      dropped: this.counters.dropped + disk.torn_own_records,
      lost_reasons: { ...this.lost, damaged_in_queue: disk.torn_own_records },
      truncated_fields: this.truncator.truncated,
      long_call_ids: this.truncator.callIdsCut,
      torn_records: disk.torn,
      torn_bytes: disk.torn_bytes,
      torn_lost_records: disk.torn_records,
      pending: this.pending.length,
      disk_bytes: disk.bytes,
      disk_backlog: this.disk.hasBacklog(),
      queue_records: disk.records,
      queue_own_records: disk.own_records,
      queue_dir: this.disk.dir,
      target_refused: this.targetRefused,
      db_error: this.lastDbError,
      disk_error: this.lastDiskError,
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
    this.counters.records++;
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
   * Flushes everything in memory (to the database, or to the queue if it is down), replays the
   * queue while the database accepts it (waiting up to `drainTimeoutMs` for it to come back), and
   * releases resources. Records that neither took by the deadline are lost (counted, their
   * `write()` rejected); what is in the queue stays there for the next writer.
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
      const now = Date.now();
      const wantsDrain = this.disk.hasBacklog() && this.targetRefused === null;
      if (this.pending.length === 0 && this.spaceWaiters.length === 0 && (!wantsDrain || now >= deadline)) break;
      if (now >= deadline && this.pending.length > 0) {
        this.lose(this.pending.splice(0), 'not_stored', this.notStoredText());
        for (const wake of this.spaceWaiters.splice(0)) wake();
        continue;
      }
      await sleep(Math.max(10, Math.min(this.nextWake() - now, deadline - now, 200)));
    }
    this.closed = true;
    if (this.lostSinceLog > 0) {
      this.log('error', 'cdr writer: records lost, neither the database nor the on-disk queue could take them', { records: this.lostSinceLog, lost_total: this.counters.dropped });
      this.lostSinceLog = 0;
    }
    for (const wake of this.spaceWaiters.splice(0)) wake();
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    await this.diskChain;
    // The warm-up's statements are bounded, but a hung server would still hold close() for their
    // timeouts: after a short wait the pool is ended under it (its queries then fail, caught).
    // withTimeout clears its timer: a pending one would keep the process alive after close.
    if (this.warming !== null) await withTimeout(this.warming, WARM_UP_CLOSE_WAIT_MS, 'warming up').catch(() => undefined);
    const backlog = this.disk.stats();
    await this.disk.close();
    if (this.ownsPool) await endPool(this.pool);
    if (backlog.records > 0 || this.disk.hasBacklog()) {
      this.log('warn', 'cdr writer closed with records in the on-disk queue; the next writer on this queue replays them', {
        dir: this.disk.dir,
        records: backlog.records,
        bytes: backlog.bytes,
      });
    }
  }

  /** When the pump has something to try again (database, queue, or a hold running out). */
  private nextWake(): number {
    const times = [this.retryAt, this.diskRetryAt];
    if (this.stalledSince > 0) times.push(this.stalledSince + this.holdTimeoutMs);
    const now = Date.now();
    const future = times.filter((t) => t > now);
    return future.length === 0 ? now : Math.min(...future);
  }

  /** Runs the pump unless it is running; every caller gets a promise for the current run. */
  private kick(): Promise<void> {
    this.running ??= this.pump().finally(() => {
      this.running = null;
      // With every flight slot busy, the next finishing flight kicks instead.
      if (!this.closed && this.batchReady() && this.inFlight < this.concurrency && this.stalledSince === 0) void this.kick();
    });
    return this.running;
  }

  private batchReady(): boolean {
    return this.pending.length >= this.batchSize || (this.pending.length > 0 && (this.flushDue || this.closing));
  }

  private dbUsable(now: number): boolean {
    return now >= this.retryAt && this.targetRefused === null;
  }

  /**
   * The single scheduler. A batch goes to the database when the queue is empty and the database
   * up (up to `concurrency` at once); otherwise to the queue, behind what waits there, so records
   * reach the database in write order. When the queue cannot take it (full, or its disk failing)
   * and the database is up, it goes to the database at once: order gives way to delivery. When
   * neither can, it waits in memory (back-pressure) up to `holdTimeoutMs`, then is lost and
   * counted. The queue is replayed whenever the database is up.
   */
  private async pump(): Promise<void> {
    for (;;) {
      const now = Date.now();
      if (this.batchReady()) {
        const dbUp = this.dbUsable(now);
        if (dbUp && (!this.disk.hasBacklog() || now < this.diskRetryAt)) {
          if (this.inFlight >= this.concurrency) return;
          this.startFlight(this.takeBatch());
          continue;
        }
        if (now >= this.diskRetryAt) {
          const items = this.takeBatch();
          const fate = await this.toDisk(items);
          if (fate === 'ok') continue;
          if (this.dbUsable(Date.now())) {
            if (this.inFlight < this.concurrency) {
              this.startFlight(items);
              continue;
            }
            this.hold(items);
            return;
          }
          if (fate === 'full') {
            this.lose(items, 'queue_full', `the on-disk CDR queue is full (${this.disk.stats().bytes} bytes) and the database is unreachable`);
            continue;
          }
          this.hold(items);
        }
        if (this.stalledSince === 0) this.stalledSince = now;
        if (now - this.stalledSince >= this.holdTimeoutMs) {
          this.lose(this.takeBatch(), 'not_stored', this.notStoredText());
          continue;
        }
        this.scheduleRetry(this.nextWake());
        return;
      }
      if (this.disk.hasBacklog() && this.targetRefused === null) {
        if (this.dbUsable(now)) {
          await this.replayOne();
          continue;
        }
        this.scheduleRetry(this.retryAt);
      }
      return;
    }
  }

  /** Records nothing could take go back to the front of the line, due again. */
  private hold(items: PendingItem[]): void {
    this.pending.unshift(...items);
    this.flushDue = true;
  }

  private notStoredText(): string {
    return `neither the database (${this.lastDbError ?? 'unreachable'}) nor the on-disk queue (${this.lastDiskError ?? 'unavailable'}) took them`;
  }

  /** Records lost for good: counted by reason, logged, their `write()` rejected. */
  private lose(items: PendingItem[], reason: keyof CdrLostReasons, text: string): void {
    if (items.length === 0) return;
    this.counters.dropped += items.length;
    this.lost[reason] += items.length;
    this.lostSinceLog += items.length;
    // The first loss at once, then at most one line per 10 s with the count since the last one
    // (a long outage loses a batch every few ms; the totals are in the stats and the summary).
    const now = Date.now();
    if (now - this.lostLoggedAt >= 10_000) {
      this.log('error', 'cdr writer: records lost, neither the database nor the on-disk queue could take them', {
        records: this.lostSinceLog,
        lost_total: this.counters.dropped,
        reason,
        detail: text,
      });
      this.lostLoggedAt = now;
      this.lostSinceLog = 0;
    }
    const error = new CdrWriteError(reason === 'queue_full' ? CDR_WRITE_ERROR.queueOverflow : CDR_WRITE_ERROR.notStored, text);
    for (const i of items) i.reject(error);
    for (const wake of this.spaceWaiters.splice(0)) wake();
  }

  /** Something was stored: the writer is not stalled. */
  private progressed(): void {
    this.stalledSince = 0;
  }

  private scheduleRetry(at: number): void {
    if (this.closed) return;
    if (this.retryTimer !== null) {
      if (this.retryTimerAt <= at) return;
      clearTimeout(this.retryTimer);
    }
    this.retryTimerAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.kick();
    }, Math.max(0, at - Date.now()));
    // Records held in memory have callers waiting on their write(): the retry must keep the
    // process alive until they are stored or given up. A backlog alone does not.
    if (this.pending.length === 0) this.retryTimer.unref();
  }

  private dbFailed(err: unknown, what: string): void {
    // The database may come back restored or recreated: ask it again for sensor ids and identity.
    this.sensors.clear();
    this.ready = null;
    this.counters.db_errors++;
    this.counters.retries++;
    this.retryAt = Date.now() + this.currentDelay;
    this.lastDbError = errorText(err);
    this.log('warn', `cdr writer: database unavailable during ${what}; queueing to disk`, {
      error: this.lastDbError,
      retry_in_ms: this.currentDelay,
      queue: this.disk.dir,
    });
    this.currentDelay = Math.min(this.currentDelay * 2, this.retryMaxDelayMs);
  }

  private dbSucceeded(): void {
    this.currentDelay = this.retryDelayMs;
    this.lastDbError = null;
    this.progressed();
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

  /** One batch straight to the database; to the queue if the database is unreachable. */
  private async flight(items: PendingItem[]): Promise<void> {
    const records = items.map((i) => i.record);
    try {
      this.count(await this.insertBatch(records), true);
      this.dbSucceeded();
      for (const i of items) i.resolve();
    } catch (err) {
      if (isRetryableDbError(err)) {
        this.dbFailed(err, 'batch insert');
        if ((await this.toDisk(items)) !== 'ok') this.hold(items);
        return;
      }
      this.counters.db_errors++;
      const outcome = await this.insertOneByOne(records, err, true);
      const requeue: PendingItem[] = [];
      const rejected: PendingItem[] = [];
      items.forEach((item, n) => {
        const result = outcome[n];
        if (result === 'ok') item.resolve();
        else if (result === 'queue') requeue.push(item);
        else {
          rejected.push(item);
          item.reject(new CdrWriteError(CDR_WRITE_ERROR.rejected, result ?? 'rejected'));
        }
      });
      this.counters.dropped += rejected.length;
      this.lost.rejected += rejected.length;
      // The database went away meanwhile: these go first into the next flush, which goes to disk.
      if (requeue.length > 0) this.hold(requeue);
    }
  }

  /**
   * A non-retryable error in a batch: find the culprit(s) by inserting records alone. Returns per
   * record `'ok'`, `'queue'` (the database went away meanwhile) or the rejection text.
   */
  private async insertOneByOne(records: CdrWriterRecord[], batchErr: unknown, own: boolean): Promise<string[]> {
    this.log('warn', 'cdr writer: batch rejected by the database; retrying records one by one', { error: errorText(batchErr) });
    const out: string[] = [];
    let down = false;
    for (const record of records) {
      if (down) {
        out.push('queue');
        continue;
      }
      try {
        this.count(await this.insertBatch([record]), own);
        out.push('ok');
      } catch (err) {
        if (isRetryableDbError(err)) {
          this.dbFailed(err, 'single insert');
          down = true;
          out.push('queue');
          continue;
        }
        this.counters.db_errors++;
        const text = errorText(err);
        this.log('error', 'cdr writer: record rejected by the database and dropped', { call_id: record.call_id, type: record.type, error: text });
        out.push(text);
      }
    }
    return out;
  }

  /**
   * Appends a batch to the queue. `'ok'`: durable, the records' `write()` resolved. `'full'`: the
   * queue is at its bound. `'error'`: the disk failed (nothing of the record stays on it); the
   * queue is not tried again for a while. On anything but `'ok'` the items are left unsettled.
   */
  private async toDisk(items: PendingItem[]): Promise<'ok' | 'full' | 'error'> {
    const batch: DiskBatch = { v: 1, records: items.map((i) => i.record) };
    try {
      const payload = Buffer.from(JSON.stringify(batch));
      if (!(await this.withDisk(() => this.disk.append(payload, items.length)))) return 'full';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const text = !(err instanceof Error) ? String(err) : code === undefined || err.message.startsWith(code) ? err.message : `${code}: ${err.message}`;
      if (this.lastDiskError === null) {
        this.log('error', 'cdr writer: the on-disk queue cannot be written; records wait in memory for the database or for the disk', { error: text, queue: this.disk.dir });
      }
      this.lastDiskError = text;
      this.diskRetryAt = Date.now() + this.diskDelay;
      // A failing disk is tried again at least every second: trying costs one failed write, and
      // records held in memory should reach the disk soon after space returns.
      this.diskDelay = Math.min(this.diskDelay * 2, this.retryMaxDelayMs, 1000);
      return 'error';
    }
    if (this.lastDiskError !== null) this.log('info', 'cdr writer: the on-disk queue takes records again', { queue: this.disk.dir });
    this.lastDiskError = null;
    this.diskDelay = this.retryDelayMs;
    this.counters.queued_to_disk += items.length;
    this.progressed();
    for (const i of items) i.resolve();
    return 'ok';
  }

  private async replayOne(): Promise<void> {
    let entry;
    try {
      entry = await this.withDisk(() => this.disk.peek());
    } catch (err) {
      this.log('error', 'cdr writer: reading the on-disk queue failed', { error: errorText(err) });
      this.retryAt = Date.now() + this.retryMaxDelayMs;
      return;
    }
    if (entry === null) return;
    let batch: DiskBatch;
    try {
      batch = JSON.parse(entry.payload.toString('utf8')) as DiskBatch;
      if (!Array.isArray(batch.records)) throw new Error('no records array');
    } catch (err) {
      // The checksum matched, so this is a writer bug, not a torn write: count and move on.
      const n = Math.max(entry.records, 0);
      if (entry.own) {
        this.counters.dropped += n;
        this.lost.damaged_in_queue += n;
      } else this.counters.earlier_rejected += n;
      this.log('error', 'cdr writer: undecodable on-disk batch skipped', { error: errorText(err), records: n });
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
      const results = await this.insertOneByOne(batch.records, err, entry.own);
      if (results.includes('queue')) return; // the database went away: retry the whole batch later (idempotent)
      const ok = results.filter((o) => o === 'ok').length;
      const rejected = batch.records.length - ok;
      this.counters.replayed += ok;
      if (entry.own) {
        this.counters.dropped += rejected;
        this.lost.rejected += rejected;
      } else {
        this.counters.earlier_replayed += ok;
        this.counters.earlier_rejected += rejected;
      }
      await this.withDisk(() => this.disk.ack());
      return;
    }
    this.count(outcome, entry.own);
    this.counters.replayed += batch.records.length;
    if (!entry.own) this.counters.earlier_replayed += batch.records.length;
    await this.withDisk(() => this.disk.ack());
  }

  /** Adds what a committed batch did to the counters: this writer's records or earlier ones'. */
  private count(outcome: BatchOutcome, own: boolean): void {
    this.counters.written += outcome.fresh;
    this.counters.already_present += outcome.present;
    if (own) {
      this.counters.this_run_new += outcome.fresh;
      this.counters.this_run_present += outcome.present;
    } else {
      this.counters.earlier_new += outcome.fresh;
      this.counters.earlier_present += outcome.present;
    }
  }

  /**
   * Before the first batch after a (re)connection: with `prepareDatabase`, create and migrate the
   * database (once); then check that it is the database the queue belongs to. Any failure counts
   * as the database being unavailable, so the records wait in the queue.
   */
  private ensureReady(): Promise<void> {
    // Bounded like every statement: the migrations' own queries carry no timeout, and a server
    // that hangs right then (SIGSTOP) must not stall the writer (the records go to the queue).
    this.ready ??= withTimeout(this.prepare(), 2 * this.queryTimeoutMs, 'preparing the database').catch((err: unknown) => {
      this.ready = null;
      if (isRetryableDbError(err)) throw err;
      // A migration refused (schema too new, checksum) or an identity mismatch: an operator must
      // act; meanwhile the records are safe in the queue.
      throw Object.assign(new Error(`database not ready: ${errorText(err)}`), { code: 'CDR_DB_NOT_READY', fatal: true });
    });
    return this.ready;
  }

  private async prepare(): Promise<void> {
    if (this.prepareDatabase && !this.migrated) {
      if (this.url !== null) await ensureDatabase(this.url);
      await migrate(this.pool, { logger: this.log });
      this.migrated = true;
      this.log('info', 'cdr writer: database reachable, schema up to date', { queue_records: this.disk.stats().records });
    }
    await this.checkIdentity();
  }

  /** Binds the queue to the database's identity, or refuses to deliver into another database. */
  private async checkIdentity(): Promise<void> {
    const target = this.target;
    if (target === null) return;
    let uuid: string | null = null;
    try {
      const [rows] = await this.pool.query<(RowDataPacket & { uuid: string })[]>(this.q('SELECT uuid FROM instance WHERE id = 1'));
      uuid = rows[0]?.uuid ?? null;
    } catch (err) {
      // A database older than schema version 7 has no identity yet: the URL is all we know.
      if ((err as { code?: unknown }).code !== 'ER_NO_SUCH_TABLE') throw err;
    }
    if (uuid === null || target.database_uuid === uuid) return;
    if (target.database_uuid !== null && this.disk.hasBacklog() && !this.force) {
      this.targetRefused =
        `the queue ${this.disk.dir} holds records of the database with identity ${target.database_uuid}, ` +
        `but ${target.database} is now the database ${uuid} (restored or recreated?): they are not replayed into it; ` +
        'replay them on purpose with `sniffer queue replay --force`';
      this.log('error', `cdr writer: ${this.targetRefused}`, {});
      throw Object.assign(new Error(this.targetRefused), { code: 'CDR_QUEUE_TARGET' });
    }
    target.database_uuid = uuid;
    await this.disk.writeTarget(target).catch((err: unknown) => {
      this.log('warn', 'cdr writer: could not record the database identity in the queue', { error: String(err) });
    });
  }

  /**
   * A statement with the writer's timeout: a server that accepts TCP but never answers (hung,
   * SIGSTOPped, half-open connection) must fail the batch to disk, not stall the writer forever.
   */
  private q(sql: string): QueryOptions {
    return { sql, timeout: this.queryTimeoutMs };
  }

  /** One of the writer's prepared INSERTs, as `q` gives it (marked for the lean hook when it is on). */
  private prepared(sql: string): QueryOptions {
    return this.q(this.lean ? markLeanStatement(sql) : sql);
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
      if (this.readyDays.has(day)) continue;
      // Too old for a partition of its own (ensurePartitions would skip it): its rows go to the
      // catch-all, and reading the partition layout for it (0.3 s on a busy server) buys nothing.
      if (day < today - DEFAULT_MAX_PAST_DAYS) this.readyDays.add(day);
      else fresh.add(day);
    }
    if (fresh.size === 0 && this.aheadCheckedDay === today) return;
    // Bounded like every statement (its queries carry no timeout of their own): a server that
    // hangs right then must fail the batch to the queue, not stall every batch behind it.
    await withTimeout(ensurePartitions(this.pool, fresh, { aheadDays: this.aheadDays, log: this.log }), 2 * this.queryTimeoutMs, 'preparing partitions');
    for (const d of fresh) this.readyDays.add(d);
    this.aheadCheckedDay = today;
  }

  /** Once per writer: warns about server settings too small, and asks whether RETURNING works. */
  private async checkServer(conn: PoolConnection): Promise<void> {
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
  }

  /**
   * Right after the database is first reached, in the background: the partitions ahead of today,
   * the server check, and on each of `concurrency` connections the prepared statements a full
   * batch of calls uses (its `cdr` and `cdr_rtp` INSERTs; mysql2 keeps them per connection by
   * their text). Why: otherwise the first batches do all of it while their records wait. On a
   * capture whose calls all end at once (10,000 CDRs at the end of `sniffer analyze`) the first
   * three batches spent 0.3-0.4 s on the partition check and 0.2-0.3 s each on preparing
   * statements of 33,000-34,000 placeholders (the server answers a PREPARE with one definition per
   * placeholder, which mysql2 parses), while the packet path stood still on back-pressure. Here
   * the same work overlaps reading the capture. A failure only means the first batch does it.
   */
  private async warmUp(): Promise<void> {
    const held: PoolConnection[] = [];
    let broken = false;
    try {
      await this.ensureDays([]);
      for (let i = 0; i < this.concurrency; i++) held.push(await this.pool.getConnection());
      await this.checkServer(held[0]!);
      const { cdr, cdrReturning, rtp } = this.inserts;
      const texts = [this.returning === true ? cdrReturning.sql(cdrReturning.maxRows) : cdr.sql(cdr.maxRows), rtp.sql(rtp.maxRows)];
      await Promise.all(held.map(async (conn) => {
        for (const sql of texts) await conn.prepare(this.prepared(sql));
      }));
    } catch (err) {
      // As after a failed batch: a connection that saw a socket error never goes back to the pool.
      broken = isRetryableDbError(err);
      this.log('debug', 'cdr writer: warm-up incomplete; the first batches prepare themselves', { error: errorText(err) });
    } finally {
      for (const conn of held) {
        if (broken) conn.destroy();
        else conn.release();
      }
    }
  }

  /**
   * One transaction: sensors, cdr rows, their ids, child rows, registrations. Returns how many
   * records the database inserted and how many it already held, once committed.
   */
  private async insertBatch(records: CdrWriterRecord[]): Promise<BatchOutcome> {
    await this.ensureReady();
    await this.ensureDays(records);
    const conn = await this.pool.getConnection();
    let broken = false;
    try {
      await this.checkServer(conn);
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
    const correlation: SqlValue[] = [];
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
      pushCorrelationRows(correlation, id, start, c, this.truncator);
    }
    await this.insertRows(conn, this.inserts.rtp, rtp);
    await this.insertRows(conn, this.inserts.sip, sip);
    await this.insertRows(conn, this.inserts.dtmf, dtmf);
    await this.insertRows(conn, this.inserts.correlation, correlation);
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
      const [result] = await conn.execute<IdRow[] | ResultSetHeader>(this.prepared(sql), this.lean ? markLean(chunk) : chunk);
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

/**
 * The queue's target for a writer to `key`: re-bound when the queue is empty (or `force`),
 * kept when it already belongs to `key`, refused when it holds records of another database.
 */
async function bindTarget(disk: DiskQueue, key: string, sensor: string | null, force: boolean, log: LogCallback): Promise<QueueTarget> {
  const stored = await disk.readTarget();
  const backlog = disk.hasBacklog();
  if (stored !== null && backlog && stored.database === key) return { ...stored, sensor: sensor ?? stored.sensor };
  if (stored !== null && backlog && !force) throw new CdrQueueTargetError(disk.dir, stored, key, disk.stats().records);
  if (stored !== null && backlog) log('warn', 'cdr writer: replaying a queue of another database into this one (force)', { queue: stored.database, database: key });
  const target: QueueTarget = { database: key, database_uuid: null, sensor };
  await disk.writeTarget(target).catch((err: unknown) => {
    log('warn', 'cdr writer: could not record the queue target', { error: String(err) });
  });
  return target;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

/** `work`, or a connection-class error (so the records are queued) when it takes longer than `ms`. */
function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(Object.assign(new Error(`timeout after ${ms} ms ${what}`), { code: 'PROTOCOL_SEQUENCE_TIMEOUT', fatal: true }));
    }, ms);
  });
  work.catch(() => undefined); // a late failure after the timeout is not unhandled
  return Promise.race([work, late]).finally(() => {
    clearTimeout(timer);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
