/**
 * callscope sniffer: `analyze` reads capture files (the offline reference), `run` is the sensor
 * daemon, `stats` asks it how it does, `live` captures through libpcap in the foreground, `pcap`
 * fetches one call from the spool, `spool fsck` repairs it after a crash, `config` prints the settings, `queue` shows and replays the
 * on-disk CDR queue, `migrate`/`status`/`retention` manage the database schema. Program output
 * goes to stdout, logs and diagnostics to stderr; exit codes come from {@link ExitCode}.
 */
import { runAnalyze } from './cli/analyze.cli.js';
import { runConfig } from './cli/config.cli.js';
import { runLive } from './cli/live.cli.js';
import { runSchemaCommand } from './cli/migrate.cli.js';
import { runPcap } from './cli/pcap.cli.js';
import { runQueue } from './cli/queue.cli.js';
import { runSpool } from './cli/spool.cli.js';
import { runDaemon } from './cli/run.cli.js';
import { runStats } from './cli/stats.cli.js';
import { ExitCode } from './cli/exit-code.js';

const USAGE = `usage: sniffer <command> [options]

commands:
  analyze <file...>   follow the SIP calls and RTP streams of capture files; one JSON record per
                      call/registration on stdout (sniffer analyze --help)
  run                 the sensor daemon: interfaces, HEP collector, replayed files -> CDRs, spool,
                      control socket; stops cleanly on SIGTERM (sniffer run --help)
  stats               one JSON object from the running daemon: sources, drops, calls, queues
                      (sniffer stats --help)
  live -i <iface>     capture live through libpcap into the same analysis (sniffer live --help)
  pcap --call-id ...  one call's packets from the spool as a pcap on stdout (sniffer pcap --help)
  spool fsck          rebuild the spool's indexes from its archives after a crash, cut torn tails
                      (sniffer spool --help)
  config              every setting (type, default, environment variable) and the effective,
                      redacted configuration
  migrate             create the CDR database if missing and apply pending schema migrations
                      (--db <mysql-url> or config db.url; sniffer migrate --help)
  status              the database's schema status as one JSON line (sniffer status --help)
  retention --keep-days N   drop CDR partitions older than N days (sniffer retention --help)
  queue status|verify|replay   the on-disk CDR queue (records waiting while the database cannot take
                      them): what it holds, whether it is intact, deliver it now (sniffer queue --help)

Run a command with --help for its options. Every option takes --name=value or --name value.

exit codes (all commands): 0 ok; 1 internal error; 2 bad usage or configuration; 3 a capture file
could not be read; 4 the database or spool failed (records lost, or the CDR queue refused); 5 live
capture unavailable; 6 no such call; 7 no daemon answers on the control socket; 8 records wait in the
on-disk CDR queue (nothing lost, not all in the database yet)`;

async function main(argv: readonly string[]): Promise<ExitCode> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'analyze':
      return runAnalyze(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case 'live':
      return runLive(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case 'run':
      return runDaemon(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case 'stats':
      return runStats(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case 'config':
      return runConfig(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case 'pcap':
      return runPcap(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case 'spool':
      return runSpool(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case 'queue':
      return runQueue(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case 'migrate':
    case 'status':
    case 'retention':
      return runSchemaCommand(command, rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case undefined:
      process.stderr.write(`sniffer: no command given\n\n${USAGE}\n`);
      return ExitCode.Usage;
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return ExitCode.Ok;
    default:
      process.stderr.write(`sniffer: unknown command "${command}"\n\n${USAGE}\n`);
      return ExitCode.Usage;
  }
}

// The reader of stdout went away (`sniffer config | head`, `analyze ... | head -1`): what it
// wanted it has, so stop quietly, as Unix tools do on SIGPIPE, instead of dying on an unhandled
// EPIPE stack. Any other stdout error is a real failure and stays loud.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(ExitCode.Ok);
});

// A promise that never settles would let Node exit with status 0 and nothing said: if the event
// loop empties before the command finished, say so and fail.
let finished = false;
process.once('beforeExit', () => {
  if (!finished) {
    process.stderr.write('sniffer: internal error: the command stopped before finishing (a pending operation never completed)\n');
    process.exitCode = ExitCode.InternalError;
  }
});

main(process.argv.slice(2)).then(
  (code) => {
    finished = true;
    process.exitCode = code;
  },
  (err: unknown) => {
    finished = true;
    process.stderr.write(`sniffer: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = ExitCode.InternalError;
  },
);
