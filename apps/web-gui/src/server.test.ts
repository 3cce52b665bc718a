import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ConfigError } from '@callscope/runtime';
import { createUser, SensorHeartbeatWriter } from '@callscope/cdr-schema';
import { ensureFirstAdmin } from './auth/first-admin.js';
import { hashPassword } from './auth/password.js';
import { loadWebGuiConfig } from './config.js';
import { resolvePublicDir } from './public-dir.js';
import { buildServer, listApiRoutes, OPEN_API_PATHS } from './server.js';
import { CONTENT_SECURITY_POLICY } from './security-headers.js';
import { createGuiTestDb } from './testing/gui-test-db.js';
import type { GuiTestDb } from './testing/gui-test-db.js';
import { WEB_GUI_VERSION } from './version.js';

// The built front end may not exist when unit tests run: serve a stand-in folder.
const PUBLIC_DIR = mkdtempSync(join(tmpdir(), 'web-gui-public-')) + '/';
const INDEX_HTML = '<!doctype html><title>callscope</title><script type="module" src="/assets/index-Ab12Cd34.js"></script>';
writeFileSync(join(PUBLIC_DIR, 'index.html'), INDEX_HTML);
mkdirSync(join(PUBLIC_DIR, 'assets'));
writeFileSync(join(PUBLIC_DIR, 'assets/index-Ab12Cd34.js'), 'export {};');

const ADMIN_PASSWORD = 'first-admin-password-1';
const VIEWER_PASSWORD = 'viewer-password-2';
const SENSORS = JSON.stringify([
  { id: 7, name: 'edge-a', managerUrl: 'https://admin:pw-9@sensor-a:5029', token: 'sensor-a-token-0123' },
  { name: 'edge-c', managerUrl: 'http://10.0.0.3:5029', token: null },
]);

let db: GuiTestDb;
beforeAll(async () => {
  db = await createGuiTestDb('cs_c_server');
  await ensureFirstAdmin(db.pool, ADMIN_PASSWORD);
  await createUser(db.pool, { name: 'viewer', role: 'viewer', passwordHash: await hashPassword(VIEWER_PASSWORD) });
});
afterAll(async () => {
  await db.drop();
});

let server: FastifyInstance | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function build(env: Record<string, string> = {}): FastifyInstance {
  server = buildServer(loadWebGuiConfig([], env).config, { version: WEB_GUI_VERSION, publicDir: PUBLIC_DIR, db: db.pool });
  return server;
}

const JSON_HEADERS = { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' };

/** Logs in through the API; returns the cookie header to send back and the CSRF token. */
async function login(app: FastifyInstance, username = 'admin', password = ADMIN_PASSWORD): Promise<{ cookie: string; csrf: string; res: LightMyRequestResponse }> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/login', headers: JSON_HEADERS, payload: { username, password } });
  expect(res.statusCode, res.body).toBe(200);
  const set = res.headers['set-cookie'];
  const first = (Array.isArray(set) ? set[0] : set)!;
  return { cookie: first.split(';', 1)[0]!, csrf: res.json<{ csrfToken: string }>().csrfToken, res };
}

const errorCode = (res: LightMyRequestResponse): string => res.json<{ error: { code: string } }>().error.code;

describe('static files and the SPA fallback', () => {
  it('serves index.html at / revalidated, hashed assets cached for a year', async () => {
    const app = build();
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toBe(INDEX_HTML);
    expect(res.headers['cache-control']).toBe('no-cache');
    const js = await app.inject({ method: 'GET', url: '/assets/index-Ab12Cd34.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers a browser navigating to a front-end route with index.html, anything else with a JSON 404', async () => {
    const app = build();
    for (const url of ['/calls', '/calls/123?start=2026-11-29T17:00:00.123456Z', '/login', '/calls/123/']) {
      const res = await app.inject({ method: 'GET', url, headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(INDEX_HTML);
      expect(res.headers['cache-control'], url).toBe('no-cache');
    }
    const { cookie } = await login(app);
    for (const [url, accept] of [
      ['/calls', 'application/json'],
      ['/assets/missing-Zz.js', 'text/html'],
      ['/nope.html', 'text/html'],
      ['/api/v1/nope', 'text/html'],
      ['/api/nope', 'application/json'],
      ['/../package.json', 'text/html'],
      ['/%2e%2e/package.json', 'text/html'],
      ['/.hidden', 'text/html'],
    ] as const) {
      const res = await app.inject({ method: 'GET', url, headers: { accept, cookie } });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toEqual({ error: { code: 'NOT_FOUND', message: 'no such resource' } });
    }
  });
});

describe('security headers', () => {
  it('are on every response: page, asset, API, 401, 404, 415, validation error', async () => {
    const app = build();
    const responses = [
      await app.inject({ method: 'GET', url: '/' }),
      await app.inject({ method: 'GET', url: '/assets/index-Ab12Cd34.js' }),
      await app.inject({ method: 'GET', url: '/calls', headers: { accept: 'text/html' } }),
      await app.inject({ method: 'GET', url: '/api/v1/health' }),
      await app.inject({ method: 'GET', url: '/api/v1/sensors' }),
      await app.inject({ method: 'GET', url: '/nope.js' }),
      await app.inject({ method: 'POST', url: '/api/v1/login', payload: 'username=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'a' }, headers: JSON_HEADERS }),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 401, 404, 415, 400]);
    for (const res of responses) {
      expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(CONTENT_SECURITY_POLICY).toContain("media-src 'self' blob:");
  });
});

describe('login, session, logout', () => {
  it('logs in: session body, HttpOnly SameSite=Strict cookie, then GET session with the same CSRF token', async () => {
    const app = build();
    const { cookie, csrf, res } = await login(app, 'viewer', VIEWER_PASSWORD);
    expect(res.json()).toEqual({ user: { name: 'viewer', role: 'viewer' }, csrfToken: csrf });
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^callscope_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toContain('Max-Age=86400');
    expect(setCookie).not.toContain('Secure');
    const session = await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
    expect(session.statusCode).toBe(200);
    expect(session.json()).toEqual({ user: { name: 'viewer', role: 'viewer' }, csrfToken: csrf });
    // Only the token's hash is stored.
    const [rows] = await db.pool.query('SELECT HEX(token_hash) AS h FROM gui_sessions');
    expect(JSON.stringify(rows)).not.toContain(cookie.split('=')[1]!);
    const [users] = await db.pool.query("SELECT last_login FROM users WHERE name = 'viewer'");
    expect((users as { last_login: string | null }[])[0]!.last_login).not.toBeNull();
  });

  it('sets the Secure cookie under the __Host- name when configured (behind a TLS proxy)', async () => {
    const app = build({ CALLSCOPE_WEB_GUI_SESSION_SECURE_COOKIE: 'true' });
    const { res, cookie } = await login(app);
    expect(String(res.headers['set-cookie'])).toMatch(/^__Host-callscope_session=.*; Secure/);
    expect((await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } })).statusCode).toBe(200);
    // The plain name is not accepted by a server that issues __Host- cookies.
    const plain = cookie.replace('__Host-callscope_session', 'callscope_session');
    expect((await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: plain } })).statusCode).toBe(401);
  });

  it('answers an unknown user and a wrong password alike, both after a full scrypt', async () => {
    const app = build({ CALLSCOPE_WEB_GUI_LOGIN_MAX_PER_IP: '100', CALLSCOPE_WEB_GUI_LOGIN_MAX_PER_USER: '100' });
    await app.ready();
    const attempt = async (username: string): Promise<{ ms: number; res: LightMyRequestResponse }> => {
      const t0 = performance.now();
      const res = await app.inject({ method: 'POST', url: '/api/v1/login', headers: JSON_HEADERS, payload: { username, password: 'not-the-password' } });
      return { ms: performance.now() - t0, res };
    };
    await attempt('warm-up');
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 5; i++) {
      const u = await attempt('nobody-here');
      const w = await attempt('admin');
      expect(u.res.statusCode).toBe(401);
      expect(w.res.statusCode).toBe(401);
      expect(u.res.body).toBe(w.res.body);
      expect(u.res.headers['set-cookie']).toBeUndefined();
      unknown.push(u.ms);
      wrong.push(w.ms);
    }
    expect(errorCode((await attempt('admin')).res)).toBe('LOGIN_FAILED');
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // Each pays an scrypt (N=16384, r=8: tens of ms); a lookup alone would take about 1 ms.
    expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.5);
    expect(median(unknown)).toBeLessThan(median(wrong) * 2);
  });

  it('refuses a form-encoded or cross-site login before reading it', async () => {
    const app = build();
    const form = await app.inject({ method: 'POST', url: '/api/v1/login', payload: `username=admin&password=${ADMIN_PASSWORD}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([form.statusCode, errorCode(form)]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const text = await app.inject({ method: 'POST', url: '/api/v1/login', payload: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }), headers: { 'content-type': 'text/plain' } });
    expect(text.statusCode).toBe(415);
    const payload = { username: 'admin', password: ADMIN_PASSWORD };
    for (const headers of [
      { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
      { 'content-type': 'application/json', 'sec-fetch-site': 'same-site' },
      { 'content-type': 'application/json', origin: 'https://evil.example', host: 'gui.example' },
      { 'content-type': 'application/json', origin: 'null', host: 'gui.example' },
    ]) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/login', payload, headers });
      expect([res.statusCode, errorCode(res)], JSON.stringify(headers)).toEqual([403, 'CSRF']);
    }
    // Same origin by Origin alone (an older browser), and no browser headers at all (curl): both fine.
    expect((await app.inject({ method: 'POST', url: '/api/v1/login', payload, headers: { 'content-type': 'application/json', origin: 'http://gui.example:8080', host: 'gui.example:8080' } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/v1/login', payload, headers: { 'content-type': 'application/json; charset=utf-8' } })).statusCode).toBe(200);
  });

  it('rate-limits login attempts per address and per user name', async () => {
    const app = build({ CALLSCOPE_WEB_GUI_LOGIN_MAX_PER_IP: '3', CALLSCOPE_WEB_GUI_LOGIN_MAX_PER_USER: '2' });
    const bad = { username: 'nobody', password: 'x' };
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await app.inject({ method: 'POST', url: '/api/v1/login', headers: JSON_HEADERS, payload: { ...bad, username: `u${i}` }, remoteAddress: '192.0.2.1' })).statusCode);
    expect(codes).toEqual([401, 401, 401, 429]);
    const limited = await app.inject({ method: 'POST', url: '/api/v1/login', headers: JSON_HEADERS, payload: { username: 'admin', password: ADMIN_PASSWORD }, remoteAddress: '192.0.2.1' });
    expect([limited.statusCode, errorCode(limited)]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Per user: guesses at `admin` from many addresses exhaust the name's budget (any case).
    const perUser: number[] = [];
    for (const [i, username] of ['admin', 'ADMIN', 'Admin'].entries()) {
      perUser.push((await app.inject({ method: 'POST', url: '/api/v1/login', headers: JSON_HEADERS, payload: { username, password: 'guess' }, remoteAddress: `198.51.100.${i + 1}` })).statusCode);
    }
    expect(perUser).toEqual([401, 401, 429]);
    const other = await app.inject({ method: 'POST', url: '/api/v1/login', headers: JSON_HEADERS, payload: { username: 'viewer', password: VIEWER_PASSWORD }, remoteAddress: '198.51.100.9' });
    expect(other.statusCode).toBe(200);
  });

  it('logs out with the CSRF token only; the cookie is cleared and the session gone', async () => {
    const app = build();
    const { cookie, csrf } = await login(app);
    const noToken = await app.inject({ method: 'POST', url: '/api/v1/logout', headers: { cookie, 'content-type': 'application/json' }, payload: {} });
    expect([noToken.statusCode, errorCode(noToken)]).toEqual([403, 'CSRF']);
    const wrong = await app.inject({ method: 'POST', url: '/api/v1/logout', headers: { cookie, 'x-csrf-token': csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) } });
    expect([wrong.statusCode, errorCode(wrong)]).toEqual([403, 'CSRF']);
    const crossSite = await app.inject({ method: 'POST', url: '/api/v1/logout', headers: { cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' } });
    expect([crossSite.statusCode, errorCode(crossSite)]).toEqual([403, 'CSRF']);
    // Another session's token does not open this one.
    const other = await login(app, 'viewer', VIEWER_PASSWORD);
    expect((await app.inject({ method: 'POST', url: '/api/v1/logout', headers: { cookie, 'x-csrf-token': other.csrf } })).statusCode).toBe(403);
    const ok = await app.inject({ method: 'POST', url: '/api/v1/logout', headers: { cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }, payload: {} });
    expect(ok.statusCode).toBe(204);
    expect(String(ok.headers['set-cookie'])).toMatch(/^callscope_session=;.*Expires=Thu, 01 Jan 1970/);
    const after = await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
    expect([after.statusCode, errorCode(after)]).toEqual([401, 'UNAUTHENTICATED']);
    expect((await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: other.cookie } })).statusCode).toBe(200);
  });

  it('ends sessions past the idle and the absolute limit; a restart keeps the others', async () => {
    const app = build({ CALLSCOPE_WEB_GUI_SESSION_IDLE_MINUTES: '10', CALLSCOPE_WEB_GUI_SESSION_ABSOLUTE_HOURS: '2' });
    const idle = await login(app);
    const old = await login(app);
    const fresh = await login(app);
    const hashOf = async (cookie: string): Promise<Buffer> => {
      const { createHash } = await import('node:crypto');
      return createHash('sha256').update(cookie.split('=')[1]!).digest();
    };
    await db.pool.execute('UPDATE gui_sessions SET last_seen = last_seen - INTERVAL 11 MINUTE WHERE token_hash = ?', [await hashOf(idle.cookie)]);
    // Busy (seen just now) but logged in over two hours ago.
    await db.pool.execute('UPDATE gui_sessions SET created = created - INTERVAL 121 MINUTE WHERE token_hash = ?', [await hashOf(old.cookie)]);
    for (const s of [idle, old]) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: s.cookie } });
      expect([res.statusCode, errorCode(res)]).toEqual([401, 'UNAUTHENTICATED']);
      expect(String(res.headers['set-cookie'])).toContain('callscope_session=;');
    }
    const [rows] = await db.pool.execute('SELECT COUNT(*) AS n FROM gui_sessions WHERE token_hash IN (?, ?)', [await hashOf(idle.cookie), await hashOf(old.cookie)]);
    expect((rows as { n: number }[])[0]!.n).toBe(0);
    await app.close();
    const restarted = build({ CALLSCOPE_WEB_GUI_SESSION_IDLE_MINUTES: '10', CALLSCOPE_WEB_GUI_SESSION_ABSOLUTE_HOURS: '2' });
    const res = await restarted.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: fresh.cookie } });
    expect(res.json()).toEqual({ user: { name: 'admin', role: 'admin' }, csrfToken: fresh.csrf });
  });
});

describe('every protected route', () => {
  it('answers 401 without a session and 403 to a state change without the CSRF token, for each API route the server has', async () => {
    const app = build({ CALLSCOPE_WEB_GUI_SENSORS: SENSORS });
    await app.ready();
    const routes = listApiRoutes(app);
    const urls = new Set(routes.map((r) => `${r.method} ${r.url}`));
    // The contract's routes are all there (api-types.ts), so the walk below covers them.
    for (const expected of [
      'GET /api/v1/health',
      'POST /api/v1/login',
      'POST /api/v1/logout',
      'GET /api/v1/session',
      'GET /api/v1/sensors',
      'GET /api/v1/calls',
      'GET /api/v1/calls/export',
      'GET /api/v1/calls/:id',
      'GET /api/v1/calls/:id/related',
      'GET /api/v1/calls/:id/sip',
      'GET /api/v1/calls/:id/streams',
      'GET /api/v1/calls/:id/pcap',
      'GET /api/v1/calls/:id/audio',
    ]) {
      expect(urls, expected).toContain(expected);
    }
    const { cookie } = await login(app);
    const open: string[] = [];
    for (const { method, url } of routes) {
      const path = url.replace(/:[a-zA-Z]+/g, '1');
      const res = await app.inject({ method: method as 'GET', url: `${path}?start=2026-11-29T17:00:00.000000Z`, headers: JSON_HEADERS, payload: method === 'GET' || method === 'HEAD' ? undefined : {} });
      if (OPEN_API_PATHS.has(url)) {
        open.push(url);
        continue;
      }
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      if (method !== 'HEAD') expect(errorCode(res), `${method} ${url}`).toBe('UNAUTHENTICATED');
      if (method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE') {
        const noCsrf = await app.inject({ method, url: path, headers: { ...JSON_HEADERS, cookie }, payload: {} });
        expect([noCsrf.statusCode, errorCode(noCsrf)], `${method} ${url}`).toEqual([403, 'CSRF']);
      }
    }
    // Only liveness and the login itself are open (api-types.ts), and they do answer without a session.
    expect([...new Set(open)].sort()).toEqual(['/api/v1/health', '/api/v1/login']);
    expect([...OPEN_API_PATHS].sort()).toEqual(['/api/v1/health', '/api/v1/login']);
    // A wrong or malformed cookie is no session; nor is a percent-encoded path a way around the check.
    for (const c of ['callscope_session=' + 'A'.repeat(43), 'callscope_session=short', 'other=1']) {
      expect((await app.inject({ method: 'GET', url: '/api/v1/sensors', headers: { cookie: c } })).statusCode, c).toBe(401);
    }
    // An unknown API path says nothing to a stranger either.
    for (const url of ['/api/v1/nope', '/api/nope', '/api']) {
      const res = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect([res.statusCode, errorCode(res)], url).toEqual([401, 'UNAUTHENTICATED']);
    }
    for (const url of ['/%61pi/v1/sensors', '/api/v1/%73ensors', '/api/v1/sensors/', '/API/v1/sensors']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode === 401 || res.statusCode === 404, url).toBe(true);
      expect(res.body, url).not.toContain('edge-a');
    }
  });
});

describe('health and sensors', () => {
  it('GET /api/v1/health is open: status, version, uptime, configured sensors', async () => {
    const res = await build({ CALLSCOPE_WEB_GUI_SENSORS: SENSORS }).inject({ method: 'GET', url: '/api/v1/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', version: WEB_GUI_VERSION, sensors: 2 });
  });

  it('GET /api/v1/sensors lists the database sensors by name with their manager-api URL (no password, never a token)', async () => {
    const beats = new SensorHeartbeatWriter(db.pool);
    const idA = await beats.beat({ name: 'edge-a', version: '0.1.0', state: 'running', started: new Date().toISOString(), stats: { secret: 'no' } });
    await beats.close();
    await db.pool.query("INSERT INTO sensors (name, first_seen, last_seen) VALUES ('edge-b', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))");
    const app = build({ CALLSCOPE_WEB_GUI_SENSORS: SENSORS });
    const { cookie } = await login(app);
    const res = await app.inject({ method: 'GET', url: '/api/v1/sensors', headers: { cookie } });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ id: number; name: string; managerUrl: string | null; heartbeat: string | null; state: string | null }[]>();
    // edge-c is configured but has written nothing yet: no id for CDRs to carry, not listed.
    expect(body.map((s) => [s.name, s.managerUrl, s.state])).toEqual([
      ['edge-a', 'https://admin:[redacted]@sensor-a:5029', 'running'],
      ['edge-b', null, null],
    ]);
    expect(body[0]!.id).toBe(idA);
    expect(body[0]!.heartbeat).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(res.body).not.toContain('sensor-a-token');
    expect(res.body).not.toContain('pw-9');
  });
});

describe('web-gui config', () => {
  it('is valid with defaults', () => {
    expect(loadWebGuiConfig([], {}).config).toEqual({
      listen: { host: '127.0.0.1', port: 8080 },
      db: { url: 'mysql://root@127.0.0.1:3306/callscope' },
      tls: { cert: null, key: null },
      adminPassword: null,
      session: { idleMinutes: 480, absoluteHours: 24, secureCookie: null },
      login: { maxPerIp: 20, maxPerUser: 10, windowS: 300 },
      sensors: [],
      artifacts: { timeoutS: 30 },
      publicDir: null,
      log: { level: 'info', pretty: null },
    });
  });

  it('takes env overrides, a sensors JSON list, the admin password and the shared CALLSCOPE_DB_URL', () => {
    const { config } = loadWebGuiConfig([], {
      CALLSCOPE_WEB_GUI_LISTEN_PORT: '8443',
      CALLSCOPE_WEB_GUI_SENSORS: SENSORS,
      CALLSCOPE_WEB_GUI_ADMIN_PASSWORD: 'from-the-environment',
      CALLSCOPE_DB_URL: 'mysql://gui:pw@db/callscope',
    });
    expect(config.listen.port).toBe(8443);
    expect(config.sensors[1]).toEqual({ id: null, name: 'edge-c', managerUrl: 'http://10.0.0.3:5029', token: null });
    expect(config.adminPassword).toBe('from-the-environment');
    expect(config.db.url).toBe('mysql://gui:pw@db/callscope');
  });

  it.each([
    [{ CALLSCOPE_WEB_GUI_SENSORS: '[{"name":"a","managerUrl":"ftp://x"}]' }, 'sensors[0].managerUrl: must match pattern'],
    [
      { CALLSCOPE_WEB_GUI_SENSORS: '[{"id":1,"name":"a","managerUrl":"http://a"},{"id":2,"name":"a","managerUrl":"http://b"}]' },
      'sensors[1].name: duplicates the name of sensors[0] (from env CALLSCOPE_WEB_GUI_SENSORS)',
    ],
    [{ CALLSCOPE_WEB_GUI_SENSORS: 'edge-a' }, 'sensors[0]: must be object, got "edge-a" (from env CALLSCOPE_WEB_GUI_SENSORS)'],
    [{ CALLSCOPE_WEB_GUI_ADMIN_PASSWORD: 'short' }, 'adminPassword: must NOT have fewer than 8 characters, got a secret value'],
    [{ CALLSCOPE_WEB_GUI_TLS_CERT: '/etc/cert.pem' }, 'tls.key: tls.cert and tls.key must be set together'],
  ])('rejects %j', (env, message) => {
    expect(() => loadWebGuiConfig([], env)).toThrow(ConfigError);
    expect(() => loadWebGuiConfig([], env)).toThrow(message);
  });

  it('rejects an unknown key in a sensor entry of the config file, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'web-gui-config-'));
    const file = join(dir, 'gui.json');
    writeFileSync(file, JSON.stringify({ sensors: [{ id: 1, name: 'a', managerUrl: 'http://a', tokn: 'x' }] }));
    expect(() => loadWebGuiConfig(['--config', file], {})).toThrow(`sensors[0].tokn: unknown key "tokn" (allowed here: id, name, managerUrl, token) (from file ${file})`);
  });

  it('keeps WEB_GUI_VERSION equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(WEB_GUI_VERSION).toBe(pkg.version);
  });
});

describe('resolvePublicDir', () => {
  it('takes the configured folder, and refuses a folder without index.html', () => {
    expect(resolvePublicDir(PUBLIC_DIR, import.meta.url)).toBe(PUBLIC_DIR);
    expect(() => resolvePublicDir(tmpdir(), import.meta.url)).toThrow(/no index.html/);
  });
});
