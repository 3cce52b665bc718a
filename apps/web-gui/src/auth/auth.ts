import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fastifyCookie } from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import type { Pool } from 'mysql2/promise';
import {
  createGuiSession,
  deleteExpiredGuiSessions,
  deleteGuiSession,
  findGuiSession,
  findUserByName,
  recordUserLogin,
  touchGuiSession,
  type UserRole,
} from '@callscope/cdr-schema';
import { sendApiError } from '../api-errors.js';
import type { LoginRequest, SessionBody } from '../api-types.js';
import { decoyPasswordHash, MAX_PASSWORD_LENGTH, verifyPassword } from './password.js';
import { csrfTokenOf, isSessionTokenShape, newSessionToken, safeEqualText, sessionTokenHash } from './session-token.js';

/** The logged-in user of a request, set by the global session hook. */
export interface GuiSession {
  readonly userId: number;
  readonly name: string;
  readonly role: UserRole;
  /** SHA-256 of the session token (the `gui_sessions` key). */
  readonly tokenHash: Buffer;
  /** The CSRF token state-changing requests must carry in `x-csrf-token`. */
  readonly csrfToken: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The session of a request to a protected path (null on open paths and static files). */
    guiSession: GuiSession | null;
  }
}

/** What {@link installAuth} needs. */
export interface AuthOptions {
  readonly db: Pool;
  /** Mark the cookie `Secure` (and use the `__Host-` name, which browsers bind to this origin). */
  readonly secureCookie: boolean;
  /** A session unused this long is over. */
  readonly idleS: number;
  /** A session this old is over. */
  readonly absoluteS: number;
  /** Login attempts per client address and per user name within `windowS`. */
  readonly login: { readonly maxPerIp: number; readonly maxPerUser: number; readonly windowS: number };
  /** `/api/...` paths served without a session (health, login). */
  readonly openPaths: ReadonlySet<string>;
}

/** Methods that change state: they must carry the CSRF token and come from this origin. */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** A session is written back as seen at most this often (not on every request: one UPDATE a minute). */
const TOUCH_AFTER_S = 60;
/** Expired sessions are swept this often (each request also refuses an expired session itself). */
const SWEEP_INTERVAL_MS = 15 * 60 * 1000;
/** Longest user name looked up (longer ones fail like unknown names, after the same work). */
const MAX_LOGIN_NAME = 256;

/** Whether a request path is under the JSON API (`/api` or `/api/...`). */
export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

/**
 * Whether a state-changing request comes from a page of this origin. Browsers send
 * `Sec-Fetch-Site` (Chromium 76+, Firefox 90+, Safari 16.4+), which a page cannot forge: only
 * `same-origin` passes. Older browsers send `Origin` on cross-origin POSTs: its host must be this
 * request's `Host`. A client that sends neither is not a browser following a hostile page, so it
 * passes (curl, scripts with a session).
 */
export function isSameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin';
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/**
 * Logins and sessions: `POST /api/v1/login`, `POST /api/v1/logout`, `GET /api/v1/session`, and
 * one global `onRequest` hook that guards every `/api/` path but {@link AuthOptions.openPaths}:
 * no valid session -> 401 `UNAUTHENTICATED`; a POST/PUT/PATCH/DELETE without the session's CSRF
 * token or from another site -> 403 `CSRF`. The hook decides by the matched route's pattern when
 * there is one (so a percent-encoded path cannot dodge it) and by the raw path otherwise, so an
 * unknown `/api/` path says 401 to a stranger and 404 only to a logged-in user.
 *
 * Sessions live in `gui_sessions` (token SHA-256 only) and survive a restart. The cookie is
 * HttpOnly, SameSite=Strict, Path=/, Secure when {@link AuthOptions.secureCookie}, with a
 * Max-Age of the absolute lifetime; the idle limit is enforced by the server.
 */
export function installAuth(app: FastifyInstance, options: AuthOptions): void {
  const { db } = options;
  const cookieName = options.secureCookie ? '__Host-callscope_session' : 'callscope_session';
  const cookieOptions = { httpOnly: true, sameSite: 'strict', path: '/', secure: options.secureCookie } as const;
  // One decoy hash per server, made once: unknown names pay the same scrypt as wrong passwords.
  const decoy = decoyPasswordHash();

  void app.register(fastifyCookie);
  // Only the login is limited: every other route needs a session, which needs a login.
  void app.register(rateLimit, { global: false });
  app.decorateRequest('guiSession', null);

  /** The request's valid session, or null; an expired one is deleted on the way. */
  async function loadSession(request: FastifyRequest): Promise<{ session: GuiSession | null; presented: boolean }> {
    const header = request.headers.cookie;
    const token = header === undefined ? undefined : fastifyCookie.parse(header)[cookieName];
    if (token === undefined) return { session: null, presented: false };
    if (!isSessionTokenShape(token)) return { session: null, presented: true };
    const tokenHash = sessionTokenHash(token);
    const row = await findGuiSession(db, tokenHash);
    if (row === null) return { session: null, presented: true };
    if (row.ageS > options.absoluteS || row.idleS > options.idleS) {
      await deleteGuiSession(db, tokenHash);
      request.log.info({ user: row.userName, ageS: Math.round(row.ageS), idleS: Math.round(row.idleS) }, 'session expired');
      return { session: null, presented: true };
    }
    if (row.idleS > TOUCH_AFTER_S) await touchGuiSession(db, tokenHash);
    return { session: { userId: row.userId, name: row.userName, role: row.role, tokenHash, csrfToken: csrfTokenOf(token) }, presented: true };
  }

  app.addHook('onRequest', async (request, reply) => {
    // The static files' catch-all route (`/*`) also catches unknown `/api/` paths: judge those by the raw path.
    const route = request.routeOptions.url;
    const path = route === undefined || route === '/*' ? request.url.split('?', 1)[0]! : route;
    if (!isApiPath(path) || options.openPaths.has(path)) return;
    const { session, presented } = await loadSession(request);
    if (session === null) {
      // Tell the browser to drop a cookie that no longer opens anything.
      if (presented) void reply.clearCookie(cookieName, cookieOptions);
      return sendApiError(reply, 'UNAUTHENTICATED');
    }
    request.guiSession = session;
    if (!UNSAFE_METHODS.has(request.method)) return;
    const presentedCsrf = request.headers['x-csrf-token'];
    if (!isSameOrigin(request) || typeof presentedCsrf !== 'string' || !safeEqualText(presentedCsrf, session.csrfToken)) {
      request.log.warn({ user: session.name, ip: request.ip, url: request.url, origin: request.headers.origin, site: request.headers['sec-fetch-site'] }, 'refused a request without a valid CSRF token');
      return sendApiError(reply, 'CSRF');
    }
  });

  const sweep = (): void => {
    deleteExpiredGuiSessions(db, { idleS: options.idleS, absoluteS: options.absoluteS }).then(
      (n) => {
        if (n > 0) app.log.debug({ sessions: n }, 'expired sessions deleted');
      },
      (err: unknown) => {
        app.log.warn({ err }, 'could not delete expired sessions (retried later)');
      },
    );
  };
  const sweeper = setInterval(sweep, SWEEP_INTERVAL_MS);
  sweeper.unref();
  app.addHook('onReady', (done) => {
    sweep();
    done();
  });
  app.addHook('onClose', (_app, done) => {
    clearInterval(sweeper);
    done();
  });

  void app.register(
    (api, _opts, done) => {
      const windowMs = options.login.windowS * 1000;
      const perIp = api.createRateLimit({ max: options.login.maxPerIp, timeWindow: windowMs, keyGenerator: (request) => `ip:${request.ip}` });
      const perUser = api.createRateLimit({
        max: options.login.maxPerUser,
        timeWindow: windowMs,
        // Lower-cased so `Admin`, `ADMIN` and `admin` share one budget whatever names exist.
        keyGenerator: (request) => `user:${(request.body as LoginRequest).username.toLowerCase()}`,
      });
      const limited = async (limiter: typeof perIp, request: FastifyRequest, reply: FastifyReply, what: string): Promise<boolean> => {
        const outcome = await limiter(request);
        if (outcome.isAllowed || !outcome.isExceeded) return false;
        request.log.warn({ ip: request.ip, limit: what }, 'login attempts rate-limited');
        void reply.header('retry-after', String(outcome.ttlInSeconds));
        void sendApiError(reply, 'RATE_LIMITED', `too many login attempts ${what}; retry in ${outcome.ttlInSeconds} s`);
        return true;
      };

      api.post<{ Body: LoginRequest }>(
        '/login',
        {
          schema: {
            body: {
              type: 'object',
              required: ['username', 'password'],
              additionalProperties: false,
              properties: { username: { type: 'string', minLength: 1, maxLength: MAX_LOGIN_NAME }, password: { type: 'string', maxLength: MAX_PASSWORD_LENGTH } },
            },
          },
          // Before the body is read: a cross-site form can send neither JSON nor a same-origin
          // Sec-Fetch-Site, so both are required of a login; then the per-address budget.
          onRequest: async (request, reply) => {
            const type = request.headers['content-type'] ?? '';
            if (!/^application\/json\s*(;|$)/i.test(type)) return sendApiError(reply, 'UNSUPPORTED_MEDIA_TYPE');
            if (!isSameOrigin(request)) {
              request.log.warn({ ip: request.ip, origin: request.headers.origin, site: request.headers['sec-fetch-site'] }, 'refused a cross-site login');
              return sendApiError(reply, 'CSRF');
            }
            if (await limited(perIp, request, reply, 'from this address')) return reply;
          },
          preHandler: async (request, reply) => {
            if (await limited(perUser, request, reply, 'for this user')) return reply;
          },
        },
        async (request, reply): Promise<SessionBody | FastifyReply> => {
          const { username, password } = request.body;
          const user = await findUserByName(db, username);
          // Always one scrypt, against the decoy when the name is unknown: same work, same answer.
          const ok = await verifyPassword(password, user?.passwordHash ?? (await decoy));
          if (user === null || !ok) {
            request.log.info({ username, ip: request.ip, reason: user === null ? 'unknown user' : 'wrong password' }, 'login refused');
            return sendApiError(reply, 'LOGIN_FAILED');
          }
          // A browser logging in again drops its previous session rather than leaving it to expire.
          const previous = request.headers.cookie === undefined ? undefined : fastifyCookie.parse(request.headers.cookie)[cookieName];
          if (previous !== undefined && isSessionTokenShape(previous)) await deleteGuiSession(db, sessionTokenHash(previous));
          const token = newSessionToken();
          await createGuiSession(db, sessionTokenHash(token), user.id);
          await recordUserLogin(db, user.id);
          request.log.info({ user: user.name, role: user.role, ip: request.ip }, 'logged in');
          void reply.setCookie(cookieName, token, { ...cookieOptions, maxAge: options.absoluteS });
          return { user: { name: user.name, role: user.role }, csrfToken: csrfTokenOf(token) };
        },
      );

      api.post('/logout', async (request, reply) => {
        const session = request.guiSession!;
        await deleteGuiSession(db, session.tokenHash);
        request.log.info({ user: session.name }, 'logged out');
        return reply.clearCookie(cookieName, cookieOptions).code(204).send();
      });

      api.get('/session', (request): SessionBody => {
        const session = request.guiSession!;
        return { user: { name: session.name, role: session.role }, csrfToken: session.csrfToken };
      });
      done();
    },
    { prefix: '/api/v1' },
  );
}
