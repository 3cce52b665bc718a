import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createPool } from 'mysql2/promise';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '@callscope/runtime';
import { loadWebGuiConfig } from './config.js';
import { resolvePublicDir } from './public-dir.js';
import { buildServer } from './server.js';
import { WEB_GUI_VERSION } from './version.js';

// The built front end may not exist when unit tests run: serve a stand-in folder.
const PUBLIC_DIR = mkdtempSync(join(tmpdir(), 'web-gui-public-')) + '/';
writeFileSync(join(PUBLIC_DIR, 'index.html'), '<!doctype html><title>callscope</title><script type="module" src="/assets/app.js"></script>');
mkdirSync(join(PUBLIC_DIR, 'assets'));
writeFileSync(join(PUBLIC_DIR, 'assets/app.js'), 'export {};');
// Never connected to: the routes these tests call do not touch the database.
const DB = createPool({ uri: 'mysql://nobody@127.0.0.1:1/none' });
afterAll(async () => {
  await DB.end();
});
const SENSORS = JSON.stringify([
  { id: 1, name: 'edge-a', managerUrl: 'https://admin:pw-9@sensor-a:5029', token: 'sensor-a-token-0123' },
  { id: 2, name: 'edge-b', managerUrl: 'http://10.0.0.2:5029' },
]);

let server: FastifyInstance | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function build(env: Record<string, string> = {}): FastifyInstance {
  server = buildServer(loadWebGuiConfig([], env).config, { version: WEB_GUI_VERSION, publicDir: PUBLIC_DIR, db: DB });
  return server;
}

describe('web-gui server', () => {
  it('serves the landing page at / with security headers', async () => {
    const res = await build().inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('<title>callscope</title>');
    expect(res.body).toContain('<script type="module" src="/assets/app.js"></script>');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const js = await server!.inject({ method: 'GET', url: '/assets/app.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
  });

  it('GET /api/health reports status, version, uptime and the sensor count', async () => {
    const res = await build({ CALLSCOPE_WEB_GUI_SENSORS: SENSORS }).inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', version: WEB_GUI_VERSION, sensors: 2 });
  });

  it('GET /api/sensors lists sensors without tokens or URL passwords', async () => {
    const res = await build({ CALLSCOPE_WEB_GUI_SENSORS: SENSORS }).inject({ method: 'GET', url: '/api/sensors' });
    expect(res.json()).toEqual([
      { id: 1, name: 'edge-a', managerUrl: 'https://admin:[redacted]@sensor-a:5029' },
      { id: 2, name: 'edge-b', managerUrl: 'http://10.0.0.2:5029' },
    ]);
    expect(res.body).not.toContain('sensor-a-token');
  });

  it('answers unknown paths and path traversal with the NOT_FOUND catalogue error', async () => {
    const app = build();
    for (const url of ['/api/nope', '/nope.html', '/../package.json', '/%2e%2e/package.json', '/.hidden']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toEqual({ error: { code: 'NOT_FOUND', message: 'no such resource' } });
    }
  });
});

describe('web-gui config', () => {
  it('is valid with defaults', () => {
    expect(loadWebGuiConfig([], {}).config).toEqual({
      listen: { host: '127.0.0.1', port: 8080 },
      db: { url: 'mysql://root@127.0.0.1:3306/callscope' },
      sessionSecret: null,
      sensors: [],
      publicDir: null,
      log: { level: 'info', pretty: null },
    });
  });

  it('takes env overrides, a sensors JSON list and the shared CALLSCOPE_DB_URL', () => {
    const { config } = loadWebGuiConfig([], {
      CALLSCOPE_WEB_GUI_LISTEN_PORT: '8443',
      CALLSCOPE_WEB_GUI_SENSORS: SENSORS,
      CALLSCOPE_DB_URL: 'mysql://gui:pw@db/callscope',
    });
    expect(config.listen.port).toBe(8443);
    expect(config.sensors[1]).toEqual({ id: 2, name: 'edge-b', managerUrl: 'http://10.0.0.2:5029', token: null });
    expect(config.db.url).toBe('mysql://gui:pw@db/callscope');
  });

  it.each([
    [{ CALLSCOPE_WEB_GUI_SENSORS: '[{"id":1,"name":"a","managerUrl":"ftp://x"}]' }, 'sensors[0].managerUrl: must match pattern'],
    [
      { CALLSCOPE_WEB_GUI_SENSORS: '[{"id":1,"name":"a","managerUrl":"http://a"},{"id":1,"name":"b","managerUrl":"http://b"}]' },
      'sensors[1].id: duplicates the id of sensors[0] (from env CALLSCOPE_WEB_GUI_SENSORS)',
    ],
    [{ CALLSCOPE_WEB_GUI_SENSORS: 'edge-a' }, 'sensors[0]: must be object, got "edge-a" (from env CALLSCOPE_WEB_GUI_SENSORS)'],
    [{ CALLSCOPE_WEB_GUI_SESSION_SECRET: 'short' }, 'sessionSecret: must NOT have fewer than 32 characters, got a secret value'],
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
