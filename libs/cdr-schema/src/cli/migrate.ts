/**
 * `migrate` / `status` / `retention --keep-days N` as a function the sniffer app exposes as a
 * sub-command. No top-level side effects: everything comes in through `argv` and `io`.
 *
 * @packageDocumentation
 */
import { openPool } from '../db-pool.js';
import { LATEST_SCHEMA_VERSION, MigrationError, migrate, migrationStatus } from '../migrations.js';
import { applyRetention } from '../partitions.js';
import { adviceText, adviseServerSettings, readServerSettings } from '../server-check.js';

/** Where the CLI reads its database URL and writes its output. */
export interface MigrateCliIo {
  /** One line of normal output. */
  out: (line: string) => void;
  /** One line of error output. */
  err: (line: string) => void;
  /** Database URL, when not given as `--db <url>` (the app passes its config value). */
  dbUrl?: string;
}

const USAGE = `usage: migrate [--db <mysql-url>] <command>
  migrate                  apply pending schema migrations and create partitions ahead
  status                   show applied and pending migrations
  retention --keep-days N  drop partitions older than N days (today is always kept)`;

/**
 * Runs one command; returns the process exit code (0 ok, 1 failure, 2 usage error).
 * Output is JSON lines on `io.out` for scripts, errors as text on `io.err`.
 */
export async function runMigrateCli(argv: readonly string[], io: MigrateCliIo): Promise<number> {
  const args = [...argv];
  let url = io.dbUrl;
  let keepDays: number | null = null;
  const positional: string[] = [];
  while (args.length > 0) {
    const arg = args.shift()!;
    if (arg === '--db') url = args.shift();
    else if (arg === '--keep-days') {
      const value = args.shift();
      keepDays = value !== undefined && /^\d+$/.test(value) ? Number(value) : Number.NaN;
    } else if (arg === '--help' || arg === '-h') {
      io.out(USAGE);
      return 0;
    } else positional.push(arg);
  }
  const command = positional[0];
  if (positional.length !== 1 || (command !== 'migrate' && command !== 'status' && command !== 'retention')) {
    io.err(USAGE);
    return 2;
  }
  if (url === undefined || url === '') {
    io.err('no database: pass --db <mysql-url>');
    return 2;
  }
  if (command === 'retention' && (keepDays === null || Number.isNaN(keepDays))) {
    io.err('retention needs --keep-days N (a non-negative integer)');
    return 2;
  }
  try {
    const { pool } = openPool(url);
    try {
      if (command === 'status') {
        const status = await migrationStatus(pool);
        const settings = await readServerSettings(pool);
        const advice = adviseServerSettings(settings);
        for (const a of advice) io.err(`warning: ${adviceText(a)}`);
        io.out(
          JSON.stringify({
            current: status.current,
            latest: status.latest,
            pending: status.pending,
            too_new: status.too_new,
            server_settings: settings,
            server_advice: advice.map((a) => a.setting),
          }),
        );
        return status.too_new ? 1 : 0;
      }
      if (command === 'migrate') {
        const result = await migrate(pool, {
          logger: (level, msg, fields) => {
            io.err(`${level}: ${msg} ${JSON.stringify(fields)}`);
          },
        });
        for (const a of adviseServerSettings(await readServerSettings(pool))) io.err(`warning: ${adviceText(a)}`);
        io.out(JSON.stringify(result));
        return 0;
      }
      const status = await migrationStatus(pool);
      if (status.current !== LATEST_SCHEMA_VERSION) {
        io.err(`schema version ${status.current}, expected ${LATEST_SCHEMA_VERSION}: run migrate first`);
        return 1;
      }
      io.out(JSON.stringify(await applyRetention(pool, keepDays!)));
      return 0;
    } finally {
      await pool.end();
    }
  } catch (err) {
    io.err(err instanceof MigrationError ? `${err.code}: ${err.message}` : `error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
