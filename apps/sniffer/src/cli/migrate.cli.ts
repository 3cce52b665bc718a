import { ensureDatabase, runMigrateCli } from '@callscope/cdr-schema';
import { ConfigError, redactUrlPassword } from '@callscope/runtime';
import { loadSnifferConfig } from '../config.js';
import type { AnalyzeIo } from './analyze.cli.js';
import { UsageError, parseCommandArgs, stringOption, wantsHelp, type OptionSpecs } from './command-args.js';
import { ExitCode } from './exit-code.js';
import { resolveOutputTarget } from './output-targets.js';

/** The schema commands of the sniffer: `migrate`, `status` and `retention`. */
export type SchemaCommand = 'migrate' | 'status' | 'retention';

const DB_OPTION_LINES = `  --db <mysql-url>   the CDR database (e.g. mysql://root@127.0.0.1:3306/callscope);
                     default: config db.url when the config file or environment sets it
                     (CALLSCOPE_SNIFFER_DB_URL or CALLSCOPE_DB_URL)
  --config <file>    sniffer configuration file (JSON)`;

export const MIGRATE_USAGE = `usage: sniffer migrate [--db <mysql-url>] [--config <file>]

Creates the database when it is missing, applies the pending schema migrations and creates the
daily partitions ahead. Prints the result as one JSON line on stdout:
{"applied":[versions applied now],"current":version,"partition_alters":n}; progress and warnings
about too small server settings go to stderr. Running it again changes nothing.

options (--name=value and --name value both work):
${DB_OPTION_LINES}

exit codes: 0 migrated (or already up to date); 2 bad usage or configuration, or no database given;
            4 the database failed (unreachable, refused, or a migration failed)`;

export const STATUS_USAGE = `usage: sniffer status [--db <mysql-url>] [--config <file>]

Prints the schema status of the database as one JSON line on stdout: "current" and "latest"
version, "pending" migrations, "too_new" (the database was migrated by a newer callscope),
"server_settings" and "server_advice" (settings below the minimums of README "Database server",
also printed as warnings on stderr). Changes nothing.

options (--name=value and --name value both work):
${DB_OPTION_LINES}

exit codes: 0 printed; 2 bad usage or configuration, or no database given; 4 the database failed
            (unreachable, missing, refused) or its schema is newer than this sniffer`;

export const RETENTION_USAGE = `usage: sniffer retention --keep-days <N> [--db <mysql-url>] [--config <file>]

Keeps today and the N days before it: drops every older daily partition of the CDR tables and
deletes older rows from the catch-all partition. Prints one JSON line on stdout:
{"dropped":["table.partition",...],"deletedRows":n,"cutoff":"YYYY-MM-DD" (first day kept)}.
The schema must be migrated first (sniffer migrate).

options (--name=value and --name value both work):
  --keep-days <N>    days to keep before today (a non-negative integer; 0 keeps today only)
${DB_OPTION_LINES}

exit codes: 0 done; 2 bad usage or configuration, or no database given; 4 the database failed
            (unreachable, refused, or its schema is not at the latest version)`;

const USAGE: Readonly<Record<SchemaCommand, string>> = { migrate: MIGRATE_USAGE, status: STATUS_USAGE, retention: RETENTION_USAGE };

const DB_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h' },
  db: { type: 'string' },
  config: { type: 'string' },
};
const RETENTION_OPTIONS: OptionSpecs = { ...DB_OPTIONS, 'keep-days': { type: 'string' } };

/** What a schema command was asked for, validated. */
interface SchemaArgs {
  url: string;
  /** The database came from config `db.url`, not from `--db`. */
  fromConfig: boolean;
  /** `retention`: days to keep before today. */
  keepDays: number | null;
}

/** Parses the arguments (after the command) and finds the database; throws UsageError or ConfigError. */
function parseSchemaArgs(command: SchemaCommand, argv: readonly string[], env: AnalyzeIo['env']): SchemaArgs {
  const parsed = parseCommandArgs(command, argv, command === 'retention' ? RETENTION_OPTIONS : DB_OPTIONS, false);
  let keepDays: number | null = null;
  if (command === 'retention') {
    const text = stringOption(parsed, 'keep-days');
    if (text === null) throw new UsageError('--keep-days is required');
    if (!/^\d{1,6}$/.test(text)) throw new UsageError(`--keep-days must be a non-negative integer of days, not "${text}"`);
    keepDays = Number(text);
  }
  const config = stringOption(parsed, 'config');
  // The config is read (and so checked) even with --db: a broken config file is reported, as by analyze.
  const loaded = loadSnifferConfig(config === null ? [] : ['--config', config], env);
  const target = resolveOutputTarget(stringOption(parsed, 'db'), false, 'db.url', loaded);
  if (target === null) {
    throw new UsageError('no database: pass --db <mysql-url>, or set db.url in the config file or CALLSCOPE_SNIFFER_DB_URL / CALLSCOPE_DB_URL');
  }
  let url: URL;
  try {
    url = new URL(target.value);
  } catch {
    throw new UsageError(`the database URL "${redactUrlPassword(target.value)}" is not a URL (mysql://user:password@host:port/database)`);
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new UsageError(`the database URL must start with mysql:// or mariadb://, not ${url.protocol}//`);
  }
  if (url.pathname.replace(/^\//, '') === '') {
    throw new UsageError(`the database URL ${redactUrlPassword(target.value)} names no database (mysql://host:port/<database>)`);
  }
  return { url: target.value, fromConfig: target.from === 'config', keepDays };
}

/** runMigrateCli's results (0 ok, 1 failure, 2 usage) as sniffer exit codes. */
function exitCodeOf(code: number): ExitCode {
  if (code === 0) return ExitCode.Ok;
  if (code === 2) return ExitCode.Usage;
  if (code === 1) return ExitCode.Storage;
  return ExitCode.InternalError;
}

/**
 * `sniffer migrate`, `sniffer status`, `sniffer retention --keep-days N`: the schema commands of
 * `@callscope/cdr-schema` ({@link runMigrateCli}) on the database of `--db` or config `db.url`.
 * `migrate` first creates the database when it is missing, so a new server can be set up with it.
 */
export async function runSchemaCommand(command: SchemaCommand, argv: readonly string[], io: AnalyzeIo): Promise<ExitCode> {
  const say = (msg: string) => io.stderr.write(`sniffer ${command}: ${msg}\n`);
  if (wantsHelp(argv)) {
    io.stdout.write(`${USAGE[command]}\n`);
    return ExitCode.Ok;
  }
  let args: SchemaArgs;
  try {
    args = parseSchemaArgs(command, argv, io.env);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      say(`${err.message}\n\n${USAGE[command]}`);
      return ExitCode.Usage;
    }
    throw err;
  }
  const shown = redactUrlPassword(args.url);
  if (args.fromConfig) say(`database ${shown} (config db.url)`);
  if (command === 'migrate') {
    try {
      await ensureDatabase(args.url);
    } catch (err) {
      say(`database ${shown}: ${err instanceof Error ? err.message : String(err)}`);
      return ExitCode.Storage;
    }
  }
  const code = await runMigrateCli([command, ...(args.keepDays === null ? [] : ['--keep-days', String(args.keepDays)])], {
    out: (line) => io.stdout.write(`${line}\n`),
    err: (line) => {
      say(line);
    },
    dbUrl: args.url,
  });
  return exitCodeOf(code);
}
