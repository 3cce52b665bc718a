import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '@callscope/runtime';
import { API_ERRORS } from './api-errors.js';
import { loadManagerApiConfig } from './config.js';
import { PROMETHEUS_CONTENT_TYPE } from './process-metrics.js';
import { buildServer } from './server.js';
import { MANAGER_API_VERSION } from './version.js';

const TOKEN = 'test-token-0123456789';

/** Self-signed P-256 certificate for localhost, made with openssl for this test only. */
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUSEGDpQNgOFqQK7LgVXb6n3xVfgUwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyOTE5NTY1NVoYDzIxMjYxMTA1
MTk1NjU1WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQ/MAlpBwmLUKozhxMl0MIVlQ4y3MiNCL1PI9ee1TLPalNlbJ4I5V3z
jIaWSAr4QOrsICM9F8gd0gyVV46rCeOlo28wbTAdBgNVHQ4EFgQU7U3EKudYxQme
AT350waXQkF7gNwwHwYDVR0jBBgwFoAU7U3EKudYxQmeAT350waXQkF7gNwwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDRwAwRAIgfOzzdKbI3vZNMDCJB3nGX7FB9yv6ReCLJh5wDvu1vGECIBPR
WL4OhxRw3TvAX8+ft4oB2M1rUCPWh6hWFodi80Pi
-----END CERTIFICATE-----
`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2MYKpZ0801ECAI9p
8jr23Sdj93Lu5cwVWFS4ll2tz7WhRANCAAQ/MAlpBwmLUKozhxMl0MIVlQ4y3MiN
CL1PI9ee1TLPalNlbJ4I5V3zjIaWSAr4QOrsICM9F8gd0gyVV46rCeOl
-----END PRIVATE KEY-----
`;

let server: FastifyInstance | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function build(env: Record<string, string> = {}, tls: { cert: Buffer; key: Buffer } | null = null): FastifyInstance {
  server = buildServer(loadManagerApiConfig([], env).config, { version: MANAGER_API_VERSION, tls });
  return server;
}

describe('manager-api server', () => {
  it('GET /api/v1/health reports status, version and uptime (no token configured)', async () => {
    const res = await build().inject({ method: 'GET', url: '/api/v1/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ status: string; version: string; uptimeS: number }>();
    expect(body.status).toBe('ok');
    expect(body.version).toBe(MANAGER_API_VERSION);
    expect(body.uptimeS).toBeGreaterThan(0);
  });

  it('requires the bearer token on /api/* when one is configured', async () => {
    const app = build({ CALLSCOPE_MANAGER_API_TOKEN: TOKEN });
    const missing = await app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toEqual({ code: 'UNAUTHORIZED', message: API_ERRORS.UNAUTHORIZED.message });
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="callscope"');

    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, 'Bearer', TOKEN]) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/health', headers: { authorization: header } });
      expect(res.statusCode, header).toBe(401);
    }
    const wrong = await app.inject({ method: 'GET', url: '/api/v1/health', headers: { authorization: 'Bearer nope' } });
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');

    const ok = await app.inject({ method: 'GET', url: '/api/v1/health', headers: { authorization: `bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    // Unknown routes are checked too, so probing does not bypass the token; /metrics stays open.
    for (const url of ['/api/v1/calls/active', '/API/v1/health', '//api/v1/health', '/nope']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
    }
    expect((await app.inject({ method: 'GET', url: '/metrics?x=1' })).statusCode).toBe(200);
  });

  it('answers unknown routes and wrong methods with catalogue errors', async () => {
    const app = build();
    const notFound = await app.inject({ method: 'GET', url: '/nope' });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json()).toEqual({ code: 'NOT_FOUND', message: 'no such resource' });
    const post = await app.inject({ method: 'POST', url: '/api/v1/health', payload: { a: 1 } });
    expect(post.statusCode).toBe(404);
    expect(post.json<{ code: string }>().code).toBe('NOT_FOUND');
    const bad = await app.inject({ method: 'POST', url: '/api/v1/health', headers: { 'content-type': 'application/json' }, payload: '{' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ code: string }>().code).toBe('BAD_REQUEST');
    const big = await app.inject({ method: 'POST', url: '/api/v1/health', headers: { 'content-type': 'application/json' }, payload: `"${'x'.repeat(70_000)}"` });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'request body too large' });
  });

  it('serves Prometheus text on /metrics with uptime, memory and response counts', async () => {
    const app = build({ CALLSCOPE_MANAGER_API_TOKEN: TOKEN });
    await app.inject({ method: 'GET', url: '/api/v1/health' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(PROMETHEUS_CONTENT_TYPE);
    const lines = res.body.split('\n');
    expect(lines).toContain('# TYPE process_uptime_seconds gauge');
    expect(lines.find((l) => l.startsWith('process_resident_memory_bytes '))).toMatch(/^process_resident_memory_bytes \d+$/);
    expect(lines).toContain(`callscope_build_info{app="manager-api",version="${MANAGER_API_VERSION}"} 1`);
    expect(lines).toContain('callscope_http_responses_total{code="401"} 1');
    // Every sample line is `name{labels} value` or `name value` (text format 0.0.4).
    for (const line of lines.filter((l) => l !== '' && !l.startsWith('#'))) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$/);
  });

  it('serves HTTPS when TLS files are configured', async () => {
    const app = build({}, { cert: Buffer.from(TEST_CERT), key: Buffer.from(TEST_KEY) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/v1/health', ca: TEST_CERT, servername: 'localhost' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          resolve(text);
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(JSON.parse(body)).toMatchObject({ status: 'ok' });
  });
});

describe('manager-api config', () => {
  it('is valid with defaults: loopback 127.0.0.1:5029, no token, no TLS', () => {
    const { config } = loadManagerApiConfig([], {});
    expect(config).toEqual({
      listen: { host: '127.0.0.1', port: 5029 },
      token: null,
      tls: { cert: null, key: null },
      spool: { dir: 'var/spool' },
      sniffer: { stateSocket: 'var/run/sniffer.sock' },
      log: { level: 'info', pretty: null },
    });
  });

  it('takes env overrides', () => {
    const { config } = loadManagerApiConfig([], { CALLSCOPE_MANAGER_API_LISTEN_PORT: '6029', CALLSCOPE_MANAGER_API_LOG_LEVEL: 'debug' });
    expect(config.listen.port).toBe(6029);
    expect(config.log.level).toBe('debug');
  });

  it.each([
    [{ CALLSCOPE_MANAGER_API_LISTEN_HOST: '0.0.0.0' }, 'listen.host: 0.0.0.0 is not a loopback address, so a token must be set (the API serves call pcaps) (from env CALLSCOPE_MANAGER_API_LISTEN_HOST)'],
    [{ CALLSCOPE_MANAGER_API_TOKEN: 'short' }, 'token: must NOT have fewer than 16 characters, got a secret value'],
    [{ CALLSCOPE_MANAGER_API_TLS_CERT: '/etc/cert.pem' }, 'tls.key: tls.cert and tls.key must be set together'],
    [{ CALLSCOPE_MANAGER_API_LISTEN_PORT: '0' }, 'listen.port: must be >= 1, got 0 (from env CALLSCOPE_MANAGER_API_LISTEN_PORT)'],
  ])('rejects %j', (env, message) => {
    expect(() => loadManagerApiConfig([], env)).toThrow(ConfigError);
    expect(() => loadManagerApiConfig([], env)).toThrow(message);
  });

  it('keeps MANAGER_API_VERSION equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(MANAGER_API_VERSION).toBe(pkg.version);
  });
});
