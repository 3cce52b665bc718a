import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Why a manager-api request failed before it produced an answer. */
export type UpstreamFailureKind = 'unreachable' | 'timeout' | 'aborted';

/** A manager-api request failed before its status line: connection refused, DNS, TLS, silence. */
export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/** One request to a manager-api. */
export interface UpstreamRequest {
  readonly url: URL;
  readonly method: 'GET' | 'HEAD';
  /** Bearer token, or null for a manager-api without tokens. */
  readonly token: string | null;
  /**
   * Longest silence of the sensor, ms: before the status line and, once the body flows, between
   * two chunks of it. A slow but steady download of a large pcap is never cut; a hung one is;
   * time the body waits on the browser (the stream paused by back-pressure) does not count.
   */
  readonly idleTimeoutMs: number;
  /** Aborts the request (the browser went away). */
  readonly signal: AbortSignal;
}

/**
 * Sends a request to a manager-api and resolves with its response, whose body is left unread
 * for the caller to stream on (Node's own back-pressure then paces the sensor by the browser).
 * After the status line the idle timeout stays armed: a sensor that stalls mid-body gets its
 * socket destroyed, and the response emits `error`.
 *
 * @throws UpstreamError `unreachable` (connect, DNS or TLS failure), `timeout` (silence before
 *   the status line), `aborted` (the signal fired first).
 */
export function requestUpstream(options: UpstreamRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) {
      reject(new UpstreamError('aborted', 'aborted before the request'));
      return;
    }
    const send = options.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { accept: '*/*' };
    // A Bearer header wins over the Basic credentials Node would derive from a URL's user:password.
    if (options.token !== null) headers.authorization = `Bearer ${options.token}`;
    const req = send(options.url, { method: options.method, headers });
    let answered = false;
    let response: IncomingMessage | null = null;
    const onAbort = (): void => {
      // Once answered, stop the body without an error: the socket may already be back in the
      // agent's pool (a HEAD or a short body is complete at once), where req.destroy(err) would
      // emit the error on a socket nobody listens to, an uncaught exception ending the server.
      if (response !== null) response.destroy();
      else req.destroy(new UpstreamError('aborted', 'the browser went away'));
    };
    options.signal.addEventListener('abort', onAbort, { once: true });
    const onIdle = (): void => {
      // Silence we caused is not the sensor's: while the browser holds the body back (a slow
      // link, a save dialog left open), bytes of the sensor wait unread here and the socket goes
      // quiet because we stopped reading. The timer starts again then. It ends a sensor that
      // stalls while nothing of it waits here (mid-body, or in an error body being read).
      if (response !== null && response.readableLength > 0 && !response.destroyed) {
        req.setTimeout(options.idleTimeoutMs, onIdle);
        return;
      }
      req.destroy(new UpstreamError('timeout', `no data from ${options.url.host} for ${options.idleTimeoutMs} ms`));
    };
    req.setTimeout(options.idleTimeoutMs, onIdle);
    req.on('response', (res) => {
      answered = true;
      // The body's readers see its errors (a for-await rejects; Fastify's send of the stream
      // logs and cuts the reply). A body nobody reads any more (HEAD, an error body already
      // cut, the browser gone) must not turn a destroyed socket into an uncaught exception
      // that ends the GUI server: this listener makes 'error' always handled.
      res.on('error', () => undefined);
      response = res;
      res.on('close', () => {
        options.signal.removeEventListener('abort', onAbort);
      });
      resolve(res);
    });
    req.on('error', (err) => {
      if (answered) return; // the response reports it to its reader
      options.signal.removeEventListener('abort', onAbort);
      reject(err instanceof UpstreamError ? err : new UpstreamError('unreachable', `${options.url.host}: ${err.message}`));
    });
    req.end();
  });
}

/** Reads at most `limit` bytes of a (small, error) body as text; the rest is discarded. */
export async function readSmallBody(res: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    const buf = chunk as Buffer;
    if (size < limit) chunks.push(buf.subarray(0, limit - size));
    size += buf.length;
    if (size >= limit) {
      res.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
