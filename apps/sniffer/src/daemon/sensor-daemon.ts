import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { PacketPipeline, type PipelineStats } from '@callscope/call-engine';
import type { PacketRecord } from '@callscope/pcap-format';
import type { DeepReadonly, Logger } from '@callscope/runtime';
import type { SnifferConfig } from '../config.js';
import type { CallSpool } from '../output/call-spool.js';
import { describeDelivery, type CdrSink } from '../output/cdr-sink.js';
import { hasSourceStats } from '../sources/mirror-receiver.js';
import type { PacketSink, PacketSource, SourceKind, SourceStats } from '../sources/packet-source.js';
import { DECODE_STATUS_COUNT, DECODE_STATUS_NAMES, DecodeStatus } from '@callscope/packet';
import { cpuSeconds, type CpuSeconds } from '../cpu-seconds.js';
import { ControlServer } from './control-server.js';
import { MemoryGuard, type MemoryGuardStats } from './memory-guard.js';
import type { SensorHeartbeat } from './sensor-heartbeat.js';

/** What a {@link SensorDaemon} runs with; the CLI builds it from the config and the command line. */
export interface SensorDaemonOptions {
  config: DeepReadonly<SnifferConfig>;
  /** Sensor name written into every record. */
  sensor: string;
  /** Sensor number (`sensor.id`), reported by stats and the heartbeat. */
  sensorId: number;
  version: string;
  logger: Logger;
  pipeline: PacketPipeline;
  /**
   * Builds the pipeline of one mirrored sensor (its records carry that sensor's name), on the
   * first packet path asked for it. Absent: mirrored packets go into {@link pipeline} too.
   */
  sensorPipeline?: (sensor: string) => PacketPipeline;
  /**
   * Builds the sources once the packet path exists: each source delivers into the sink
   * `sinkFor(kind, name)` gives it (one per source: its decode failures are counted apart). A sink
   * asked with a `sensor` (a mirror receiver's, one per sender) feeds that sensor's own pipeline.
   */
  sources: (sinkFor: SinkFactory) => PacketSource[];
  db: CdrSink | null;
  spool: CallSpool | null;
  /** Control socket path, or null for none (tests). */
  control: string | null;
  heartbeat: SensorHeartbeat | null;
  /** Wall clock in ms (tests). */
  now?: () => number;
}

/** Gives a source its packet path; `sensor` names a mirrored sensor whose calls are its own. */
export type SinkFactory = (kind: SourceKind, name: string, sensor?: string) => PacketSink;

/** The `cdr_queue` part of the stats: where CDRs are between the call table and the database. */
export interface CdrQueueStats {
  /** Records handed to the writer and not yet settled (stored, queued on disk, or failed). */
  in_flight: number;
  /** Records waiting in memory for a batch. */
  pending: number;
  /** Bytes in the on-disk outage queue. */
  disk_bytes: number;
  disk_backlog: boolean;
  written: number;
  already_present: number;
  queued_to_disk: number;
  dropped: number;
  failed: number;
  db_errors: number;
  /** Records of this run lost, by reason (see CdrLostReasons). */
  lost_reasons: Record<string, number>;
  /** Records waiting in the on-disk queue (all, and of this run). */
  queue_records: number;
  queue_own_records: number;
  /** Absolute directory of the queue. */
  queue_dir: string;
  /** Records an earlier run left in the queue, replayed by this one. */
  earlier_replayed: number;
  /** Damaged places skipped in the queue, and the records known to be in them. */
  torn_records: number;
  torn_lost_records: number;
  /** The last database / queue disk error while it lasts, and why the queue is not replayed (another database). */
  db_error: string | null;
  disk_error: string | null;
  target_refused: string | null;
}

/** `sniffer stats`: one JSON object (DESIGN.md "Sensor daemon"). */
export interface SensorStats {
  sensor_id: number;
  sensor: string;
  version: string;
  started: string;
  uptime_s: number;
  state: 'running' | 'stopping';
  sources: SourceStats[];
  packets: number;
  packets_per_s: number;
  calls_open: number;
  registrations_open: number;
  cdr_queue: CdrQueueStats | null;
  spool: Record<string, unknown> | null;
  memory: MemoryGuardStats;
  event_loop_lag_ms: { mean: number; p99: number; max: number };
  /**
   * CPU seconds since the start (see CpuSeconds) and each one's share of one core over the last
   * status interval, in % (100: a whole core). The packet thread near 100 % is a sensor about to
   * drop packets, whatever the process's total says.
   */
  cpu: CpuShares;
  /** Every drop and refusal by reason, flattened (`capture.kernel_drops`, `packets.not_decoded.BadIp`...). */
  counters: Record<string, number>;
  /** The local pipeline (interfaces, HEP, replay). */
  pipeline: PipelineStats;
  /** Each mirrored sensor's pipeline: its packets, open calls and registrations (its counters are in `counters`). */
  sensor_pipelines: Record<string, { packets: number; calls_open: number; registrations_open: number }>;
}

/** {@link SensorStats.cpu}. */
export type CpuShares = CpuSeconds & { process_pct: number; packet_thread_pct: number | null; spool_thread_pct: number | null };

/** Share of one core, in whole %, of `to - from` CPU seconds over `dtS` wall seconds; null when either is unknown. */
function shareOf(from: number | null, to: number | null, dtS: number): number | null {
  if (from === null || to === null) return null;
  return dtS > 0 ? Math.max(0, Math.round(((to - from) / dtS) * 100)) : 0;
}

/**
 * The long-running sensor: sources -> call engine -> CDR writer and spool, with a control socket,
 * a status line, a database heartbeat and a memory guard. One instance per process; everything
 * runs on the event loop, so the sources, the timers and the control requests never race.
 */
export class SensorDaemon {
  private readonly log: Logger;
  private readonly pipeline: PacketPipeline;
  /** Pipelines of mirrored sensors, by sensor name (the mirror receiver caps how many). */
  private readonly sensorPipelines = new Map<string, PacketPipeline>();
  /** Each mirrored sensor's packet clock: the newest packet time and when the tick first saw it. */
  private readonly sensorClocks = new Map<PacketPipeline, { lastUs: number; seenUs: number; atMs: number }>();
  /** The memory guard's level, given to pipelines created later too. */
  private shedLevel: 0 | 1 | 2 = 0;
  private sources: PacketSource[] = [];
  private readonly control: ControlServer | null;
  private readonly memory: MemoryGuard;
  private readonly lag: IntervalHistogram;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly startedMs: number;
  private readonly now: () => number;
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private stopping: Promise<void> | null = null;
  /** Packets and wall time at the previous status line, for packets/s. */
  private rateMark = { packets: 0, atMs: 0, perS: 0 };
  /** CPU seconds and wall time at the previous status line, for the shares of `cpu`. */
  private cpuMark: { at: CpuSeconds; atMs: number; shares: Pick<CpuShares, 'process_pct' | 'packet_thread_pct' | 'spool_thread_pct'> } = {
    at: { process_s: 0, packet_thread_s: null, spool_thread_s: null },
    atMs: 0,
    shares: { process_pct: 0, packet_thread_pct: null, spool_thread_pct: null },
  };
  private statusInterval: number;
  /** Per source (`kind\0name`): packets that did not decode, by DecodeStatus. */
  private readonly notDecoded = new Map<string, Float64Array>();

  constructor(private readonly options: SensorDaemonOptions) {
    this.log = options.logger;
    this.pipeline = options.pipeline;
    this.now = options.now ?? Date.now;
    this.startedMs = this.now();
    this.statusInterval = options.config.daemon.statusIntervalS;
    this.control =
      options.control === null
        ? null
        : new ControlServer(options.control, {
            stats: () => this.stats(),
            activeCalls: (limit) => {
              // The local calls first, then each mirrored sensor's, `limit` in all.
              const out = [];
              for (const p of this.pipelines()) {
                if (out.length >= limit) break;
                out.push(...p.activeCalls({ limit: limit - out.length }));
              }
              return out;
            },
            activeCall: (callId) => {
              for (const p of this.pipelines()) {
                const call = p.activeCall(callId);
                if (call !== null) return call;
              }
              return null;
            },
          });
    this.memory = new MemoryGuard({
      limitBytes: options.config.daemon.memoryLimitMb * 1024 * 1024,
      onLevel: (level, rss) => {
        this.shedLevel = level;
        for (const p of this.pipelines()) p.shedLoad(level);
        const mb = Math.round(rss / 1048576);
        if (level === 0) this.log.info({ rss_mb: mb }, 'memory back under the limit: tracking everything again');
        else this.log.warn({ rss_mb: mb, limit_mb: options.config.daemon.memoryLimitMb, level }, level === 1 ? 'memory near the limit: not tracking RTP of new streams (counted)' : 'memory at the limit: refusing new calls (counted)');
      },
    });
    this.lag = monitorEventLoopDelay({ resolution: 20 });
  }

  /** Opens the control socket, then the sources; rejects (with everything closed again) if one fails. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error('the daemon was started already');
    this.state = 'running';
    this.lag.enable();
    try {
      await this.control?.start();
      await this.options.heartbeat?.beat(this.stats(), 'running');
      const ok = DecodeStatus.Ok;
      this.sources = this.options.sources((kind, name, sensor) => {
        const pipeline = sensor === undefined ? this.pipeline : this.pipelineOf(sensor);
        const notDecoded = new Float64Array(DECODE_STATUS_COUNT);
        this.notDecoded.set(`${kind}\0${name}`, notDecoded);
        const clock = this.sensorClocks.get(pipeline);
        if (clock === undefined) {
          return (rec: PacketRecord) => {
            pipeline.onPacket(rec);
            const status = pipeline.lastDecodeStatus;
            if (status !== ok) notDecoded[status]!++;
          };
        }
        return (rec: PacketRecord) => {
          pipeline.onPacket(rec);
          const status = pipeline.lastDecodeStatus;
          if (status !== ok) notDecoded[status]!++;
          const us = rec.tsSec * 1e6 + Math.floor(rec.tsNsec / 1000);
          if (us > clock.lastUs) clock.lastUs = us;
        };
      });
      for (const source of this.sources) {
        await source.start();
        this.log.info({ kind: source.kind, name: source.name }, 'source started');
      }
    } catch (err) {
      await this.closeAll('start failed');
      this.state = 'stopped';
      throw err;
    }
    this.rateMark = { packets: 0, atMs: this.now(), perS: 0 };
    const cpu = cpuSeconds(this.options.spool);
    // Before the first status line the shares are 0 where they will be known (null: not known here).
    this.cpuMark = { at: cpu, atMs: this.now(), shares: { process_pct: 0, packet_thread_pct: cpu.packet_thread_s === null ? null : 0, spool_thread_pct: null } };
    // Calls time out on packet time; when no packet comes, the sources' clocks move it on.
    this.every(1000, () => {
      const now = this.sourceClockUs();
      if (now !== null) this.pipeline.tick(now);
      this.tickSensorPipelines();
      this.memory.check();
    });
    this.scheduleStatus();
    if (this.options.heartbeat !== null) {
      this.every(this.options.config.daemon.heartbeatS * 1000, () => {
        void this.options.heartbeat?.beat(this.stats(), 'running');
      });
    }
  }

  /**
   * A mirrored sensor's calls time out on its own packet clock: its newest packet time, moved on
   * by the wall time since it was first seen, so a sender that goes quiet (or a link that is cut)
   * still closes its calls after their timeouts, whatever the offset between its clock and ours.
   */
  private tickSensorPipelines(): void {
    const nowMs = this.now();
    for (const [pipeline, c] of this.sensorClocks) {
      if (c.lastUs === 0) continue;
      if (c.lastUs !== c.seenUs) {
        c.seenUs = c.lastUs;
        c.atMs = nowMs;
      }
      pipeline.tick(c.seenUs + (nowMs - c.atMs) * 1000);
    }
  }

  /** The local pipeline, then each mirrored sensor's. */
  private pipelines(): PacketPipeline[] {
    return [this.pipeline, ...this.sensorPipelines.values()];
  }

  /** The pipeline of a mirrored sensor, created on first use (at the memory guard's current level). */
  private pipelineOf(sensor: string): PacketPipeline {
    let p = this.sensorPipelines.get(sensor);
    if (p === undefined) {
      const make = this.options.sensorPipeline;
      if (make === undefined) return this.pipeline;
      p = make(sensor);
      if (this.shedLevel !== 0) p.shedLoad(this.shedLevel);
      this.sensorPipelines.set(sensor, p);
      this.sensorClocks.set(p, { lastUs: 0, seenUs: 0, atMs: 0 });
      this.log.info({ sensor }, 'mirrored sensor: its own call table opened (its records carry its name)');
    }
    return p;
  }

  /** The latest "now" any source gives (wall clock for live ones, the schedule for a replay). */
  private sourceClockUs(): number | null {
    let now: number | null = null;
    for (const s of this.sources) {
      const t = s.clockUs();
      if (t !== null && (now === null || t > now)) now = t;
    }
    return now;
  }

  /** Resolves once every source has ended (replay-only runs stop by themselves then). */
  sourcesEnded(): Promise<void> | null {
    const ends: Promise<void>[] = [];
    for (const s of this.sources) {
      if (s.ended === undefined) return null;
      ends.push(s.ended);
    }
    return ends.length === 0 ? null : Promise.all(ends).then(() => undefined);
  }

  /**
   * Stops the sources, closes every open call with `sensor_shutdown`, flushes the spool and the
   * CDR writer (or its disk queue), closes the control socket. Idempotent.
   */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.closeAll(reason);
    return this.stopping;
  }

  /** Status interval after a reload (`daemon.statusIntervalS` can change without a restart). */
  setStatusInterval(seconds: number): void {
    this.statusInterval = seconds;
    this.scheduleStatus();
  }

  /** The sources, for a reload that changes what they can change (filters). */
  get activeSources(): readonly PacketSource[] {
    return this.sources;
  }

  private statusTimer: NodeJS.Timeout | null = null;

  private scheduleStatus(): void {
    if (this.statusTimer !== null) clearInterval(this.statusTimer);
    if (this.state !== 'running') return;
    this.statusTimer = setInterval(() => {
      this.logStatus();
    }, this.statusInterval * 1000);
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(
      setInterval(() => {
        try {
          fn();
        } catch (err) {
          this.log.error({ err }, 'periodic task failed');
        }
      }, ms),
    );
  }

  private async closeAll(reason: string): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    this.log.info({ reason }, 'sensor stopping');
    for (const t of this.timers) clearInterval(t);
    if (this.statusTimer !== null) clearInterval(this.statusTimer);
    for (const source of this.sources) {
      try {
        await source.stop();
      } catch (err) {
        this.log.error({ err, source: source.name }, 'source did not stop cleanly');
      }
    }
    if (wasRunning) for (const p of this.pipelines()) p.finish('sensor_shutdown');
    const spool = this.options.spool;
    if (spool !== null) {
      try {
        await spool.close();
      } catch (err) {
        this.log.error({ err }, 'spool did not close cleanly');
      }
    }
    const final = this.stats();
    if (this.options.db !== null) {
      const { stats, delivery } = await this.options.db.close();
      const line = describeDelivery(delivery);
      if (delivery.lost > 0) this.log.error({ cdr: stats }, line);
      else if (delivery.queue.records > 0) this.log.warn({ cdr: stats }, line);
      else this.log.info({ cdr: stats }, line);
    }
    await this.options.heartbeat?.beat(final, 'stopped');
    await this.options.heartbeat?.close();
    await this.control?.stop();
    this.lag.disable();
    this.log.info({ stats: withoutPipeline(final) }, 'sensor stopped');
    this.state = 'stopped';
  }

  /** The stats document of `sniffer stats` and the control socket's `/stats`. */
  stats(): SensorStats {
    const now = this.now();
    const pipeline = this.pipeline.stats();
    const sensorStats = [...this.sensorPipelines].map(([name, p]) => [name, p, p.stats()] as const);
    const sources = this.sources.flatMap((s) => (hasSourceStats(s) ? s.sourceStats() : [s.stats()])).map((st) => this.withDecodeCounts(st));
    const db = this.options.db;
    const cdrQueue: CdrQueueStats | null =
      db === null
        ? null
        : (() => {
            const w = db.stats();
            return {
              in_flight: db.inFlightCount,
              pending: w.pending,
              disk_bytes: w.disk_bytes,
              disk_backlog: w.disk_backlog,
              written: w.written,
              already_present: w.already_present,
              queued_to_disk: w.queued_to_disk,
              dropped: w.dropped,
              failed: db.failed,
              db_errors: w.db_errors,
              lost_reasons: { ...w.lost_reasons },
              queue_records: w.queue_records,
              queue_own_records: w.queue_own_records,
              queue_dir: w.queue_dir,
              earlier_replayed: w.earlier_replayed,
              torn_records: w.torn_records,
              torn_lost_records: w.torn_lost_records,
              db_error: w.db_error,
              disk_error: w.disk_error,
              target_refused: w.target_refused,
            };
          })();
    const spool = this.options.spool?.stats() ?? null;
    const counters = collectCounters(sources, [pipeline, ...sensorStats.map(([, , st]) => st)], cdrQueue, spool, this.memory.stats());
    const sensorPipelines: SensorStats['sensor_pipelines'] = {};
    let packets = pipeline.packets;
    let callsOpen = this.pipeline.calls.openCalls;
    let registrationsOpen = this.pipeline.registers.openDialogs;
    for (const [name, p, st] of sensorStats) {
      sensorPipelines[name] = { packets: st.packets, calls_open: p.calls.openCalls, registrations_open: p.registers.openDialogs };
      packets += st.packets;
      callsOpen += p.calls.openCalls;
      registrationsOpen += p.registers.openDialogs;
    }
    return {
      sensor_id: this.options.sensorId,
      sensor: this.options.sensor,
      version: this.options.version,
      started: new Date(this.startedMs).toISOString(),
      uptime_s: Math.round((now - this.startedMs) / 1000),
      state: this.state === 'running' || this.state === 'idle' ? 'running' : 'stopping',
      sources,
      packets,
      packets_per_s: this.rateMark.perS,
      calls_open: callsOpen,
      registrations_open: registrationsOpen,
      cdr_queue: cdrQueue,
      spool: spool === null ? null : { ...spool },
      memory: this.memory.stats(),
      event_loop_lag_ms: {
        mean: round1(this.lag.mean / 1e6),
        p99: round1(this.lag.percentile(99) / 1e6),
        max: round1(this.lag.max / 1e6),
      },
      cpu: { ...cpuSeconds(this.options.spool), ...this.cpuMark.shares },
      counters,
      pipeline,
      sensor_pipelines: sensorPipelines,
    };
  }

  /** A source's stats entry plus its packets that did not decode, by status (`not_decoded.<Status>`, non-zero only). */
  private withDecodeCounts(st: SourceStats): SourceStats {
    // A listener may name itself after the address it bound (port 0, a resolved host): the one
    // sink of its kind is then its own. The mirror receiver's listener entry has no packets of its
    // own (its senders' entries have them).
    let counts = this.notDecoded.get(`${st.kind}\0${st.name}`);
    if (counts === undefined && st['role'] !== 'listener') {
      const ofKind = [...this.notDecoded].filter(([key]) => key.startsWith(`${st.kind}\0`));
      if (ofKind.length === 1) counts = ofKind[0]![1];
    }
    let total = 0;
    if (counts !== undefined) {
      for (let i = 0; i < counts.length; i++) {
        const n = counts[i]!;
        if (n === 0) continue;
        total += n;
        st[`not_decoded.${DECODE_STATUS_NAMES[i] ?? i}`] = n;
      }
    }
    st['not_decoded'] = total;
    return st;
  }

  /** One status line on the log (text for people, the same figures as fields for machines). */
  private logStatus(): void {
    const now = this.now();
    let packets = 0;
    for (const p of this.pipelines()) packets += p.counters.packets;
    const dt = (now - this.rateMark.atMs) / 1000;
    this.rateMark = { packets, atMs: now, perS: dt > 0 ? Math.round((packets - this.rateMark.packets) / dt) : 0 };
    const cpu = cpuSeconds(this.options.spool);
    const cpuDt = (now - this.cpuMark.atMs) / 1000;
    const was = this.cpuMark.at;
    this.cpuMark = {
      at: cpu,
      atMs: now,
      shares: {
        process_pct: shareOf(was.process_s, cpu.process_s, cpuDt) ?? 0,
        packet_thread_pct: shareOf(was.packet_thread_s, cpu.packet_thread_s, cpuDt),
        // No report from the writer thread at the previous mark: it started since, all its time is this interval's.
        spool_thread_pct: shareOf(was.spool_thread_s ?? 0, cpu.spool_thread_s, cpuDt),
      },
    };
    const st = this.stats();
    this.lag.reset();
    const drops = st.sources.reduce((a, s) => a + s.kernel_drops + s.if_drops + s.queue_drops, 0);
    const cdr = st.cdr_queue;
    const spool = this.options.spool?.stats() ?? null;
    const text =
      `status: ${st.calls_open} calls open, ${st.packets_per_s} packets/s, ${drops} capture drops, ` +
      (cdr === null ? 'no database, ' : `CDR queue ${cdr.in_flight}${cdr.disk_backlog ? ` (+${cdr.queue_records} records, ${cdr.disk_bytes} bytes on disk)` : ''}${cdr.dropped > 0 ? `, ${cdr.dropped} CDRs lost` : ''}, `) +
      (spool === null ? 'no spool, ' : `spool buffer ${Math.round(spool.bufferedBytes / 1024)} KiB, `) +
      `event-loop lag max ${st.event_loop_lag_ms.max} ms, ` +
      (st.cpu.packet_thread_pct === null ? `CPU ${st.cpu.process_pct} %` : `CPU ${st.cpu.process_pct} % (packet thread ${st.cpu.packet_thread_pct} %${st.cpu.spool_thread_pct === null ? '' : `, spool thread ${st.cpu.spool_thread_pct} %`})`) +
      `, rss ${st.memory.rss_mb} MB` +
      (st.memory.level > 0 ? ` (shedding load, level ${st.memory.level})` : '');
    this.log.info({ status: withoutPipeline(st) }, text);
  }
}

function round1(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 10) / 10 : 0;
}

function withoutPipeline(st: SensorStats): Omit<SensorStats, 'pipeline' | 'counters' | 'sensor_pipelines'> & { counters: Record<string, number> } {
  const { pipeline: _pipeline, sensor_pipelines: _sensorPipelines, counters, ...rest } = st;
  const nonZero: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) if (v !== 0) nonZero[k] = v;
  return { ...rest, counters: nonZero };
}

/** Fates that are a packet's use in a call or registration: the others are listed as not used, by reason. */
const NORMAL_FATES = new Set(['sip_call', 'sip_register', 'sip_keepalive', 'media', 'rtp_in_call', 'rtcp_in_call', 'tcp_sip', 'ip_fragment_held']);

/**
 * Every drop and refusal by reason, as one flat map: capture drops per source kind, packet fates
 * that are not normal use, SIP rejections, the tables' evictions and refusals, spool and CDR
 * losses, memory shedding. Zeros included: a monitoring system wants stable keys.
 */
function collectCounters(
  sources: readonly SourceStats[],
  pipelines: readonly PipelineStats[],
  cdr: CdrQueueStats | null,
  spool: { packetsDropped: Record<string, number>; fragmentsDropped: number; earlyDropped: number; writeErrors: number } | null,
  memory: MemoryGuardStats,
): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (key: string, v: number) => {
    out[key] = (out[key] ?? 0) + v;
  };
  for (const s of sources) {
    add('capture.kernel_drops', s.kernel_drops);
    add('capture.if_drops', s.if_drops);
    add('capture.queue_drops', s.queue_drops);
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === 'number' && /(^bad_|_refused|_dropped|_closed|oversize|errors?$|failures$|^auth_bad|^lost$|truncated|overflow|^not_decoded)/.test(k)) add(`${s.kind}.${k}`, v);
    }
  }
  for (const pipeline of pipelines) addPipelineCounters(add, pipeline);
  if (spool !== null) {
    for (const [k, v] of Object.entries(spool.packetsDropped)) add(`spool.dropped.${k}`, v);
    add('spool.fragments_dropped', spool.fragmentsDropped);
    add('spool.early_dropped', spool.earlyDropped);
    add('spool.write_errors', spool.writeErrors);
  }
  if (cdr !== null) {
    add('cdr.dropped', cdr.dropped);
    for (const [k, v] of Object.entries(cdr.lost_reasons)) add(`cdr.lost.${k}`, v);
    add('cdr.failed', cdr.failed);
    add('cdr.db_errors', cdr.db_errors);
    add('cdr.queue_torn_records', cdr.torn_records);
  }
  add('memory.shed_seconds', memory.shed_seconds);
  return out;
}

/** The local and every mirrored sensor's pipeline add into the same counters. */
function addPipelineCounters(add: (key: string, v: number) => void, pipeline: PipelineStats): void {
  for (const [k, v] of Object.entries(pipeline.fates)) if (!NORMAL_FATES.has(k)) add(`packets.${k}`, v);
  for (const [k, v] of Object.entries(pipeline.sip.rejected)) add(`sip.rejected.${k}`, v);
  for (const [k, v] of Object.entries(pipeline.sip)) if (typeof v === 'number' && k !== 'messages') add(`sip.${k}`, v);
  for (const [table, counters] of [
    ['calls', pipeline.calls],
    ['registrations', pipeline.registrations],
    ['tcp', pipeline.tcp],
    ['ip_reassembly', pipeline.ip_reassembly],
  ] as const) {
    for (const [k, v] of Object.entries(counters)) if (/evict|drop|refus|over|outlier|orphan|timeout|without|reject|cap|shed/.test(k)) add(`${table}.${k}`, v);
  }
  add('internal_errors', pipeline.internal_errors);
}
