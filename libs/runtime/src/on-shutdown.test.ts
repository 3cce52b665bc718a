import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './create-logger.js';
import { EXIT_CODES, onShutdown } from './on-shutdown.js';

class FakeProcess extends EventEmitter {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

function setup(): { proc: FakeProcess } {
  return { proc: new FakeProcess() };
}

function logger(): { log: ReturnType<typeof createLogger>; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { log: createLogger({ app: 'demo', level: 'info', destination: stream }), text: () => chunks.join('') };
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('onShutdown', () => {
  it('runs the handler once on SIGTERM and exits 0; a second signal forces exit 130', async () => {
    const { proc } = setup();
    const { log } = logger();
    let calls = 0;
    let release = (): void => undefined;
    onShutdown(log, () => {
      calls++;
      return new Promise<void>((r) => (release = r));
    }, { process: proc });
    proc.emit('SIGTERM', 'SIGTERM');
    proc.emit('SIGINT', 'SIGINT');
    expect(proc.exits).toEqual([EXIT_CODES.forced]);
    release();
    await tick();
    expect(calls).toBe(1);
    expect(proc.exits).toEqual([EXIT_CODES.forced, EXIT_CODES.ok]);
  });

  it('exits 1 when the handler fails, and logs why', async () => {
    const { proc } = setup();
    const { log, text } = logger();
    onShutdown(log, () => Promise.reject(new Error('flush failed')), { process: proc });
    proc.emit('SIGINT', 'SIGINT');
    await tick();
    expect(proc.exits).toEqual([EXIT_CODES.failure]);
    expect(text()).toContain('flush failed');
  });

  it('exits 1 when the handler outlives the timeout', async () => {
    const { proc } = setup();
    const { log, text } = logger();
    onShutdown(log, () => new Promise<void>(() => undefined), { process: proc, timeoutMs: 20 });
    proc.emit('SIGTERM', 'SIGTERM');
    await tick(60);
    expect(proc.exits).toEqual([EXIT_CODES.failure]);
    expect(text()).toContain('did not finish in time');
  });

  it('logs an uncaught error at fatal, shuts down and exits 1', async () => {
    const { proc } = setup();
    const { log, text } = logger();
    let reason = '';
    onShutdown(log, (r) => {
      reason = r;
      return Promise.resolve();
    }, { process: proc });
    proc.emit('uncaughtException', new Error('boom'));
    await tick();
    expect(reason).toBe('uncaught error');
    expect(proc.exits).toEqual([EXIT_CODES.failure]);
    const fatal = text().split('\n').map((l) => (l === '' ? {} : (JSON.parse(l) as Record<string, unknown>))).find((l) => l['level'] === 60);
    expect(fatal).toMatchObject({ msg: 'uncaught error; shutting down', err: { message: 'boom' } });
  });

  it('dispose() removes every listener', () => {
    const { proc } = setup();
    const control = onShutdown(logger().log, () => Promise.resolve(), { process: proc });
    expect(proc.listenerCount('SIGTERM')).toBe(1);
    control.dispose();
    for (const event of ['SIGTERM', 'SIGINT', 'uncaughtException', 'unhandledRejection']) expect(proc.listenerCount(event)).toBe(0);
  });
});
