import { ConfigError } from '@callscope/runtime';
import { loadSnifferConfig } from '../config.js';
import { requestControl } from '../daemon/control-server.js';
import type { AnalyzeIo } from './analyze.cli.js';
import { UsageError, parseCommandArgs, stringOption, wantsHelp, type OptionSpecs } from './command-args.js';
import { ExitCode } from './exit-code.js';

export const STATS_USAGE = `usage: sniffer stats [--control PATH] [--calls | --call CALL-ID] [--config FILE]

Asks the running sensor daemon ("sniffer run") on its control socket and prints one JSON object:
its stats (sources with received packets and drops, open calls, CDR and spool queues, every drop
and refusal by reason), or with --calls the calls in progress with their live quality, or with
--call one call in progress.

options:
  --control <path>   the daemon's control socket (default: config daemon.control)
  --calls            list the calls in progress
  --call <Call-ID>   one call in progress
  --config <file>    sniffer configuration file (JSON)

exit codes: 0 printed; 2 bad usage; 6 no such call in progress; 7 no daemon answers on the socket`;

const STATS_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h' },
  control: { type: 'string' },
  calls: { type: 'boolean' },
  call: { type: 'string' },
  config: { type: 'string' },
};

/** `sniffer stats`: one JSON object from the running daemon. */
export async function runStats(argv: readonly string[], io: AnalyzeIo): Promise<ExitCode> {
  const say = (msg: string) => io.stderr.write(`${msg}\n`);
  if (wantsHelp(argv)) {
    io.stdout.write(`${STATS_USAGE}\n`);
    return ExitCode.Ok;
  }
  let path: string;
  let route = '/stats';
  try {
    const p = parseCommandArgs('stats', argv, STATS_OPTIONS, false);
    const config = stringOption(p, 'config');
    path = stringOption(p, 'control') ?? loadSnifferConfig(config === null ? [] : ['--config', config], io.env).config.daemon.control;
    const call = stringOption(p, 'call');
    if (p.values.calls === true && call !== null) throw new UsageError('--calls and --call exclude each other');
    if (p.values.calls === true) route = '/calls/active?limit=10000';
    if (call !== null) route = `/calls/active/${encodeURIComponent(call)}`;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      say(`sniffer stats: ${err.message}\n\n${STATS_USAGE}`);
      return ExitCode.Usage;
    }
    throw err;
  }
  let answer: { status: number; body: unknown };
  try {
    answer = await requestControl(path, route);
  } catch (err) {
    say(`sniffer stats: ${err instanceof Error ? err.message : String(err)}`);
    return ExitCode.NoDaemon;
  }
  if (answer.status === 404 && route.startsWith('/calls/active/')) {
    say('sniffer stats: no call in progress has this Call-ID (finished calls are in the CDRs)');
    return ExitCode.NoSuchCall;
  }
  if (answer.status !== 200) {
    say(`sniffer stats: the daemon answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return ExitCode.InternalError;
  }
  io.stdout.write(`${JSON.stringify(answer.body)}\n`);
  return ExitCode.Ok;
}
