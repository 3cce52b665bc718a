import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { parseTaskCpuSeconds, threadCpuSeconds } from './thread-cpu.js';

/** A real line of this machine's /proc (Linux 6.18), the node process: utime 7, stime 3. */
const REAL = '1234 (node) R 1 1234 1234 0 -1 4194304 1877 0 0 0 7 3 0 0 20 0 11 0 123456 1061449728 12093 18446744073709551615 1 1 0 0 0 0 0 16781312 134235650 0 0 0 17 1 0 0 0 0 0';

const burn = (ms: number): void => {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
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
    burn(400);
    const used = threadCpuSeconds()! - before!;
    // Most of the burn (the scheduler may have run us a little less than 400 ms), no more than the wall.
    expect(used).toBeGreaterThanOrEqual(0.25);
    expect(used).toBeLessThanOrEqual(0.5);
  });

  it("leaves out another thread's CPU, which the process's total counts", async () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.once('message', (ms) => {
         const end = performance.now() + ms;
         let x = 0;
         while (performance.now() < end) x += Math.sqrt(x + 1);
         parentPort.postMessage(x > 0);
       });`,
      { eval: true },
    );
    await new Promise((resolve) => worker.once('online', resolve));
    const before = threadCpuSeconds();
    const processBefore = process.cpuUsage();
    worker.postMessage(400);
    await new Promise((resolve) => worker.once('message', resolve));
    const used = threadCpuSeconds()! - before!;
    const processUsed = process.cpuUsage(processBefore);
    await worker.terminate();
    expect((processUsed.user + processUsed.system) / 1e6).toBeGreaterThanOrEqual(0.25);
    expect(used).toBeLessThan(0.15);
  });
});
