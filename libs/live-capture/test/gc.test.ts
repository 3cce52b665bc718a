/**
 * Garbage collection forced every millisecond while 100,000 packets arrive: the capture process
 * must survive and receive every packet with its bytes intact. Regression guard for the
 * use-after-free of `cap` 0.2.1 (it kept a raw pointer to a Buffer it held no reference to; once
 * the GC freed it, every packet was written into freed memory). Needs root (veth).
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { addonCandidates } from '../src/index.js';
import { TEST_FILTER, createVethPair, type VethPair } from './veth.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const addon = addonCandidates()[0]!;
let veth: VethPair;

beforeAll(() => {
  veth = createVethPair('g');
});
afterAll(() => {
  veth.remove();
});

test('100,000 packets under forced GC: the process survives and every packet arrives intact', async () => {
  const n = 100_000;
  const length = 200;
  const child = spawn(process.execPath, ['--expose-gc', here('./gc-capture-child.cjs'), addon, veth.rx, TEST_FILTER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve([code, signal]);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve();
    });
    child.once('exit', () => { reject(new Error(`capture child exited early: ${err}`)); });
  });
  const inj = spawnSync(process.execPath, [here('./gc-inject-child.cjs'), addon, veth.tx, String(n), String(length)], { encoding: 'utf8' });
  expect(inj.status, inj.stderr).toBe(0);
  child.stdin.end();
  const [code, signal] = await exited;
  expect(signal, err).toBeNull();
  expect(code, err).toBe(0);
  const result = JSON.parse(out.split('\n')[1]!) as { packets: number; bytes: number; badContent: number; outOfOrder: number; stats: { kernelDrops: number; received: number } };
  expect(result).toMatchObject({ packets: n, bytes: n * length, badContent: 0, outOfOrder: 0 });
  expect(result.stats).toMatchObject({ kernelDrops: 0, received: n });
}, 120_000);
