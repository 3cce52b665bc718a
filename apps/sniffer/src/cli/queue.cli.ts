import { resolve } from 'node:path';
import { CdrQueueTargetError, CdrWriter, QueueLockedError, databaseKey, queueStatus, verifyQueue } from '@callscope/cdr-schema';
import { ConfigError, createLogger, redactUrlPassword } from '@callscope/runtime';
import { loadSnifferConfig } from '../config.js';
import type { AnalyzeIo } from './analyze.cli.js';
import { UsageError, flagOption, parseCommandArgs, stringOption, wantsHelp, type OptionSpecs } from './command-args.js';
import { ExitCode } from './exit-code.js';
import { resolveOutputTarget } from './output-targets.js';

export const QUEUE_USAGE = `usage: sniffer queue status|verify|replay [options]

The on-disk CDR queue: where records wait while the database cannot take them (analyze, live and
run write it; the next run on the same queue replays it by itself).

  status    records waiting, bytes, segments, the database and sensor the queue belongs to, when the
            oldest record was queued, and which process holds the queue now (if any)
  verify    read every waiting record and check it (checksums, content); lists damaged places
  replay    deliver the waiting records into the queue's database now, then exit

options (--name=value and --name value both work):
  --queue-dir <dir>   the queue (default: config db.queueDir, var/cdr-queue under the current directory)
  --json              status/verify: one JSON object on stdout instead of text
  --db <mysql-url>    replay: the database (default: config db.url when set, or when it names the
                      queue's database); it must be the one the queue belongs to (status shows it)
                      unless --force
  --force             replay: deliver into --db although the queue belongs to another database
  --wait <seconds>    replay: how long to wait for the database to take everything (default 60)
  --config <file>     sniffer configuration file (JSON)

exit codes: 0 done (replay: the queue is empty; verify: nothing damaged); 2 bad usage or configuration;
            4 verify found damage, or replay was refused (queue in use, another database) or lost records;
            8 replay: records still wait (the database did not take them in time)`;

const QUEUE_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h' },
  'queue-dir': { type: 'string' },
  json: { type: 'boolean' },
  db: { type: 'string' },
  force: { type: 'boolean' },
  wait: { type: 'string' },
  config: { type: 'string' },
};

/** `sniffer queue status|verify|replay`. */
export async function runQueue(argv: readonly string[], io: AnalyzeIo): Promise<ExitCode> {
  const say = (msg: string) => io.stderr.write(`${msg}\n`);
  const out = (msg: string) => io.stdout.write(`${msg}\n`);
  if (wantsHelp(argv)) {
    out(QUEUE_USAGE);
    return ExitCode.Ok;
  }
  let parsed;
  let loaded;
  let waitS = 60;
  try {
    parsed = parseCommandArgs('queue', argv, QUEUE_OPTIONS, true);
    const [sub, ...extra] = parsed.positionals;
    if (sub !== 'status' && sub !== 'verify' && sub !== 'replay') throw new UsageError(sub === undefined ? 'no queue command given' : `unknown queue command "${sub}"`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0] ?? ''}"`);
    const wait = stringOption(parsed, 'wait');
    if (wait !== null) {
      if (!/^\d+(\.\d+)?$/.test(wait)) throw new UsageError(`--wait must be a number of seconds, not "${wait}"`);
      waitS = Number(wait);
    }
    const config = stringOption(parsed, 'config');
    loaded = loadSnifferConfig(config === null ? [] : ['--config', config], io.env);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      say(`sniffer queue: ${err.message}\n\n${QUEUE_USAGE}`);
      return ExitCode.Usage;
    }
    throw err;
  }
  const sub = parsed.positionals[0] as 'status' | 'verify' | 'replay';
  const dir = resolve(stringOption(parsed, 'queue-dir') ?? loaded.config.db.queueDir);
  const json = flagOption(parsed, 'json');
  if (sub === 'status') {
    const st = await queueStatus(dir);
    if (json) out(JSON.stringify(st));
    else {
      out(`queue ${st.dir}: ${st.records} records waiting, ${st.bytes} bytes in ${st.segments} segments`);
      out(`  belongs to: ${st.target === null ? 'no database yet' : `${st.target.database}${st.target.database_uuid === null ? '' : ` (identity ${st.target.database_uuid})`}${st.target.sensor === null ? '' : `, sensor ${st.target.sensor}`}`}`);
      out(`  oldest record queued: ${st.oldest ?? '-'}`);
      out(`  in use by: ${st.locked_by === null ? 'nobody' : `pid ${st.locked_by.pid} (${st.locked_by.command}, since ${st.locked_by.since})`}`);
    }
    return ExitCode.Ok;
  }
  if (sub === 'verify') {
    const v = await verifyQueue(dir);
    if (json) out(JSON.stringify(v));
    else {
      out(`queue ${v.dir}: ${v.batches} whole batches holding ${v.records} records; ${v.damage.length} damaged places`);
      for (const d of v.damage) out(`  ${d.segment} offset ${d.offset}: ${d.bytes} bytes, ${d.reason}${d.records > 0 ? `, ${d.records} records in it` : ''}`);
    }
    return v.damage.length > 0 ? ExitCode.Storage : ExitCode.Ok;
  }
  // Without --db: the configured URL, or the built-in default when it names the queue's database.
  const queued = (await queueStatus(dir)).target;
  const target =
    resolveOutputTarget(stringOption(parsed, 'db'), false, 'db.url', loaded) ??
    (queued !== null && databaseKey(loaded.config.db.url) === queued.database ? { value: loaded.config.db.url, from: 'config' as const } : null);
  if (target === null) {
    say(`sniffer queue replay: no database: give --db <mysql-url> (the queue belongs to ${(await queueStatus(dir)).target?.database ?? 'no database yet'})\n\n${QUEUE_USAGE}`);
    return ExitCode.Usage;
  }
  const logger = createLogger({ app: 'sniffer', level: loaded.config.log.level, ...(loaded.config.log.pretty !== null ? { pretty: loaded.config.log.pretty } : {}), destination: io.stderr });
  let writer: CdrWriter;
  try {
    writer = await CdrWriter.open({
      db: target.value,
      queueDir: dir,
      batchSize: loaded.config.db.batchSize,
      prepareDatabase: true,
      force: flagOption(parsed, 'force'),
      owner: 'sniffer queue replay',
      logger: logger.child({ component: 'cdr-writer' }),
    });
  } catch (err) {
    if (err instanceof QueueLockedError || err instanceof CdrQueueTargetError) {
      say(`sniffer queue replay: ${err.message}`);
      return ExitCode.Storage;
    }
    throw err;
  }
  const unreachable = await writer.connect();
  if (unreachable !== null) say(`sniffer queue replay: database ${redactUrlPassword(target.value)} unreachable (${unreachable}); waiting up to ${waitS} s`);
  const deadline = Date.now() + waitS * 1000;
  const progress = setInterval(() => {
    say(`waiting for the database to take ${writer.stats().queue_records} queued records (${Math.ceil((deadline - Date.now()) / 1000)} s left, --wait)`);
  }, 5000);
  try {
    await writer.close({ drainTimeoutMs: waitS * 1000 });
  } finally {
    clearInterval(progress);
  }
  const st = writer.stats();
  say(
    `replayed ${st.earlier_replayed} records: ${st.earlier_new} new, ${st.earlier_present} already present; ${st.queue_records} still queued; ` +
      `${st.torn_records} torn records skipped (${st.torn_bytes} bytes${st.torn_lost_records > 0 ? `, ${st.torn_lost_records} records in them` : ''})` +
      (st.earlier_rejected > 0 ? `; ${st.earlier_rejected} rejected by the database` : '') +
      (st.target_refused !== null ? `; refused: ${st.target_refused}` : st.queue_records > 0 && st.db_error !== null ? `; database: ${st.db_error}` : ''),
  );
  if (st.target_refused !== null || st.earlier_rejected > 0) return ExitCode.Storage;
  return st.queue_records > 0 ? ExitCode.Queued : ExitCode.Ok;
}
