import { chmod, mkdir, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';

/** What the control endpoint serves; each handler returns a JSON-serialisable value. */
export interface ControlHandlers {
  stats(): unknown;
  activeCalls(limit: number): unknown;
  /** One open call, or null when no call with this Call-ID is open. */
  activeCall(callId: string): unknown;
}

/** Most calls one `calls/active` answer lists (the manager-api pages through a sensor's calls). */
export const MAX_ACTIVE_CALLS_LISTED = 10_000;

/** Request lines longer than this are refused: a Call-ID is at most 1024 characters in the CDR. */
const MAX_URL_LENGTH = 8192;

/**
 * The sensor daemon's local control endpoint: HTTP/1.1 over a unix socket, read by `sniffer
 * stats` and the manager-api. A unix socket, not a TCP port, because it is local only by
 * construction and guarded by file permissions (0660: the sniffer's user and group), so it needs
 * no tokens of its own; the manager-api is the door from the network. HTTP rather than a private
 * line protocol so that `curl --unix-socket` works for an operator.
 *
 * Routes (GET, JSON): `/stats`, `/calls/active?limit=N`, `/calls/active/<url-encoded Call-ID>`.
 * Errors: `{"error":{"code","message"}}` with 400/404/405.
 */
export class ControlServer {
  private server: Server | null = null;

  constructor(
    readonly path: string,
    private readonly handlers: ControlHandlers,
  ) {}

  /** Listens on the socket; refuses when another live process answers there. */
  async start(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    if (await answers(this.path)) {
      throw new Error(`control socket ${this.path} is in use: another sniffer daemon runs with it (set daemon.control to another path to run a second one)`);
    }
    // A socket file left by a process that died: nobody answers, so it can go.
    await unlink(this.path).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
    const server = createServer((req, res) => {
      this.handle(req, res);
    });
    server.headersTimeout = 5000;
    server.requestTimeout = 10_000;
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.path, 0o660);
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    await unlink(this.path).catch(() => undefined);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let status: number;
    let body: unknown;
    try {
      [status, body] = this.route(req);
    } catch (err) {
      [status, body] = problem(500, 'INTERNAL', err instanceof Error ? err.message : String(err));
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** The status and JSON body answering one request. */
  private route(req: IncomingMessage): [number, unknown] {
    const rawUrl = req.url ?? '/';
    if (rawUrl.length > MAX_URL_LENGTH) return problem(414, 'URL_TOO_LONG', `request URL over ${MAX_URL_LENGTH} characters`);
    if (req.method !== 'GET') return problem(405, 'METHOD_NOT_ALLOWED', 'the control endpoint answers GET only');
    const url = new URL(rawUrl, 'http://control');
    const path = url.pathname;
    if (path === '/stats') return [200, this.handlers.stats()];
    if (path === '/calls/active') {
      const limitText = url.searchParams.get('limit');
      const limit = limitText === null ? 1000 : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ACTIVE_CALLS_LISTED) {
        return problem(400, 'BAD_LIMIT', `limit must be an integer from 1 to ${MAX_ACTIVE_CALLS_LISTED}`);
      }
      return [200, this.handlers.activeCalls(limit)];
    }
    if (path.startsWith('/calls/active/')) {
      let callId: string;
      try {
        callId = decodeURIComponent(path.slice('/calls/active/'.length));
      } catch {
        return problem(400, 'BAD_CALL_ID', 'the Call-ID is not valid percent-encoding');
      }
      if (callId.length === 0 || callId.includes('\0')) return problem(400, 'BAD_CALL_ID', 'empty Call-ID or NUL in it');
      const call = this.handlers.activeCall(callId);
      if (call === null) return problem(404, 'CALL_NOT_ACTIVE', 'no open call with this Call-ID (it may have ended: search the CDRs)');
      return [200, call];
    }
    return problem(404, 'NOT_FOUND', 'routes: /stats, /calls/active, /calls/active/<Call-ID>');
  }
}

/** An error answer: `{"error":{"code","message"}}` with its status. */
function problem(status: number, code: string, message: string): [number, unknown] {
  return [status, { error: { code, message } }];
}

/** Whether a process accepts connections on the unix socket `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => {
      resolve(false);
    });
  });
}

/** Options of {@link requestControl}. */
export interface ControlRequestOptions {
  timeoutMs?: number;
}

/**
 * GET `path` from a daemon's control socket; resolves with the status and parsed JSON body.
 * Rejects with a message that says what to check when nothing answers.
 */
export async function requestControl(socketPath: string, path: string, options: ControlRequestOptions = {}): Promise<{ status: number; body: unknown }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: options.timeoutMs ?? 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
        } catch (err) {
          reject(new Error(`the control socket ${socketPath} answered something that is not JSON: ${(err as Error).message}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => {
      req.destroy(new Error(`no answer on the control socket ${socketPath} within ${options.timeoutMs ?? 5000} ms`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        reject(new Error(`no sniffer daemon answers on ${socketPath} (${err.code}): is "sniffer run" running, with this daemon.control path?`));
      } else if (err.code === 'EACCES') {
        reject(new Error(`no permission to use the control socket ${socketPath}: run as the sniffer's user or group`));
      } else reject(err);
    });
    req.end();
  });
}
