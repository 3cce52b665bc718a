import { stat, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { readCaptureFile } from '@callscope/pcap-store';
import { ConfigError, createLogger, redactUrlPassword, type DeepReadonly, type PinoLikeLogger } from '@callscope/runtime';
import { CdrSink, describeDelivery, type CdrDelivery } from '../output/cdr-sink.js';
import { CdrQueueTargetError, QueueLockedError, type CdrWriterStats } from '@callscope/cdr-schema';
import { resolve } from 'node:path';
import { CallSpool } from '../output/call-spool.js';
import { loadSnifferConfig, type LoadedSnifferConfig, type SnifferConfig } from '../config.js';
import { PacketPipeline, type PipelineOptions, type PipelineStats } from '@callscope/call-engine';
import { ANALYZE_USAGE, parseAnalyzeArgs } from './analyze-args.js';
import { UsageError, wantsHelp } from './command-args.js';
import { ExitCode } from './exit-code.js';
import { describeConfigTarget, resolveOutputTarget } from './output-targets.js';
import { LineOutput } from '../output/line-output.js';
import { ProgressBar } from './progress-bar.js';
import { formatTable } from './table-format.js';
import { describeCaptureDamage } from './capture-report.js';
import { finishInSlices } from './finish-in-slices.js';
import { spoolWorkerScript } from '../output/spool-worker-script.js';
import { cpuSeconds } from '../cpu-seconds.js';
import { CaptureError, type CaptureSummary, type PacketRecord } from '@callscope/pcap-format';
import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';

/** Calls written out per slice at the end of the input (one CDR batch: the writer's default 500). */
const FINISH_SLICE_CALLS = 500;

/**
 * Wall-clock seconds of each phase of one `analyze` run, in `--stats` as `timing`: where a slow
 * run's time went. Why: with a spool and a database, most of what a run costs beyond the analysis
 * lands in two places, the packets (the spool's copies) and the end (the calls still open at the
 * last packet are closed at once, and their records go to the database then); the total alone
 * cannot tell them apart.
 */
export interface AnalyzeTiming {
  /** Process start to the first packet read: loading, configuration, database connection, spool opening. */
  setup_s: number;
  /** Reading and analysing the packets of every file (including any wait on the spool or database). */
  packets_s: number;
  /** After the last packet: closing the calls still open and handing out their records (with the same waits). */
  finish_s: number;
  /** Waiting for the spool's last writes; null without a spool. */
  spool_close_s: number | null;
  /** Waiting for the database to take the last records; null without a database. */
  db_close_s: number | null;
  /** Process start to the end of the run. */
  total_s: number;
}

/** Seconds since the process started (performance's time origin), to the millisecond. */
const sinceStart = (): number => Math.round(performance.now()) / 1000;
const secondsBetween = (from: number, to: number): number => Math.round((to - from) * 1000) / 1000;

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
      correlationHeaders: config.calls.correlationHeaders,
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

/**
 * The CDR writer of `--db <url>`, batched and queued as the config's `db` section says, its queue
 * in `queueDir` (else config `db.queueDir`). The database may be down: then the command is told
 * (`say`) and records wait in the queue. A queue held by another writer, or holding another
 * database's records, is refused: `say` gets why and the result is {@link ExitCode.Storage}.
 */
export async function openCdrSink(
  command: 'analyze' | 'live' | 'run',
  config: DeepReadonly<SnifferConfig>,
  url: string,
  opts: { queueDir: string | null; sensor: string; holdS: number },
  logger: { child(b: object): PinoLikeLogger },
  say: (msg: string) => void,
): Promise<CdrSink | ExitCode> {
  const queueDir = resolve(opts.queueDir ?? config.db.queueDir);
  try {
    const { sink, unreachable } = await CdrSink.open({
      url,
      queueDir,
      batchSize: config.db.batchSize,
      batchMs: config.db.batchMs,
      queueMaxMb: config.db.queueMaxMb,
      holdS: opts.holdS,
      sensor: opts.sensor,
      owner: `sniffer ${command}`,
      logger: logger.child({ component: 'cdr-writer' }),
    });
    if (unreachable !== null) {
      say(`sniffer ${command}: database ${redactUrlPassword(url)} unreachable (${unreachable}): records go to the queue ${queueDir} and are delivered when it is back`);
    }
    return sink;
  } catch (err) {
    if (err instanceof QueueLockedError || err instanceof CdrQueueTargetError) {
      say(`sniffer ${command}: ${err.message} (--queue-dir <dir>)`);
      return ExitCode.Storage;
    }
    say(`sniffer ${command}: CDR queue ${queueDir}: ${err instanceof Error ? err.message : String(err)}`);
    return ExitCode.Storage;
  }
}

/**
 * The per-call pcap spool under `dir`, with the config's mode and compression; `retention` applies
 * the config's size and age limits (live always, analyze only with `--spool-retention`). `offline`:
 * the reader waits on a full spool (analyze), see CallSpoolOptions.offline.
 */
export function openSpool(
  config: DeepReadonly<SnifferConfig>,
  dir: string,
  retention: boolean,
  logger: { child(b: object): { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void; debug(o: object, m: string): void } },
  sensor: string = config.sensor.name,
  offline = false,
): CallSpool {
  const log = logger.child({ component: 'spool' });
  return new CallSpool({
    dir,
    sensor,
    mode: config.spool.mode,
    compress: config.spool.compress,
    retention,
    maxSizeBytes: Math.round(config.spool.maxSizeGb * 1024 ** 3),
    maxAgeDays: config.spool.maxAgeDays,
    maxOpenFiles: 1024,
    workerScript: config.spool.writerThread ? spoolWorkerScript() : null,
    offline,
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
  const dbWaitS = args.dbWaitS ?? config.db.waitS;
  if (dbTarget !== null) {
    // Records neither the database nor the queue takes wait as long as analyze waits at the end.
    const opened = await openCdrSink('analyze', config, dbTarget.value, { queueDir: args.queueDir, sensor, holdS: Math.max(dbWaitS, 1) }, logger, say);
    if (typeof opened === 'number') return opened;
    db = opened;
  }
  // Offline analysis keeps everything it writes unless asked: retention would delete the calls of
  // an old capture (or of a large one) as soon as they are written.
  const spool = spoolTarget === null ? null : openSpool(config, spoolTarget.value, args.spoolRetention, logger, sensor, true);
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
  /**
   * What the reader waits on before going on, if anything: a slow database or spool paces it
   * instead of growing memory, and buffered output is written out (see CdrSink and CallSpool).
   */
  const backPressure = (): Promise<void> | undefined => {
    if (db?.needsPause === true) return db.drainSome();
    if (spool?.needsPause === true) return spool.drain();
    return out.full ? out.flush() : undefined;
  };

  const showProgress = args.progress ?? io.stderr.isTTY === true;
  const packetsFrom = sinceStart();
  let exit: ExitCode = ExitCode.Ok;
  const files: FileStats[] = [];
  for (const file of args.files) {
    let size = 0;
    const fileStats: FileStats = { file, packets: 0, summary: null, error: null };
    files.push(fileStats);
    try {
      const st = await stat(file);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      size = st.size;
    } catch (err) {
      fileStats.error = describeReadError(file, err);
      say(`sniffer analyze: ${fileStats.error}`);
      exit = ExitCode.InputFile;
      continue;
    }
    const bar = showProgress ? new ProgressBar(io.stderr, file, size) : null;
    const onPacket = (rec: PacketRecord): Promise<void> | undefined => {
      fileStats.packets++;
      pipeline.onPacket(rec);
      bar?.update(rec.fileOffset, pipeline.counters.packets, pipeline.calls.openCalls);
      return backPressure();
    };
    try {
      const summary = await readCaptureFile(file, onPacket);
      fileStats.summary = summary;
      bar?.done();
      for (const line of describeCaptureDamage(file, summary)) say(line);
    } catch (err) {
      bar?.done();
      fileStats.error = describeReadError(file, err);
      say(`sniffer analyze: ${fileStats.error}`);
      exit = ExitCode.InputFile;
    }
  }
  // The calls still open are written out in slices, yielding between them: with a database the
  // first inserts then run while the rest of the records are built, instead of after all of them
  // (10,000 open calls: 0.8 s of building), and its back-pressure holds as during the packets.
  const finishFrom = sinceStart();
  await finishInSlices(() => pipeline.finishSome(FINISH_SLICE_CALLS), backPressure);
  const finishTo = sinceStart();
  if (table) out.push(formatTable(calls, registers));
  await out.flush();
  const pipelineStats = pipeline.stats();
  say(summarize(pipelineStats));
  if (pipeline.counters.internalErrors > 0 && exit === ExitCode.Ok) exit = ExitCode.InternalError;
  let spoolStats: ReturnType<CallSpool['stats']> | null = null;
  let spoolCloseS: number | null = null;
  if (spool !== null) {
    const from = sinceStart();
    await spool.close();
    spoolCloseS = secondsBetween(from, sinceStart());
    const st = spool.stats();
    spoolStats = st;
    const dropped = Object.values(st.packetsDropped).reduce((a, b) => a + b, 0) + st.fragmentsDropped;
    say(`spool: ${st.packetsWritten} packets written to ${spoolTarget?.value ?? ''} in ${st.filesCreated} files (${st.bytesWritten} bytes)` + (dropped > 0 ? `, ${dropped} packets dropped: ${JSON.stringify(st.packetsDropped)}` : ''));
    if (st.writeErrors > 0) exit = ExitCode.Storage;
  }
  let dbStats: (CdrWriterStats & { this_run: Omit<CdrDelivery, 'earlier' | 'queue'>; earlier: CdrDelivery['earlier']; queue: CdrDelivery['queue'] }) | null = null;
  let dbCloseS: number | null = null;
  if (db !== null) {
    const from = sinceStart();
    const { stats, delivery } = await db.close(dbWaitS * 1000, (st, leftMs) => {
      say(`waiting for the database to take ${st.queue_records + st.pending} queued records (${Math.ceil(leftMs / 1000)} s left, --db-wait)`);
    });
    dbCloseS = secondsBetween(from, sinceStart());
    // The earlier backlog and the queue once each, beside this run's part (not inside it too).
    const { earlier, queue, ...thisRun } = delivery;
    dbStats = { ...stats, this_run: thisRun, earlier, queue };
    say(
      describeDelivery(delivery) +
        `; ${stats.batches} transactions` +
        (stats.long_call_ids > 0 ? `; ${stats.long_call_ids} Call-IDs over 1024 characters stored cut (keyed by the whole Call-ID's hash)` : ''),
    );
    if (delivery.lost > 0) exit = ExitCode.Storage;
    else if (delivery.queue.records > 0 && exit === ExitCode.Ok) exit = ExitCode.Queued;
  }
  if (args.stats !== null) {
    const doc = {
      files: files.map((f) => ({ file: f.file, packets: f.packets, error: f.error, capture: f.summary === null ? null : captureStats(f.summary) })),
      packets_read: files.reduce((a, f) => a + f.packets, 0),
      ...pipelineStats,
      spool: spoolStats,
      database: dbStats,
      timing: {
        setup_s: packetsFrom,
        packets_s: secondsBetween(packetsFrom, finishFrom),
        finish_s: secondsBetween(finishFrom, finishTo),
        spool_close_s: spoolCloseS,
        db_close_s: dbCloseS,
        total_s: sinceStart(),
      } satisfies AnalyzeTiming,
      // Read once everything is closed: the spool thread's last report is its final one.
      cpu: cpuSeconds(spool),
      exit_code: exit,
    };
    const text = `${JSON.stringify(doc)}\n`;
    if (args.stats === '-') io.stderr.write(text);
    else {
      try {
        await writeFile(args.stats, text);
      } catch (err) {
        say(`sniffer analyze: --stats ${args.stats}: ${err instanceof Error ? err.message : String(err)}`);
        if (exit === ExitCode.Ok) exit = ExitCode.Storage;
      }
    }
  }
  return exit;
}

/** A capture summary as JSON: counters as they are, the truncation as its message. */
function captureStats(s: CaptureSummary): object {
  return { ...s, truncation: s.truncation === null ? null : { code: s.truncation.code, offset: s.truncation.offset, message: s.truncation.message } };
}

/** What a file held and what it lacked, for `--stats`. */
interface FileStats {
  file: string;
  /** Read and handed to the pipeline. */
  packets: number;
  /** Null when the file could not be read at all (then `error` says why). */
  summary: CaptureSummary | null;
  error: string | null;
}

/** Keys of the first summary line; every other non-zero counter follows on the next lines. */
const MAIN_FATES = new Set(['rtp_in_call', 'rtcp_in_call', 'rtp_without_call', 'udp_other', 'sip_call', 'sip_register', 'sip_out_of_dialog']);
const MAIN_CALL_COUNTERS = new Set(['calls_opened', 'calls_closed', 'calls_evicted', 'sip_messages', 'sip_out_of_dialog', 'rtp_packets', 'rtcp_packets', 'rtp_without_call', 'open', 'open_streams']);

/** `name n, name n` of the non-zero entries not in `skip`, or '' when there are none. */
function nonZero(counters: Record<string, number>, skip: ReadonlySet<string> = new Set()): string {
  return Object.entries(counters)
    .filter(([k, n]) => n !== 0 && !skip.has(k))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

/**
 * What was seen and refused, for stderr: a first line as before, then every other non-zero
 * counter (packet fates, call table, registrations, TCP, IP reassembly): nothing is dropped silently.
 */
export function summarize(st: PipelineStats): string {
  const f = st.fates;
  const notDecoded = Object.entries(f).filter(([k]) => k.startsWith('not_decoded.'));
  const decodeErrors = notDecoded.reduce((a, [, n]) => a + n, 0);
  const byStatus = notDecoded.map(([k, n]) => `${k.slice('not_decoded.'.length)} ${n}`).join(', ');
  const sipRejected = Object.values(st.sip.rejected).reduce((a, b) => a + b, 0);
  const c = st.calls;
  const lines = [
    `analyzed ${st.packets} packets: ${c['calls_closed']} calls, ${st.registrations['registers']} registrations, ` +
      `${st.sip.messages} SIP messages (${sipRejected} unparsable, ${c['sip_out_of_dialog']} outside a known dialog), ` +
      `${f['rtp_in_call']} RTP + ${f['rtcp_in_call']} RTCP in calls, ${f['rtp_without_call']} RTP-like without call, ` +
      `${decodeErrors} not decoded${decodeErrors > 0 ? ` (${byStatus})` : ''}, ${f['udp_other']} other UDP` +
      (c['calls_evicted']! > 0 ? `, ${c['calls_evicted']} calls evicted by the table cap` : ''),
  ];
  const otherFates = nonZero(Object.fromEntries(Object.entries(f).filter(([k]) => !k.startsWith('not_decoded.'))), MAIN_FATES);
  if (otherFates !== '') lines.push(`  other packets: ${otherFates}`);
  if (sipRejected > 0) lines.push(`  SIP refused: ${nonZero(st.sip.rejected)}`);
  const sipCounters = Object.fromEntries(Object.entries(st.sip).filter((e): e is [string, number] => typeof e[1] === 'number'));
  const sipText = nonZero(sipCounters, new Set(['messages']));
  if (sipText !== '') lines.push(`  SIP: ${sipText}`);
  const sections: [string, Record<string, number>, ReadonlySet<string>?][] = [
    ['calls', c, MAIN_CALL_COUNTERS],
    ['registrations', st.registrations, new Set(['registers', 'open'])],
    ['SIP over TCP', st.tcp, new Set(['messages'])],
    ['IP reassembly', st.ip_reassembly],
  ];
  for (const [name, counters, skip] of sections) {
    const text = nonZero(counters, skip);
    if (text !== '') lines.push(`  ${name}: ${text}`);
  }
  if (st.internal_errors > 0) lines.push(`INTERNAL ERROR on ${st.internal_errors} packet(s) (skipped; please report): ${st.first_internal_error ?? ''}`);
  return lines.join('\n');
}
