import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LiveCaptureUnavailable } from '@callscope/live-capture';
import { ConfigError, createLogger, parseHostPort, redactConfig, type DeepReadonly, type Logger } from '@callscope/runtime';
import { batchCompressor } from './compression.js';
import { checkMirrorSenderConfig, loadMirrorSenderConfig, mirrorSenderConfigSchema, type MirrorSenderConfig } from './config.js';
import { MirrorConnection } from './connection.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { LiveInput } from './live-input.js';
import { MirrorSender } from './mirror-sender.js';
import { replayFiles } from './replay-input.js';
import { SpillStore } from './spill-store.js';

export const USAGE = `usage: mirror-sender [--config FILE] (-i IFACE... | --replay FILE...) --to HOST:PORT --secret-file F
                     [--sensor-id N] [--tls] [--filter BPF] [--check-config]

Captures packets on this host (or reads capture files) and streams them, batched, compressed and
authenticated, to a callscope sniffer's mirror receiver ("sniffer run --mirror-listen"). Batches the
sniffer has not acknowledged are kept (buffer.maxMb; beyond it on disk with buffer.spillDir) and
resent after a reconnect; an overflow is counted and logged. A live capture runs until SIGTERM/SIGINT; a replay ends when every batch is
acknowledged and prints one JSON summary line on stdout.

options (each also a config key and CALLSCOPE_MIRROR_SENDER_* variable, except --secret-file):
  -i, --interface <name>    capture this interface (repeatable)             config: interfaces
  --replay <file...>        send capture files (pcap, pcapng, gzip) at file speed instead
  --to <host:port>          the sniffer's mirror receiver                    config: target.host, target.port
  --secret-file <file>      file holding the shared secret (one line)        config: secret
  --sensor-id <n>           sensor number the sniffer records                config: sensor.id
  --tls                     wrap the stream in TLS                           config: tls.enabled
  --filter <bpf>            capture filter                                    config: bpfFilter
  --config <file>           configuration file (JSON)
  --check-config            print the effective configuration (secret redacted) and exit

exit codes: 0 done (replay: every batch acknowledged) or stopped; 1 internal error; 2 bad usage or
            configuration; 3 a capture file could not be read; 4 packets lost (buffer overflow, or
            batches unacknowledged when stopped); 5 live capture unavailable; 6 the sniffer refused
            the handshake (replay)`;

/** Exit codes of the mirror-sender. */
export const SenderExit = {
  Ok: 0,
  Internal: 1,
  Usage: 2,
  FileError: 3,
  Lost: 4,
  CaptureUnavailable: 5,
  Refused: 6,
} as const;
/** A value of {@link SenderExit}. */
export type SenderExit = (typeof SenderExit)[keyof typeof SenderExit];

/** Bad command line, with a message for the operator. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command line, parsed. */
export interface SenderArgs {
  help: boolean;
  checkConfig: boolean;
  config: string | null;
  interfaces: string[];
  replay: string[];
  to: string | null;
  secretFile: string | null;
  sensorId: number | null;
  tls: boolean;
  filter: string | null;
}

/** Parses the command line; `--replay a.pcap b.pcap` takes every file after it. */
export function parseSenderArgs(argv: readonly string[]): SenderArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        'check-config': { type: 'boolean' },
        config: { type: 'string' },
        interface: { type: 'string', short: 'i', multiple: true },
        replay: { type: 'string', multiple: true },
        to: { type: 'string' },
        'secret-file': { type: 'string' },
        'sensor-id': { type: 'string' },
        tls: { type: 'boolean' },
        filter: { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  const replay = [...(v.replay ?? [])];
  if (parsed.positionals.length > 0) {
    if (replay.length === 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]!}" (files go after --replay)`);
    replay.push(...parsed.positionals);
  }
  let sensorId: number | null = null;
  if (v['sensor-id'] !== undefined) {
    sensorId = Number(v['sensor-id']);
    if (v['sensor-id'].trim() === '' || !Number.isInteger(sensorId) || sensorId < 0 || sensorId > 65535) {
      throw new UsageError(`--sensor-id must be an integer from 0 to 65535, not "${v['sensor-id']}"`);
    }
  }
  if (v.to !== undefined && parseHostPort(v.to) === null) throw new UsageError(`--to must be HOST:PORT (e.g. sniffer1:5030 or [2001:db8::1]:5030), not "${v.to}"`);
  const interfaces = v.interface ?? [];
  if (interfaces.length > 0 && replay.length > 0) throw new UsageError('give either interfaces (-i) or files (--replay), not both');
  return {
    help: v.help === true,
    checkConfig: v['check-config'] === true,
    config: v.config ?? null,
    interfaces,
    replay,
    to: v.to ?? null,
    secretFile: v['secret-file'] ?? null,
    sensorId,
    tls: v.tls === true,
    filter: v.filter ?? null,
  };
}

/** Shortest accepted secret, in bytes (as config `secret`, in characters). */
export const MIN_SECRET_BYTES = 16;

/**
 * Reads a secret file as the sniffer reads its `--mirror-secret-file`: the file's bytes with one
 * trailing newline (LF or CRLF) removed. Both sides must MAC with the same bytes.
 */
export function readSecretFile(path: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UsageError(`--secret-file ${path}: ${(err as Error).message}`);
  }
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  if (end < MIN_SECRET_BYTES) throw new UsageError(`--secret-file ${path}: the secret must be at least ${MIN_SECRET_BYTES} bytes (openssl rand -base64 32 makes one)`);
  return bytes.subarray(0, end);
}

/** The effective settings: the config with the command line applied, and the secret's bytes. */
export interface SenderSettings {
  config: MirrorSenderConfig;
  /** HMAC key: the secret file's bytes, else config `secret` as UTF-8; null when neither is given. */
  secret: Buffer | null;
}

/** The config with the command line applied (flags win over file and environment), checked again. */
export function applySenderArgs(config: DeepReadonly<MirrorSenderConfig>, a: SenderArgs): SenderSettings {
  const c = structuredClone(config) as MirrorSenderConfig;
  let secret: Buffer | null = c.secret === null ? null : Buffer.from(c.secret, 'utf8');
  if (a.interfaces.length > 0) c.interfaces = a.interfaces;
  if (a.replay.length > 0) c.interfaces = [];
  if (a.to !== null) {
    const hp = parseHostPort(a.to)!;
    c.target = { host: hp.host, port: hp.port };
  }
  if (a.secretFile !== null) {
    secret = readSecretFile(a.secretFile);
    // Only for the checks and the (redacted) config log; the bytes above are the key.
    c.secret = secret.toString('utf8');
  }
  if (a.sensorId !== null) c.sensor.id = a.sensorId;
  if (a.tls) c.tls.enabled = true;
  if (a.filter !== null) c.bpfFilter = a.filter;
  const failures = checkMirrorSenderConfig(c);
  if (failures.length > 0) throw new UsageError(failures.map((f) => `${f.path.join('.')}: ${f.message}`).join('; '));
  return { config: c, secret };
}

/** Where the CLI talks and what it listens to. */
export interface SenderIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Emits SIGINT/SIGTERM (the process, or a test's emitter). */
  signals: NodeJS.EventEmitter;
}

/** The summary line of a run (stdout, one JSON object). */
export interface SenderSummary {
  type: 'summary';
  packets_read: number;
  batches_built: number;
  batches_sent: number;
  batches_acked: number;
  batches_resent: number;
  batches_dropped: number;
  packets_dropped: number;
  /** Retained unacknowledged, plus evicted after being written with their arrival unknown. */
  batches_unacked: number;
  bytes_raw: number;
  bytes_compressed: number;
  kernel_drops: number;
  reconnects: number;
  auth_failures: number;
  file_errors: number;
  /** Disk spill (buffer.spillDir): batches written to it, read back, disk errors, leftover packets discarded at start. */
  spill_batches: number;
  spill_read_batches: number;
  spill_errors: number;
  spill_discarded_packets: number;
}

/** `mirror-sender ...`: resolves with the exit code. */
export async function runSender(argv: readonly string[], io: SenderIo): Promise<SenderExit> {
  const say = (msg: string) => io.stderr.write(`mirror-sender: ${msg}\n`);
  let args: SenderArgs;
  let config: MirrorSenderConfig;
  let secret: Buffer | null;
  try {
    args = parseSenderArgs(argv);
    if (args.help) {
      io.stdout.write(`${USAGE}\n`);
      return SenderExit.Ok;
    }
    // --tls goes in as its variable would, so the load-time check sees tls.caFile/serverName with TLS on.
    const env = args.tls ? { ...io.env, CALLSCOPE_MIRROR_SENDER_TLS_ENABLED: 'true' } : io.env;
    const loaded = loadMirrorSenderConfig(args.config === null ? [] : ['--config', args.config], env);
    ({ config, secret } = applySenderArgs(loaded.config, args));
    if (args.checkConfig) {
      io.stdout.write(`${JSON.stringify(redactConfig(config, mirrorSenderConfigSchema), null, 2)}\n`);
      return SenderExit.Ok;
    }
    if (config.target.host === null) throw new UsageError('no sniffer to send to: give --to HOST:PORT (or config target.host)');
    if (secret === null) throw new UsageError('no secret: give --secret-file F (or config secret)');
    if (config.interfaces.length === 0 && args.replay.length === 0) throw new UsageError('nothing to send: give interfaces (-i) or capture files (--replay)');
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      say(`${err.message}\n\n${USAGE}`);
      return SenderExit.Usage;
    }
    throw err;
  }
  const logger = createLogger({ app: 'mirror-sender', level: config.log.level, ...(config.log.pretty !== null ? { pretty: config.log.pretty } : {}), destination: io.stderr });
  logger.info({ config: redactConfig(config, mirrorSenderConfigSchema), mode: args.replay.length > 0 ? 'replay' : 'live' }, 'effective configuration');
  try {
    return await stream(config, secret, args.replay, logger, io);
  } catch (err) {
    if (err instanceof UsageError) {
      say(err.message);
      return SenderExit.Usage;
    }
    logger.fatal({ err }, 'mirror-sender failed');
    return SenderExit.Internal;
  }
}

async function stream(config: MirrorSenderConfig, secret: Buffer, replay: readonly string[], logger: Logger, io: SenderIo): Promise<SenderExit> {
  const started = Date.now();
  let spill: SpillStore | null = null;
  let discarded = { batches: 0, packets: 0 };
  if (config.buffer.spillDir !== null) {
    const spillLog = logger.child({ component: 'spill' });
    try {
      const opened = SpillStore.open({ dir: config.buffer.spillDir, maxBytes: config.buffer.spillMaxMb * 1024 * 1024, logger: spillLog });
      spill = opened.store;
      const left = opened.leftover;
      discarded = { batches: left.batches, packets: left.packets };
      if (left.files > 0) {
        // A new process is a new stream (Hello.stream_id): the old one's batches cannot be resent.
        spillLog.warn(
          { dir: config.buffer.spillDir, files: left.files, bytes: left.bytes, batches: left.batches, packets: left.packets, tornFiles: left.tornFiles },
          'mirror spill: leftover spill files of an earlier process discarded (their batches were never acknowledged and cannot be resent under this new stream; counted in spillDiscardedPackets)',
        );
      }
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const sender = new MirrorSender({
    batch: config.batch,
    bufferBytes: config.buffer.maxMb * 1024 * 1024,
    compressor: batchCompressor(config.compression),
    logger: logger.child({ component: 'sender' }),
    spill,
  });
  sender.counters.spillDiscardedBatches = discarded.batches;
  sender.counters.spillDiscardedPackets = discarded.packets;
  let ca: Buffer | null = null;
  if (config.tls.enabled && config.tls.caFile !== null) {
    try {
      ca = readFileSync(config.tls.caFile);
    } catch (err) {
      throw new UsageError(`tls.caFile ${config.tls.caFile}: ${(err as Error).message}`);
    }
  }
  const stop = new AbortController();
  // An object, not a let: the flag is set in a callback, which the type checker does not follow.
  const outcome = { refused: false };
  const connection = new MirrorConnection(
    {
      host: config.target.host!,
      port: config.target.port,
      tls: config.tls.enabled ? { ca, serverName: config.tls.serverName } : null,
      secret,
      sensorId: String(config.sensor.id),
      sensorName: config.sensor.name,
      heartbeatIntervalMs: config.heartbeat.intervalS * 1000,
      idleTimeoutMs: config.heartbeat.timeoutS * 1000,
      reconnectMinMs: config.reconnect.minMs,
      reconnectMaxMs: config.reconnect.maxMs,
      maxProtocolVersion: config.protocol.maxVersion,
      logger: logger.child({ component: 'link' }),
      onRefused: () => {
        // A replay has an end: a refused secret will not fix itself, so it stops there.
        if (replay.length > 0) {
          outcome.refused = true;
          stop.abort(new Error('refused'));
        }
      },
    },
    sender,
  );
  const live = replay.length === 0 ? new LiveInput({ devices: config.interfaces, filter: config.bpfFilter, logger: logger.child({ component: 'capture' }) }, sender) : null;
  let health: HealthServer | null = null;
  const target = `${config.target.host!}:${config.target.port}`;
  if (config.health.port !== null) {
    const snapshot = () => {
      live?.stats();
      return {
        state: connection.state,
        target,
        sensorId: config.sensor.id,
        uptimeS: Math.round((Date.now() - started) / 1000),
        unackedBatches: sender.unackedBatches,
        unackedBytes: sender.window.retainedBytes,
        counters: { ...sender.counters },
      };
    };
    try {
      health = await startHealthServer(config.health.host, config.health.port, snapshot);
      logger.info({ host: config.health.host, port: health.port }, 'health endpoint listening (/health, /metrics)');
    } catch (err) {
      const where = `${config.health.host}:${config.health.port}`;
      // A live sender is monitored through it; a replay (often beside a live sender on the same
      // host, which holds the default port) goes on without it.
      if (live !== null) throw new UsageError(`health endpoint ${where}: ${(err as Error).message} (set health.port, or null for none)`);
      logger.warn({ err: (err as Error).message, address: where }, 'health endpoint unavailable; the replay goes on without it');
    }
  }
  let signals = 0;
  const onSignal = (signal: unknown) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal: String(signal) }, 'second signal: exiting now');
      process.exit(130);
    }
    logger.info({ signal: String(signal) }, 'stopping');
    stop.abort(new Error(String(signal)));
  };
  io.signals.on('SIGINT', onSignal);
  io.signals.on('SIGTERM', onSignal);
  const summaryTimer = setInterval(() => {
    live?.stats();
    logger.info({ state: connection.state, unacked: sender.unackedBatches, ...sender.counters }, 'mirror-sender counters');
  }, 60_000);
  let fileErrors = 0;
  let packetsRead = 0;
  try {
    if (live !== null) {
      try {
        live.start();
      } catch (err) {
        if (err instanceof LiveCaptureUnavailable) {
          logger.error({ err: err.message }, 'live capture unavailable');
          return SenderExit.CaptureUnavailable;
        }
        throw err;
      }
    }
    connection.start();
    if (live !== null) {
      await aborted(stop.signal);
      live.close();
      sender.flush();
      // Give the link a moment to deliver what is in flight before counting it unacknowledged.
      await settled(sender, 5000);
    } else {
      const result = await replayFiles(replay, sender, {
        signal: stop.signal,
        onFileError: (file, err) => {
          logger.error({ file, err: err.message }, 'cannot read this capture file (skipped)');
        },
      });
      fileErrors = result.fileErrors;
      packetsRead = result.packets;
      // The end of a replay is every batch acknowledged (or a stop, or a refusal).
      await settled(sender, Infinity, stop.signal);
    }
  } finally {
    clearInterval(summaryTimer);
    io.signals.off('SIGINT', onSignal);
    io.signals.off('SIGTERM', onSignal);
    live?.stats();
    sender.close();
    await connection.close();
    await health?.close();
    await sender.closeSpill();
  }
  const c = sender.counters;
  const summary: SenderSummary = {
    type: 'summary',
    packets_read: live === null ? packetsRead : c.packetsCaptured,
    batches_built: c.batchesBuilt,
    batches_sent: c.batchesSent,
    batches_acked: c.batchesAcked,
    batches_resent: c.batchesResent,
    batches_dropped: c.batchesDropped,
    packets_dropped: c.packetsDropped,
    batches_unacked: sender.unackedBatches,
    bytes_raw: c.bytesRaw,
    bytes_compressed: c.bytesCompressed,
    kernel_drops: c.kernelDrops,
    reconnects: c.reconnects,
    auth_failures: c.authFailures,
    file_errors: fileErrors,
    spill_batches: c.spillBatches,
    spill_read_batches: c.spillReadBatches,
    spill_errors: c.spillErrors,
    spill_discarded_packets: c.spillDiscardedPackets,
  };
  logger.info(summary, 'mirror-sender done');
  if (live === null) io.stdout.write(`${JSON.stringify(summary)}\n`);
  if (outcome.refused) return SenderExit.Refused;
  if (c.batchesDropped > 0 || sender.unackedBatches > 0) return SenderExit.Lost;
  if (fileErrors > 0) return SenderExit.FileError;
  return SenderExit.Ok;
}

/** Resolves when the signal aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => {
      resolve();
    }, { once: true });
  });
}

/**
 * Resolves when every batch is acknowledged and no packet waits in an open batch, after
 * `timeoutMs`, or when `signal` aborts. It stops polling then: a poll left running would keep the
 * process alive after its summary (a refused or stopped replay never exited).
 */
async function settled(sender: MirrorSender, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((sender.unackedBatches > 0 || sender.openPackets > 0) && Date.now() < end && signal?.aborted !== true) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
