import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadManagerApiConfig } from './config.js';
import { ControlClient, controlError, ControlUnreachableError } from './control-client.js';
import { buildServer } from './server.js';

// The real daemon is exercised in e2e/src/manager-api.test.ts. These peers are what a real daemon
// cannot be made to do on purpose: hang, close at once, answer non-JSON or an unknown error.
const dir = mkdtempSync(join(tmpdir(), 'hD-control-'));
const servers: (NetServer | HttpServer)[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function listen(server: NetServer | HttpServer, name: string): Promise<string> {
  const path = join(dir, name);
  servers.push(server);
  server.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return path;
}

describe('ControlClient', () => {
  it('says why nothing answers: no socket file', async () => {
    await expect(new ControlClient(join(dir, 'none.sock')).get('/stats')).rejects.toThrow(ControlUnreachableError);
    await expect(new ControlClient(join(dir, 'none.sock')).get('/stats')).rejects.toThrow(/ENOENT/);
  });

  it('gives up on a peer that accepts and never answers, within its timeout', async () => {
    const path = await listen(createNetServer(() => undefined), 'silent.sock');
    const t0 = Date.now();
    await expect(new ControlClient(path, 200).get('/stats')).rejects.toThrow(/no answer within 200 ms/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('refuses a peer that closes at once or answers something other than JSON', async () => {
    const closing = await listen(createNetServer((s) => s.destroy()), 'close.sock');
    await expect(new ControlClient(closing).get('/stats')).rejects.toThrow(ControlUnreachableError);
    const html = await listen(createHttpServer((_q, r) => r.end('<html>')), 'html.sock');
    await expect(new ControlClient(html).get('/stats')).rejects.toThrow(/not JSON/);
  });

  it.each([
    [{ error: { code: 'CALL_NOT_ACTIVE', message: 'm' } }, { code: 'CALL_NOT_ACTIVE', message: 'm' }],
    [{ error: { code: 1, message: 'm' } }, null],
    [{ error: 'x' }, null],
    [[], null],
    [null, null],
    ['text', null],
  ])('controlError(%j) = %j', (body, expected) => {
    expect(controlError(body)).toEqual(expected);
  });
});

describe('daemon answers the API does not expect', () => {
  it('maps an unknown daemon error to 502 DAEMON_ERROR and a non-JSON peer to stats unreachable / 503', async () => {
    const broken = await listen(
      createHttpServer((_q, r) => {
        r.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'INTERNAL', message: 'boom' } }));
      }),
      'broken.sock',
    );
    const app = buildServer(loadManagerApiConfig([], { CALLSCOPE_MANAGER_API_CONTROL: broken, CALLSCOPE_MANAGER_API_SPOOL_DIR: dir }).config, { version: '0' });
    for (const url of ['/api/v1/stats', '/api/v1/calls/active', '/api/v1/calls/active/abc']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(502);
      expect(res.json(), url).toEqual({ error: { code: 'DAEMON_ERROR', message: 'boom' } });
    }
    await app.close();

    const html = await listen(createHttpServer((_q, r) => r.end('<html>')), 'html2.sock');
    const app2 = buildServer(loadManagerApiConfig([], { CALLSCOPE_MANAGER_API_CONTROL: html, CALLSCOPE_MANAGER_API_SPOOL_DIR: dir }).config, { version: '0' });
    expect((await app2.inject({ method: 'GET', url: '/api/v1/stats' })).json()).toMatchObject({ daemon: 'unreachable', reason: expect.stringContaining('not JSON') });
    expect((await app2.inject({ method: 'GET', url: '/api/v1/calls/active' })).json()).toMatchObject({ error: { code: 'DAEMON_UNREACHABLE' } });
    await app2.close();
  });
});
