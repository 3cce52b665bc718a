import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, LOG_REDACT_PATHS } from './create-logger.js';

function capture(): { stream: PassThrough; lines: () => Record<string, unknown>[]; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return {
    stream,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes one JSON object per line with app, level, time and the component of a child', () => {
    const out = capture();
    const logger = createLogger({ app: 'demo', level: 'info', destination: out.stream });
    logger.child({ component: 'spool' }).info({ files: 3 }, 'rotated');
    logger.debug('below the level: dropped');
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ app: 'demo', component: 'spool', level: 30, msg: 'rotated', files: 3 });
    expect(typeof lines[0]?.['time']).toBe('number');
  });

  it('redacts passwords, tokens, secrets, SIP/HTTP Authorization headers and URL passwords', () => {
    const out = capture();
    const logger = createLogger({ app: 'demo', level: 'info', destination: out.stream });
    logger.info(
      {
        token: 'tok-1',
        db: { url: 'mysql://cdr:pw-2@db/cs', password: 'pw-3' },
        sip: { headers: { Authorization: 'Digest username="alice", response="resp-4"', 'Proxy-Authorization': 'Digest resp-5' } },
        req: { headers: { authorization: 'Bearer tok-6', host: 'sensor1' } },
        cfg: { mirror: { secret: 'sec-7' }, hep: { secret: null } },
      },
      'start',
    );
    const text = out.text();
    for (const secret of ['tok-1', 'pw-2', 'pw-3', 'resp-4', 'resp-5', 'tok-6', 'sec-7']) expect(text).not.toContain(secret);
    const line = out.lines()[0]!;
    expect(line['token']).toBe('[redacted]');
    expect(line['db']).toEqual({ url: 'mysql://cdr:[redacted]@db/cs', password: '[redacted]' });
    expect(line['req']).toEqual({ headers: { authorization: '[redacted]', host: 'sensor1' } });
    // An unset secret stays visibly unset.
    expect(line['cfg']).toEqual({ mirror: { secret: '[redacted]' }, hep: { secret: null } });
  });

  it('exposes its redact paths, including the SIP Authorization header', () => {
    expect(LOG_REDACT_PATHS).toContain('*.headers["Authorization"]');
  });

  it('writes human-readable lines when pretty is set', () => {
    const out = capture();
    const logger = createLogger({ app: 'demo', level: 'info', pretty: true, destination: out.stream });
    logger.child({ component: 'http' }).warn({ port: 5029, token: 'x' }, 'listening');
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        expect(out.text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}\[http\] listening port=5029 token=\[redacted\]\n$/);
        resolve();
      });
    });
  });
});
