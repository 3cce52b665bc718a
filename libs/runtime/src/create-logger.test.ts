import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, LOG_REDACT_PATHS } from './create-logger.js';

function capture(isTTY = false): { stream: PassThrough; lines: () => Record<string, unknown>[]; text: () => string } {
  const stream = new PassThrough();
  // What a tty.WriteStream (process.stderr on a console) says about itself.
  if (isTTY) Object.assign(stream, { isTTY: true });
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

  /** Lets the pretty stream (a Writable fed by pino) pass its lines on. */
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const PRETTY_LINE = /^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[cli\] started files=2\n$/;

  it('writes human-readable lines by default when the destination is a terminal', async () => {
    const out = capture(true);
    createLogger({ app: 'demo', level: 'info', destination: out.stream }).child({ component: 'cli' }).info({ files: 2 }, 'started');
    await settle();
    expect(out.text()).toMatch(PRETTY_LINE);
  });

  it('writes JSON by default when the destination is not a terminal', async () => {
    const out = capture(false);
    createLogger({ app: 'demo', level: 'info', destination: out.stream }).child({ component: 'cli' }).info({ files: 2 }, 'started');
    await settle();
    expect(out.lines()).toEqual([expect.objectContaining({ component: 'cli', msg: 'started', files: 2 })]);
  });

  it('keeps JSON on a terminal when pretty is false, and pretty lines off a terminal when it is true', async () => {
    const tty = capture(true);
    createLogger({ app: 'demo', level: 'info', pretty: false, destination: tty.stream }).child({ component: 'cli' }).info({ files: 2 }, 'started');
    const pipe = capture(false);
    createLogger({ app: 'demo', level: 'info', pretty: true, destination: pipe.stream }).child({ component: 'cli' }).info({ files: 2 }, 'started');
    await settle();
    expect(tty.lines()).toEqual([expect.objectContaining({ msg: 'started', files: 2 })]);
    expect(pipe.text()).toMatch(PRETTY_LINE);
  });

  it('writes human-readable lines to STDERR, the default destination, when STDERR is a terminal', async () => {
    const written: string[] = [];
    const wasTty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(chunk.toString());
      return true;
    });
    try {
      createLogger({ app: 'demo', level: 'info' }).child({ component: 'cli' }).info({ files: 2 }, 'started');
      await settle();
    } finally {
      write.mockRestore();
      if (wasTty) Object.defineProperty(process.stderr, 'isTTY', wasTty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
    expect(written.join('')).toMatch(PRETTY_LINE);
  });
});
