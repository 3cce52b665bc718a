/**
 * Issue 15 bench: the call detail screen complete in Chromium (header, ladder, streams, charts,
 * audio with its waveform, related legs: no part still loading) with the sensor's manager-api on
 * loopback, for answered calls of the corpus (busy-hour-a's G.729 calls answer audio with 415,
 * which counts as complete). Baseline in the same run: the bare app shell (index.html, the
 * bundle, the session check) reloaded in the same browser. Also reports the bundle's size
 * (raw and gzip), since GUI.md wants it loaded in under a second on a remote office link.
 *
 * Run: `npm run bench -- e2e` (needs `nx run-many -t build` first).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { corpusPath } from '@callscope/testing';
import { startGuiStack } from '../src/support/gui-stack.js';

const ROOT = process.env['CALLSCOPE_ROOT'] ?? new URL('../../', import.meta.url).pathname;
const ROUNDS = Number(process.env['GUI_BENCH_ROUNDS'] ?? 30);

/** The little of the page's DOM the predicates read (they run in the browser; e2e compiles without DOM types). */
declare const document: { querySelector(selector: string): { readyState?: number } | null };

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const assets = join(ROOT, 'dist/apps/web-gui/public/assets');
let raw = 0;
let gz = 0;
for (const f of readdirSync(assets).filter((n) => /\.(js|css)$/.test(n))) {
  const b = readFileSync(join(assets, f));
  raw += b.length;
  gz += gzipSync(b, { level: 9 }).length;
}
process.stdout.write(`bundle: ${(raw / 1024).toFixed(1)} KiB JS+CSS, ${(gz / 1024).toFixed(1)} KiB gzip\n`);

const stack = await startGuiStack({
  captures: ['rtp-loss-1pct.pcap', 'dtmf-rfc2833.pcap', 'reinvite-hold-port-change.pcap', 'sip-tcp.pcap', 'busy-hour-a.pcap'].map((f) => corpusPath(f)),
  database: 'cs_bench_gui_detail',
});
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.goto(`${stack.guiUrl}/calls?from=2026-11-29T00:00:00Z&to=2026-11-30T00:00:00Z&limit=1000`);
  await page.fill('input[name=username]', stack.login.user);
  await page.fill('input[name=password]', stack.login.password);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.ct-body [role=row]');
  // Answered calls (their detail has streams, charts and audio): the ids and starts from the API.
  const list = (await page.evaluate(async () => {
    const res = await fetch('/api/v1/calls?from=2026-11-29T00:00:00Z&to=2026-11-30T00:00:00Z&limit=1000&code=2xx');
    return ((await res.json()) as { calls: { id: number; start: string }[] }).calls;
  })) as { id: number; start: string }[];
  if (list.length === 0) throw new Error(`no answered call listed:\n${stack.logs()}`);

  // Complete: the ladder drawn, no part saying "loading", the audio ready or refused with a reason.
  const complete = (): boolean => {
    const d = document;
    if (!d.querySelector('svg.lad-svg')) return false;
    if (d.querySelector('.cd-loading, .au-note')) return false;
    if (!d.querySelector('table.st, .cd-muted')) return false;
    const audio = d.querySelector('audio');
    return d.querySelector('.au-refused') !== null || (audio !== null && (audio.readyState ?? 0) >= 1);
  };
  const shellReady = (): boolean => document.querySelector('.ct-body [role=row], .filter-bar') !== null;

  const detail: number[] = [];
  const shell: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const c = list[i % list.length]!;
    let t0 = performance.now();
    await page.goto(`${stack.guiUrl}/calls/${c.id}?start=${encodeURIComponent(c.start)}`);
    await page.waitForFunction(complete, undefined, { polling: 'raf', timeout: 10_000 });
    detail.push(performance.now() - t0);
    t0 = performance.now();
    await page.goto(`${stack.guiUrl}/calls?from=2026-11-29T18:00:00Z&to=2026-11-29T18:00:01Z`);
    await page.waitForFunction(shellReady, undefined, { polling: 'raf', timeout: 10_000 });
    shell.push(performance.now() - t0);
  }
  const f = (xs: number[]): string => `p50 ${pct(xs, 50).toFixed(0)} ms, p95 ${pct(xs, 95).toFixed(0)} ms`;
  process.stdout.write(
    `call detail complete (${ROUNDS} loads over ${Math.min(ROUNDS, list.length)} answered calls): ${f(detail)}\n` +
      `baseline, the app shell with an empty search: ${f(shell)}\n` +
      `ratio p95 detail / shell: ${(pct(detail, 95) / pct(shell, 95)).toFixed(2)}; budget 1000 ms: ${pct(detail, 95) < 1000 ? 'met' : 'MISSED'}\n`,
  );
} finally {
  await browser.close();
  await stack.stop();
}
