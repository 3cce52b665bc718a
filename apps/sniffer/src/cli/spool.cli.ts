import { rebuildSpoolIndex, type RebuildSpoolIndexReport } from '@callscope/pcap-store';
import { ConfigError } from '@callscope/runtime';
import { loadSnifferConfig } from '../config.js';
import type { AnalyzeIo } from './analyze.cli.js';
import { UsageError, flagOption, parseCommandArgs, stringOption, wantsHelp, type OptionSpecs } from './command-args.js';
import { ExitCode } from './exit-code.js';

export const SPOOL_USAGE = `usage: sniffer spool fsck [--spool DIR] [options]

Checks the packet spool after a crash and rebuilds what the archives can tell: every minute's
segment archives (seg.<n>.tar) are read header by header, each index (seg.<n>.idx) is rewritten
from the complete members found, and an archive that ends inside a member (a writer killed
mid-write) is cut back to its last complete member. Every complete chunk of every call is then
retrievable (sniffer pcap). Run it while no sniffer writes to the spool.

options (--name=value and --name value both work):
  --spool <dir>    spool directory (default: config spool.dir, var/spool unless set)
  --check          report only: change nothing (exit 4 when something needs repair)
  --json           the report as one JSON object on stdout
  --config <file>  sniffer configuration file (JSON)

exit codes: 0 done (or --check: nothing to repair); 2 bad usage or configuration; 4 --check found
damage, or the spool could not be read or repaired`;

const SPOOL_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h' },
  spool: { type: 'string' },
  check: { type: 'boolean' },
  json: { type: 'boolean' },
  config: { type: 'string' },
};

/** True when the report shows something a repair changes (or changed). */
function needsRepair(r: RebuildSpoolIndexReport): boolean {
  return r.tornSegments > 0 || r.badIndexEntries > 0 || r.tornIndexBytes > 0 || r.indexedBefore !== r.chunks;
}

/** `sniffer spool fsck`: rebuild the segment indexes of a spool and cut torn archive tails. */
export async function runSpool(argv: readonly string[], io: AnalyzeIo): Promise<ExitCode> {
  const say = (msg: string) => io.stderr.write(`${msg}\n`);
  if (wantsHelp(argv)) {
    io.stdout.write(`${SPOOL_USAGE}\n`);
    return ExitCode.Ok;
  }
  let dir: string;
  let check: boolean;
  let json: boolean;
  try {
    const parsed = parseCommandArgs('spool', argv, SPOOL_OPTIONS, true);
    const [sub, ...extra] = parsed.positionals;
    if (sub !== 'fsck') throw new UsageError(sub === undefined ? 'no spool command given' : `unknown spool command "${sub}"`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0] ?? ''}"`);
    const config = stringOption(parsed, 'config');
    dir = stringOption(parsed, 'spool') ?? loadSnifferConfig(config === null ? [] : ['--config', config], io.env).config.spool.dir;
    check = flagOption(parsed, 'check');
    json = flagOption(parsed, 'json');
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      say(`sniffer spool: ${err.message}\n\n${SPOOL_USAGE}`);
      return ExitCode.Usage;
    }
    throw err;
  }
  let report: RebuildSpoolIndexReport;
  try {
    report = await rebuildSpoolIndex(dir, { repair: !check });
  } catch (err) {
    say(`sniffer spool fsck: ${dir}: ${err instanceof Error ? err.message : String(err)}`);
    return ExitCode.Storage;
  }
  if (json) {
    io.stdout.write(`${JSON.stringify({ spool: dir, repaired: !check, ...report })}\n`);
  } else {
    io.stdout.write(
      `${dir}: ${report.minutes} minutes, ${report.segments} segments, ${report.chunks} complete chunks ` +
        `(${report.indexedBefore} were indexed); ${report.tornSegments} torn archive tails (${report.tornTarBytes} bytes${check ? '' : `, ${report.archivesCut} cut`}), ` +
        `${report.badIndexEntries} bad index entries, ${report.tornIndexBytes} torn index bytes; ` +
        `${check ? 'nothing changed (--check)' : `${report.indexesWritten} indexes rewritten`}\n`,
    );
  }
  return check && needsRepair(report) ? ExitCode.Storage : ExitCode.Ok;
}
