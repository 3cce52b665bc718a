/**
 * The sensor daemon's heartbeat in the `sensors` table: which version runs, since when, in which
 * state, and its latest stats, so the GUI's sensor list shows a sensor that stopped reporting
 * (`heartbeat` older than a few intervals) without asking each sensor. Columns: schema version 4.
 *
 * @packageDocumentation
 */
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { endPool, openPool, type DbTarget } from './db-pool.js';

/** What one heartbeat says about a sensor. */
export interface SensorHeartbeatRow {
  /** Sensor name (the `sensors` row's natural key, as in every CDR). */
  name: string;
  version: string;
  /** `running`, or `stopped` on the last beat of a clean stop. */
  state: 'running' | 'stopped';
  /** When the daemon started (ISO). */
  started: string;
  /** The daemon's stats document, stored as JSON text. */
  stats: unknown;
}

/** Longest stats JSON stored; a bigger document is replaced by a note (the row must always fit). */
const MAX_STATS_CHARS = 1_000_000;

// A sensor seen only by heartbeats so far gets `first_seen = last_seen = now`; CDRs widen the span.
const SQL_HEARTBEAT = `INSERT INTO sensors (name, first_seen, last_seen, version, started, heartbeat, state, stats)
  VALUES (?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), ?, ?, UTC_TIMESTAMP(6), ?, ?)
  ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), version = VALUES(version), started = VALUES(started),
  heartbeat = VALUES(heartbeat), state = VALUES(state), stats = VALUES(stats)`;

/** An ISO time -> `2026-12-04 10:00:00.123000` (DATETIME(6) literal, UTC, ms precision: a start time needs no more). */
function isoToSql(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new RangeError(`not an ISO time: ${iso}`);
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}000`;
}

/**
 * Writes heartbeats of one sensor; returns the database's id of the sensor. One small pool of its
 * own (one connection), so a heartbeat never queues behind a CDR batch.
 */
export class SensorHeartbeatWriter {
  private readonly pool: Pool;
  private readonly owned: boolean;

  constructor(target: DbTarget) {
    const opened = openPool(target, { connectionLimit: 1 });
    this.pool = opened.pool;
    this.owned = opened.owned;
  }

  /** Upserts the sensor's row; resolves with its `id`. Rejects when the database is unreachable. */
  async beat(row: SensorHeartbeatRow): Promise<number> {
    let stats = JSON.stringify(row.stats);
    if (stats.length > MAX_STATS_CHARS) stats = JSON.stringify({ note: `stats document of ${stats.length} characters not stored` });
    const [res] = await this.pool.execute<ResultSetHeader>(SQL_HEARTBEAT, [row.name, row.version.slice(0, 32), isoToSql(row.started), row.state, stats]);
    return res.insertId;
  }

  /** The stored heartbeat of a sensor, or null (tests, tools). */
  async read(name: string): Promise<{ id: number; version: string | null; state: string | null; heartbeat: string | null; stats: unknown } | null> {
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT id, version, state, heartbeat, stats FROM sensors WHERE name = ?', [name]);
    const r = rows[0];
    if (r === undefined) return null;
    return { id: Number(r.id), version: r.version as string | null, state: r.state as string | null, heartbeat: r.heartbeat as string | null, stats: r.stats === null ? null : (JSON.parse(String(r.stats)) as unknown) };
  }

  async close(): Promise<void> {
    if (this.owned) await endPool(this.pool);
  }
}
