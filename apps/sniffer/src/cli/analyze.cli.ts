import { stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { DECODE_STATUS_NAMES } from '@callscope/packet';
import { readCaptureFile } from '@callscope/pcap-store';
import { ConfigError, createLogger, redactUrlPassword, type DeepReadonly, type PinoLikeLogger } from '@callscope/runtime';
import { CdrSink } from '../output/cdr-sink.js';
import { CallSpool } from '../output/call-spool.js';
import { loadSnifferConfig, type LoadedSnifferConfig, type SnifferConfig } from '../config.js';
import { PacketPipeline, type PipelineOptions } from '@callscope/call-engine';
import { ANALYZE_USAGE, parseAnalyzeArgs } from './analyze-args.js';
import { UsageError, wantsHelp } from './command-args.js';
import { ExitCode } from './exit-code.js';
import { describeConfigTarget, resolveOutputTarget } from './output-targets.js';
import { LineOutput } from '../output/line-output.js';
import { ProgressBar } from './progress-bar.js';
import { formatTable } from './table-format.js';
import { CaptureError, type PacketRecord } from '@callscope/pcap-format';
import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';

export interface AnalyzeIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: Readonly<Record<string, string | undefined>>;
}

/** The pipeline settings that follow from the sniffer's config. */
export function pipelineOptionsFrom(config: DeepReadonly<SnifferConfig>, sensor: string): PipelineOptions {
  return {
    sipPorts: config.sip.ports,
    calls: {
      sensor,
      maxOpenCalls: config.calls.maxOpen,
      maxStreamsPerCall: 64,
      noAnswerTimeoutS: config.calls.noAnswerTimeoutS,
      rtpTimeoutS: config.calls.rtpTimeoutS,
      absoluteTimeoutS: config.calls.absoluteTimeoutS,
      byeTimeoutS: config.calls.byeTimeoutS,
      lingerS: 5,
      acceptRtpFromSipSource: config.rtp.acceptFromSipSource,
    },
    registers: { sensor, maxOpen: 100_000, idleS: 10, transactionTimeoutS: 32 },
    decoder: {
      maxTunnelDepth: config.decode.maxTunnelDepth,
      vxlanPorts: config.decode.vxlanPorts,
      tzspPorts: config.decode.tzspPorts,
      hepPorts: config.decode.hepPorts,
    },
  };
}

/** The CDR writer of `--db <url>`, batched and queued as the config's `db` section says. */
export function openCdrSink(config: DeepReadonly<SnifferConfig>, url: string, logger: { child(b: object): PinoLikeLogger }): Promise<CdrSink> {
  return CdrSink.open({
    url,
    queueDir: config.db.queueDir,
    batchSize: config.db.batchSize,
    batchMs: config.db.batchMs,
    queueMaxMb: config.db.queueMaxMb,
    logger: logger.child({ component: 'cdr-writer' }),
  });
}

/**
 * The per-call pcap spool under `dir`, with the config's mode and compression; `retention` applies
 * the config's size and age limits (live always, analyze only with `--spool-retention`).
 */
export function openSpool(
  config: DeepReadonly<SnifferConfig>,
  dir: string,
  retention: boolean,
  logger: { child(b: object): { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void; debug(o: object, m: string): void } },
): CallSpool {
  const log = logger.child({ component: 'spool' });
  return new CallSpool({
    dir,
    mode: config.spool.mode,
    compress: config.spool.compress,
    retention,
    maxSizeBytes: Math.round(config.spool.maxSizeGb * 1024 ** 3),
    maxAgeDays: config.spool.maxAgeDays,
    maxOpenFiles: 1024,
    logger: (level, message, fields) => {
      log[level](fields, message);
    },
  });
}

/** Describes why a file could not be read, for people. */
function describeReadError(file: string, err: unknown): string {
  if (err instanceof CaptureError) return `${file}: not a readable capture: ${err.message}`;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return `${file}: no such file`;
  if (e.code === 'EACCES') return `${file}: permission denied`;
  if (e.code === 'EISDIR') return `${file}: is a directory`;
  return `${file}: ${e.message}`;
}

/**
 * `sniffer analyze <file...>`: the offline reference. Every file goes through the same
 * {@link PacketPipeline} as live capture, in the order given, as one continuous capture.
 */
export async function runAnalyze(argv: readonly string[], io: AnalyzeIo): Promise<ExitCode> {
  const say = (msg: string) => io.stderr.write(`${msg}\n`);
  if (wantsHelp(argv)) {
    io.stdout.write(`${ANALYZE_USAGE}\n`);
    return ExitCode.Ok;
  }
  let args;
  let loaded: LoadedSnifferConfig;
  try {
    args = parseAnalyzeArgs(argv);
    loaded = loadSnifferConfig(args.config === null ? [] : ['--config', args.config], io.env);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      say(`sniffer analyze: ${err.message}\n\n${ANALYZE_USAGE}`);
      return ExitCode.Usage;
    }
    throw err;
  }
  const config = loaded.config;
  const sensor = args.sensor ?? config.sensor.name;
  // People reading a terminal get readable log lines; pipes and files get JSON.
  const logger = createLogger({ app: 'sniffer', level: config.log.level, ...(config.log.pretty !== null ? { pretty: config.log.pretty } : {}), destination: io.stderr });
  const dbTarget = resolveOutputTarget(args.db, args.noDb, 'db.url', loaded);
  const spoolTarget = resolveOutputTarget(args.spool, args.noSpool, 'spool.dir', loaded);
  if (args.spoolRetention && spoolTarget === null) {
    say(`sniffer analyze: --spool-retention needs a spool (--spool <dir> or config spool.dir)\n\n${ANALYZE_USAGE}`);
    return ExitCode.Usage;
  }
  if (dbTarget?.from === 'config') say(`sniffer analyze: ${describeConfigTarget('db.url', dbTarget)}`);
  if (spoolTarget?.from === 'config') say(`sniffer analyze: ${describeConfigTarget('spool.dir', spoolTarget)}`);
  let db: CdrSink | null = null;
  if (dbTarget !== null) {
    try {
      db = await openCdrSink(config, dbTarget.value, logger);
    } catch (err) {
      say(`sniffer analyze: database ${redactUrlPassword(dbTarget.value)}: ${err instanceof Error ? err.message : String(err)}`);
      return ExitCode.Storage;
    }
  }
  // Offline analysis keeps everything it writes unless asked: retention would delete the calls of
  // an old capture (or of a large one) as soon as they are written.
  const spool = spoolTarget === null ? null : openSpool(config, spoolTarget.value, args.spoolRetention, logger);
  const out = new LineOutput(io.stdout);
  const calls: CallRecord[] = [];
  const registers: RegisterRecord[] = [];
  const table = args.format === 'table';
  const pipeline = new PacketPipeline(pipelineOptionsFrom(config, sensor), {
    onCall: (r) => {
      db?.push(r);
      if (table) calls.push(r);
      else out.push(JSON.stringify(r));
    },
    onRegister: (r) => {
      db?.push(r);
      if (table) registers.push(r);
      else out.push(JSON.stringify(r));
    },
  }, spool);

  const showProgress = args.progress ?? io.stderr.isTTY === true;
  let exit: ExitCode = ExitCode.Ok;
  for (const file of args.files) {
    let size = 0;
    try {
      const st = await stat(file);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      size = st.size;
    } catch (err) {
      say(`sniffer analyze: ${describeReadError(file, err)}`);
      exit = ExitCode.InputFile;
      continue;
    }
    const bar = showProgress ? new ProgressBar(io.stderr, file, size) : null;
    const onPacket = (rec: PacketRecord): Promise<void> | undefined => {
      pipeline.onPacket(rec);
      bar?.update(rec.fileOffset, pipeline.counters.packets, pipeline.calls.openCalls);
      if (db?.needsPause === true) return db.drainSome();
      if (spool?.needsPause === true) return spool.drain();
      return out.full ? out.flush() : undefined;
    };
    try {
      const summary = await readCaptureFile(file, onPacket);
      bar?.done();
      if (summary.truncation !== null) {
        say(`sniffer analyze: ${file}: the last record is cut short (${summary.truncation.message}); every complete packet before it was analysed`);
      }
    } catch (err) {
      bar?.done();
      say(`sniffer analyze: ${describeReadError(file, err)}`);
      exit = ExitCode.InputFile;
    }
  }
  pipeline.finish();
  if (table) out.push(formatTable(calls, registers));
  await out.flush();
  say(summarize(pipeline));
  if (pipeline.counters.internalErrors > 0 && exit === ExitCode.Ok) exit = ExitCode.InternalError;
  if (spool !== null) {
    await spool.close();
    const st = spool.stats();
    const dropped = Object.values(st.packetsDropped).reduce((a, b) => a + b, 0) + st.fragmentsDropped;
    say(`spool: ${st.packetsWritten} packets written to ${spoolTarget?.value ?? ''} in ${st.filesCreated} files (${st.bytesWritten} bytes)` + (dropped > 0 ? `, ${dropped} packets dropped: ${JSON.stringify(st.packetsDropped)}` : ''));
    if (st.writeErrors > 0) exit = ExitCode.Storage;
  }
  if (db !== null) {
    const stats = await db.close();
    say(
      `database: ${stats.written} records written in ${stats.batches} transactions` +
        (stats.queued_to_disk > 0 ? `, ${stats.queued_to_disk} went through the on-disk queue` : '') +
        (stats.disk_backlog ? ', some are still queued on disk (the database was unreachable) and will be replayed by the next run' : '') +
        (db.failed > 0 ? `, ${db.failed} could not be stored: ${db.lastError?.message ?? ''}` : ''),
    );
    if (db.failed > 0) exit = ExitCode.Storage;
  }
  return exit;
}

/** One stderr line of what was seen and refused, so nothing is dropped silently. */
function summarize(p: PacketPipeline): string {
  const c = p.counters;
  const decodeErrors = c.decodeStatus.reduce((a, b) => a + b, 0);
  const byStatus = [...c.decodeStatus]
    .map((n, status) => (n > 0 ? `${DECODE_STATUS_NAMES[status] ?? status} ${n}` : ''))
    .filter((x) => x !== '')
    .join(', ');
  const sipRejected = Object.values(c.sipRejected).reduce((a, b) => a + b, 0);
  const t = p.calls.counters;
  return (
    `analyzed ${c.packets} packets: ${t.callsClosed} calls, ${p.registers.counters.registers} registrations, ` +
    `${c.sipMessages} SIP messages (${sipRejected} unparsable, ${t.sipOutOfDialog} outside a known dialog), ` +
    `${t.rtpPackets} RTP + ${t.rtcpPackets} RTCP in calls, ${t.rtpWithoutCall} RTP-like without call, ` +
    `${decodeErrors} not decoded${decodeErrors > 0 ? ` (${byStatus})` : ''}, ${c.udpUnmatched} other UDP` +
    (t.callsEvicted > 0 ? `, ${t.callsEvicted} calls evicted by the table cap` : '') +
    (c.internalErrors > 0 ? `\nINTERNAL ERROR on ${c.internalErrors} packet(s) (skipped; please report): ${p.firstInternalError?.stack ?? ''}` : '')
  );
}
