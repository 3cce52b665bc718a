// The call list's key query on a real MariaDB (schema version 6): the address filter as a UNION of
// one index range per party, and the duration sort as a walk of idx_duration. Every page sequence
// is compared with an oracle computed in TypeScript from the seed records (never by the SQL under
// test), and the plans with EXPLAIN, so a change that falls back to reading the range's rows fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import type { CallRecord } from '@callscope/cdr-model';
import { CdrWriter } from './cdr-writer.js';
import { migrate } from './migrations.js';
import { parseIpRange } from './gui-ip-range.js';
import { buildGuiKeyQuery, buildTieKeys, searchCallPage } from './gui-search.js';
import type { GuiCallFilter, GuiCallRow, GuiKeyset, GuiSort, GuiSortKey } from './gui-search.js';
import { createTestDb, isoAt, makeBareCall, makeCall, removeTempDirs, tempDir } from '../test/helpers.js';
import type { TestDb } from '../test/helpers.js';

let db: TestDb;
const BASE_MS = Date.UTC(2026, 10, 20, 8, 0, 0);
/** Addresses drawn for each party; `a00:1::5` has the bytes 0a 00 00 01 first: an IPv4 range must not match it. */
const ADDRESSES = ['10.0.0.1', '10.0.0.2', '10.0.1.7', '10.0.2.9', '192.0.2.10', '2001:db8::1', '2001:db8::2', 'a00:1::5'];
const calls: CallRecord[] = [];

let seed = 7;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

beforeAll(async () => {
  db = await createTestDb();
  await migrate(db.pool);
  for (let i = 0; i < 400; i++) {
    // Starts over 3 hours; every 10th call shares its start with the previous one, durations repeat
    // (a few values for a third of the calls), so ties on duration and on (duration, start) exist.
    const startS = i % 10 === 9 ? Math.floor((i - 1) * 27) : Math.floor(i * 27);
    const duration = i % 3 === 0 ? pick([0, 12.5, 60]) : Math.round(rand() * 600_000_000) / 1e6;
    const base = i % 7 === 0 ? makeBareCall(i, BASE_MS) : makeCall(i, BASE_MS);
    const callerIp = pick(ADDRESSES);
    calls.push({
      ...base,
      start: isoAt(BASE_MS, startS, 123_456),
      duration,
      caller_ip: callerIp,
      // One call in five has the same address on both sides: found once, not twice.
      callee_ip: i % 5 === 0 ? callerIp : pick(ADDRESSES),
    });
  }
  // Same duration and same start: a tie group of the duration order that a page may cut through.
  for (const i of [0, 1, 2, 3, 4]) calls.push({ ...makeCall(1000 + i, BASE_MS), start: isoAt(BASE_MS, 5000, 42), duration: 77, caller_ip: '10.0.0.1' });
  const writer = await CdrWriter.open({ db: db.pool, queueDir: tempDir('gui-search'), flushIntervalMs: 20 });
  await Promise.all(calls.map((c) => writer.write(c)));
  await writer.close();
  await db.pool.query('ANALYZE TABLE cdr');
});
afterAll(async () => {
  await db.drop();
  removeTempDirs();
});

const FROM = isoAt(BASE_MS, -60);
const TO = isoAt(BASE_MS, 6 * 3600);

/** IPv4/IPv6 text to a bigint and family, for the oracle's CIDR test. */
function ipBits(text: string): { v6: boolean; n: bigint } {
  if (!text.includes(':')) return { v6: false, n: text.split('.').reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return { v6: true, n: groups.reduce((acc, g) => (acc << 16n) | BigInt(`0x${g}`), 0n) };
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/') as [string, string | undefined];
  const a = ipBits(ip);
  const b = ipBits(net);
  if (a.v6 !== b.v6) return false;
  const width = a.v6 ? 128n : 32n;
  const bits = BigInt(bitsText ?? String(width));
  const shift = width - bits;
  return a.n >> shift === b.n >> shift;
}

const valueOf = (c: CallRecord, key: GuiSortKey): number | string => {
  if (key === 'start') return c.start;
  if (key === 'duration') return c.duration;
  throw new TypeError(`the oracle does not sort by ${key}`);
};

/** Every page of `limit` rows of the search, following `next`. */
async function allPages(filter: GuiCallFilter, sort: GuiSort, limit: number): Promise<GuiCallRow[]> {
  const out: GuiCallRow[] = [];
  let after: GuiKeyset | null = null;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await searchCallPage(db.pool, { filter, sort, after, limit });
    out.push(...page.rows);
    if (page.next === null) return out;
    after = page.next;
  }
  throw new Error('more than 1000 pages');
}

/** The oracle: matching seed calls in (value, start, id) order; ids come from the rows. */
function expected(match: (c: CallRecord) => boolean, rows: readonly GuiCallRow[], sort: GuiSort): string[] {
  const idOf = new Map(rows.map((r) => [r.call_id, r.id]));
  const want = calls.filter(match);
  const keyed = want.map((c) => ({ c, v: valueOf(c, sort.key), id: idOf.get(c.call_id) ?? -1 }));
  keyed.sort((x, y) => {
    const o = x.v < y.v ? -1 : x.v > y.v ? 1 : x.c.start < y.c.start ? -1 : x.c.start > y.c.start ? 1 : x.id - y.id;
    return sort.desc ? -o : o;
  });
  return keyed.map((k) => k.c.call_id);
}

describe('address filter: one index range per party, merged', () => {
  const cases = ['10.0.0.1', '10.0.0.0/24', '10.0.0.0/8', '2001:db8::1', '2001:db8::/32', 'a00:1::5', '0.0.0.0/0', '198.51.100.1'];
  for (const text of cases) {
    for (const sort of [{ key: 'start', desc: true }, { key: 'start', desc: false }, { key: 'duration', desc: true }, { key: 'duration', desc: false }] as const) {
      it(`${text}, sort ${sort.desc ? '-' : ''}${sort.key}: pages of 7 give every match once, in order`, async () => {
        const range = parseIpRange(text)!;
        const match = (c: CallRecord): boolean => inCidr(c.caller_ip, text) || inCidr(c.callee_ip, text);
        const rows = await allPages({ from: FROM, to: TO, ip: range }, sort, 7);
        expect(rows.map((r) => r.call_id)).toEqual(expected(match, rows, sort));
        if (text !== '198.51.100.1') expect(rows.length, 'the seed exercises this filter').toBeGreaterThan(7);
      });
    }
  }

  for (const [key, desc] of [['caller', false], ['caller', true], ['called', false], ['mos_worst', false], ['mos_worst', true], ['last_sip_code', true]] as const) {
    it(`sort ${desc ? '-' : ''}${key}: the UNION gives the matches of the unfiltered order, in that order`, async () => {
      // The same search without the address filter (one statement, no UNION), filtered here.
      const text = '10.0.0.0/23';
      const sort: GuiSort = { key, desc };
      const every = await allPages({ from: FROM, to: TO }, sort, 50);
      const want = every.filter((r) => inCidr(r.caller_ip, text) || inCidr(r.callee_ip, text)).map((r) => r.call_id);
      const rows = await allPages({ from: FROM, to: TO, ip: parseIpRange(text)! }, sort, 4);
      expect(rows.map((r) => r.call_id)).toEqual(want);
      expect(want.length).toBeGreaterThan(20);
    });
  }

  it('a call whose two parties both match is listed once', async () => {
    const both = calls.filter((c) => c.caller_ip === '10.0.2.9' && c.callee_ip === '10.0.2.9');
    expect(both.length, 'the seed has such calls').toBeGreaterThan(0);
    const rows = await allPages({ from: FROM, to: TO, ip: parseIpRange('10.0.2.9')! }, { key: 'start', desc: true }, 5);
    expect(new Set(rows.map((r) => r.call_id)).size).toBe(rows.length);
    for (const c of both) expect(rows.filter((r) => r.call_id === c.call_id)).toHaveLength(1);
  });

  it('combines with the other filters inside each branch (a branch limit never drops a match)', async () => {
    const filter: GuiCallFilter = { from: FROM, to: TO, ip: parseIpRange('10.0.0.0/16')!, duration_min: 100 };
    const match = (c: CallRecord): boolean => c.duration >= 100 && (inCidr(c.caller_ip, '10.0.0.0/16') || inCidr(c.callee_ip, '10.0.0.0/16'));
    const sort: GuiSort = { key: 'start', desc: true };
    const rows = await allPages(filter, sort, 3);
    expect(rows.map((r) => r.call_id)).toEqual(expected(match, rows, sort));
    expect(rows.length).toBeGreaterThan(10);
  });

  it('EXPLAIN: an exact address reads the (caller_ip, start) and (callee_ip, start) indexes, not the range', async () => {
    const q = buildGuiKeyQuery({ from: FROM, to: TO, ip: parseIpRange('192.0.2.10')! }, { key: 'start', desc: true }, null, 201);
    const [plan] = await db.pool.query<RowDataPacket[]>(`EXPLAIN ${q.sql}`, q.args);
    const keys = plan.filter((r) => r.table === 'c').map((r) => String(r.key));
    expect(keys.sort()).toEqual(['idx_callee_ip', 'idx_caller_ip']);
  });
});

describe('duration sort: a walk of idx_duration', () => {
  for (const desc of [true, false]) {
    for (const limit of [1, 2, 4, 9]) {
      it(`${desc ? '-' : ''}duration, pages of ${limit} (through ties on duration and on (duration, start)) give every call once, in order`, async () => {
        const sort: GuiSort = { key: 'duration', desc };
        const rows = await allPages({ from: FROM, to: TO }, sort, limit);
        expect(rows.map((r) => r.call_id)).toEqual(expected(() => true, rows, sort));
      });
    }
  }

  it('EXPLAIN: the page is read in index order (no filesort of the range)', async () => {
    const q = buildGuiKeyQuery({ from: FROM, to: TO }, { key: 'duration', desc: true }, null, 11);
    const [plan] = await db.pool.query<RowDataPacket[]>(`EXPLAIN ${q.sql}`, q.args);
    expect(plan).toHaveLength(1);
    expect(plan[0]!.key).toBe('idx_duration');
    expect(String(plan[0]!.Extra)).not.toContain('filesort');
  });

  it('a duration tie needs its start', () => {
    expect(() => buildTieKeys({ from: FROM, to: TO }, { key: 'duration', desc: true }, 77, null)).toThrow(TypeError);
  });
});
