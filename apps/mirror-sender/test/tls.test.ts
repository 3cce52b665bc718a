import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCaptureFile } from '@callscope/pcap-store';
import { SenderExit, runSender } from '../src/sender.cli.js';
import { MirrorPeer } from './mirror-peer.js';

const SECRET = 'tls-test-secret-0123456789';
const FILE = new URL('../../../fixtures/carrier/bye-408.pcap', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'mirror-tls-'));
let peer: MirrorPeer;
let port: number;

beforeAll(async () => {
  // A self-signed certificate for the name "sniffer.test" (the sender verifies it against this CA file).
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=sniffer.test',
    '-addext', 'subjectAltName=DNS:sniffer.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  writeFileSync(join(dir, 'secret'), SECRET);
  peer = new MirrorPeer(Buffer.from(SECRET), { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
  port = await peer.listen();
});

afterAll(async () => {
  await peer.close();
});

function run(env: Record<string, string>) {
  let out = '';
  let err = '';
  const stdout = new PassThrough().on('data', (c: Buffer) => (out += c.toString()));
  const stderr = new PassThrough().on('data', (c: Buffer) => (err += c.toString()));
  const signals = new EventEmitter();
  const code = runSender(['--replay', FILE, '--to', `127.0.0.1:${port}`, '--secret-file', join(dir, 'secret'), '--tls'], {
    stdout,
    stderr,
    env: { CALLSCOPE_MIRROR_SENDER_HEALTH_PORT: '0', CALLSCOPE_MIRROR_SENDER_LOG_PRETTY: 'false', CALLSCOPE_MIRROR_SENDER_RECONNECT_MIN_MS: '20', CALLSCOPE_MIRROR_SENDER_RECONNECT_MAX_MS: '50', ...env },
    signals,
  });
  return { code, signals, out: () => out, err: () => err };
}

describe('mirror-sender --tls', () => {
  it('verifies the sniffer against tls.caFile and tls.serverName, then streams', async () => {
    const before = peer.packets.length;
    const r = run({ CALLSCOPE_MIRROR_SENDER_TLS_CA_FILE: join(dir, 'cert.pem'), CALLSCOPE_MIRROR_SENDER_TLS_SERVER_NAME: 'sniffer.test' });
    expect(await r.code, r.err()).toBe(SenderExit.Ok);
    let count = 0;
    await readCaptureFile(FILE, () => {
      count++;
    });
    expect(peer.packets.length - before).toBe(count);
  });

  it('refuses a certificate for another name: no handshake, retries, stopped with the batches counted unacknowledged', async () => {
    const r = run({ CALLSCOPE_MIRROR_SENDER_TLS_CA_FILE: join(dir, 'cert.pem'), CALLSCOPE_MIRROR_SENDER_TLS_SERVER_NAME: 'other.test' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    r.signals.emit('SIGTERM', 'SIGTERM');
    expect(await r.code).toBe(SenderExit.Lost);
    expect(r.err()).toContain("Hostname/IP does not match certificate's altnames");
    expect(JSON.parse(r.out())).toMatchObject({ batches_sent: 0, batches_acked: 0 });
  });
});
