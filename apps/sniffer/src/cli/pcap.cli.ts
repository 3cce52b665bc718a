import { SpoolError, SpoolErrorCode, readCallPcap, type SpoolGroup } from '@callscope/pcap-store';
import { loadSnifferConfig } from '../config.js';
import type { AnalyzeIo } from './analyze.cli.js';
import { parseIsoMicros } from '@callscope/cdr-model';

export const PCAP_USAGE = `usage: sniffer pcap --call-id <Call-ID> --start <ISO time with microseconds> [options] > call.pcap

Writes one call's packets from the spool as a single time-ordered pcap on stdout (pcapng when the
call's packets came over several link types). The Call-ID and start are what the CDR stores
("call_id" and "start" of the jsonl record, cdr.call_id and cdr.start in MySQL).

options:
  --spool <dir>    spool directory (default: config spool.dir)
  --sip            SIP only        --rtp   RTP/RTCP only     (default: both)
  --config <file>  sniffer configuration file (JSON)

exit codes: 0 written; 2 bad usage; 6 no such call in the spool`;

/** `sniffer pcap`: one call out of the spool, found from what its CDR stores. */
export async function runPcap(argv: readonly string[], io: AnalyzeIo): Promise<number> {
  const say = (msg: string) => io.stderr.write(`${msg}\n`);
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${PCAP_USAGE}\n`);
    return 0;
  }
  let callId: string | null = null;
  let start: string | null = null;
  let spoolDir: string | null = null;
  let configFile: string | null = null;
  const kinds: SpoolGroup[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => argv[++i] ?? '';
    if (a === '--call-id') callId = value();
    else if (a === '--start') start = value();
    else if (a === '--spool') spoolDir = value();
    else if (a === '--config') configFile = value();
    else if (a === '--sip') kinds.push('sip');
    else if (a === '--rtp') kinds.push('rtp');
    else {
      say(`sniffer pcap: unknown argument ${a}\n\n${PCAP_USAGE}`);
      return 2;
    }
  }
  const when = start === null ? null : parseIsoMicros(start);
  if (callId === null || when === null) {
    say(`sniffer pcap: ${callId === null ? '--call-id is required' : '--start must be an ISO UTC time like 2026-11-29T17:00:00.123456Z'}\n\n${PCAP_USAGE}`);
    return 2;
  }
  const dir = spoolDir ?? loadSnifferConfig(configFile === null ? [] : ['--config', configFile], io.env).config.spool.dir;
  try {
    const summary = await readCallPcap(dir, { callId, startSec: when.sec, startUsec: when.usec, ...(kinds.length > 0 ? { kinds } : {}) }, io.stdout);
    say(`${summary.packets} packets from ${summary.files.length} file(s)` + (summary.truncated.length > 0 ? `; cut-off file ends: ${summary.truncated.map((t) => t.path).join(', ')}` : ''));
    return 0;
  } catch (err) {
    if (err instanceof SpoolError && err.code === SpoolErrorCode.CallNotFound) {
      say(`sniffer pcap: no packets of call ${JSON.stringify(callId)} started ${start ?? ''} in ${dir}`);
      return 6;
    }
    throw err;
  }
}
