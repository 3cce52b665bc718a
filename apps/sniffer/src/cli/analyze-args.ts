import { UsageError, lastOfPair, flagOption, parseCommandArgs, stringOption, type OptionSpecs } from './command-args.js';

/** `sniffer analyze` command line: files plus options, validated into a plain object. */
export interface AnalyzeArgs {
  files: string[];
  format: 'jsonl' | 'table';
  /** `--db <url>`, else null (then config `db.url` applies when set, unless {@link noDb}). */
  db: string | null;
  noDb: boolean;
  /** `--spool <dir>`, else null (then config `spool.dir` applies when set, unless {@link noSpool}). */
  spool: string | null;
  noSpool: boolean;
  /** `--spool-retention`: apply config spool.maxSizeGb/maxAgeDays to the spool (off by default). */
  spoolRetention: boolean;
  /** Show a progress bar on stderr (default: when stderr is a TTY). */
  progress: boolean | null;
  config: string | null;
  sensor: string | null;
  /** `--stats <file>`: write every counter of the run as one JSON object there (`-`: stderr). */
  stats: string | null;
  /** `--queue-dir <dir>`: the CDR queue, else config `db.queueDir`. */
  queueDir: string | null;
  /** `--db-wait <s>`: how long to wait for the database at the end, else config `db.waitS`. */
  dbWaitS: number | null;
}

export const ANALYZE_USAGE = `usage: sniffer analyze <file.pcap|.pcapng|.gz>... [options]

Reads capture files (pcap, pcapng, gzip-compressed; any link type and tunnel callscope decodes),
follows every SIP call and registration and prints one record per line.

options (--name=value and --name value both work):
  --format jsonl|table   jsonl (default): one JSON object per call/registration on stdout
                         table: a readable summary for people
  --db <mysql-url>       also write the records to MySQL/MariaDB (e.g. mysql://root@127.0.0.1/callscope);
                         default: config db.url when the config file or environment sets it
  --no-db                write no database even if the config sets db.url
  --queue-dir <dir>      on-disk queue for records the database cannot take yet (default: config
                         db.queueDir, var/cdr-queue under the current directory); one run per queue
  --db-wait <seconds>    at the end, wait this long for the database to take the queued records
                         (default: config db.waitS, 60; 0: do not wait); the database may also be
                         down at the start: records wait in the queue and are delivered when it appears
  --spool <dir>          also keep each call's packets as pcap under <dir>;
                         default: config spool.dir when the config file or environment sets it
  --no-spool             keep no packets even if the config sets spool.dir
  --spool-retention      delete the oldest spooled calls beyond config spool.maxSizeGb/maxAgeDays
                         (age on packet time); off by default: analyze keeps all it writes
  --sensor <name>        sensor name written into the records (default from config: sensor1)
  --config <file>        sniffer configuration file (JSON)
  --progress / --no-progress   force the progress bar on stderr on or off (default: on a TTY)
  --stats <file>         write every counter of the run (what became of each packet, by reason;
                         capture damage; spool and database; seconds per phase: setup, packets, the
                         calls still open at the end, spool and database closing; CPU seconds of the
                         process, the packet thread and the spool's writer thread) as one JSON object
                         to <file> (- : stderr)

exit codes: 0 done (with --db: every record in the database); 1 internal error on some packets (skipped,
            reported); 2 bad usage or configuration; 3 a file could not be read (the others were still
            analysed); 4 the database or spool failed: records lost (the summary says how many and why),
            or the queue is another run's or another database's; 8 records wait in the queue (none
            lost; the summary says how many and where)`;

const ANALYZE_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h' },
  format: { type: 'string' },
  db: { type: 'string' },
  'no-db': { type: 'boolean' },
  spool: { type: 'string' },
  'no-spool': { type: 'boolean' },
  'spool-retention': { type: 'boolean' },
  sensor: { type: 'string' },
  config: { type: 'string' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  stats: { type: 'string' },
  'queue-dir': { type: 'string' },
  'db-wait': { type: 'string' },
};

/** Parses `analyze` arguments (after the subcommand); throws {@link UsageError} with a message. */
export function parseAnalyzeArgs(argv: readonly string[]): AnalyzeArgs {
  const parsed = parseCommandArgs('analyze', argv, ANALYZE_OPTIONS, true);
  const format = stringOption(parsed, 'format') ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'table') throw new UsageError(`--format must be jsonl or table, not "${format}"`);
  const out: AnalyzeArgs = {
    files: [...parsed.positionals],
    format,
    db: stringOption(parsed, 'db'),
    noDb: flagOption(parsed, 'no-db'),
    spool: stringOption(parsed, 'spool'),
    noSpool: flagOption(parsed, 'no-spool'),
    spoolRetention: flagOption(parsed, 'spool-retention'),
    progress: lastOfPair(parsed, 'progress', 'no-progress'),
    config: stringOption(parsed, 'config'),
    sensor: stringOption(parsed, 'sensor'),
    stats: stringOption(parsed, 'stats'),
    queueDir: stringOption(parsed, 'queue-dir'),
    dbWaitS: null,
  };
  const wait = stringOption(parsed, 'db-wait');
  if (wait !== null) {
    if (!/^\d+(\.\d+)?$/.test(wait)) throw new UsageError(`--db-wait must be a number of seconds, not "${wait}"`);
    out.dbWaitS = Number(wait);
  }
  if (out.db !== null && out.noDb) throw new UsageError('--db and --no-db contradict each other');
  if (out.spool !== null && out.noSpool) throw new UsageError('--spool and --no-spool contradict each other');
  if (out.spoolRetention && out.noSpool) throw new UsageError('--spool-retention needs a spool, not --no-spool');
  if (out.files.length === 0) throw new UsageError('no capture file given');
  return out;
}
