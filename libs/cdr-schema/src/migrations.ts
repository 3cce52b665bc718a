/**
 * Versioned schema migrations: an ordered list of steps, a `schema_migrations` table recording
 * each applied step with the SHA-256 checksum of its SQL, idempotent re-runs, and a refusal to
 * touch a database whose schema is newer than this code (an old sensor must not "repair" a schema
 * a newer GUI already upgraded).
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { openPool } from './db-pool.js';
import type { DbTarget } from './db-pool.js';
import { toLogCallback } from '@callscope/runtime';
import type { LoggerOption } from '@callscope/runtime';
import { ensurePartitions } from './partitions.js';
import { SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6, SCHEMA_V7, SCHEMA_V8, SCHEMA_V9, SCHEMA_V10 } from './schema-sql.js';

/** One migration step. */
export interface Migration {
  /** Version reached after this step; steps are numbered 1, 2, 3... without gaps. */
  version: number;
  /** Human description. */
  name: string;
  /** SQL statements, run in order; each must be idempotent so a step interrupted half-way can re-run. */
  statements: readonly string[];
}

/** Every migration, in order. Never edit an applied step: add a new one (checksums enforce it). */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial schema', statements: SCHEMA_V1 },
  { version: 2, name: 'secondary indexes cut to what the GUI searches use', statements: SCHEMA_V2 },
  { version: 3, name: 'whole Call-IDs in the natural keys (hash), replay counts, dropped packet counts', statements: SCHEMA_V3 },
  { version: 4, name: 'end reason sensor_shutdown; sensor heartbeat (version, state, stats)', statements: SCHEMA_V4 },
  { version: 5, name: 'web GUI users and login sessions', statements: SCHEMA_V5 },
  { version: 6, name: 'address and duration indexes for the GUI call list', statements: SCHEMA_V6 },
  { version: 7, name: 'database identity for the on-disk CDR queue', statements: SCHEMA_V7 },
  { version: 8, name: 'end reason bye_failed', statements: SCHEMA_V8 },
  { version: 9, name: 'codecs of each RTP stream', statements: SCHEMA_V9 },
  { version: 10, name: 'linked legs, forks and codec lists', statements: SCHEMA_V10 },
];

/** Latest schema version this code knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

/** SHA-256 (hex) of a step's statements: what `schema_migrations.checksum` holds. */
export function migrationChecksum(migration: Migration): string {
  return createHash('sha256').update(migration.statements.join(';\n')).digest('hex');
}

/** Error codes of {@link MigrationError}. */
export const MIGRATION_ERROR = {
  /** The database has a version this code does not know. */
  schemaTooNew: 'CDR_SCHEMA_TOO_NEW',
  /** An applied step's SQL differs from this code's. */
  checksumMismatch: 'CDR_SCHEMA_CHECKSUM_MISMATCH',
  /** Another process held the migration lock too long. */
  lockTimeout: 'CDR_SCHEMA_LOCK_TIMEOUT',
} as const;

/** A migration refused to run; `code` is one of {@link MIGRATION_ERROR}. */
export class MigrationError extends Error {
  /** Machine-readable reason. */
  readonly code: (typeof MIGRATION_ERROR)[keyof typeof MIGRATION_ERROR];

  constructor(code: (typeof MIGRATION_ERROR)[keyof typeof MIGRATION_ERROR], message: string) {
    super(message);
    this.name = 'MigrationError';
    this.code = code;
  }
}

/** One row of `schema_migrations`, with its checksum checked against the code. */
export interface AppliedMigration {
  /** Version number. */
  version: number;
  /** Name recorded when applied. */
  name: string;
  /** Checksum recorded when applied. */
  checksum: string;
  /** When it was applied (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC). */
  applied_at: string;
  /** Whether `checksum` matches this code's step; `null` for a version this code does not know. */
  checksum_ok: boolean | null;
}

/** Answer of {@link migrationStatus}. */
export interface MigrationStatus {
  /** Highest applied version, 0 for an empty database. */
  current: number;
  /** {@link LATEST_SCHEMA_VERSION}. */
  latest: number;
  /** Versions not yet applied. */
  pending: number[];
  /** Applied steps. */
  applied: AppliedMigration[];
  /** The database is newer than this code: {@link migrate} will refuse. */
  too_new: boolean;
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Logger callback or pino-like object. */
  logger?: LoggerOption;
  /** Daily partitions to create ahead of today (default 7). */
  partitionDaysAhead?: number;
  /** Seconds to wait for another migrator's lock (default 60). */
  lockTimeoutS?: number;
  /** Clock in ms, for tests (default `Date.now`). */
  now?: () => number;
}

/** Answer of {@link migrate}. */
export interface MigrateResult {
  /** Versions applied by this call (empty when already up to date). */
  applied: number[];
  /** Version after the call. */
  current: number;
  /** Partition `ALTER`s run to keep daily partitions ready. */
  partition_alters: number;
}

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT UNSIGNED NOT NULL PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  checksum CHAR(64) NOT NULL,
  applied_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

interface MigrationRow extends RowDataPacket {
  version: number;
  name: string;
  checksum: string;
  applied_at: string;
}

async function readApplied(conn: Pool | PoolConnection): Promise<AppliedMigration[]> {
  const [rows] = await conn.query<MigrationRow[]>(
    "SELECT version, name, checksum, DATE_FORMAT(applied_at, '%Y-%m-%d %H:%i:%s.%f') AS applied_at FROM schema_migrations ORDER BY version",
  );
  return rows.map((r) => {
    const known = MIGRATIONS.find((m) => m.version === r.version);
    return {
      version: r.version,
      name: r.name,
      checksum: r.checksum,
      applied_at: r.applied_at,
      checksum_ok: known === undefined ? null : migrationChecksum(known) === r.checksum,
    };
  });
}

function statusOf(applied: AppliedMigration[]): MigrationStatus {
  const current = applied.reduce((max, m) => Math.max(max, m.version), 0);
  const done = new Set(applied.map((m) => m.version));
  return {
    current,
    latest: LATEST_SCHEMA_VERSION,
    pending: MIGRATIONS.filter((m) => !done.has(m.version)).map((m) => m.version),
    applied,
    too_new: current > LATEST_SCHEMA_VERSION,
  };
}

/** Reads the schema version and pending steps without changing anything. */
export async function migrationStatus(target: DbTarget): Promise<MigrationStatus> {
  const { pool, owned } = openPool(target);
  try {
    const [tables] = await pool.query<RowDataPacket[]>("SHOW TABLES LIKE 'schema_migrations'");
    return statusOf(tables.length === 0 ? [] : await readApplied(pool));
  } finally {
    if (owned) await pool.end();
  }
}

/**
 * Brings the database to {@link LATEST_SCHEMA_VERSION}, then creates daily partitions ahead.
 * Concurrent migrators serialise on `GET_LOCK('callscope_migrate')`. Re-running is a no-op.
 *
 * @throws MigrationError `CDR_SCHEMA_TOO_NEW` if the database is newer than this code,
 *   `CDR_SCHEMA_CHECKSUM_MISMATCH` if an applied step's SQL changed, `CDR_SCHEMA_LOCK_TIMEOUT`.
 */
export async function migrate(target: DbTarget, options: MigrateOptions = {}): Promise<MigrateResult> {
  const log = toLogCallback(options.logger);
  const { pool, owned } = openPool(target);
  const conn = await pool.getConnection();
  try {
    const [lockRows] = await conn.query<RowDataPacket[]>("SELECT GET_LOCK('callscope_migrate', ?) AS got", [
      options.lockTimeoutS ?? 60,
    ]);
    if (lockRows[0]?.got !== 1) {
      throw new MigrationError(MIGRATION_ERROR.lockTimeout, 'another process holds the callscope_migrate lock');
    }
    try {
      await conn.query(CREATE_MIGRATIONS_TABLE);
      const status = statusOf(await readApplied(conn));
      if (status.too_new) {
        throw new MigrationError(
          MIGRATION_ERROR.schemaTooNew,
          `database schema version ${status.current} is newer than this code's ${LATEST_SCHEMA_VERSION}; upgrade callscope`,
        );
      }
      const bad = status.applied.find((m) => m.checksum_ok === false);
      if (bad !== undefined) {
        throw new MigrationError(
          MIGRATION_ERROR.checksumMismatch,
          `applied migration ${bad.version} (${bad.name}) has checksum ${bad.checksum}, code has a different one`,
        );
      }
      const applied: number[] = [];
      for (const m of MIGRATIONS) {
        if (!status.pending.includes(m.version)) continue;
        log('info', 'applying schema migration', { version: m.version, name: m.name });
        for (const sql of m.statements) await conn.query(sql);
        await conn.query('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, UTC_TIMESTAMP(6))', [
          m.version,
          m.name,
          migrationChecksum(m),
        ]);
        applied.push(m.version);
      }
      const partitionAlters = await ensurePartitions(pool, [], {
        aheadDays: options.partitionDaysAhead ?? 7,
        log,
        ...(options.now ? { now: options.now } : {}),
      });
      return { applied, current: LATEST_SCHEMA_VERSION, partition_alters: partitionAlters };
    } finally {
      await conn.query("SELECT RELEASE_LOCK('callscope_migrate')");
    }
  } finally {
    conn.release();
    if (owned) await pool.end();
  }
}
