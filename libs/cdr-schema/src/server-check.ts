/**
 * The database server settings the CDR path depends on, and advice when they are too small.
 *
 * Why: every CDR inserts into six secondary indexes of `cdr` whose keys (Call-ID, caller and
 * called numbers, forwards and reversed) arrive in random order, so each insert touches a random
 * leaf page of each. Once those indexes outgrow InnoDB's buffer pool, inserts wait on disk reads
 * and the writer falls behind. Measured with the CDR benchmark at 1,000,000 CDRs over one day
 * (libs/cdr-schema/bench): with MariaDB's default 128 MiB pool the sustained rate fell to
 * about 4,800 CDR/s (146 µs of server CPU per CDR); with 3 GiB it stayed at 13,400 CDR/s on the
 * same, busy, machine (62 µs). A redo log much smaller than the insert volume forces frequent
 * checkpoints (96 MiB instead of 1 GiB: about 10% more server CPU per CDR).
 *
 * The writer logs this advice once; `migrate` and `status` print it. Nothing here changes the
 * server: its settings belong to whoever runs it.
 *
 * @packageDocumentation
 */
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';

/** The settings read from the server, in bytes. `null` when the server does not have one. */
export interface ServerSettings {
  innodb_buffer_pool_size: number | null;
  innodb_log_file_size: number | null;
}

/** One piece of advice: a setting below what the CDR path needs. */
export interface ServerAdvice {
  setting: keyof ServerSettings;
  /** Current value, bytes. */
  value: number;
  /** What it should at least be, bytes. */
  minimum: number;
  /** Why, in one sentence, for a log line. */
  why: string;
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** The minimums {@link adviseServerSettings} checks, bytes. */
export const SERVER_MINIMUMS: Readonly<Record<keyof ServerSettings, number>> = {
  innodb_buffer_pool_size: GIB,
  innodb_log_file_size: 512 * MIB,
};

const WHY: Readonly<Record<keyof ServerSettings, string>> = {
  innodb_buffer_pool_size:
    'the cdr indexes of a busy day outgrow it and inserts then wait on disk reads (about 4x slower at 1 M CDRs a day); give it at least 1 GiB, ideally half the memory of a dedicated database host',
  innodb_log_file_size: 'a redo log much smaller than the insert volume forces frequent checkpoints; 512 MiB to 2 GiB suits a CDR database',
};

/** Advice for every setting below its minimum (pure). */
export function adviseServerSettings(settings: ServerSettings): ServerAdvice[] {
  const out: ServerAdvice[] = [];
  for (const setting of Object.keys(SERVER_MINIMUMS) as (keyof ServerSettings)[]) {
    const value = settings[setting];
    const minimum = SERVER_MINIMUMS[setting];
    if (value !== null && value < minimum) out.push({ setting, value, minimum, why: WHY[setting] });
  }
  return out;
}

/** `1073741824` -> `1 GiB`, `100663296` -> `96 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= GIB && bytes % (GIB / 4) === 0) return `${bytes / GIB} GiB`;
  return `${Math.round(bytes / MIB)} MiB`;
}

/** One log line's text for a piece of advice. */
export function adviceText(a: ServerAdvice): string {
  return `${a.setting} is ${formatBytes(a.value)}: ${a.why}`;
}

interface SettingRow extends RowDataPacket {
  v: number | string | null;
}

/** MySQL/MariaDB error number of an unknown system variable. */
const ER_UNKNOWN_SYSTEM_VARIABLE = 1193;

/**
 * Reads the settings from the server (MariaDB or MySQL; a variable the server does not have reads
 * as null).
 *
 * @throws the driver's error for anything else (connection lost, access denied).
 */
export async function readServerSettings(db: Pool | PoolConnection): Promise<ServerSettings> {
  // Each variable on its own: selecting an unknown one fails the whole statement.
  const read = async (name: keyof ServerSettings): Promise<number | null> => {
    try {
      const [rows] = await db.query<SettingRow[]>(`SELECT @@${name} AS v`);
      const v = rows[0]?.v;
      return v === null || v === undefined ? null : Number(v);
    } catch (err) {
      if ((err as { errno?: unknown }).errno === ER_UNKNOWN_SYSTEM_VARIABLE) return null;
      throw err;
    }
  };
  return {
    innodb_buffer_pool_size: await read('innodb_buffer_pool_size'),
    innodb_log_file_size: await read('innodb_log_file_size'),
  };
}
