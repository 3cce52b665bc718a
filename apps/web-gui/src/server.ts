import { fastify, LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import { fastifyStatic } from '@fastify/static';
import { httpErrorCode, redactUrlPassword } from '@callscope/runtime';
import type { DeepReadonly, Logger } from '@callscope/runtime';
import { API_ERRORS, sendApiError } from './api-errors.js';
import type { WebGuiConfig } from './config.js';
import type { Pool } from 'mysql2/promise';
import { callRoutes } from './calls/call-routes.js';

/** What {@link buildServer} needs besides the config. */
export interface WebGuiDeps {
  /** Root logger (a `component: 'http'` child is used); omit for silence in tests. */
  readonly logger?: Logger;
  /** Release reported by /api/health. */
  readonly version: string;
  /** Absolute path of the folder served at `/` (index.html, app.js, style.css). */
  readonly publicDir: string;
  /** The CDR database (owned by the caller, which ends it after the server closes). */
  readonly db: Pool;
}

/** Body of `GET /api/health`. */
export interface GuiHealthBody {
  readonly status: 'ok';
  readonly version: string;
  readonly uptimeS: number;
  readonly sensors: number;
}

/** One entry of `GET /api/sensors`: what the browser may know of a sensor (never its token). */
export interface SensorSummary {
  readonly id: number;
  readonly name: string;
  readonly managerUrl: string;
}

/**
 * Headers on every response: the GUI only loads its own files (no inline script), is not framed,
 * and leaks no URLs (call ids, numbers) through Referer.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/**
 * Builds the web GUI server (not listening yet): the browser files of `publicDir` at `/`,
 * `GET /api/health` and `GET /api/sensors`; errors are `{"error": {"code", "message"}}` from
 * {@link API_ERRORS}.
 */
export function buildServer(config: DeepReadonly<WebGuiConfig>, deps: WebGuiDeps): FastifyInstance {
  const app = fastify({
    // Widened to fastify's logger interface so the instance keeps its default type parameters.
    loggerInstance: deps.logger?.child({ component: 'http' }) as FastifyBaseLogger | undefined,
    // One debug line per request from the onResponse hook instead of two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.headers(SECURITY_HEADERS);
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime }, 'request');
    done();
  });
  app.setNotFoundHandler((_request, reply) => sendApiError(reply, 'NOT_FOUND'));
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { code, detail } = httpErrorCode(API_ERRORS, error);
    if (code === 'INTERNAL') request.log.error({ err: error }, 'request failed');
    return sendApiError(reply, code, detail);
  });

  void app.register(fastifyStatic, { root: deps.publicDir, index: ['index.html'], dotfiles: 'ignore', wildcard: true });

  const sensors: readonly SensorSummary[] = config.sensors.map((s) => ({ id: s.id, name: s.name, managerUrl: redactUrlPassword(s.managerUrl) }));
  app.get(
    '/api/health',
    (): GuiHealthBody => ({ status: 'ok', version: deps.version, uptimeS: Math.round(process.uptime() * 1000) / 1000, sensors: sensors.length }),
  );
  app.get('/api/sensors', (): readonly SensorSummary[] => sensors);
  void app.register(callRoutes, { prefix: '/api/v1', db: deps.db });
  return app;
}
