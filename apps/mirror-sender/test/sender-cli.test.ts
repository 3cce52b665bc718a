import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { readCaptureFile } from '@callscope/pcap-store';
import { SpillStore } from '../src/spill-store.js';
import { createRawBatch, appendRawPacket } from '@callscope/mirror-protocol';
import { createLogger } from '@callscope/runtime';
import { SenderExit, parseSenderArgs, runSender, type SenderSummary } from '../src/sender.cli.js';
import { MirrorPeer, type ReceivedPacket } from './mirror-peer.js';

const SECRET = 'replay-test-secret-0123456789';
const FIXTURES = new URL('../../../fixtures/carrier/', import.meta.url).pathname;
const FILES = ['codec-change-reinvite.pcap', 'b2bua-x-cid.pcap'].map((f) => join(FIXTURES, f));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function secretFile(secret: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mirror-sender-'));
  const file = join(dir, 'secret');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return file;
}

async function expected(files: string[]): Promise<ReceivedPacket[]> {
  const out: ReceivedPacket[] = [];
  for (const f of files) {
    await readCaptureFile(f, (r) => {
      out.push({ linkType: r.linkType, tsSec: r.tsSec, tsNsec: r.tsNsec, origLen: r.origLen, data: Buffer.from(r.data) });
    });
  }
  return out;
}

async function run(argv: string[], env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runSender(argv, {
    stdout,
    stderr,
    env: { CALLSCOPE_MIRROR_SENDER_HEALTH_PORT: '0', CALLSCOPE_MIRROR_SENDER_RECONNECT_MIN_MS: '20', CALLSCOPE_MIRROR_SENDER_RECONNECT_MAX_MS: '100', CALLSCOPE_MIRROR_SENDER_LOG_PRETTY: 'false', ...env },
    signals: new EventEmitter(),
  });
  return { code, out, err };
}

describe('mirror-sender buffer.spillDir', () => {
  it('refuses a spill directory it cannot write with a configuration error naming it (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mirror-sender-'));
    cleanups.push(() => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    });
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    const { code, err } = await run(['--replay', ...FILES, '--to', '127.0.0.1:9', '--secret-file', secretFile(SECRET)], { CALLSCOPE_MIRROR_SENDER_BUFFER_SPILL_DIR: notADir });
    expect(code).toBe(SenderExit.Usage);
    expect(err).toContain(`buffer.spillDir ${notADir} is not a writable directory`);
  });

  it('discards an earlier process\'s leftover spill files at start: warned, counted (spill_discarded_packets), deleted; the replay itself is whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mirror-spill-cli-'));
    cleanups.push(() => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    });
    // An earlier process that died with 3 batches (7 packets) on disk.
    const logger = createLogger({ app: 'spill-test', level: 'fatal', pretty: false, destination: new PassThrough() });
    const { store } = SpillStore.open({ dir, maxBytes: 1 << 20, logger });
    for (const [seq, n] of [[1, 2], [2, 2], [3, 3]] as const) {
      const raw = createRawBatch(n, 64);
      for (let i = 0; i < n; i++) appendRawPacket(raw, 1, 1_764_000_000, i, 60, new Uint8Array(60).fill(i));
      store.append(seq, raw);
    }
    while (store.queuedBytes > 0) await new Promise((r) => setTimeout(r, 5));
    expect(readdirSync(dir).length).toBe(1);
    const peer = new MirrorPeer(Buffer.from(SECRET));
    const port = await peer.listen();
    cleanups.push(() => peer.close());
    const { code, out, err } = await run(['--replay', ...FILES, '--to', `127.0.0.1:${port}`, '--secret-file', secretFile(SECRET)], { CALLSCOPE_MIRROR_SENDER_BUFFER_SPILL_DIR: dir });
    expect(code, err).toBe(SenderExit.Ok);
    expect(err).toMatch(/leftover spill files of an earlier process discarded/);
    expect(JSON.parse(out)).toMatchObject({ spill_discarded_packets: 7, spill_errors: 0, batches_dropped: 0 });
    expect(peer.packets).toEqual(await expected(FILES));
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('mirror-sender --replay', () => {
  it('sends every packet of the files once, waits for the acks, prints the summary, exits 0', async () => {
    const peer = new MirrorPeer(Buffer.from(SECRET));
    const port = await peer.listen();
    cleanups.push(() => peer.close());
    const { code, out, err } = await run(['--replay', ...FILES, '--to', `127.0.0.1:${port}`, '--secret-file', secretFile(SECRET), '--sensor-id', '12']);
    expect(code, err).toBe(SenderExit.Ok);
    const want = await expected(FILES);
    expect(peer.packets).toEqual(want);
    expect(peer.connections[0]!.hello?.sensorId).toBe('12');
    const summary = JSON.parse(out) as SenderSummary;
    expect(summary).toMatchObject({ type: 'summary', packets_read: want.length, batches_dropped: 0, batches_unacked: 0, batches_resent: 0, auth_failures: 0 });
    expect(summary.batches_acked).toBe(summary.batches_sent);
  });

  it('survives the receiver cutting the link twice: every packet exactly once', async () => {
    const peer = new MirrorPeer(Buffer.from(SECRET));
    const port = await peer.listen();
    cleanups.push(() => peer.close());
    peer.verdict = (seq, conn) => (conn === 0 && seq === 2 ? 'cut' : conn === 1 && seq === 4 ? 'lose' : conn === 1 && seq === 5 ? 'cut' : 'accept');
    const { code, out, err } = await run(['--replay', ...FILES, '--to', `127.0.0.1:${port}`, '--secret-file', secretFile(SECRET)], {
      CALLSCOPE_MIRROR_SENDER_BATCH_MAX_PACKETS: '20',
    });
    expect(code, err).toBe(SenderExit.Ok);
    expect(peer.packets).toEqual(await expected(FILES));
    const summary = JSON.parse(out) as SenderSummary;
    expect(summary.reconnects).toBe(2);
    expect(summary.batches_resent).toBeGreaterThanOrEqual(2);
    // Each reconnect announces the oldest batch it holds unacknowledged (acks written just before
    // a cut may die with it), then AuthResult says what the receiver has, and the sender writes
    // from the first batch the receiver lacks: 2 (cut at 2), then 4 (2 and 3 arrived, 4 was lost).
    const [, second, third] = peer.connections;
    expect(second!.hello!.nextSequence).toBeLessThanOrEqual(2);
    expect(second!.sequences.slice(0, 4)).toEqual([2, 3, 4, 5]);
    expect(third!.hello!.nextSequence).toBeLessThanOrEqual(4);
    expect(third!.sequences[0]).toBe(4);
    expect(third!.sequences).toEqual(third!.sequences.map((_, i) => 4 + i));
  });

  it('a wrong secret: the sniffer refuses, the replay stops with exit 6 and says why', async () => {
    const peer = new MirrorPeer(Buffer.from(SECRET));
    const port = await peer.listen();
    cleanups.push(() => peer.close());
    const { code, out, err } = await run(['--replay', FILES[0]!, '--to', `127.0.0.1:${port}`, '--secret-file', secretFile('another-secret-0123456789')]);
    expect(code).toBe(SenderExit.Refused);
    expect(err).toContain('refused the handshake: bad_mac (wrong secret)');
    expect(err).not.toContain('another-secret');
    expect(JSON.parse(out)).toMatchObject({ auth_failures: 1, batches_acked: 0 });
  });

  it('the secret file is its bytes minus one trailing newline, as the sniffer reads it (binary, CRLF)', async () => {
    const key = Buffer.concat([Buffer.from([0x00, 0xff, 0xfe, 0x80]), Buffer.from('binary-secret-bytes\nsecond line')]);
    const peer = new MirrorPeer(key);
    const port = await peer.listen();
    cleanups.push(() => peer.close());
    const dir = mkdtempSync(join(tmpdir(), 'mirror-sender-'));
    writeFileSync(join(dir, 'secret'), Buffer.concat([key, Buffer.from('\r\n')]));
    const { code, err } = await run(['--replay', FILES[0]!, '--to', `127.0.0.1:${port}`, '--secret-file', join(dir, 'secret')]);
    expect(code, err).toBe(SenderExit.Ok);
    expect(peer.packets).toEqual(await expected([FILES[0]!]));
  });

  it('a replay goes on without the health endpoint when its port is taken (a live sender may hold it)', async () => {
    const peer = new MirrorPeer(Buffer.from(SECRET));
    const port = await peer.listen();
    cleanups.push(() => peer.close());
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => busy.close(() => { resolve(); })));
    const { code, err } = await run(['--replay', FILES[0]!, '--to', `127.0.0.1:${port}`, '--secret-file', secretFile(SECRET)], {
      CALLSCOPE_MIRROR_SENDER_HEALTH_PORT: String((busy.address() as AddressInfo).port),
    });
    expect(code, err).toBe(SenderExit.Ok);
    expect(err).toContain('health endpoint unavailable; the replay goes on without it');
  });

  it('a missing file is counted, the others are sent, exit 3', async () => {
    const peer = new MirrorPeer(Buffer.from(SECRET));
    const port = await peer.listen();
    cleanups.push(() => peer.close());
    const { code, out } = await run(['--replay', '/nonexistent.pcap', FILES[0]!, '--to', `127.0.0.1:${port}`, '--secret-file', secretFile(SECRET)]);
    expect(code).toBe(SenderExit.FileError);
    expect(JSON.parse(out)).toMatchObject({ file_errors: 1, batches_unacked: 0 });
    expect(peer.packets).toEqual(await expected([FILES[0]!]));
  });
});

describe('mirror-sender command line', () => {
  it.each([
    [['--replay', 'a.pcap'], 'no sniffer to send to'],
    [['--replay', 'a.pcap', '--to', 'x:1'], 'target.host: needs secret'],
    [['--to', 'nohost'], '--to must be HOST:PORT'],
    [['-i', 'eth0', '--replay', 'a.pcap'], 'either interfaces (-i) or files (--replay)'],
    [['--sensor-id', '70000'], '--sensor-id must be an integer from 0 to 65535'],
    [['stray'], 'unexpected argument "stray"'],
    [['--to', 'h:1', '--secret-file', '/nonexistent/secret'], '--secret-file /nonexistent/secret: ENOENT'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('%j is a usage error', async (argv, message) => {
    const { code, err } = await run(argv);
    expect(code).toBe(SenderExit.Usage);
    expect(err).toContain(message);
  });

  it('refuses a secret file shorter than 16 bytes', async () => {
    const { code, err } = await run(['--replay', 'a.pcap', '--to', 'h:1', '--secret-file', secretFile('short')]);
    expect(code).toBe(SenderExit.Usage);
    expect(err).toContain('the secret must be at least 16 bytes');
  });

  it('takes several files after one --replay', () => {
    expect(parseSenderArgs(['--replay', 'a.pcap', 'b.pcap', '--to', 'h:1']).replay).toEqual(['a.pcap', 'b.pcap']);
  });

  it('--check-config prints the effective configuration with the secret redacted', async () => {
    const { code, out } = await run(['--check-config', '--to', 'sniffer1:5030', '--secret-file', secretFile(SECRET), '--tls']);
    expect(code).toBe(SenderExit.Ok);
    const config = JSON.parse(out) as Record<string, unknown>;
    expect(config).toMatchObject({ target: { host: 'sniffer1', port: 5030 }, secret: '[redacted]', tls: { enabled: true } });
  });
});
