/**
 * Issue 19 in the web GUI, in real Chromium over the built bundles and the real carrier captures
 * (fixtures/carrier, truth from tshark/SIPp): the list names a codec change `PCMA→PCMU`; the
 * "Leg / correlation ID" field finds every leg of a B2BUA call by one identifier; the detail lists
 * the identifiers, the related legs (X-CID, icid, a configured correlation header) merged with the
 * sensor's own links, the fork branches with the truth's To-tags and final codes, and the ladder's
 * RTP bands name the codec change. Screenshots are kept in dist/test-artifacts/web-gui/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGuiStack, type GuiStack } from './support/gui-stack.js';

const root = new URL('../../', import.meta.url).pathname;
const artifacts = join(root, 'dist/test-artifacts/web-gui');
const carrier = (name: string): string => join(root, 'fixtures/carrier', name);
const CAPTURES = ['fork-one-answers.pcap', 'b2bua-x-cid.pcap', 'b2bua-icid.pcap', 'codec-change-reinvite.pcap'];
/** The captures' day (UTC): the search range of every list in this file. */
const RANGE = 'from=2026-12-04T00:00:00Z&to=2026-12-05T00:00:00Z';

/** The parts of a carrier truth file this test reads. */
interface CarrierTruth {
  calls: {
    call_id: string;
    x_cid: string | null;
    icid: string | null;
    headers: Record<string, string | null>;
    branches: { to_tag: string; responder_ip: string; responder_port: number; final_code: number | null; cancel_time: number | null }[];
  }[];
}
const truthOf = (pcap: string): CarrierTruth => JSON.parse(readFileSync(carrier(pcap.replace(/\.pcap$/, '.truth.json')), 'utf8')) as CarrierTruth;
const fork = truthOf('fork-one-answers.pcap').calls[0]!;
const [legA, legB] = truthOf('b2bua-x-cid.pcap').calls as [CarrierTruth['calls'][number], CarrierTruth['calls'][number]];
const [icidA, icidB] = truthOf('b2bua-icid.pcap').calls as [CarrierTruth['calls'][number], CarrierTruth['calls'][number]];

let stack: GuiStack;
let browser: Browser;
let page: Page;
let configDir: string;
const errors: string[] = [];

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  // The carrier header of b2bua-icid, configured as a sensor would (sniffer analyze reads the file
  // named by CALLSCOPE_SNIFFER_CONFIG; the stack's child processes inherit the environment).
  configDir = mkdtempSync(join(tmpdir(), 'gui-legs-'));
  writeFileSync(join(configDir, 'sniffer.json'), JSON.stringify({ calls: { correlationHeaders: ['X-Correlation-ID'] } }));
  const before = process.env.CALLSCOPE_SNIFFER_CONFIG;
  process.env.CALLSCOPE_SNIFFER_CONFIG = join(configDir, 'sniffer.json');
  try {
    stack = await startGuiStack({ captures: CAPTURES.map(carrier), database: `cs_e2e_legs_${process.pid}` });
  } finally {
    if (before === undefined) delete process.env.CALLSCOPE_SNIFFER_CONFIG;
    else process.env.CALLSCOPE_SNIFFER_CONFIG = before;
  }
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${stack.guiUrl}/calls?${RANGE}`);
  await page.fill('input[name=username]', stack.login.user);
  await page.fill('input[name=password]', stack.login.password);
  await page.keyboard.press('Enter');
}, 120_000);

afterAll(async () => {
  await browser.close();
  await stack.stop();
  rmSync(configDir, { recursive: true, force: true });
});

/** Opens the detail of the call with this Call-ID (its key from the search API, in the page's session). */
async function openCall(callId: string): Promise<void> {
  const res = await page.request.get(`${stack.guiUrl}/api/v1/calls?${RANGE}&call_id=${encodeURIComponent(callId)}`);
  const row = ((await res.json()) as { calls: { id: number; start: string }[] }).calls[0];
  expect(row, callId).toBeDefined();
  await page.goto(`${stack.guiUrl}/calls/${row!.id}?start=${encodeURIComponent(row!.start)}`);
  await expect.poll(() => page.locator('svg.lad-svg').count(), { timeout: 10_000 }).toBe(1);
}

describe('web GUI: linked legs, forks and codec changes (issue 19)', () => {
  test('list: a codec change reads PCMA→PCMU; the leg field finds both legs of the B2BUA by leg A\'s Call-ID', async () => {
    const rows = page.locator('.ct-body [role=row]');
    // 1 fork + 2 + 2 legs + 1 codec change.
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(6);
    await expect.poll(() => rows.filter({ hasText: 'PCMA→PCMU' }).count()).toBe(1);
    await page.screenshot({ path: join(artifacts, 'list-codec-change.png') });
    const leg = page.locator('label.fld:has(> span:text-is("Leg / correlation ID")) input');
    await leg.fill(legA.call_id);
    await leg.press('Enter');
    await expect.poll(() => rows.count()).toBe(2);
    expect(decodeURIComponent(page.url())).toContain(`leg=${legA.call_id}`);
  });

  test('fork: one row per branch with the truth\'s To-tags, addresses and finals; the answering branch chosen', async () => {
    await openCall(fork.call_id);
    const branchRows = page.locator('table.fb tbody tr');
    await expect.poll(() => branchRows.count()).toBe(fork.branches.length);
    for (const b of fork.branches) {
      const row = branchRows.filter({ hasText: b.to_tag });
      const text = (await row.textContent()) ?? '';
      expect(text).toContain(`${b.responder_ip}:${b.responder_port}`);
      expect(text).toContain(`${b.final_code} +`);
      expect(text.includes('chosen'), b.to_tag).toBe(b.final_code === 200);
      // A CANCELled branch shows its CANCEL time, the other a dash.
      expect(/\+\d+\.\d{3} s$/.test(text.trim()), b.to_tag).toBe(b.cancel_time !== null);
    }
    await page.screenshot({ path: join(artifacts, 'detail-fork-branches.png') });
  });

  test('B2BUA leg B: its X-CID and Session-ID, and leg A related by X-CID and linked by the sensor; one click opens leg A', async () => {
    expect(legB.x_cid).toBe(legA.call_id);
    await openCall(legB.call_id);
    const ids = page.locator('.cd-ids');
    await expect.poll(() => ids.textContent()).toContain(legA.call_id);
    expect(await ids.textContent()).toContain('Session-ID');
    const related = page.locator('table.rel tr');
    await expect.poll(() => related.count()).toBe(1);
    expect(await related.first().textContent()).toMatch(/X-CID link · sensor/);
    await page.screenshot({ path: join(artifacts, 'detail-linked-legs.png') });
    await related.first().locator('a').click();
    await page.waitForURL(/\/calls\/\d+\?start=/);
    await expect.poll(() => page.locator('.cd-callid').textContent()).toBe(legA.call_id);
    await expect.poll(() => page.locator('table.rel tr').first().textContent()).toMatch(/X-CID link · sensor/);
  });

  test('codec change: both RTP bands of the ladder read PCMA→PCMU and mark where PCMU starts', async () => {
    await openCall(truthOf('codec-change-reinvite.pcap').calls[0]!.call_id);
    const bands = page.locator('svg.lad-svg .lad-band > text');
    await expect.poll(() => bands.allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('PCMA→PCMU') as string]));
    expect((await bands.allTextContents()).filter((t) => t.includes('PCMA→PCMU'))).toHaveLength(2);
    expect(await page.locator('svg.lad-svg .lad-codec-change text').allTextContents()).toEqual(['PCMU', 'PCMU']);
    expect(await page.locator('table.st tbody td', { hasText: 'PCMA → PCMU' }).count()).toBe(2);
  });

  test('icid legs with a carrier header: related by icid (stronger than the header), and the header value finds both legs', async () => {
    expect(icidA.icid).not.toBeNull();
    const header = icidA.headers['X-Correlation-ID']!;
    expect(icidB.headers['X-Correlation-ID']).toBe(header);
    await openCall(icidA.call_id);
    await expect.poll(() => page.locator('table.rel tr').count()).toBe(1);
    expect(await page.locator('table.rel tr').first().textContent()).toContain('same icid');
    const link = page.locator('.cd-ids a', { hasText: header });
    await expect.poll(() => link.count()).toBe(1);
    await link.click();
    await page.waitForURL(/\/calls\?/);
    expect(decodeURIComponent(page.url())).toContain(`leg=${header}`);
    await expect.poll(() => page.locator('.ct-body [role=row]').count(), { timeout: 10_000 }).toBe(2);
    expect(errors).toEqual([]);
  });
});
