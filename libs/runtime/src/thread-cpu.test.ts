import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { parseTaskCpuSeconds, threadCpuSeconds } from './thread-cpu.js';

/** A real line of this machine's /proc (Linux 6.18), the node process: utime 7, stime 3. */
const REAL = '1234 (node) R 1 1234 1234 0 -1 4194304 1877 0 0 0 7 3 0 0 20 0 11 0 123456 1061449728 12093 18446744073709551615 1 1 0 0 0 0 0 16781312 134235650 0 0 0 17 1 0 0 0 0 0';

/** CPU seconds of the whole process (every thread) since `from`. */
const processSince = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
};

/**
 * Spins this thread until the process has used `seconds` more CPU: measured in CPU, not wall time,
 * so a busy test machine (other test files on the same cores) slows the burn down instead of
 * shortening it.
 */
const burnCpu = (seconds: number): void => {
  const from = process.cpuUsage();
  let x = 0;
  while (processSince(from) < seconds) for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + i);
  if (x < 0) throw new Error('unreachable');
};

describe('parseTaskCpuSeconds', () => {
  it('reads utime + stime (fields 14 and 15) in USER_HZ ticks', () => {
    expect(parseTaskCpuSeconds(REAL)).toBe(0.1);
  });

  it('counts fields after the last parenthesis: a command name may hold spaces and parentheses', () => {
    expect(parseTaskCpuSeconds(REAL.replace('(node)', '(we ird) R 9 9 (name)'))).toBe(0.1);
  });

  it.each([
    ['empty', ''],
    ['no command name', '1234 node R 1 1234'],
    ['parentheses the wrong way round', '1234 )node( R 1 1 1 0 -1 0 0 0 0 0 7 3'],
    ['cut before stime', '1234 (node) R 1 1234 1234 0 -1 4194304 1877 0 0 0 7'],
    ['negative ticks', REAL.replace(' 7 3 ', ' -7 3 ')],
    ['not a number', REAL.replace(' 7 3 ', ' 7 x ')],
    ['fractional ticks', REAL.replace(' 7 3 ', ' 7.5 3 ')],
  ])('null for %s', (_name, text) => {
    expect(parseTaskCpuSeconds(text)).toBeNull();
  });
});

describe.runIf(process.platform === 'linux')('threadCpuSeconds', () => {
  it("counts this thread's own CPU", () => {
    const before = threadCpuSeconds();
    const from = process.cpuUsage();
    burnCpu(0.3);
    const used = threadCpuSeconds()! - before!;
    // Nearly all of the process's time was this thread's; per-thread times tick in hundredths.
    expect(used).toBeGreaterThanOrEqual(0.2);
    expect(used).toBeLessThanOrEqual(processSince(from) + 0.02);
  });

  it("leaves out another thread's CPU, which the process's total counts", async () => {
    // The worker spins until the process has used 0.3 s more CPU while this thread only waits.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.once('message', (seconds) => {
         const from = process.cpuUsage();
         const since = () => { const d = process.cpuUsage(from); return (d.user + d.system) / 1e6; };
         let x = 0;
         while (since() < seconds) for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + i);
         parentPort.postMessage(x > 0);
       });`,
      { eval: true },
    );
    await new Promise((resolve) => worker.once('online', resolve));
    const before = threadCpuSeconds();
    const from = process.cpuUsage();
    worker.postMessage(0.3);
    await new Promise((resolve) => worker.once('message', resolve));
    const used = threadCpuSeconds()! - before!;
    const processUsed = processSince(from);
    await worker.terminate();
    expect(processUsed).toBeGreaterThanOrEqual(0.3);
    expect(used).toBeLessThan(0.1);
  });
});
