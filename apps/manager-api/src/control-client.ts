import { request } from 'node:http';

/** Longest control answer read (the daemon lists at most 10 000 calls; ~1 KiB each). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** A control endpoint answer: the HTTP status and the parsed JSON body. */
export interface ControlAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Why the daemon could not be asked: nothing answers, or what answered is not the daemon's JSON. */
export class ControlUnreachableError extends Error {
  override readonly name = 'ControlUnreachableError';
}

/**
 * The sensor daemon's control endpoint, seen from here: HTTP/1.1 GET over its unix socket
 * (apps/sniffer control-server: `/stats`, `/calls/active?limit=N`, `/calls/active/<Call-ID>`,
 * errors `{"error":{"code","message"}}`). Written here rather than imported because apps do not
 * import each other; the wire contract is the shared part.
 */
export class ControlClient {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 3000,
  ) {}

  /**
   * GETs `path` (already percent-encoded).
   *
   * @throws ControlUnreachableError when nothing answers in time or the answer is not JSON
   */
  get(path: string): Promise<ControlAnswer> {
    return new Promise((resolve, reject) => {
      const fail = (message: string): void => {
        reject(new ControlUnreachableError(message));
      };
      const req = request({ socketPath: this.socketPath, path, method: 'GET', timeout: this.timeoutMs, headers: { accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) {
            res.destroy();
            fail(`control answer over ${MAX_BODY_BYTES} bytes`);
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
          } catch (err) {
            fail(`the control socket answered something that is not JSON: ${(err as Error).message}`);
          }
        });
        res.on('error', (err) => {
          fail(err.message);
        });
      });
      req.on('timeout', () => {
        req.destroy();
        fail(`no answer within ${this.timeoutMs} ms`);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        fail(err.code === undefined ? err.message : `${err.code}: ${err.message}`);
      });
      req.end();
    });
  }
}

/** The `{"error":{"code","message"}}` of a control error answer, or null when the body is not one. */
export function controlError(body: unknown): { code: string; message: string } | null {
  if (typeof body !== 'object' || body === null) return null;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'string' && typeof message === 'string' ? { code, message } : null;
}
