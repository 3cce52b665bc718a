/**
 * Live capture through @callscope/live-capture on `lo` (needs root and the built addon, as the
 * live-capture lib's own tests: CI runs as root after `node scripts/ensure.mjs --cap`), streamed
 * to the test receiver, with the health endpoint read while it runs.
 */
import { createSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SenderExit, runSender } from '../src/sender.cli.js';
import { MirrorPeer } from './mirror-peer.js';

const SECRET = 'live-test-secret-0123456789';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(what: string, ok: () => boolean, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('mirror-sender -i lo', () => {
  it('captures, streams every packet with its capture time, serves /health and /metrics, stops on SIGTERM with exit 0', async () => {
    const peer = new MirrorPeer(Buffer.from(SECRET));
    const port = await peer.listen();
    cleanups.push(() => peer.close());
    const dir = mkdtempSync(join(tmpdir(), 'mirror-live-'));
    writeFileSync(join(dir, 'secret'), SECRET);
    const udpPort = 40_000 + Math.floor(Math.random() * 20_000);
    const stderr = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    let partial = '';
    stderr.on('data', (c: Buffer) => {
      const parts = (partial + c.toString()).split('\n');
      partial = parts.pop()!;
      for (const l of parts.filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
    });
    const signals = new EventEmitter();
    const running = runSender(['-i', 'lo', '--filter', `udp and dst port ${udpPort}`, '--to', `127.0.0.1:${port}`, '--secret-file', join(dir, 'secret'), '--sensor-id', '3'], {
      stdout: new PassThrough(),
      stderr,
      env: { CALLSCOPE_MIRROR_SENDER_HEALTH_PORT: '0', CALLSCOPE_MIRROR_SENDER_LOG_PRETTY: 'false', CALLSCOPE_MIRROR_SENDER_BATCH_MAX_MS: '10' },
      signals,
    });
    await until('streaming', () => lines.some((l) => l.state === 'streaming'));
    const healthPort = lines.find((l) => l.msg === 'health endpoint listening (/health, /metrics)')?.port as number;
    const udp = createSocket('udp4');
    const before = Date.now();
    for (let i = 0; i < 40; i++) {
      await new Promise<void>((resolve) => {
        udp.send(Buffer.from(`mirror-live-${i.toString().padStart(3, '0')}`), udpPort, '127.0.0.1', () => {
          resolve();
        });
      });
    }
    udp.close();
    await until('40 packets at the receiver', () => peer.packets.length >= 40);
    const payloads = peer.packets.map((p) => p.data.subarray(p.data.length - 15).toString());
    expect(payloads).toEqual(Array.from({ length: 40 }, (_, i) => `mirror-live-${i.toString().padStart(3, '0')}`));
    for (const p of peer.packets) {
      expect(p.linkType).toBe(1);
      expect(p.origLen).toBe(p.data.length);
      expect(p.tsSec * 1000 + p.tsNsec / 1e6).toBeGreaterThanOrEqual(before - 1000);
    }
    const health = await fetch(`http://127.0.0.1:${healthPort}/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { status: string; state: string; sensorId: number; counters: Record<string, number> };
    expect(body).toMatchObject({ status: 'ok', state: 'streaming', sensorId: 3 });
    expect(body.counters.packetsCaptured).toBe(40);
    expect(body.counters.kernelDrops).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    expect(metrics).toContain('callscope_mirror_sender_packets_captured_total 40');
    expect(metrics).toContain('callscope_mirror_sender_streaming 1');
    expect((await fetch(`http://127.0.0.1:${healthPort}/nope`)).status).toBe(404);
    signals.emit('SIGTERM', 'SIGTERM');
    expect(await running).toBe(SenderExit.Ok);
    expect(lines.find((l) => l.msg === 'mirror-sender done')).toMatchObject({ packets_read: 40, batches_unacked: 0, batches_dropped: 0 });
  });
});
