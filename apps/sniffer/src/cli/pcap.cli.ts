import { SpoolError, SpoolErrorCode, readCallPcap, type SpoolGroup } from '@callscope/pcap-store';
import { ConfigError } from '@callscope/runtime';
import { loadSnifferConfig } from '../config.js';
import type { AnalyzeIo } from './analyze.cli.js';
import { parseIsoMicros } from '@callscope/cdr-model';
import { UsageError, flagOption, parseCommandArgs, stringOption, wantsHelp, type OptionSpecs } from './command-args.js';
import { ExitCode } from './exit-code.js';

export const PCAP_USAGE = `usage: sniffer pcap --call-id <Call-ID> --start <ISO time with microseconds> [options] > call.pcap

Writes one call's packets from the spool as a single time-ordered pcap on stdout (pcapng when the
call's packets came over several link types). The Call-ID and start are what the CDR stores
("call_id" and "start" of the jsonl record, cdr.call_id and cdr.start in MySQL).

options (--name=value and --name value both work):
  --spool <dir>    spool directory (default: config spool.dir, var/spool unless set)
  --sip            SIP only        --rtp   RTP/RTCP only     (default: both)
  --sensor <name>  only the packets this sensor saw (the CDR's "sensor"; a central sniffer spools
                   calls of several mirrored sensors, which may share a Call-ID and start);
                   default: every sensor's
  --config <file>  sniffer configuration file (JSON)

exit codes: 0 written; 2 bad usage or configuration; 6 no such call in the spool`;

const PCAP_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h' },
  'call-id': { type: 'string' },
  start: { type: 'string' },
  spool: { type: 'string' },
  sip: { type: 'boolean' },
  rtp: { type: 'boolean' },
  sensor: { type: 'string' },
  config: { type: 'string' },
};

/** What `sniffer pcap` was asked for, validated. */
interface PcapArgs {
  callId: string;
  start: string;
  when: { sec: number; usec: number };
  spool: string | null;
  config: string | null;
  kinds: SpoolGroup[];
  sensor: string | null;
}

/** Parses `pcap` arguments (after the subcommand); throws {@link UsageError} with a message. */
export function parsePcapArgs(argv: readonly string[]): PcapArgs {
  const parsed = parseCommandArgs('pcap', argv, PCAP_OPTIONS, false);
  const callId = stringOption(parsed, 'call-id');
  if (callId === null) throw new UsageError('--call-id is required');
  const start = stringOption(parsed, 'start');
  if (start === null) throw new UsageError('--start is required (the "start" of the call\'s record)');
  const when = parseIsoMicros(start);
  if (when === null) throw new UsageError('--start must be an ISO UTC time like 2026-11-29T17:00:00.123456Z');
  const kinds: SpoolGroup[] = [];
  if (flagOption(parsed, 'sip')) kinds.push('sip');
  if (flagOption(parsed, 'rtp')) kinds.push('rtp');
  return { callId, start, when, spool: stringOption(parsed, 'spool'), config: stringOption(parsed, 'config'), kinds, sensor: stringOption(parsed, 'sensor') };
}

/** `sniffer pcap`: one call out of the spool, found from what its CDR stores. */
export async function runPcap(argv: readonly string[], io: AnalyzeIo): Promise<ExitCode> {
  const say = (msg: string) => io.stderr.write(`${msg}\n`);
  if (wantsHelp(argv)) {
    io.stdout.write(`${PCAP_USAGE}\n`);
    return ExitCode.Ok;
  }
  let args: PcapArgs;
  let dir: string;
  try {
    args = parsePcapArgs(argv);
    // The spool is only read here, so the default directory is as good a guess as a configured one.
    dir = args.spool ?? loadSnifferConfig(args.config === null ? [] : ['--config', args.config], io.env).config.spool.dir;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      say(`sniffer pcap: ${err.message}\n\n${PCAP_USAGE}`);
      return ExitCode.Usage;
    }
    throw err;
  }
  const { callId, when, kinds, sensor } = args;
  try {
    const summary = await readCallPcap(dir, { callId, startSec: when.sec, startUsec: when.usec, ...(kinds.length > 0 ? { kinds } : {}), ...(sensor !== null ? { sensor } : {}) }, io.stdout);
    say(
      `${summary.packets} packets from ${summary.chunks} chunk(s) and ${summary.files.length} file(s)` +
        (summary.truncated.length > 0 ? `; cut-off file ends: ${summary.truncated.map((t) => t.path).join(', ')}` : '') +
        (summary.skipped.length > 0 ? `; left out: ${summary.skipped.map((k) => `${k.path}@${k.offset} (${k.reason})`).join(', ')}` : ''),
    );
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof SpoolError && err.code === SpoolErrorCode.CallNotFound) {
      say(`sniffer pcap: no packets of call ${JSON.stringify(callId)} started ${args.start}${sensor !== null ? ` seen by sensor ${JSON.stringify(sensor)}` : ''} in ${dir}`);
      return ExitCode.NoSuchCall;
    }
    throw err;
  }
}
