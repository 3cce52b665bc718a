import { ConfigError, createLogger, redactUrlPassword } from '@callscope/runtime';
import { LiveCapture, loadLiveCaptureBinding } from '@callscope/live-capture';
import { interfaceFilter } from '../sources/interface-source.js';
import { loadSnifferConfig, type LoadedSnifferConfig } from '../config.js';
import { describeDelivery, type CdrSink } from '../output/cdr-sink.js';
import { LineOutput } from '../output/line-output.js';
import { PacketPipeline } from '@callscope/call-engine';
import { openCdrSink, openSpool, pipelineOptionsFrom, type AnalyzeIo } from './analyze.cli.js';
import { UsageError, flagOption, parseCommandArgs, stringListOption, stringOption, wantsHelp, type OptionSpecs } from './command-args.js';
import { ExitCode } from './exit-code.js';
import { describeConfigTarget, resolveOutputTarget } from './output-targets.js';
import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';

export const LIVE_USAGE = `usage: sniffer live [-i <interface>]... [options]

Captures live (libpcap) and runs the same analysis as "analyze": one JSON record per finished
call/registration on stdout, CDRs to MySQL with --db. Stops on SIGINT/SIGTERM (or --duration),
closing every open call.

options (--name=value and --name value both work):
  -i, --interface <name>   interface to capture on (repeatable; default: config "interfaces")
  --filter <bpf>           capture filter (default: config "bpfFilter"; --filter= captures everything)
  --db <mysql-url>         write CDRs to MySQL/MariaDB (default: config db.url when the config file
                           or environment sets it)
  --no-db                  write no database even if the config sets db.url
  --queue-dir <dir>        on-disk queue for CDRs the database cannot take yet (default: config
                           db.queueDir); the database may be down at start: CDRs wait there
  --spool <dir>            keep each call's packets as pcap under <dir> (default: config spool.dir
                           when set there; mode, compression and retention limits from config
                           spool.*; live capture never waits: drops are counted)
  --no-spool               keep no packets even if the config sets spool.dir
  --sensor <name>          sensor name (default: config sensor.name)
  --config <file>          sniffer configuration file (JSON)
  --duration <seconds>     stop by itself after this long
  --quiet                  no jsonl on stdout (with --db)

exit codes: 0 stopped; 2 bad usage or configuration; 4 CDRs lost, or the queue is another
            writer's or another database's;
            5 live capture unavailable (says why)`;

interface LiveArgs {
  interfaces: string[];
  filter: string | null;
  db: string | null;
  noDb: boolean;
  spool: string | null;
  noSpool: boolean;
  sensor: string | null;
  config: string | null;
  durationS: number | null;
  quiet: boolean;
  queueDir: string | null;
}

const LIVE_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h' },
  interface: { type: 'string', short: 'i', multiple: true },
  filter: { type: 'string', allowEmpty: true },
  db: { type: 'string' },
  'no-db': { type: 'boolean' },
  spool: { type: 'string' },
  'no-spool': { type: 'boolean' },
  sensor: { type: 'string' },
  config: { type: 'string' },
  duration: { type: 'string' },
  quiet: { type: 'boolean' },
  'queue-dir': { type: 'string' },
};

/** Parses `live` arguments (after the subcommand); throws {@link UsageError} with a message. */
export function parseLiveArgs(argv: readonly string[]): LiveArgs {
  const parsed = parseCommandArgs('live', argv, LIVE_OPTIONS, false);
  const duration = stringOption(parsed, 'duration');
  const durationS = duration === null ? null : Number(duration);
  if (durationS !== null && !(durationS > 0 && Number.isFinite(durationS))) {
    throw new UsageError(`--duration must be a positive number of seconds, not "${duration ?? ''}"`);
  }
  const a: LiveArgs = {
    interfaces: stringListOption(parsed, 'interface'),
    filter: stringOption(parsed, 'filter'),
    db: stringOption(parsed, 'db'),
    noDb: flagOption(parsed, 'no-db'),
    spool: stringOption(parsed, 'spool'),
    noSpool: flagOption(parsed, 'no-spool'),
    sensor: stringOption(parsed, 'sensor'),
    config: stringOption(parsed, 'config'),
    durationS,
    quiet: flagOption(parsed, 'quiet'),
    queueDir: stringOption(parsed, 'queue-dir'),
  };
  if (a.db !== null && a.noDb) throw new UsageError('--db and --no-db contradict each other');
  if (a.spool !== null && a.noSpool) throw new UsageError('--spool and --no-spool contradict each other');
  return a;
}

/** `sniffer live`: libpcap capture into the same pipeline as `analyze`. */
export async function runLive(argv: readonly string[], io: AnalyzeIo & { signals?: NodeJS.EventEmitter }): Promise<ExitCode> {
  const say = (msg: string) => io.stderr.write(`${msg}\n`);
  if (wantsHelp(argv)) {
    io.stdout.write(`${LIVE_USAGE}\n`);
    return ExitCode.Ok;
  }
  let args: LiveArgs;
  let loaded: LoadedSnifferConfig;
  try {
    args = parseLiveArgs(argv);
    loaded = loadSnifferConfig(args.config === null ? [] : ['--config', args.config], io.env);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      say(`sniffer live: ${err.message}\n\n${LIVE_USAGE}`);
      return ExitCode.Usage;
    }
    throw err;
  }
  const config = loaded.config;
  const interfaces = args.interfaces.length > 0 ? args.interfaces : [...config.interfaces];
  if (interfaces.length === 0) {
    say(`sniffer live: no interface given (-i <name> or config "interfaces")\n\n${LIVE_USAGE}`);
    return ExitCode.Usage;
  }
  const logger = createLogger({ app: 'sniffer', level: config.log.level, ...(config.log.pretty !== null ? { pretty: config.log.pretty } : {}), destination: io.stderr });
  let binding;
  try {
    binding = loadLiveCaptureBinding();
  } catch (err) {
    say(`sniffer live: ${(err as Error).message}`);
    return ExitCode.LiveUnavailable;
  }
  const sensor = args.sensor ?? config.sensor.name;
  const dbTarget = resolveOutputTarget(args.db, args.noDb, 'db.url', loaded);
  const spoolTarget = resolveOutputTarget(args.spool, args.noSpool, 'spool.dir', loaded);
  if (dbTarget?.from === 'config') say(`sniffer live: ${describeConfigTarget('db.url', dbTarget)}`);
  if (spoolTarget?.from === 'config') say(`sniffer live: ${describeConfigTarget('spool.dir', spoolTarget)}`);
  let db: CdrSink | null = null;
  if (dbTarget !== null) {
    const opened = await openCdrSink('live', config, dbTarget.value, { queueDir: args.queueDir, sensor, holdS: config.db.holdS }, logger, say);
    if (typeof opened === 'number') return opened;
    db = opened;
  }
  const out = args.quiet ? null : new LineOutput(io.stdout);
  const emit = (r: CallRecord | RegisterRecord) => {
    db?.push(r);
    out?.push(JSON.stringify(r));
  };
  // A sensor runs for months: retention keeps the spool within the config's size and age limits.
  const spool = spoolTarget === null ? null : openSpool(config, spoolTarget.value, true, logger, sensor);
  const pipeline = new PacketPipeline(pipelineOptionsFrom(config, sensor), { onCall: emit, onRegister: emit }, spool);
  const captures: LiveCapture[] = [];
  try {
    for (const iface of interfaces) {
      captures.push(
        new LiveCapture(
          {
            device: iface,
            filter: args.filter ?? interfaceFilter(config, iface),
            snaplen: config.capture.snaplen,
            bufferBytes: config.capture.bufferMb * 1024 * 1024,
            timeoutMs: config.capture.timeoutMs,
            onError: (err) => {
              logger.error({ interface: iface, err: err.message }, 'capture failed; this interface is closed');
            },
          },
          (rec) => {
            pipeline.onPacket(rec);
          },
          binding,
        ),
      );
    }
  } catch (err) {
    for (const c of captures) c.close();
    say(`sniffer live: ${err instanceof Error ? err.message : String(err)}`);
    return ExitCode.LiveUnavailable;
  }
  logger.info({ interfaces, sensor, db: dbTarget === null ? null : redactUrlPassword(dbTarget.value), spool: spoolTarget?.value ?? null }, 'live capture started');

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
      { captures: captures.map((c) => c.stats()), pipeline: pipeline.stats(), spool: spool?.stats() ?? null },
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
  logger.info({ captures: captures.map((c) => c.stats()), statsBeat, pipeline: pipeline.stats() }, 'live capture stopped');
  if (db !== null) {
    const { delivery } = await db.close();
    say(describeDelivery(delivery));
    if (delivery.lost > 0) return ExitCode.Storage;
  }
  return ExitCode.Ok;
}
