import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { listenConfigSchema, logConfigSchema } from './config-fragments.js';
import type { ListenConfig, LogConfig } from './config-fragments.js';
import type { ConfigSchema } from './config-schema.js';
import { loadConfig } from './load-config.js';
import { runHttpService } from './run-http-service.js';
import type { HttpServer } from './run-http-service.js';

interface Web {
  listen: ListenConfig;
  log: LogConfig;
}

const schema: ConfigSchema<Web> = {
  type: 'object',
  additionalProperties: false,
  required: ['listen', 'log'],
  properties: { listen: listenConfigSchema('127.0.0.1', 5030, 'Address.'), log: logConfigSchema },
};

class FakeProcess extends EventEmitter {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

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

function run(server: FakeServer, env: Record<string, string>) {
  const logs = new PassThrough();
  const lines: string[] = [];
  logs.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter((l) => l !== '')));
  const proc = new FakeProcess();
  const result = runHttpService<Web>({
    app: 'web',
    summary: 'test web service',
    schema,
    load: (a, e) => loadConfig({ app: 'web', schema, argv: a, env: e }),
    build: (config) => ({ server, fields: { port: config.listen.port, extra: 'x' } }),
    argv: [],
    env,
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    logDestination: logs,
    process: proc,
  });
  return { result, proc, logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('runHttpService', () => {
  const exitCodeBefore = process.exitCode;
  afterEach(() => {
    process.exitCode = exitCodeBefore;
  });

  it('listens on config.listen, logs "<app> listening" with the address and fields, closes on SIGTERM', async () => {
    const server = new FakeServer();
    const r = run(server, { CALLSCOPE_WEB_LISTEN_PORT: '6001' });
    expect(await r.result).toBeNull();
    expect(server.calls).toEqual(['listen 127.0.0.1 6001']);
    expect(r.logs().find((l) => l.msg === 'web listening')).toMatchObject({ address: 'http://127.0.0.1:6001', port: 6001, extra: 'x' });
    r.proc.emit('SIGTERM', 'SIGTERM');
    await new Promise((res) => setTimeout(res, 10));
    expect(server.calls).toEqual(['listen 127.0.0.1 6001', 'close']);
    expect(r.proc.exits).toEqual([0]);
  });

  it('a failed listen ends the service with code 1 in process.exitCode', async () => {
    const r = run(new FakeServer(true), {});
    expect(await r.result).toBe(1);
    expect(process.exitCode).toBe(1);
    expect(r.logs().find((l) => l.msg === 'failed to start')).toBeDefined();
  });
});
