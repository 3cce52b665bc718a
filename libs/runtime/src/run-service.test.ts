import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { listenConfigSchema, logConfigSchema } from './config-fragments.js';
import type { ListenConfig, LogConfig } from './config-fragments.js';
import type { ConfigSchema } from './config-schema.js';
import { loadConfig } from './load-config.js';
import { runHttpService } from './run-http-service.js';
import type { HttpServer } from './run-http-service.js';
import { runService } from './run-service.js';
import type { StopService } from './run-service.js';

interface Svc {
  port: number;
  token: string | null;
  log: { level: 'info' | 'debug'; pretty: boolean };
}

const schema: ConfigSchema<Svc> = {
  type: 'object',
  additionalProperties: false,
  required: ['port', 'token', 'log'],
  properties: {
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 5029 },
    token: { type: 'string', nullable: true, default: null, 'x-secret': true },
    log: {
      type: 'object',
      additionalProperties: false,
      required: ['level', 'pretty'],
      properties: { level: { type: 'string', enum: ['info', 'debug'], default: 'info' }, pretty: { type: 'boolean', default: false } },
    },
  },
};

class FakeProcess extends EventEmitter {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, text: () => chunks.join('') };
}

function run(argv: string[], env: Record<string, string>, start = (): Promise<StopService> => Promise.resolve(() => Promise.resolve())) {
  const out = sink();
  const err = sink();
  const logs = sink();
  const proc = new FakeProcess();
  let started = 0;
  const result = runService<Svc>({
    app: 'svc',
    summary: 'test service',
    schema,
    load: (a, e) => loadConfig({ app: 'svc', schema, argv: a, env: e }),
    logSettings: (c) => c.log,
    start: () => {
      started++;
      return start();
    },
    argv,
    env,
    stdout: out.stream,
    stderr: err.stream,
    logDestination: logs.stream,
    process: proc,
  });
  return { result, out, err, logs, proc, started: () => started };
}

describe('runService', () => {
  it('--help prints the settings and exits 0 without starting', async () => {
    const r = run(['--help'], {});
    expect(await r.result).toBe(0);
    expect(r.out.text()).toContain('callscope svc: test service');
    expect(r.out.text()).toContain('env CALLSCOPE_SVC_PORT');
    expect(r.started()).toBe(0);
  });

  it('--check-config prints the effective config with secrets redacted and exits 0', async () => {
    const r = run(['--check-config'], { CALLSCOPE_SVC_TOKEN: 'tok-secret-1', CALLSCOPE_SVC_PORT: '6000' });
    expect(await r.result).toBe(0);
    expect(JSON.parse(r.out.text())).toEqual({ port: 6000, token: '[redacted]', log: { level: 'info', pretty: false } });
    expect(r.started()).toBe(0);
  });

  it('a bad config prints the ConfigError to stderr and exits 2', async () => {
    const r = run([], { CALLSCOPE_SVC_PORT: 'http' });
    expect(await r.result).toBe(2);
    expect(r.err.text()).toContain('port: must be integer, got "http" (from env CALLSCOPE_SVC_PORT)');
    expect(r.started()).toBe(0);
  });

  it('a missing config file exits 2 naming the file', async () => {
    const r = run(['--config=/nonexistent/svc.json'], {});
    expect(await r.result).toBe(2);
    expect(r.err.text()).toContain('no such file (from file /nonexistent/svc.json)');
  });

  it('an unknown argument exits 2', async () => {
    const r = run(['--prot', '1'], {});
    expect(await r.result).toBe(2);
    expect(r.err.text()).toContain('unknown argument "--prot"');
  });

  it('logs the redacted effective config, starts, and stops on SIGTERM with exit 0', async () => {
    let stopped = '';
    const r2 = run([], { CALLSCOPE_SVC_TOKEN: 'tok-secret-2' }, () =>
      Promise.resolve((reason: string) => {
        stopped = reason;
        return Promise.resolve();
      }),
    );
    expect(await r2.result).toBeNull();
    const first = JSON.parse(r2.logs.text().split('\n')[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ msg: 'effective configuration', config: { port: 5029, token: '[redacted]' }, envOverrides: ['CALLSCOPE_SVC_TOKEN'] });
    expect(r2.logs.text()).not.toContain('tok-secret-2');
    r2.proc.emit('SIGTERM', 'SIGTERM');
    await new Promise((res) => setTimeout(res, 10));
    expect(stopped).toBe('SIGTERM');
    expect(r2.proc.exits).toEqual([0]);
  });

  it('a failing start is logged at fatal and exits 1', async () => {
    const r = run([], {}, () => Promise.reject(new Error('EADDRINUSE 5029')));
    expect(await r.result).toBe(1);
    expect(r.logs.text()).toContain('EADDRINUSE 5029');
    expect(r.proc.listenerCount('SIGTERM')).toBe(0);
  });
});

interface Web {
  listen: ListenConfig;
  log: LogConfig;
}

const webSchema: ConfigSchema<Web> = {
  type: 'object',
  additionalProperties: false,
  required: ['listen', 'log'],
  properties: { listen: listenConfigSchema('127.0.0.1', 5030, 'Address.'), log: logConfigSchema },
};

/** A server that records what the service did with it. */
class FakeServer implements HttpServer {
  readonly calls: string[] = [];
  constructor(private readonly fail = false) {}
  listen(options: { host: string; port: number }): Promise<string> {
    this.calls.push(`listen ${options.host} ${options.port}`);
    return this.fail ? Promise.reject(new Error(`EADDRINUSE ${options.port}`)) : Promise.resolve(`http://${options.host}:${options.port}`);
  }
  close(): Promise<void> {
    this.calls.push('close');
    return Promise.resolve();
  }
}

function runHttp(server: FakeServer, env: Record<string, string>) {
  const logs = sink();
  const proc = new FakeProcess();
  const result = runHttpService<Web>({
    app: 'web',
    summary: 'test web service',
    schema: webSchema,
    load: (a, e) => loadConfig({ app: 'web', schema: webSchema, argv: a, env: e }),
    build: (config) => ({ server, fields: { port: config.listen.port, extra: 'x' } }),
    argv: [],
    env,
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    logDestination: logs.stream,
    process: proc,
  });
  const lines = (): Record<string, unknown>[] => logs.text().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { result, proc, logs: lines };
}

describe('runHttpService', () => {
  const exitCodeBefore = process.exitCode;
  afterEach(() => {
    process.exitCode = exitCodeBefore;
  });

  it('listens on config.listen, logs "<app> listening" with the address and fields, closes on SIGTERM', async () => {
    const server = new FakeServer();
    const r = runHttp(server, { CALLSCOPE_WEB_LISTEN_PORT: '6001' });
    expect(await r.result).toBeNull();
    expect(server.calls).toEqual(['listen 127.0.0.1 6001']);
    expect(r.logs().find((l) => l.msg === 'web listening')).toMatchObject({ address: 'http://127.0.0.1:6001', port: 6001, extra: 'x' });
    r.proc.emit('SIGTERM', 'SIGTERM');
    await new Promise((res) => setTimeout(res, 10));
    expect(server.calls).toEqual(['listen 127.0.0.1 6001', 'close']);
    expect(r.proc.exits).toEqual([0]);
  });

  it('a failed listen ends the service with code 1 in process.exitCode', async () => {
    const r = runHttp(new FakeServer(true), {});
    expect(await r.result).toBe(1);
    expect(process.exitCode).toBe(1);
    expect(r.logs().find((l) => l.msg === 'failed to start')).toBeDefined();
  });
});
