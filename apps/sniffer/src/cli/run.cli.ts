import { createWriteStream, readFileSync } from 'node:fs';
import { ConfigError, createLogger, parseHostPort, redactUrlPassword, type DeepReadonly, type Logger } from '@callscope/runtime';
import { PacketPipeline } from '@callscope/call-engine';
import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';
import { loadSnifferConfig, type LoadedSnifferConfig, type SnifferConfig } from '../config.js';
import { SensorDaemon, type SinkFactory } from '../daemon/sensor-daemon.js';
import { DbSensorHeartbeat } from '../daemon/sensor-heartbeat.js';
import type { CdrSink } from '../output/cdr-sink.js';
import { LineOutput } from '../output/line-output.js';
import { HepListener, hepListenerPort } from '../sources/hep-listener.js';
import { InterfaceSource, interfaceFilter } from '../sources/interface-source.js';
import { MirrorReceiver } from '../sources/mirror-receiver.js';
import type { PacketSource } from '../sources/packet-source.js';
import { ReplaySource } from '../sources/replay-source.js';
import { SNIFFER_VERSION } from '../version.js';
import { openCdrSink, openSpool, pipelineOptionsFrom, type AnalyzeIo } from './analyze.cli.js';
import { UsageError, flagOption, parseCommandArgs, stringListOption, stringOption, wantsHelp, type OptionSpecs } from './command-args.js';
import { ExitCode } from './exit-code.js';
import { describeConfigTarget, resolveOutputTarget } from './output-targets.js';

export const RUN_USAGE = `usage: sniffer run [--config FILE] [-i IFACE]... [--filter BPF] [--hep-listen HOST:PORT]
                  [--mirror-listen HOST:PORT --mirror-secret-file F [--mirror-tls-cert F --mirror-tls-key F]]
                  [--replay FILE... [--speed X]] [--db URL] [--spool DIR] [--control PATH] [--sensor-id N]

The sensor daemon: captures from every source given (interfaces, a HEP collector, capture files
replayed as if live), follows calls, writes CDRs to the database and packets to the spool, answers
"sniffer stats" on its control socket. Runs until SIGTERM/SIGINT: then closes the calls in progress
(end_reason "sensor_shutdown"), flushes, exits 0. SIGHUP reloads the settings that can change
without a restart (log level, capture filters, status interval) and names the others.

options (--name=value and --name value both work; each has a config key and CALLSCOPE_SNIFFER_* variable):
  -i, --interface <name>   capture this interface (repeatable)            config: interfaces
  --filter <bpf>           capture filter of every interface               config: bpfFilter, capture.filters
  --hep-listen <host:port> HEP v2/v3 collector on UDP and TCP              config: hep.listen
  --mirror-listen <host:port>  receive mirror-senders' streams (TCP)      config: mirror.listen
                           their calls carry the sender's sensor name
  --mirror-secret-file <f> the senders' shared secret (file)               config: mirror.secretFile
  --mirror-tls-cert <f>    PEM certificate: the mirror stream is TLS       config: mirror.tlsCert
  --mirror-tls-key <f>     PEM key of the certificate                      config: mirror.tlsKey
  --replay <file>          play a capture file as a source (repeatable)    config: replay.files
  --speed <x>              replay pace: 1 recorded, 10 ten times, 0 flat out  config: replay.speed
  --loop                   replay the files again and again                config: replay.loop
  --replay-now             move replayed packet times to the present       config: replay.shiftToNow
  --db <mysql-url>         CDR database                                    config: db.url
  --no-db                  no database even if the config names one
  --queue-dir <dir>        on-disk queue for CDRs the database cannot take  config: db.queueDir
                           yet (the database may be down at start: CDRs wait there)
  --spool <dir>            keep each call's packets under <dir>            config: spool.dir
  --no-spool               keep no packets even if the config says so
  --jsonl <file>           also write each record as a JSON line (--jsonl=- : stdout)
  --control <path>         control socket for "sniffer stats"             config: daemon.control
  --sensor-id <n>          sensor number                                   config: sensor.id
  --sensor <name>          sensor name written into every record           config: sensor.name
  --config <file>          sniffer configuration file (JSON)
  --duration <seconds>     stop by itself after this long (tests, demos)

A run with only --replay sources stops by itself when the files end (unless --loop).

exit codes: 0 stopped; 1 internal error; 2 bad usage or configuration; 4 the spool failed, CDRs
            were lost, or the CDR queue is another writer's or another database's; 5 a capture source could not start (says why)`;

const RUN_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h' },
  interface: { type: 'string', short: 'i', multiple: true },
  filter: { type: 'string', allowEmpty: true },
  'hep-listen': { type: 'string' },
  'mirror-listen': { type: 'string' },
  'mirror-secret-file': { type: 'string' },
  'mirror-tls-cert': { type: 'string' },
  'mirror-tls-key': { type: 'string' },
  replay: { type: 'string', multiple: true },
  speed: { type: 'string' },
  loop: { type: 'boolean' },
  'replay-now': { type: 'boolean' },
  db: { type: 'string' },
  'no-db': { type: 'boolean' },
  spool: { type: 'string' },
  'no-spool': { type: 'boolean' },
  jsonl: { type: 'string' },
  control: { type: 'string' },
  'sensor-id': { type: 'string' },
  sensor: { type: 'string' },
  config: { type: 'string' },
  duration: { type: 'string' },
  'queue-dir': { type: 'string' },
};

/** `run` arguments after the subcommand. */
export interface RunArgs {
  interfaces: string[];
  filter: string | null;
  hepListen: string | null;
  mirrorListen: string | null;
  mirrorSecretFile: string | null;
  mirrorTlsCert: string | null;
  mirrorTlsKey: string | null;
  replay: string[];
  speed: number | null;
  loop: boolean;
  replayNow: boolean;
  db: string | null;
  noDb: boolean;
  spool: string | null;
  noSpool: boolean;
  jsonl: string | null;
  control: string | null;
  sensorId: number | null;
  sensor: string | null;
  config: string | null;
  durationS: number | null;
  queueDir: string | null;
}

/** Parses `run` arguments; throws {@link UsageError} with a message. */
export function parseRunArgs(argv: readonly string[]): RunArgs {
  const p = parseCommandArgs('run', argv, RUN_OPTIONS, false);
  const num = (name: string, ok: (n: number) => boolean, what: string): number | null => {
    const text = stringOption(p, name);
    if (text === null) return null;
    const n = Number(text);
    if (text.trim() === '' || !ok(n)) throw new UsageError(`--${name} must be ${what}, not "${text}"`);
    return n;
  };
  const hepListen = stringOption(p, 'hep-listen');
  if (hepListen !== null && parseHostPort(hepListen) === null) throw new UsageError(`--hep-listen must be HOST:PORT (e.g. 0.0.0.0:9060 or [::]:9060), not "${hepListen}"`);
  const mirrorListen = stringOption(p, 'mirror-listen');
  if (mirrorListen !== null && parseHostPort(mirrorListen) === null) throw new UsageError(`--mirror-listen must be HOST:PORT (e.g. 0.0.0.0:5030 or [::]:5030), not "${mirrorListen}"`);
  const a: RunArgs = {
    interfaces: stringListOption(p, 'interface'),
    filter: stringOption(p, 'filter'),
    hepListen,
    mirrorListen,
    mirrorSecretFile: stringOption(p, 'mirror-secret-file'),
    mirrorTlsCert: stringOption(p, 'mirror-tls-cert'),
    mirrorTlsKey: stringOption(p, 'mirror-tls-key'),
    replay: stringListOption(p, 'replay'),
    speed: num('speed', (n) => Number.isFinite(n) && n >= 0, 'a number >= 0 (0: as fast as possible)'),
    loop: flagOption(p, 'loop'),
    replayNow: flagOption(p, 'replay-now'),
    db: stringOption(p, 'db'),
    noDb: flagOption(p, 'no-db'),
    spool: stringOption(p, 'spool'),
    noSpool: flagOption(p, 'no-spool'),
    jsonl: stringOption(p, 'jsonl'),
    control: stringOption(p, 'control'),
    sensorId: num('sensor-id', (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'an integer from 0 to 65535'),
    sensor: stringOption(p, 'sensor'),
    config: stringOption(p, 'config'),
    durationS: num('duration', (n) => Number.isFinite(n) && n > 0, 'a positive number of seconds'),
    queueDir: stringOption(p, 'queue-dir'),
  };
  if (a.db !== null && a.noDb) throw new UsageError('--db and --no-db contradict each other');
  if (a.spool !== null && a.noSpool) throw new UsageError('--spool and --no-spool contradict each other');
  return a;
}

/** The config with the command line's overrides applied (flags win over file and environment). */
export function applyRunArgs(config: DeepReadonly<SnifferConfig>, a: RunArgs): SnifferConfig {
  const c = structuredClone(config) as SnifferConfig;
  if (a.interfaces.length > 0) c.interfaces = a.interfaces;
  if (a.filter !== null) {
    c.bpfFilter = a.filter;
    c.capture.filters = [];
  }
  if (a.hepListen !== null) c.hep.listen = a.hepListen;
  if (a.mirrorListen !== null) c.mirror.listen = a.mirrorListen;
  if (a.mirrorSecretFile !== null) c.mirror.secretFile = a.mirrorSecretFile;
  if (a.mirrorTlsCert !== null) c.mirror.tlsCert = a.mirrorTlsCert;
  if (a.mirrorTlsKey !== null) c.mirror.tlsKey = a.mirrorTlsKey;
  // The flags can complete what the file left open, so the pairs are checked again here.
  if (c.mirror.listen !== null && c.mirror.secretFile === null) throw new UsageError('--mirror-listen needs --mirror-secret-file (or mirror.secretFile): senders authenticate with the shared secret');
  if ((c.mirror.tlsCert === null) !== (c.mirror.tlsKey === null)) throw new UsageError('--mirror-tls-cert and --mirror-tls-key go together');
  if (a.replay.length > 0) c.replay.files = a.replay;
  if (a.speed !== null) c.replay.speed = a.speed;
  if (a.loop) c.replay.loop = true;
  if (a.replayNow) c.replay.shiftToNow = true;
  if (a.control !== null) c.daemon.control = a.control;
  if (a.sensorId !== null) c.sensor.id = a.sensorId;
  if (a.sensor !== null) {
    if (a.sensor.length === 0 || a.sensor.length > 64) throw new UsageError('--sensor must be 1 to 64 characters');
    c.sensor.name = a.sensor;
  }
  return c;
}

/** Shortest shared secret accepted, bytes (as the mirror-sender). */
export const MIN_MIRROR_SECRET_BYTES = 16;

/**
 * The shared secret in a file: its bytes, one trailing newline (LF or CRLF) removed, as the
 * mirror-sender reads it. A short or unreadable file is a usage error naming the file.
 */
export function readMirrorSecret(file: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new UsageError(`mirror secret file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  // The same floor as the mirror-sender's: a short secret is guessable offline from one recorded handshake.
  if (end < MIN_MIRROR_SECRET_BYTES) throw new UsageError(`mirror secret file ${file}: the secret must be at least ${MIN_MIRROR_SECRET_BYTES} bytes (openssl rand -base64 32 makes one)`);
  return bytes.subarray(0, end);
}

/** Builds the sources a config names, delivering into the sinks `sinkFor` gives. */
export function buildSources(config: DeepReadonly<SnifferConfig>, sinkFor: SinkFactory, logger: Logger): PacketSource[] {
  const sources: PacketSource[] = [];
  for (const iface of config.interfaces) {
    sources.push(
      new InterfaceSource(
        {
          device: iface,
          filter: interfaceFilter(config, iface),
          snaplen: config.capture.snaplen,
          bufferBytes: config.capture.bufferMb * 1024 * 1024,
          timeoutMs: config.capture.timeoutMs,
          onError: (err) => {
            logger.error({ interface: iface, err: err.message }, 'capture failed; this interface is closed (the other sources go on)');
          },
        },
        sinkFor('pcap', iface),
      ),
    );
  }
  if (config.hep.listen !== null) {
    const hp = parseHostPort(config.hep.listen);
    if (hp === null) throw new UsageError(`hep.listen must be HOST:PORT, not "${config.hep.listen}"`);
    sources.push(
      new HepListener(
        {
          host: hp.host,
          port: hp.port,
          maxConnections: config.hep.maxConnections,
          maxMessageBytes: config.hep.maxMessageBytes,
          idleTimeoutMs: config.hep.idleTimeoutS * 1000,
          logger: logger.child({ component: 'hep' }),
        },
        sinkFor('hep', config.hep.listen),
      ),
    );
  }
  const mirror = config.mirror;
  if (mirror.listen !== null) {
    const hp = parseHostPort(mirror.listen);
    if (hp === null) throw new UsageError(`mirror.listen must be HOST:PORT, not "${mirror.listen}"`);
    if (mirror.secretFile === null) throw new UsageError('mirror.listen needs mirror.secretFile');
    const readPem = (what: string, file: string) => {
      try {
        return readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`mirror ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    const tls = mirror.tlsCert !== null && mirror.tlsKey !== null ? { cert: readPem('TLS certificate', mirror.tlsCert), key: readPem('TLS key', mirror.tlsKey) } : null;
    sources.push(
      new MirrorReceiver(
        {
          host: hp.host,
          port: hp.port,
          secret: readMirrorSecret(mirror.secretFile),
          tls,
          maxConnections: mirror.maxConnections,
          maxSensors: mirror.maxSensors,
          handshakeTimeoutMs: mirror.handshakeTimeoutS * 1000,
          idleTimeoutMs: mirror.idleTimeoutS * 1000,
          maxBatchBytes: mirror.maxBatchMb * 1024 * 1024,
          logger: logger.child({ component: 'mirror' }),
        },
        // Each sender's packets go into its own call table: its records carry its sensor name.
        (sensor) => sinkFor('mirror', sensor.id, sensor.name),
      ),
    );
  }
  if (config.replay.files.length > 0) {
    const log = logger.child({ component: 'replay' });
    sources.push(
      new ReplaySource(
        {
          files: config.replay.files,
          speed: config.replay.speed,
          loop: config.replay.loop,
          shiftToNow: config.replay.shiftToNow,
          onFileError: (file, err) => {
            log.error({ file, err: err.message }, 'replay: cannot read this capture file (skipped)');
          },
        },
        sinkFor('replay', config.replay.files.join(',')),
      ),
    );
  }
  return sources;
}

/** The pipeline options of the daemon (`sensor` names the records): the HEP collector's port is decoded as HEP too. */
export function daemonPipelineOptions(config: DeepReadonly<SnifferConfig>, sensor: string = config.sensor.name) {
  const options = pipelineOptionsFrom(config, sensor);
  const hepPort = config.hep.listen === null ? null : hepListenerPort(config.hep.listen);
  const hepPorts = options.decoder.hepPorts ?? [];
  if (hepPort !== null && !hepPorts.includes(hepPort)) options.decoder = { ...options.decoder, hepPorts: [...hepPorts, hepPort] };
  return options;
}

/** `sniffer run`: the long-running sensor. */
export async function runDaemon(argv: readonly string[], io: AnalyzeIo & { signals?: NodeJS.EventEmitter }): Promise<ExitCode> {
  const say = (msg: string) => io.stderr.write(`${msg}\n`);
  if (wantsHelp(argv)) {
    io.stdout.write(`${RUN_USAGE}\n`);
    return ExitCode.Ok;
  }
  let args: RunArgs;
  let loaded: LoadedSnifferConfig;
  let config: SnifferConfig;
  try {
    args = parseRunArgs(argv);
    loaded = loadSnifferConfig(args.config === null ? [] : ['--config', args.config], io.env);
    config = applyRunArgs(loaded.config, args);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      say(`sniffer run: ${err.message}\n\n${RUN_USAGE}`);
      return ExitCode.Usage;
    }
    throw err;
  }
  if (config.interfaces.length === 0 && config.hep.listen === null && config.mirror.listen === null && config.replay.files.length === 0) {
    say(`sniffer run: no source: give an interface (-i), a HEP listen address (--hep-listen), a mirror listen address (--mirror-listen) or files to replay (--replay), or set them in the config\n\n${RUN_USAGE}`);
    return ExitCode.Usage;
  }
  const logger = createLogger({ app: 'sniffer', level: config.log.level, ...(config.log.pretty !== null ? { pretty: config.log.pretty } : {}), destination: io.stderr });
  const dbTarget = resolveOutputTarget(args.db, args.noDb, 'db.url', loaded);
  const spoolTarget = resolveOutputTarget(args.spool, args.noSpool, 'spool.dir', loaded);
  if (dbTarget?.from === 'config') say(`sniffer run: ${describeConfigTarget('db.url', dbTarget)}`);
  if (spoolTarget?.from === 'config') say(`sniffer run: ${describeConfigTarget('spool.dir', spoolTarget)}`);
  if (dbTarget === null && args.jsonl === null) logger.warn('no database and no --jsonl: CDRs are counted but written nowhere');
  let db: CdrSink | null = null;
  if (dbTarget !== null) {
    const opened = await openCdrSink('run', config, dbTarget.value, { queueDir: args.queueDir, sensor: config.sensor.name, holdS: config.db.holdS }, logger, say);
    if (typeof opened === 'number') return opened;
    db = opened;
  }
  const jsonlFile = args.jsonl === null || args.jsonl === '-' ? null : createWriteStream(args.jsonl);
  const jsonl = args.jsonl === null ? null : new LineOutput(jsonlFile ?? io.stdout);
  const closeJsonl = async () => {
    await jsonl?.flush();
    if (jsonlFile !== null) await new Promise<void>((resolve) => jsonlFile.end(resolve));
  };
  const emit = (r: CallRecord | RegisterRecord) => {
    db?.push(r);
    jsonl?.push(JSON.stringify(r));
  };
  const spool = spoolTarget === null ? null : openSpool(config, spoolTarget.value, true, logger);
  const pipeline = new PacketPipeline(daemonPipelineOptions(config), { onCall: emit, onRegister: emit }, spool);
  const heartbeat = dbTarget === null ? null : new DbSensorHeartbeat(dbTarget.value, logger.child({ component: 'heartbeat' }));
  const daemon = new SensorDaemon({
    config,
    sensor: config.sensor.name,
    sensorId: config.sensor.id,
    version: SNIFFER_VERSION,
    logger,
    pipeline,
    sensorPipeline: (sensor) => new PacketPipeline(daemonPipelineOptions(config, sensor), { onCall: emit, onRegister: emit }, spool?.forSensor(sensor) ?? null),
    sources: (sinkFor) => buildSources(config, sinkFor, logger),
    db,
    spool,
    control: config.daemon.control,
    heartbeat,
  });
  const flushTimer = jsonl === null ? null : setInterval(() => void jsonl.flush(), 1000);
  try {
    await daemon.start();
  } catch (err) {
    if (flushTimer !== null) clearInterval(flushTimer);
    await closeJsonl();
    const msg = err instanceof Error ? err.message : String(err);
    say(`sniffer run: ${msg}`);
    return err instanceof UsageError ? ExitCode.Usage : ExitCode.LiveUnavailable;
  }
  logger.info(
    {
      sensor: config.sensor.name,
      sensor_id: config.sensor.id,
      version: SNIFFER_VERSION,
      interfaces: config.interfaces,
      hep: config.hep.listen,
      mirror: config.mirror.listen === null ? null : { listen: config.mirror.listen, tls: config.mirror.tlsCert !== null },
      replay: config.replay.files,
      db: dbTarget === null ? null : redactUrlPassword(dbTarget.value),
      spool: spoolTarget?.value ?? null,
      control: config.daemon.control,
    },
    'sensor running',
  );

  const signals = io.signals ?? process;
  const reload = () => {
    reloadSettings(args, io.env, config, daemon, logger);
  };
  signals.on('SIGHUP', reload);
  const stopReason = await new Promise<string>((resolve) => {
    signals.once('SIGINT', () => { resolve('SIGINT'); });
    signals.once('SIGTERM', () => { resolve('SIGTERM'); });
    if (args.durationS !== null) setTimeout(() => { resolve('duration reached'); }, args.durationS * 1000).unref();
    void daemon.sourcesEnded()?.then(() => { resolve('replay finished'); });
  });
  signals.off('SIGHUP', reload);
  // The stop must end within daemon.stopTimeoutS whatever the database does: what is not stored
  // by then stays in the writer's disk queue for the next start.
  const deadline = setTimeout(() => {
    logger.error({ timeout_s: config.daemon.stopTimeoutS }, 'stop took too long: exiting with what is flushed (the CDR disk queue keeps the rest)');
    process.exit(ExitCode.Storage);
  }, config.daemon.stopTimeoutS * 1000);
  deadline.unref();
  await daemon.stop(stopReason);
  clearTimeout(deadline);
  if (flushTimer !== null) clearInterval(flushTimer);
  await closeJsonl();
  if (db !== null && db.stats().dropped > 0) return ExitCode.Storage;
  // Every pipeline's internal errors (the local one and each mirrored sensor's).
  if ((daemon.stats().counters['internal_errors'] ?? 0) > 0) return ExitCode.InternalError;
  return ExitCode.Ok;
}

/**
 * SIGHUP: reads the config again and applies what can change while running (log level, capture
 * filters, status interval); every other changed setting is named as needing a restart.
 */
function reloadSettings(args: RunArgs, env: AnalyzeIo['env'], current: SnifferConfig, daemon: SensorDaemon, logger: Logger): void {
  let next: SnifferConfig;
  try {
    next = applyRunArgs(loadSnifferConfig(args.config === null ? [] : ['--config', args.config], env).config, args);
  } catch (err) {
    logger.error({ err: err instanceof Error ? err.message : String(err) }, 'SIGHUP: the new configuration is invalid; keeping the running one');
    return;
  }
  const applied: string[] = [];
  if (next.log.level !== current.log.level) {
    logger.level = next.log.level;
    current.log.level = next.log.level;
    applied.push('log.level');
  }
  if (next.daemon.statusIntervalS !== current.daemon.statusIntervalS) {
    daemon.setStatusInterval(next.daemon.statusIntervalS);
    current.daemon.statusIntervalS = next.daemon.statusIntervalS;
    applied.push('daemon.statusIntervalS');
  }
  if (next.bpfFilter !== current.bpfFilter || JSON.stringify(next.capture.filters) !== JSON.stringify(current.capture.filters)) {
    for (const source of daemon.activeSources) {
      if (!(source instanceof InterfaceSource)) continue;
      const filter = interfaceFilter(next, source.name);
      try {
        source.setFilter(filter);
      } catch (err) {
        logger.error({ interface: source.name, filter, err: err instanceof Error ? err.message : String(err) }, 'SIGHUP: capture filter refused; the old one stays');
      }
    }
    current.bpfFilter = next.bpfFilter;
    current.capture.filters = next.capture.filters;
    applied.push('bpfFilter', 'capture.filters');
  }
  const needRestart = changedPaths(current, next).filter((p) => !applied.includes(p));
  logger.info({ applied, need_restart: needRestart }, needRestart.length === 0 ? 'SIGHUP: configuration reloaded' : `SIGHUP: reloaded; these need a restart to take effect: ${needRestart.join(', ')}`);
}

/** Dotted paths of the leaves that differ between two configs. */
function changedPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (typeof a === 'object' && a !== null && !Array.isArray(a) && typeof b === 'object' && b !== null && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => changedPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], prefix === '' ? k : `${prefix}.${k}`));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}
