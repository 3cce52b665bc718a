/**
 * Issue 15: `npm start` is the all-in-one system. The README's command is run as a user runs it
 * (scripts/start.mjs, here with `--replay` of two corpus captures so the calls are known, on free
 * ports and its own state folder and database): it prints the GUI's URL and a login that works;
 * the calls reach the GUI through the sensor daemon and the database, and their pcap comes from the
 * spool through manager-api and the GUI's proxy; Ctrl-C (SIGINT) stops every part and exits 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { afterAll, describe, expect, test } from 'vitest';
import { corpusPath, readTruth } from '@callscope/testing';
import { freePort } from './support/gui-stack.js';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'callscope-npm-start-'));
const database = `cs_e2e_start_${process.pid}`;
const CAPTURES = ['rtp-loss-1pct.pcap', 'dtmf-rfc2833.pcap'];

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const conn = await createConnection('mysql://root@127.0.0.1:3306');
  await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await conn.end();
});

describe('npm start (scripts/start.mjs)', () => {
  test('prints the URL and a working login; replayed calls, their pcap through the GUI; SIGINT stops all, exit 0', async () => {
    const [guiPort, managerPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [join(root, 'scripts/start.mjs'), '--replay', ...CAPTURES.map((f) => corpusPath(f))], {
      cwd: root,
      env: {
        ...process.env,
        CALLSCOPE_DB_URL: `mysql://root@127.0.0.1:3306/${database}`,
        CALLSCOPE_WEB_GUI_LISTEN_PORT: String(guiPort),
        CALLSCOPE_MANAGER_API_LISTEN_PORT: String(managerPort),
        CALLSCOPE_ALL_IN_ONE_DIR: dir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { resolve(code); }));
    try {
      await expect.poll(() => /web GUI: (http:\S+)\nlogin: (\S+) \/ (\S+)/.exec(out), { timeout: 180_000, interval: 200 }).not.toBeNull();
      const [, url, user, password] = /web GUI: (http:\S+)\nlogin: (\S+) \/ (\S+)/.exec(out)!;
      expect(url).toBe(`http://127.0.0.1:${guiPort}`);

      const login = await fetch(`${url!}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password }) });
      expect(login.status, out).toBe(200);
      const cookie = login.headers.getSetCookie()[0]!.split(';', 1)[0]!;

      // The replay is flat out with times moved to now: both calls are in the default last hour.
      type Page = { calls: { id: number; start: string; call_id: string }[] };
      let page: Page = { calls: [] };
      await expect
        .poll(
          async () => {
            page = (await (await fetch(`${url!}/api/v1/calls`, { headers: { cookie } })).json()) as Page;
            return page.calls.map((c) => c.call_id).sort();
          },
          { timeout: 60_000, interval: 500 },
        )
        .toEqual(CAPTURES.map((f) => readTruth(f).calls[0]!.call_id).sort());
      const call = page.calls[0]!;
      const pcap = await fetch(`${url!}/api/v1/calls/${call.id}/pcap?start=${encodeURIComponent(call.start)}`, { headers: { cookie } });
      expect(pcap.status, out).toBe(200);
      const bytes = Buffer.from(await pcap.arrayBuffer());
      expect(bytes.readUInt32LE(0).toString(16)).toMatch(/^(a1b2c3d4|a1b23c4d)$/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited, out).toBe(0);
    expect(out).toContain('[callscope] stopped');
  }, 300_000);
});
