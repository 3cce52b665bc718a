import { threadCpuSeconds } from '@callscope/runtime';
import type { CallSpool } from './output/call-spool.js';

/**
 * CPU seconds used so far, by the whole process and by the two threads that matter to a sensor:
 * the packet thread (reading or capturing, decoding, the calls, the database client), which must
 * keep up with the traffic, and the spool's writer thread. Why both: everything else the process
 * runs (the garbage collector's and the file system's helper threads) competes with them for the
 * same cores, so a slow run or a dropping sensor is told apart from a crowded machine only by
 * seeing each. In `analyze --stats` as `cpu`, in the daemon's stats with shares per interval.
 */
export interface CpuSeconds {
  /** Every thread of the process (`process.cpuUsage()`), from its start. */
  process_s: number;
  /** The packet thread, from the process start; null where the system does not tell threads apart (not Linux). */
  packet_thread_s: number | null;
  /** The spool's writer thread; null without a spool, with the writer on the packet thread (spool.writerThread false), or where the system does not tell. */
  spool_thread_s: number | null;
}

const roundMs = (s: number | null): number | null => (s === null ? null : Math.round(s * 1000) / 1000);

/**
 * The process's {@link CpuSeconds} now. Call it on the packet thread (it reads the calling
 * thread's time); the spool thread's is its last report (at most 200 ms old, final once closed).
 */
export function cpuSeconds(spool: CallSpool | null): CpuSeconds {
  const used = process.cpuUsage();
  return {
    process_s: roundMs((used.user + used.system) / 1e6)!,
    packet_thread_s: roundMs(threadCpuSeconds()),
    spool_thread_s: roundMs(spool?.writerThreadCpuSeconds() ?? null),
  };
}
