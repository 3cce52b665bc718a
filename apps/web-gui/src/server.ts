import { fastify, LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import { httpErrorCode } from '@callscope/runtime';
import type { DeepReadonly, Logger } from '@callscope/runtime';
import { API_ERRORS, sendApiError } from './api-errors.js';
import type { GuiHealthBody, SensorSummary } from './api-types.js';
import { artifactRoutes } from './artifacts/artifact-routes.js';
import { installAuth } from './auth/auth.js';
import type { WebGuiConfig } from './config.js';
import type { Pool } from 'mysql2/promise';
import { callRoutes } from './calls/call-routes.js';
import { securityHeaders } from './security-headers.js';
import { SensorRegistry } from './sensors/sensor-registry.js';
import { isSpaNavigation, registerStaticFiles } from './static-files.js';

/** What {@link buildServer} needs besides the config. */
export interface WebGuiDeps {
  /** Root logger (a `component: 'http'` child is used); omit for silence in tests. */
  readonly logger?: Logger;
  /** Release reported by `/api/v1/health`. */
  readonly version: string;
  /** Absolute path of the built front end served at `/` (index.html, assets/). */
  readonly publicDir: string;
  /** The CDR database, migrated to the latest schema (owned by the caller, which ends it after the server closes). */
  readonly db: Pool;
  /** PEM certificate and key when the config enables TLS (main reads the files). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | null;
  /** The sensors registry; default one built from `config.sensors` over `db`. */
  readonly sensors?: SensorRegistry;
}

/** One route of the JSON API: a method and its URL pattern. */
export interface ApiRoute {
  readonly method: string;
  readonly url: string;
}

const apiRoutesOf = new WeakMap<FastifyInstance, ApiRoute[]>();

/**
 * Every `/api/` route of a server built by {@link buildServer}, complete once it is ready: what
 * the auth tests walk so that a route added later cannot slip past the session check, and what
 * `main` logs at debug level.
 */
export function listApiRoutes(app: FastifyInstance): readonly ApiRoute[] {
  return apiRoutesOf.get(app) ?? [];
}

/** `/api/...` paths served without a session: liveness and the login itself. */
export const OPEN_API_PATHS: ReadonlySet<string> = new Set(['/api/v1/health', '/api/v1/login']);

/**
 * Builds the web GUI server (not listening yet):
 * - the JSON API under `/api/v1` (see api-types.ts): health and login open, everything else
 *   behind a session cookie, state-changing requests behind the CSRF token too (auth/auth.ts);
 * - call search and detail (calls/), per-call artifacts proxied from the call's sensor
 *   (artifacts/), the sensors list;
 * - the built front end at `/` with long-cached hashed assets, and `index.html` for the front
 *   end's own routes (`/calls/123?start=...`) when a browser navigates to them;
 * - security headers on every response; errors `{"error": {"code", "message"}}` from
 *   {@link API_ERRORS}, an unknown `/api/` path a JSON 404.
 */
export function buildServer(config: DeepReadonly<WebGuiConfig>, deps: WebGuiDeps): FastifyInstance {
  const tls = deps.tls ?? null;
  // fastify types an HTTPS instance as a different class; routes and inject() are the same.
  const app = fastify({
    // Widened to fastify's logger interface so the instance keeps its default type parameters.
    loggerInstance: deps.logger?.child({ component: 'http' }) as FastifyBaseLogger | undefined,
    // One debug line per request from the onResponse hook instead of two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    ...(tls === null ? {} : { https: { cert: tls.cert, key: tls.key } }),
  }) as unknown as FastifyInstance;
  const routes: ApiRoute[] = [];
  apiRoutesOf.set(app, routes);
  // First of all, so it sees every route, also those of plugins registered below.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  const headers = securityHeaders(tls !== null);
  const sensors = deps.sensors ?? new SensorRegistry(deps.db, config.sensors);

  // onRequest, not onSend: the headers are on every response, also one an early hook ends.
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime, user: request.guiSession?.name }, 'request');
    done();
  });
  app.setNotFoundHandler((request, reply) => {
    if (isSpaNavigation(request)) return reply.sendFile('index.html');
    return sendApiError(reply, 'NOT_FOUND');
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { code, detail } = httpErrorCode(API_ERRORS, error);
    if (code === 'INTERNAL') request.log.error({ err: error }, 'request failed');
    return sendApiError(reply, code, detail);
  });

  installAuth(app, {
    db: deps.db,
    secureCookie: config.session.secureCookie ?? tls !== null,
    idleS: config.session.idleMinutes * 60,
    absoluteS: config.session.absoluteHours * 3600,
    login: config.login,
    openPaths: OPEN_API_PATHS,
  });
  registerStaticFiles(app, deps.publicDir);

  app.get(
    '/api/v1/health',
    (): GuiHealthBody => ({ status: 'ok', version: deps.version, uptimeS: Math.round(process.uptime() * 1000) / 1000, sensors: sensors.configured }),
  );
  app.get('/api/v1/sensors', (): Promise<SensorSummary[]> => sensors.list());
  // Calls whose sensor has a manager-api here can show their ladder, audio and pcap.
  const callOptions = { prefix: '/api/v1', db: deps.db, artifactsFor: async (_sensorId: number, sensorName: string): Promise<boolean> => (await sensors.resolve(sensorName)) !== null };
  void app.register(callRoutes, callOptions);
  void app.register(artifactRoutes, { prefix: '/api/v1', db: deps.db, sensors, idleTimeoutMs: config.artifacts.timeoutS * 1000 });
  return app;
}
