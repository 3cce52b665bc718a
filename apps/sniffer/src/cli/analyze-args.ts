/** `sniffer analyze` command line: files plus options, validated into a plain object. */
export interface AnalyzeArgs {
  files: string[];
  format: 'jsonl' | 'table';
  db: string | null;
  spool: string | null;
  /** Show a progress bar on stderr (default: when stderr is a TTY). */
  progress: boolean | null;
  config: string | null;
  sensor: string | null;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const ANALYZE_USAGE = `usage: sniffer analyze <file.pcap|.pcapng|.gz>... [options]

Reads capture files (pcap, pcapng, gzip-compressed; any link type and tunnel callscope decodes),
follows every SIP call and registration and prints one record per line.

options:
  --format jsonl|table   jsonl (default): one JSON object per call/registration on stdout
                         table: a readable summary for people
  --db <mysql-url>       also write the records to MySQL/MariaDB (e.g. mysql://root@127.0.0.1/callscope)
  --spool <dir>          also keep each call's packets as pcap under <dir>
  --sensor <name>        sensor name written into the records (default from config: sensor1)
  --config <file>        sniffer configuration file (JSON)
  --progress / --no-progress   force the progress bar on stderr on or off (default: on a TTY)

exit codes: 0 done; 1 internal error on some packets (skipped, reported); 2 bad usage; 3 a file could not be read (the others were still analysed);
            4 the database or spool failed`;

/** Parses `analyze` arguments (after the subcommand); throws {@link UsageError} with a message. */
export function parseAnalyzeArgs(argv: readonly string[]): AnalyzeArgs {
  const out: AnalyzeArgs = { files: [], format: 'jsonl', db: null, spool: null, progress: null, config: null, sensor: null };
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const [name, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, null];
    const take = (): string => {
      if (inline !== null) return inline;
      const v = value(i, name);
      i++;
      return v;
    };
    switch (name) {
      case '--format': {
        const f = take();
        if (f !== 'jsonl' && f !== 'table') throw new UsageError(`--format must be jsonl or table, not "${f}"`);
        out.format = f;
        break;
      }
      case '--db':
        out.db = take();
        break;
      case '--spool':
        out.spool = take();
        break;
      case '--sensor':
        out.sensor = take();
        break;
      case '--config':
        out.config = take();
        break;
      case '--progress':
        out.progress = true;
        break;
      case '--no-progress':
        out.progress = false;
        break;
      default:
        if (name.startsWith('-') && name !== '-') throw new UsageError(`unknown option ${name}`);
        out.files.push(a);
    }
  }
  if (out.files.length === 0) throw new UsageError('no capture file given');
  return out;
}
