/**
 * `sniffer run` as an operator runs it (the built bundle, a real MariaDB): replayed captures go
 * through the daemon into the database and the spool; `sniffer stats` reads it live; SIGTERM in the
 * middle of calls leaves their CDRs in the database with `sensor_shutdown`, their packets in the
 * spool, the heartbeat saying "stopped", and the process exits 0. SIGHUP reloads and names what
 * needs a restart.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');
const corpus = (name: string) => join(root, 'fixtures/corpus', name);
const serverUrl = (process.env['CALLSCOPE_DB_URL'] ?? 'mysql://root@127.0.0.1:3306/callscope').replace(/\/[^/]*$/, '/');
const dbName = `cs_e2e_daemon_${process.pid}`;
const dbUrl = `${serverUrl}${dbName}`;
const dir = mkdtempSync(join(tmpdir(), 'callscope-daemon-e2e-'));
const env = { ...process.env, CALLSCOPE_SNIFFER_CONFIG: '', CALLSCOPE_SNIFFER_DB_QUEUE_DIR: join(dir, 'cdr-queue') };

async function sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
  const conn = await createConnection({ uri: dbUrl, dateStrings: true });
  try {
    const [rows] = await conn.query(query, params);
    return rows as T[];
  } finally {
    await conn.end();
  }
}

beforeAll(async () => {
  const conn = await createConnection({ uri: serverUrl });
  await conn.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
  await conn.end();
});
afterAll(async () => {
  const conn = await createConnection({ uri: serverUrl });
  await conn.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
  await conn.end();
});

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  signalAt: { ms: number };
}

function start(args: string[]): Running {
  const child = spawn(process.execPath, [sniffer, 'run', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout.resume();
  const signalAt = { ms: 0 };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal, ms: Date.now() - signalAt.ms });
    });
  });
  return { child, stderr: () => err, exited, signalAt };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One HEP3 message (vendor 0 chunks: family, protocol, IPv4 addresses, ports, time, capture id, payload). */
function hep3(m: { sec: number; usec: number; src: string; dst: string; sport: number; dport: number; payload: Buffer }): Buffer {
  const chunk = (type: number, value: Buffer) => {
    const head = Buffer.alloc(6);
    head.writeUInt16BE(0, 0);
    head.writeUInt16BE(type, 2);
    head.writeUInt16BE(6 + value.length, 4);
    return Buffer.concat([head, value]);
  };
  const u8 = (v: number) => Buffer.from([v]);
  const u16 = (v: number) => Buffer.from([v >> 8, v & 0xff]);
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return b;
  };
  const ip4 = (a: string) => Buffer.from(a.split('.').map(Number));
  const body = Buffer.concat([
    chunk(1, u8(2)), chunk(2, u8(17)), chunk(3, ip4(m.src)), chunk(4, ip4(m.dst)), chunk(7, u16(m.sport)), chunk(8, u16(m.dport)),
    chunk(9, u32(m.sec)), chunk(10, u32(m.usec)), chunk(11, u8(1)), chunk(12, u32(2001)), chunk(15, m.payload),
  ]);
  const head = Buffer.from('HEP3\0\0');
  head.writeUInt16BE(6 + body.length, 4);
  return Buffer.concat([head, body]);
}

function stats(control: string, ...extra: string[]) {
  const r = spawnSync(process.execPath, [sniffer, 'stats', '--control', control, ...extra], { env, encoding: 'utf8' });
  return { code: r.status, body: r.stdout.trim() === '' ? null : (JSON.parse(r.stdout) as Record<string, unknown>), stderr: r.stderr };
}

describe('sniffer run (built bundle, MariaDB)', () => {
  test('SIGTERM in the middle of calls: sensor_shutdown CDRs in the database, packets in the spool, heartbeat stopped, exit 0', async () => {
    const control = join(dir, 'a.sock');
    const spool = join(dir, 'spool');
    const jsonl = join(dir, 'a.jsonl');
    // Two 13-second calls at their own pace: both answered within the first second, both still
    // open until their BYE at ~12.8 s. (At 2x the BYE came at 6.4 s, which a loaded machine, with
    // a `sniffer stats` process per check below, reached before the SIGTERM.)
    const run = start(['--replay', corpus('basic-caller-bye-pcma.pcap'), '--replay', corpus('dtmf-rfc2833.pcap'), '--speed', '1', '--db', dbUrl, '--spool', spool, '--control', control, '--jsonl', jsonl, '--sensor', 'e2e-sensor', '--sensor-id', '3']);
    await waitFor('the control socket', () => stats(control).code === 0);
    await waitFor('a call in progress', () => (stats(control).body?.['calls_open'] as number) >= 1);
    const live = stats(control);
    expect(live.body).toMatchObject({ sensor: 'e2e-sensor', sensor_id: 3, state: 'running' });
    expect((live.body!['sources'] as { kind: string }[])[0]).toMatchObject({ kind: 'replay', kernel_drops: 0 });
    // CPU of the process and of its two threads that matter: the packet thread and the spool's writer.
    const cpu = live.body!['cpu'] as { process_s: number; packet_thread_s: number; spool_thread_s: number };
    expect(cpu.packet_thread_s, JSON.stringify(cpu)).toBeGreaterThan(0);
    expect(cpu.spool_thread_s, JSON.stringify(cpu)).toBeGreaterThan(0);
    expect(cpu.packet_thread_s + cpu.spool_thread_s).toBeLessThanOrEqual(cpu.process_s + 0.02);
    const calls = stats(control, '--calls');
    expect(calls.code).toBe(0);
    const list = calls.body as unknown as { call_id: string }[];
    expect(list.length).toBeGreaterThanOrEqual(1);
    const one = stats(control, '--call', list[0]!.call_id);
    expect(one.code).toBe(0);
    expect(one.body).toMatchObject({ call_id: list[0]!.call_id });

    run.signalAt.ms = Date.now();
    run.child.kill('SIGTERM');
    const { code, signal, ms } = await run.exited;
    expect({ code, signal }, run.stderr()).toEqual({ code: 0, signal: null });
    expect(ms).toBeLessThan(10_000);

    const rows = await sql<{ call_id: string; end_reason: string; start: string }>('SELECT call_id, end_reason, DATE_FORMAT(start, "%Y-%m-%dT%H:%i:%s.%fZ") start FROM cdr ORDER BY start');
    expect(rows.length).toBeGreaterThanOrEqual(1);
    const jsonCalls = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; call_id: string; end_reason: string });
    expect(rows.map((r) => r.call_id).sort()).toEqual(jsonCalls.filter((r) => r.type === 'call').map((r) => r.call_id).sort());
    // The replay was stopped well before either call's BYE (at ~12.8 s of replay time).
    for (const r of rows) expect(r.end_reason).toBe('sensor_shutdown');
    const sensors = await sql<{ name: string; version: string; state: string; stats: string }>('SELECT name, version, state, stats FROM sensors');
    expect(sensors).toHaveLength(1);
    expect(sensors[0]).toMatchObject({ name: 'e2e-sensor', state: 'stopped' });
    expect(JSON.parse(sensors[0]!.stats)).toMatchObject({ sensor: 'e2e-sensor', calls_open: expect.any(Number) as number });
    // Each call's packets up to the stop are in the spool, readable as one pcap.
    for (const r of rows) {
      const pcap = spawnSync(process.execPath, [sniffer, 'pcap', '--spool', spool, '--call-id', r.call_id, '--start', r.start], { env });
      expect(pcap.status, pcap.stderr.toString()).toBe(0);
      expect(pcap.stdout.length).toBeGreaterThan(1000);
    }
    expect(run.stderr()).toMatch(/sensor stopped/);
  }, 60_000);

  test('SIGHUP applies the log level and names what needs a restart', async () => {
    const control = join(dir, 'b.sock');
    const config = join(dir, 'b.json');
    writeFileSync(config, JSON.stringify({ log: { level: 'info', pretty: false }, daemon: { statusIntervalS: 1 } }));
    const run = start(['--config', config, '--replay', corpus('reject-486-busy.pcap'), '--speed', '0.5', '--control', control, '--jsonl=-']);
    await waitFor('the control socket', () => stats(control).code === 0);
    writeFileSync(config, JSON.stringify({ log: { level: 'debug', pretty: false }, daemon: { statusIntervalS: 1 }, calls: { maxOpen: 5 } }));
    run.child.kill('SIGHUP');
    await waitFor('the reload message', () => /SIGHUP: reloaded/.test(run.stderr()));
    expect(run.stderr()).toMatch(/need a restart to take effect: calls\.maxOpen/);
    await waitFor('a status line', () => /status: \d+ calls open/.test(run.stderr()));
    // Shares of one core over the last interval (no spool here: no writer thread to show).
    await waitFor('a status line with CPU shares', () => /status: .*CPU \d+ % \(packet thread \d+ %\)/.test(run.stderr()));
    run.signalAt.ms = Date.now();
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(0);
  }, 60_000);

  test('a replay-only run ends by itself when its files end, with every record written', () => {
    const r = spawnSync(process.execPath, [sniffer, 'run', '--replay', corpus('reject-486-busy.pcap'), '--replay', corpus('cancel-487.pcap'), '--speed', '0', '--control', join(dir, 'd.sock'), '--jsonl=-'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; end_reason?: string });
    expect(recs.filter((x) => x.type === 'call').map((x) => x.end_reason).sort()).toEqual(['cancelled', 'rejected']);
    expect(r.stderr).toMatch(/replay finished/);
  });

  test('--hep-listen: the SIP of real captures sent as HEP3 over TCP and UDP gives the calls analyze gives', async () => {
    // The SIP messages as tshark reads them from the captures (time, addresses, ports, payload).
    const files = ['basic-caller-bye-pcma.pcap', 'reject-486-busy.pcap', 'cancel-487.pcap'].map(corpus);
    const messages = files.flatMap((f) =>
      spawnSync('tshark', ['-r', f, '-Y', 'sip && udp', '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'udp.payload'], { encoding: 'utf8' })
        .stdout.trim().split('\n').map((line) => {
          const [t, src, dst, sport, dport, hex] = line.split('\t') as [string, string, string, string, string, string];
          const [sec, frac] = t.split('.') as [string, string];
          return hep3({ sec: Number(sec), usec: Math.round(Number(`0.${frac}`) * 1e6), src, dst, sport: Number(sport), dport: Number(dport), payload: Buffer.from(hex, 'hex') });
        }),
    );
    expect(messages.length).toBeGreaterThan(15);
    const essence = (r: Record<string, unknown>) => [r['call_id'], r['caller'], r['called'], r['start'], r['end'], r['last_sip_code'], r['end_reason'], r['sip_packets']].join(' ');
    const offline = spawnSync(process.execPath, [sniffer, 'analyze', ...files], { env, encoding: 'utf8' });
    const expected = offline.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r['type'] === 'call').map(essence).sort();
    expect(expected).toHaveLength(3);
    for (const transport of ['tcp', 'udp'] as const) {
      const port = 19_000 + (process.pid % 1000) + (transport === 'udp' ? 1000 : 0);
      const control = join(dir, `hep-${transport}.sock`);
      const jsonl = join(dir, `hep-${transport}.jsonl`);
      const run = start(['--hep-listen', `127.0.0.1:${port}`, '--control', control, '--jsonl', jsonl]);
      await waitFor('the control socket', () => stats(control).code === 0);
      if (transport === 'tcp') {
        const { connect } = await import('node:net');
        const sock = connect(port, '127.0.0.1');
        await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
        // One write: several HEP messages per TCP segment, messages across segments.
        await new Promise<void>((resolve) => sock.end(Buffer.concat(messages), resolve));
      } else {
        const { createSocket } = await import('node:dgram');
        const udp = createSocket('udp4');
        for (const m of messages) {
          await new Promise<void>((resolve, reject) => {
            udp.send(m, port, '127.0.0.1', (err) => {
              if (err) reject(err);
              else resolve();
            });
          });
        }
        udp.close();
      }
      await waitFor('every message', () => {
        const src = (stats(control).body?.['sources'] as { kind: string; received: number }[] | undefined)?.[0];
        return src?.received === messages.length;
      });
      run.signalAt.ms = Date.now();
      run.child.kill('SIGTERM');
      expect((await run.exited).code, run.stderr()).toBe(0);
      const got = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r['type'] === 'call');
      // The calls closed at the stop keep the outcome their SIP gave them.
      expect(got.map(essence).sort(), transport).toEqual(expected);
    }
  }, 60_000);

  test('bad usage and an unusable source say why', () => {
    const none = spawnSync(process.execPath, [sniffer, 'run'], { env, encoding: 'utf8' });
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no source/);
    const badHep = spawnSync(process.execPath, [sniffer, 'run', '--hep-listen', 'nowhere'], { env, encoding: 'utf8' });
    expect(badHep.status).toBe(2);
    expect(badHep.stderr).toMatch(/--hep-listen must be HOST:PORT/);
    const noIface = spawnSync(process.execPath, [sniffer, 'run', '-i', 'callscope-no-such-if0', '--control', join(dir, 'c.sock')], { env, encoding: 'utf8' });
    expect(noIface.status).toBe(5);
    expect(noIface.stderr).toMatch(/callscope-no-such-if0/);
  });
});
