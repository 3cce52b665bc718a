/**
 * callscope sniffer: `analyze` reads capture files (the offline reference), `migrate` manages the
 * CDR schema. Program output goes to stdout, logs and diagnostics to stderr.
 */
import { runAnalyze } from './cli/analyze.cli.js';
import { runConfig } from './cli/config.cli.js';
import { runLive } from './cli/live.cli.js';
import { runPcap } from './cli/pcap.cli.js';

const USAGE = `usage: sniffer <command> [options]

commands:
  analyze <file...>   follow the SIP calls and RTP streams of capture files; one JSON record per
                      call/registration on stdout (sniffer analyze --help)
  live -i <iface>     capture live through libpcap into the same analysis (sniffer live --help)
  pcap --call-id ...  one call's packets from the spool as a pcap on stdout (sniffer pcap --help)
  config              every setting (type, default, environment variable) and the effective,
                      redacted configuration

Run a command with --help for its options.`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'analyze':
      return runAnalyze(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case 'live':
      return runLive(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case 'config':
      return runConfig(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case 'pcap':
      return runPcap(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`sniffer: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

// A promise that never settles would let Node exit with status 0 and nothing said: if the event
// loop empties before the command finished, say so and fail.
let finished = false;
process.once('beforeExit', () => {
  if (!finished) {
    process.stderr.write('sniffer: internal error: the command stopped before finishing (a pending operation never completed)\n');
    process.exitCode = 1;
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
    process.exitCode = 1;
  },
);
