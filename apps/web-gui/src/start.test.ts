// The GUI's start as `main` runs it, on the real MariaDB and real sockets: a database created and
// migrated at start, the first account with a random password printed once (stdout and one log
// line) or with the configured password, and HTTPS with Secure cookies and HSTS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createConnection } from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '@callscope/cdr-schema';
import { createLogger } from '@callscope/runtime';
import type { StopService } from '@callscope/runtime';
import { loadWebGuiConfig } from './config.js';
import { startWebGui } from './start.js';

const SERVER_URL = process.env.CALLSCOPE_DB_URL ?? 'mysql://root@127.0.0.1:3306/';
const PUBLIC_DIR = mkdtempSync(join(tmpdir(), 'web-gui-public-')) + '/';
writeFileSync(join(PUBLIC_DIR, 'index.html'), '<!doctype html><title>callscope</title>');

const databases: string[] = [];
afterAll(async () => {
  const conn = await createConnection({ uri: SERVER_URL });
  for (const name of databases) await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await conn.end();
});

/** A database name nobody created yet (the GUI's start must create it). */
function freshDbUrl(): string {
  const name = `cs_c_start_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  databases.push(name);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

interface Started {
  stop: StopService;
  stdout: string;
  logs: Record<string, unknown>[];
  address: string;
}

async function start(env: Record<string, string>): Promise<Started> {
  const loaded = loadWebGuiConfig([], { CALLSCOPE_WEB_GUI_PUBLIC_DIR: PUBLIC_DIR, ...env }).config;
  // Any free port (the schema asks operators for a real one).
  const config = { ...loaded, listen: { ...loaded.listen, port: 0 } };
  const logStream = new PassThrough();
  const logs: Record<string, unknown>[] = [];
  let pending = '';
  logStream.on('data', (c: Buffer) => {
    pending += c.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const out = new PassThrough();
  let stdout = '';
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  const logger = createLogger({ app: 'web-gui', level: 'info', pretty: false, destination: logStream });
  const stop = await startWebGui(config, logger, { stdout: out, moduleUrl: import.meta.url });
  await new Promise((r) => setImmediate(r));
  const listening = logs.find((l) => l.msg === 'web-gui listening');
  return { stop, stdout, logs, address: String(listening?.address) };
}

async function loginOver(address: string, username: string, password: string): Promise<Response> {
  return fetch(`${address}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
}

describe('startWebGui', () => {
  it('creates and migrates the database, creates admin with a random password shown once, and not again on the next start', async () => {
    const dbUrl = freshDbUrl();
    const first = await start({ CALLSCOPE_DB_URL: dbUrl });
    try {
      const printed = /^web GUI login: admin \/ ([A-Za-z0-9_-]{24})\n$/.exec(first.stdout);
      expect(printed, first.stdout).not.toBeNull();
      const password = printed![1]!;
      const line = first.logs.filter((l) => l.firstLoginPassword !== undefined);
      expect(line).toHaveLength(1);
      expect(line[0]).toMatchObject({ user: 'admin', firstLoginPassword: password });
      expect(first.logs.find((l) => l.msg === 'database schema migrated')).toMatchObject({ applied: MIGRATIONS.map((m) => m.version) });
      expect((await loginOver(first.address, 'admin', password)).status).toBe(200);
      expect((await loginOver(first.address, 'admin', 'wrong-password')).status).toBe(401);
    } finally {
      await first.stop('test');
    }
    const second = await start({ CALLSCOPE_DB_URL: dbUrl, CALLSCOPE_WEB_GUI_ADMIN_PASSWORD: 'ignored-once-an-account-exists' });
    try {
      expect(second.stdout).toBe('');
      expect(JSON.stringify(second.logs)).not.toContain('firstLoginPassword');
      expect(second.logs.find((l) => l.msg === 'database schema migrated')).toBeUndefined();
      expect((await loginOver(second.address, 'admin', 'ignored-once-an-account-exists')).status).toBe(401);
    } finally {
      await second.stop('test');
    }
  });

  it('uses the configured admin password (CALLSCOPE_WEB_GUI_ADMIN_PASSWORD) and prints nothing', async () => {
    const started = await start({ CALLSCOPE_DB_URL: freshDbUrl(), CALLSCOPE_WEB_GUI_ADMIN_PASSWORD: 'from-the-env-42' });
    try {
      expect(started.stdout).toBe('');
      expect(JSON.stringify(started.logs)).not.toContain('from-the-env-42');
      expect(started.logs.find((l) => l.msg === 'first account created with the configured adminPassword')).toBeDefined();
      const res = await loginOver(started.address, 'admin', 'from-the-env-42');
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ user: { name: 'admin', role: 'admin' } });
    } finally {
      await started.stop('test');
    }
  });

  it('serves HTTPS with a Secure __Host- cookie and HSTS when tls.cert and tls.key are set', async () => {
    const pki = mkdtempSync(join(tmpdir(), 'web-gui-pki-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2', '-keyout', join(pki, 'gui.key'), '-out', join(pki, 'gui.crt')],
      { stdio: 'ignore' },
    );
    const started = await start({
      CALLSCOPE_DB_URL: freshDbUrl(),
      CALLSCOPE_WEB_GUI_ADMIN_PASSWORD: 'tls-admin-password',
      CALLSCOPE_WEB_GUI_TLS_CERT: join(pki, 'gui.crt'),
      CALLSCOPE_WEB_GUI_TLS_KEY: join(pki, 'gui.key'),
    });
    try {
      expect(started.address).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = readFileSync(join(pki, 'gui.crt'));
      const res = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
        const req = httpsRequest(`${started.address}/api/v1/login`, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (r) => {
          r.resume();
          resolve({ status: r.statusCode ?? 0, headers: r.headers });
        });
        req.on('error', reject);
        req.end(JSON.stringify({ username: 'admin', password: 'tls-admin-password' }));
      });
      expect(res.status).toBe(200);
      expect(String(res.headers['set-cookie'])).toMatch(/^__Host-callscope_session=[A-Za-z0-9_-]{43}; Max-Age=86400; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
    } finally {
      await started.stop('test');
    }
  });
});
