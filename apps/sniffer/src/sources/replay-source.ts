import { setTimeout as sleep } from 'node:timers/promises';
import type { PacketRecord } from '@callscope/pcap-format';
import { readCaptureFile } from '@callscope/pcap-store';
import type { PacketSink, PacketSource, SourceStats } from './packet-source.js';

/** Options of a {@link ReplaySource}. */
export interface ReplaySourceOptions {
  files: readonly string[];
  /** 1 = recorded pace, 2 = twice as fast; 0 = as fast as the call engine takes them. */
  speed: number;
  /** Start again at the first file after the last one ends (until stopped). */
  loop: boolean;
  /**
   * Move packet times to the present: each round's first packet plays at the wall clock's now
   * (at speed 0, where the whole round plays at once, its LAST packet is put at now instead, so
   * no call lands in the future).
   */
  shiftToNow: boolean;
  /** Told about a file that could not be read (the replay goes on with the next one). */
  onFileError?: (file: string, err: Error) => void;
  /** Wall clock in ms (tests). */
  now?: () => number;
}

/** Packets delivered between yields to the event loop at speed 0 (signals, control requests, timers). */
const YIELD_EVERY = 2048;
/** Ahead of schedule by less than this (ms), a packet goes at once: timers cannot wait less. */
const MIN_SLEEP_MS = 2;

/**
 * Plays capture files into the sensor as if they were live: at their recorded pace (or a speed
 * factor), optionally moved to the present and looped. Demos and tests use it; the records keep
 * the files' capture times unless `shiftToNow` is set, so a replay at any speed gives the same
 * CDRs as `analyze` on the same files.
 */
export class ReplaySource implements PacketSource {
  readonly kind = 'replay' as const;
  readonly name: string;
  readonly ended: Promise<void>;
  private endedResolve!: () => void;
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  private readonly counters = { received: 0, rounds: 0, file_errors: 0, behind_ms: 0 };
  private currentFile: string | null = null;
  /** The playing round's schedule: first packet's time (µs, after any shift) at wall time `wallStartMs`. */
  private schedule: { firstUs: number; wallStartMs: number } | null = null;

  constructor(
    private readonly options: ReplaySourceOptions,
    private readonly sink: PacketSink,
  ) {
    if (!(options.speed >= 0 && Number.isFinite(options.speed))) throw new RangeError(`replay speed must be a finite number >= 0, not ${options.speed}`);
    if (options.files.length === 0) throw new RangeError('replay needs at least one file');
    this.name = options.files.join(',');
    this.ended = new Promise((resolve) => {
      this.endedResolve = resolve;
    });
  }

  start(): Promise<void> {
    this.running ??= this.play().finally(() => {
      this.currentFile = null;
      this.endedResolve();
    });
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('replay stopped'));
    await this.running?.catch(() => undefined);
  }

  stats(): SourceStats {
    return {
      kind: this.kind,
      name: this.name,
      received: this.counters.received,
      kernel_drops: 0,
      if_drops: 0,
      queue_drops: 0,
      rounds: this.counters.rounds,
      file_errors: this.counters.file_errors,
      /** How far the replay lags its schedule now (ms): the call engine cannot keep the pace when large. */
      behind_ms: Math.round(this.counters.behind_ms),
      speed: this.options.speed,
      file: this.currentFile,
    };
  }

  private async play(): Promise<void> {
    const signal = this.abort.signal;
    const now = this.options.now ?? Date.now;
    do {
      this.counters.rounds++;
      this.schedule = null;
      // Schedule of this round: the first packet's capture time plays at the round's start.
      let firstUs = -1;
      let wallStart = 0;
      let shiftSec = 0;
      let shiftNsec = 0;
      let sinceYield = 0;
      // Flat out, the whole round is stamped within moments: anchor its newest packet at now.
      const lastOfRound = this.options.shiftToNow && this.options.speed === 0 ? await this.lastPacketTime(signal) : null;
      if (this.stopped()) return;
      const onPacket = (rec: PacketRecord): Promise<void> | undefined => {
        const tUs = rec.tsSec * 1e6 + rec.tsNsec / 1e3;
        if (firstUs < 0) {
          firstUs = tUs;
          wallStart = now();
          if (this.options.shiftToNow) {
            const nowNs = BigInt(Math.round(wallStart)) * 1_000_000n;
            const anchor = lastOfRound ?? { sec: rec.tsSec, nsec: rec.tsNsec };
            const recNs = BigInt(anchor.sec) * 1_000_000_000n + BigInt(anchor.nsec);
            const shift = nowNs - recNs;
            shiftSec = Number(shift / 1_000_000_000n);
            shiftNsec = Number(shift % 1_000_000_000n);
          }
        }
        if (shiftSec !== 0 || shiftNsec !== 0) shiftRecord(rec, shiftSec, shiftNsec);
        if (this.schedule === null) this.schedule = { firstUs: rec.tsSec * 1e6 + rec.tsNsec / 1e3, wallStartMs: wallStart };
        if (this.options.speed > 0) {
          const dueMs = wallStart + (tUs - firstUs) / 1000 / this.options.speed;
          const ahead = dueMs - now();
          if (ahead >= MIN_SLEEP_MS) {
            // The record is the reader's reused object: deliver it after the wait, not before.
            return sleep(ahead, undefined, { signal }).then(() => {
              this.deliver(rec);
            });
          }
          this.counters.behind_ms = Math.max(0, -ahead);
        }
        this.deliver(rec);
        if (++sinceYield >= YIELD_EVERY) {
          sinceYield = 0;
          return new Promise((resolve) => setImmediate(resolve));
        }
        return undefined;
      };
      for (const file of this.options.files) {
        if (this.stopped()) return;
        this.currentFile = file;
        try {
          await readCaptureFile(file, onPacket, { signal });
        } catch (err) {
          if (this.stopped()) return;
          this.counters.file_errors++;
          this.options.onFileError?.(file, err instanceof Error ? err : new Error(String(err)));
        }
      }
    } while (this.options.loop && !this.stopped());
  }

  /**
   * Capture time of the newest packet in the round's files (one read of each; a file that cannot
   * be read is left out here and counted when the round plays it), null when there is none.
   */
  private async lastPacketTime(signal: AbortSignal): Promise<{ sec: number; nsec: number } | null> {
    let last: { sec: number; nsec: number } | null = null;
    for (const file of this.options.files) {
      try {
        await readCaptureFile(
          file,
          (rec: PacketRecord) => {
            if (last === null || rec.tsSec > last.sec || (rec.tsSec === last.sec && rec.tsNsec > last.nsec)) last = { sec: rec.tsSec, nsec: rec.tsNsec };
            return undefined;
          },
          { signal },
        );
      } catch {
        if (this.stopped()) return null;
      }
    }
    return last;
  }

  /** Whether stop() was called (a method: the flag changes across awaits). */
  private stopped(): boolean {
    return this.abort.signal.aborted;
  }

  clockUs(): number | null {
    // Flat out (speed 0) has no schedule: packets alone drive the clock.
    if (this.schedule === null || this.options.speed === 0 || this.currentFile === null) return null;
    const now = (this.options.now ?? Date.now)();
    return this.schedule.firstUs + (now - this.schedule.wallStartMs) * 1000 * this.options.speed;
  }

  private deliver(rec: PacketRecord): void {
    if (this.abort.signal.aborted) return;
    this.counters.received++;
    this.sink(rec);
  }
}

/** Adds `sec` s + `nsec` ns (same sign) to a record's capture time, keeping 0 <= tsNsec < 1e9. */
function shiftRecord(rec: PacketRecord, sec: number, nsec: number): void {
  let s = rec.tsSec + sec;
  let ns = rec.tsNsec + nsec;
  if (ns >= 1e9) {
    ns -= 1e9;
    s++;
  } else if (ns < 0) {
    ns += 1e9;
    s--;
  }
  rec.tsSec = s;
  rec.tsNsec = ns;
}
