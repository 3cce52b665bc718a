import { ConfigError, createLogger, redactUrlPassword } from '@callscope/runtime';
import { LiveCapture, LiveCaptureUnavailable, loadCap } from '../capture/live-capture.js';
import { loadSnifferConfig } from '../config.js';
import type { CdrSink } from '../output/cdr-sink.js';
import { LineOutput } from '../output/line-output.js';
import { PacketPipeline } from '@callscope/call-engine';
import { openCdrSink, openSpool, pipelineOptionsFrom, type AnalyzeIo } from './analyze.cli.js';
import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';

export const LIVE_USAGE = `usage: sniffer live [-i <interface>]... [options]

Captures live (libpcap) and runs the same analysis as "analyze": one JSON record per finished
call/registration on stdout, CDRs to MySQL with --db. Stops on SIGINT/SIGTERM (or --duration),
closing every open call.

options:
  -i, --interface <name>   interface to capture on (repeatable; default: config "interfaces")
  --filter <bpf>           capture filter (default: config "bpfFilter")
  --db <mysql-url>         write CDRs to MySQL/MariaDB
  --spool <dir>            keep each call's packets as pcap under <dir> (mode, compression and
                           limits from config spool.*; live capture never waits: drops are counted)
  --sensor <name>          sensor name (default: config sensor.name)
  --config <file>          sniffer configuration file (JSON)
  --duration <seconds>     stop by itself after this long
  --quiet                  no jsonl on stdout (with --db)

exit codes: 0 stopped; 2 bad usage or configuration; 5 live capture unavailable (says why);
            4 the database failed`;

interface LiveArgs {
  interfaces: string[];
  filter: string | null;
  db: string | null;
  spool: string | null;
  sensor: string | null;
  config: string | null;
  durationS: number | null;
  quiet: boolean;
}

function parseLiveArgs(argv: readonly string[]): LiveArgs {
  const a: LiveArgs = { interfaces: [], filter: null, db: null, spool: null, sensor: null, config: null, durationS: null, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new ConfigErrorLike(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '-i':
      case '--interface':
        a.interfaces.push(value());
        break;
      case '--filter':
        a.filter = value();
        break;
      case '--db':
        a.db = value();
        break;
      case '--spool':
        a.spool = value();
        break;
      case '--sensor':
        a.sensor = value();
        break;
      case '--config':
        a.config = value();
        break;
      case '--duration': {
        const d = Number(value());
        if (!(d > 0)) throw new ConfigErrorLike('--duration must be a positive number of seconds');
        a.durationS = d;
        break;
      }
      case '--quiet':
        a.quiet = true;
        break;
      default:
        throw new ConfigErrorLike(`unknown argument ${name}`);
    }
  }
  return a;
}

class ConfigErrorLike extends Error {}

/** `sniffer live`: libpcap capture into the same pipeline as `analyze`. */
export async function runLive(argv: readonly string[], io: AnalyzeIo & { signals?: NodeJS.EventEmitter }): Promise<number> {
  const say = (msg: string) => io.stderr.write(`${msg}\n`);
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${LIVE_USAGE}\n`);
    return 0;
  }
  let args: LiveArgs;
  let config;
  try {
    args = parseLiveArgs(argv);
    config = loadSnifferConfig(args.config === null ? [] : ['--config', args.config], io.env).config;
  } catch (err) {
    if (err instanceof ConfigErrorLike || err instanceof ConfigError) {
      say(`sniffer live: ${err.message}\n\n${LIVE_USAGE}`);
      return 2;
    }
    throw err;
  }
  const interfaces = args.interfaces.length > 0 ? args.interfaces : [...config.interfaces];
  if (interfaces.length === 0) {
    say(`sniffer live: no interface given (-i <name> or config "interfaces")\n\n${LIVE_USAGE}`);
    return 2;
  }
  const logger = createLogger({ app: 'sniffer', level: config.log.level, pretty: config.log.pretty || io.stderr.isTTY === true, destination: io.stderr });
  let cap;
  try {
    cap = loadCap();
  } catch (err) {
    say(`sniffer live: ${(err as Error).message}`);
    return 5;
  }
  const sensor = args.sensor ?? config.sensor.name;
  let db: CdrSink | null = null;
  if (args.db !== null) {
    try {
      db = await openCdrSink(config, args.db, logger);
    } catch (err) {
      say(`sniffer live: database ${redactUrlPassword(args.db)}: ${err instanceof Error ? err.message : String(err)}`);
      return 4;
    }
  }
  const out = args.quiet ? null : new LineOutput(io.stdout);
  const emit = (r: CallRecord | RegisterRecord) => {
    db?.push(r);
    out?.push(JSON.stringify(r));
  };
  const spool = args.spool === null ? null : openSpool(config, args.spool, logger);
  const pipeline = new PacketPipeline(pipelineOptionsFrom(config, sensor), { onCall: emit, onRegister: emit }, spool);
  const captures: LiveCapture[] = [];
  try {
    for (const iface of interfaces) {
      captures.push(
        new LiveCapture(iface, args.filter ?? config.bpfFilter, 262_144, 64 * 1024 * 1024, (rec) => {
          pipeline.onPacket(rec);
        }, cap),
      );
    }
  } catch (err) {
    for (const c of captures) c.close();
    say(`sniffer live: ${err instanceof LiveCaptureUnavailable ? err.message : String(err)}`);
    return 5;
  }
  logger.info({ interfaces, sensor, db: args.db === null ? null : redactUrlPassword(args.db) }, 'live capture started');

  // Calls time out on packet time; on an idle link the wall clock moves it on. Output is flushed
  // on the same beat so records appear within a second of their call closing.
  const ticker = setInterval(() => {
    pipeline.tick(Date.now() * 1000);
    void out?.flush();
  }, 1000);
  let statsBeat = 0;
  const stop = new Promise<void>((resolve) => {
    const signals = io.signals ?? process;
    signals.once('SIGINT', resolve);
    signals.once('SIGTERM', resolve);
    if (args.durationS !== null) setTimeout(resolve, args.durationS * 1000);
  });
  const statsTimer = setInterval(() => {
    statsBeat++;
    logger.info(
      { captures: captures.map((c) => c.stats), openCalls: pipeline.calls.openCalls, counters: pipeline.calls.counters, spool: spool?.stats() ?? null },
      'capture stats',
    );
  }, 10_000);
  await stop;
  clearInterval(ticker);
  clearInterval(statsTimer);
  for (const c of captures) c.close();
  pipeline.finish();
  await out?.flush();
  if (spool !== null) {
    await spool.close();
    logger.info({ spool: spool.stats() }, 'spool closed');
  }
  if (pipeline.counters.internalErrors > 0) {
    logger.error({ count: pipeline.counters.internalErrors, err: pipeline.firstInternalError }, 'internal errors while processing packets (packets skipped)');
  }
  logger.info({ captures: captures.map((c) => c.stats), statsBeat, counters: pipeline.calls.counters }, 'live capture stopped');
  if (db !== null) {
    const stats = await db.close();
    say(`database: ${stats.written} records written` + (db.failed > 0 ? `, ${db.failed} could not be stored` : ''));
    if (db.failed > 0) return 4;
  }
  return 0;
}
