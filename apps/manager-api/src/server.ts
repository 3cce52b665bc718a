import { fastify, LogController } from 'fastify';
import type { FastifyInstance, FastifyRequest, FastifyReply, FastifyError } from 'fastify';
import { httpErrorCode } from '@callscope/runtime';
import type { DeepReadonly, Logger } from '@callscope/runtime';
import { API_ERRORS, sendApiError } from './api-errors.js';
import { BearerAuth } from './bearer-auth.js';
import type { ManagerApiConfig } from './config.js';
import { MANAGER_API_APP } from './config.js';
import { PROMETHEUS_CONTENT_TYPE, renderProcessMetrics } from './process-metrics.js';

/** What {@link buildServer} needs besides the config. */
export interface ManagerApiDeps {
  /** Root logger (a `component: 'http'` child is used); omit for silence in tests. */
  readonly logger?: Logger;
  /** Release reported by health and metrics. */
  readonly version: string;
  /** PEM certificate and key contents when the config enables TLS (main reads the files). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | null;
}

/** Body of `GET /api/v1/health`. */
export interface HealthBody {
  readonly status: 'ok';
  readonly version: string;
  readonly uptimeS: number;
}

/**
 * Builds the manager-api HTTP server (not listening yet):
 * - `GET /api/v1/health`: `{ status, version, uptimeS }`;
 * - `GET /metrics`: Prometheus text of process uptime, memory and HTTP responses;
 * - when `config.token` is set, every path but `/metrics` (so all of `/api/*`, known or not)
 *   requires `Authorization: Bearer <token>`;
 * - every error is `{ code, message }` from {@link API_ERRORS}.
 */
export function buildServer(config: DeepReadonly<ManagerApiConfig>, deps: ManagerApiDeps): FastifyInstance {
  const tls = deps.tls ?? null;
  // fastify types an HTTPS instance as a different class; routes and inject() are the same.
  const app = fastify({
    loggerInstance: deps.logger?.child({ component: 'http' }),
    // One debug line per request from the onResponse hook instead of two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    ...(tls === null ? {} : { https: { cert: tls.cert, key: tls.key } }),
  }) as unknown as FastifyInstance;

  const responses = new Map<number, number>();
  app.addHook('onResponse', (request, reply, done) => {
    responses.set(reply.statusCode, (responses.get(reply.statusCode) ?? 0) + 1);
    request.log.debug({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime }, 'request');
    done();
  });

  app.setNotFoundHandler((_request, reply) => sendApiError(reply, 'NOT_FOUND'));
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { code, detail } = httpErrorCode(API_ERRORS, error);
    if (code === 'INTERNAL') request.log.error({ err: error }, 'request failed');
    return sendApiError(reply, code, detail);
  });

  app.get('/metrics', (_request, reply) =>
    reply.type(PROMETHEUS_CONTENT_TYPE).send(renderProcessMetrics({ app: MANAGER_API_APP, version: deps.version, responses })),
  );

  if (config.token !== null) {
    const auth = new BearerAuth(config.token);
    // A root hook (not one scoped to the /api routes) so unknown paths are refused before they
    // can be probed; only /metrics stays open, for scrapers, and shows no call data.
    app.addHook('onRequest', (request, reply, next) => {
      const path = request.url.split('?', 1)[0];
      const outcome = path === '/metrics' ? 'ok' : auth.check(request.headers.authorization);
      if (outcome === 'ok') {
        next();
        return;
      }
      request.log.info({ outcome, ip: request.ip, url: request.url }, 'rejected unauthenticated request');
      // RFC 6750 §3: tell the client which scheme to use and why it failed.
      void reply.header('www-authenticate', outcome === 'missing' ? 'Bearer realm="callscope"' : 'Bearer realm="callscope", error="invalid_token"');
      void sendApiError(reply, 'UNAUTHORIZED');
    });
  }

  app.get('/api/v1/health', (): HealthBody => ({ status: 'ok', version: deps.version, uptimeS: Math.round(process.uptime() * 1000) / 1000 }));
  return app;
}
