/**
 * Issue 15, done-when: the web GUI in real Chromium (Debian's, driven by playwright-core) over the
 * built bundles: log in, search by caller prefix, open a corpus call; the ladder shows the truth's
 * SIP message count, the streams table tshark's packet and loss figures, the audio element plays
 * with the call's media duration, and the downloaded pcap opens in tshark with the call's SIP and
 * RTP. Screenshots of the list and the detail are kept in dist/test-artifacts/web-gui/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { corpusPath, readTruth } from '@callscope/testing';
import { startGuiStack, type GuiStack } from './support/gui-stack.js';

const root = new URL('../../', import.meta.url).pathname;
const artifacts = join(root, 'dist/test-artifacts/web-gui');
const CAPTURES = ['rtp-loss-1pct.pcap', 'dtmf-rfc2833.pcap', 'basic-callee-bye-pcmu.pcap', 'reject-486-busy.pcap', 'cancel-487.pcap'];
const truth = readTruth('rtp-loss-1pct.pcap');
const call = truth.calls[0]!;
const streams = truth.rtp_streams.filter((s) => s.call_id === call.call_id);

/** What the test reads of the page's <audio> element (e2e compiles without the DOM types). */
interface MediaElement {
  readyState: number;
  duration: number;
  currentTime: number;
  play(): Promise<void>;
  pause(): void;
}

let stack: GuiStack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await startGuiStack({ captures: CAPTURES.map((f) => corpusPath(f)), database: `cs_e2e_gui_${process.pid}` });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    // As root in CI: no sandbox; no background traffic (the machine has no way out).
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1920, height: 1080 }, acceptDownloads: true });
}, 120_000);

afterAll(async () => {
  await browser.close();
  await stack.stop();
});

describe('web GUI in Chromium', () => {
  test('log in, search by caller prefix, open the call: ladder, streams, audio and pcap agree with tshark', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The capture's day as a custom range: the link a colleague would share.
    await page.goto(`${stack.guiUrl}/calls?from=2026-11-29T00:00:00Z&to=2026-11-30T00:00:00Z`);
    await page.fill('input[name=username]', stack.login.user);
    await page.fill('input[name=password]', 'wrong-password');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[role=alert], .login-error, #login-error').count()).toBeGreaterThan(0);
    await page.fill('input[name=password]', stack.login.password);
    await page.keyboard.press('Enter');

    // Every call of the five captures is listed; then the caller prefix leaves one.
    const rows = page.locator('.ct-body [role=row]');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(CAPTURES.length);
    const caller = page.locator('label.fld:has(> span:text-is("Caller")) input');
    await caller.fill(call.from_user.slice(0, 3));
    await caller.press('Enter');
    await expect.poll(() => rows.count()).toBe(1);
    expect(page.url()).toContain(`caller=${call.from_user.slice(0, 3)}`);
    await expect.poll(() => rows.first().textContent()).toContain(call.to_user);
    await page.screenshot({ path: join(artifacts, 'list.png') });

    // Open it from the keyboard, as GUI.md's journeys ask.
    await page.keyboard.press('Escape');
    await rows.first().click();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/calls\/\d+\?start=/);
    const ladder = page.locator('svg.lad-svg');
    await expect.poll(() => ladder.getAttribute('aria-label'), { timeout: 10_000 }).toBe(`SIP ladder, ${call.sip_messages} messages`);
    expect(await page.locator('svg.lad-svg .lad-label').count()).toBe(call.sip_messages);

    // Streams table: tshark's packets and lost for each stream, found by SSRC.
    const table = page.locator('table.st tbody tr');
    await expect.poll(() => table.count()).toBe(streams.length);
    for (const s of streams) {
      const row = table.filter({ hasText: s.ssrc });
      const cells = await row.locator('td').allTextContents();
      expect(cells, s.ssrc).toContain(String(s.packets));
      expect(cells.some((c) => c.startsWith(String(s.lost))), `${s.ssrc} lost ${s.lost} in ${cells.join('|')}`).toBe(true);
    }

    // Audio: the element loads the WAV; its duration is the media's within a packet time or two.
    const audio = page.locator('audio');
    await expect.poll(() => audio.evaluate((a) => (a as unknown as MediaElement).readyState), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    const duration = await audio.evaluate((a) => (a as unknown as MediaElement).duration);
    const mediaStart = Math.min(...streams.map((s) => s.start_time));
    const mediaEnd = Math.max(...streams.map((s) => s.end_time));
    expect(Math.abs(duration - (mediaEnd - mediaStart))).toBeLessThan(0.05);
    await audio.evaluate((a) => (a as unknown as MediaElement).play());
    await expect.poll(() => audio.evaluate((a) => (a as unknown as MediaElement).currentTime), { timeout: 10_000 }).toBeGreaterThan(0);
    await audio.evaluate((a) => {
      (a as unknown as MediaElement).pause();
    });
    await page.screenshot({ path: join(artifacts, 'detail.png') });

    // pcap: what the browser saves opens in tshark with the call's SIP messages and RTP packets.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a[download]', { hasText: 'pcap' }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.pcap$/);
    const file = join(artifacts, download.suggestedFilename());
    await download.saveAs(file);
    const count = (filter: string): number =>
      execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
    expect(count('sip')).toBe(call.sip_messages);
    const rtpPackets = streams.reduce((n, s) => n + s.packets, 0);
    expect(count('udp && !sip && !rtcp')).toBe(rtpPackets);
    expect(errors).toEqual([]);
  }, 90_000);

  test('script- and SQL-looking SIP values are shown as text: no markup runs, the database is intact', async () => {
    // A copy of a stored call whose caller, display name and user agent are hostile, as a SIP
    // From header can make them (the sensor stores what it saw).
    const XSS = '<img src=x onerror="document.title=1">';
    const SQL = "'; DROP TABLE cdr; --";
    const conn = await createConnection(stack.dbUrl);
    try {
      const [cols] = await conn.query<({ COLUMN_NAME: string } & import('mysql2').RowDataPacket)[]>(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'cdr' AND EXTRA NOT LIKE '%GENERATED%' AND COLUMN_NAME <> 'id' ORDER BY ORDINAL_POSITION",
      );
      const names = cols.map((c) => c.COLUMN_NAME);
      const override: Record<string, string> = {
        call_id: "CONCAT(call_id, '-hostile')",
        call_id_hash: "UNHEX(LEFT(SHA2(CONCAT(call_id, '-hostile'), 256), 32))",
        caller: '?',
        caller_reverse: 'REVERSE(?)',
        caller_name: '?',
        caller_user_agent: '?',
      };
      await conn.query(
        `INSERT INTO cdr (${names.map((n) => `\`${n}\``).join(', ')}) SELECT ${names.map((n) => override[n] ?? `\`${n}\``).join(', ')} FROM cdr WHERE call_id = ?`,
        [XSS, XSS, SQL, SQL, call.call_id],
      );
    } finally {
      await conn.end();
    }
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${stack.guiUrl}/calls?from=2026-11-29T00:00:00Z&to=2026-11-30T00:00:00Z&caller=${encodeURIComponent('<img')}`);
    const rows = page.locator('.ct-body [role=row]');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);
    expect(await rows.first().textContent()).toContain(XSS);
    await rows.first().click();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/calls\/\d+\?start=/);
    await expect.poll(() => page.locator('main').textContent(), { timeout: 10_000 }).toContain(SQL);
    expect(await page.locator('main').textContent()).toContain(XSS);
    // The markup stayed text: no element from it, its handler never ran.
    expect(await page.locator('img[src=x]').count()).toBe(0);
    expect(await page.title()).not.toBe('1');
    expect(dialogs).toEqual([]);
    // And the table it "dropped" still answers.
    const check = await createConnection(stack.dbUrl);
    const [[count]] = await check.query<({ n: number } & import('mysql2').RowDataPacket)[]>('SELECT COUNT(*) AS n FROM cdr');
    await check.end();
    expect(count!.n).toBe(CAPTURES.length + 1);
  }, 60_000);
});
