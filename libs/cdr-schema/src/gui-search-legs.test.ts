// Issue 19 in the GUI's search, on a real MariaDB (schema version 10): the `leg` filter (one
// identifier against Call-ID, X-CID, icid, Session-ID and correlation header values), the codec
// filter over every codec a main stream carried, and findRelatedCalls' relations. Every expected
// answer is computed here from the seed records (never by the SQL under test), and the plans are
// checked with EXPLAIN so a change that falls back to reading the range's rows fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from 'mysql2/promise';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { CallRecord } from '@callscope/cdr-model';
import { parseIsoMicros } from '@callscope/cdr-model';
import { CdrWriter } from './cdr-writer.js';
import { migrate } from './migrations.js';
import { parseIpRange } from './gui-ip-range.js';
import { buildGuiKeyQuery, buildRelatedQuery, findRelatedCalls, RELATED_LEG_WINDOW_S, RELATED_WINDOW_S, searchCallPage, sessionUuidOf } from './gui-search.js';
import type { GuiCallFilter, GuiCallRow, GuiKeyset, GuiRelation, GuiSort } from './gui-search.js';
import { isoAt, makeCall, makeStream, removeTempDirs, tempDir } from '../test/helpers.js';

const SERVER_URL = process.env.CALLSCOPE_DB_URL ?? 'mysql://root@127.0.0.1:3306/';
const DB_NAME = `h19gui_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const BASE_MS = Date.UTC(2026, 10, 21, 10, 0, 0);
/** The subject call of the hand-made relations starts one hour after BASE. */
const S = 3600;
const FROM = isoAt(BASE_MS, -60);
const TO = isoAt(BASE_MS, 4 * 3600);
const U1 = 'c0ffee00c0ffee00c0ffee00c0ffee01';
const U2 = '0123456789abcdef0123456789abcdef';

let pool: Pool;
const calls: CallRecord[] = [];
/** `cdr.id` by Call-ID, read back after the write. */
const idOf = new Map<string, number>();

/**
 * A call starting `offsetS` after BASE (every time of the record moves with it) with the given
 * identifiers; anything not given is absent (`null`, `{}`).
 */
function legCall(i: number, offsetS: number, ids: Partial<Pick<CallRecord, 'call_id' | 'x_cid' | 'session_id' | 'icid' | 'correlation' | 'caller' | 'called'>>): CallRecord {
  const base = makeCall(i, BASE_MS + offsetS * 1000);
  return {
    ...base,
    x_cid: null,
    session_id: null,
    icid: null,
    correlation: {},
    linked_legs: [],
    branches: [],
    ...ids,
  };
}

let seed = 19;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

const micros = (iso: string): number => {
  const t = parseIsoMicros(iso)!;
  return t.sec * 1_000_000 + t.usec;
};
const find = (callId: string): CallRecord => calls.find((c) => c.call_id === callId)!;

beforeAll(async () => {
  const admin = createPool({ uri: SERVER_URL, connectionLimit: 1 });
  await admin.query(`CREATE DATABASE \`${DB_NAME}\` CHARACTER SET utf8mb4`);
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${DB_NAME}`;
  pool = createPool({ uri: url.toString(), connectionLimit: 4, dateStrings: true });
  await migrate(pool);

  // Hand-made relations of the subject `s@a` (and of its legs, seen from them).
  calls.push(
    legCall(1, S, { call_id: 's@a', session_id: { local_uuid: U1, remote_uuid: U2 }, icid: 'icid-S', correlation: { 'X-Correlation-ID': 'corr-S', 'X-Other': 'shared-v' }, caller: '4411', called: '4422' }),
    // Its B2BUA leg: X-CID names the subject; also the same icid (x_cid is the stronger relation).
    legCall(2, S + 2, { call_id: 'l1@b', x_cid: 's@a', icid: 'icid-S' }),
    // A third leg carrying the same X-CID, half an hour later.
    legCall(3, S + 1800, { call_id: 'l3@b', x_cid: 's@a' }),
    // The same X-CID just outside the hour of the subject and of l1@b.
    legCall(4, S + RELATED_LEG_WINDOW_S + 5, { call_id: 'late@b', x_cid: 's@a' }),
    // Same Session-ID (and icid and header: session_id wins).
    legCall(5, S - 1200, { call_id: 'se@c', session_id: { local_uuid: U1, remote_uuid: null }, icid: 'icid-S', correlation: { 'X-Correlation-ID': 'corr-S' } }),
    // Same Session-ID, one second beyond the hour before.
    legCall(6, S - RELATED_LEG_WINDOW_S - 1, { call_id: 'se-early@c', session_id: { local_uuid: U1, remote_uuid: null } }),
    legCall(7, S + 300, { call_id: 'ic@d', icid: 'icid-S' }),
    legCall(8, S - 3000, { call_id: 'hd@e', correlation: { 'X-Correlation-ID': 'corr-S' } }),
    // The same value under another header name: no relation, but the leg search finds it.
    legCall(9, S + 60, { call_id: 'hn@e', correlation: { 'X-Another': 'corr-S' } }),
    legCall(10, S + 90, { call_id: 'ho@e', correlation: { 'X-Other': 'shared-v' } }),
    // Same numbers (swapped) within 10 s, and 15 s away.
    legCall(11, S + 8, { call_id: 'num@f', caller: '4422', called: '4411' }),
    legCall(12, S + 15, { call_id: 'num-late@f', caller: '4411', called: '4422' }),
    // Its X-CID differs from the subject's Call-ID in case only: no relation (Call-IDs are case-sensitive, RFC 3261 §20.8).
    legCall(13, S + 40, { call_id: 'near@g', x_cid: 'S@a' }),
  );
  // Filler: clusters of calls a few seconds apart, identifiers drawn from small pools, so every
  // relation and the same numbers occur between calls the test did not arrange.
  for (let i = 100; i < 190; i++) {
    const cluster = Math.floor((i - 100) / 6);
    const offset = 600 + cluster * 650 + (i % 6) * 3 + Math.floor(rand() * 3);
    const earlier = calls.length > 13 ? pick(calls.slice(13)).call_id : null;
    calls.push(
      legCall(i, offset, {
        call_id: `f${i}@filler`,
        x_cid: pick([null, null, 'fx-1@x', 'fx-2@x', earlier]),
        session_id: pick([null, null, { local_uuid: U2, remote_uuid: null }, { local_uuid: 'fedcba9876543210fedcba9876543210', remote_uuid: U1 }]),
        icid: pick([null, null, 'ic-1', 'ic-2']),
        correlation: pick<Record<string, string>>([{}, {}, { 'X-Correlation-ID': 'fc-1' }, { 'X-Correlation-ID': 'fc-2', 'X-Other': 'fo-1' }, { 'X-Other': 'fc-1' }]),
        caller: pick(['5501', '5502']),
        called: pick(['6601', '6602']),
      }),
    );
  }
  // Codecs: main streams with one codec, a change PCMA -> PCMU (odd stream index), or G722 alone.
  const codecCall = (i: number, offsetS: number, callee: 'change' | 'g722' | 'none'): CallRecord => {
    const c = legCall(i, offsetS, { call_id: `codec-${i}@h` });
    const start = BASE_MS + offsetS * 1000;
    const streams = [makeStream('caller', 2 * i, start, 2000)];
    if (callee === 'change') streams.push(makeStream('callee', 2 * i + 1, start, 2000));
    if (callee === 'g722') streams.push({ ...makeStream('callee', 2 * i, start, 2000), payload_type: 9, codec: 'G722', codecs: [{ payload_type: 9, codec: 'G722', from: isoAt(start, 1) }] });
    return { ...c, streams };
  };
  calls.push(codecCall(200, 7000, 'change'), codecCall(201, 7010, 'g722'), codecCall(202, 7020, 'none'), codecCall(203, 7030, 'g722'));

  const writer = await CdrWriter.open({ db: pool, queueDir: tempDir('gui-legs'), flushIntervalMs: 20 });
  await Promise.all(calls.map((c) => writer.write(c)));
  await writer.close();
  // A row as written before schema version 10: no codec list, its G722 only in b_codec.
  await pool.query("UPDATE cdr SET a_codecs = NULL, b_codecs = NULL WHERE call_id = 'codec-203@h'");
  await pool.query('ANALYZE TABLE cdr, cdr_correlation');
  const [rows] = await pool.query<RowDataPacket[]>('SELECT id, call_id FROM cdr');
  for (const r of rows) idOf.set(r.call_id as string, Number(r.id));
}, 60_000);

afterAll(async () => {
  await pool.end();
  const admin = createPool({ uri: SERVER_URL, connectionLimit: 1 });
  await admin.query(`DROP DATABASE IF EXISTS \`${DB_NAME}\``);
  await admin.end();
  removeTempDirs();
});

/** Every page of `limit` rows of the search, following `next`. */
async function allPages(filter: GuiCallFilter, sort: GuiSort, limit: number): Promise<GuiCallRow[]> {
  const out: GuiCallRow[] = [];
  let after: GuiKeyset | null = null;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await searchCallPage(pool, { filter, sort, after, limit });
    out.push(...page.rows);
    if (page.next === null) return out;
    after = page.next;
  }
  throw new Error('more than 1000 pages');
}

/** Call-IDs of the seed calls matching `match`, newest first (starts are unique in the seed). */
const newestFirst = (match: (c: CallRecord) => boolean): string[] =>
  calls
    .filter(match)
    .sort((a, b) => micros(b.start) - micros(a.start))
    .map((c) => c.call_id);

/** The oracle of the leg filter. */
function legMatches(c: CallRecord, text: string): boolean {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text) ? text.replaceAll('-', '').toLowerCase() : text.toLowerCase();
  return (
    c.call_id === text ||
    c.x_cid === text ||
    c.icid === text ||
    (/^[0-9a-f]{32}$/.test(uuid) && c.session_id?.local_uuid === uuid) ||
    Object.values(c.correlation).includes(text)
  );
}

describe('leg filter: one identifier against every leg identifier, one index branch each', () => {
  const dashed = `${U1.slice(0, 8)}-${U1.slice(8, 12)}-${U1.slice(12, 16)}-${U1.slice(16, 20)}-${U1.slice(20)}`.toUpperCase();
  const texts = ['s@a', 'icid-S', 'corr-S', 'shared-v', U1, dashed, U2, 'fx-1@x', 'fc-1', 'ic-2', 'f120@filler', 'nothing-has-this', 'S@A'];
  for (const text of texts) {
    for (const limit of [2, 50]) {
      it(`${text}, pages of ${limit}: every match once, newest first`, async () => {
        const rows = await allPages({ from: FROM, to: TO, leg: text }, { key: 'start', desc: true }, limit);
        expect(rows.map((r) => r.call_id)).toEqual(newestFirst((c) => legMatches(c, text)));
      });
    }
  }

  it('the seed exercises each identifier', () => {
    expect(newestFirst((c) => legMatches(c, 's@a'))).toEqual(['late@b', 'l3@b', 'l1@b', 's@a']);
    expect(newestFirst((c) => legMatches(c, dashed)).length).toBeGreaterThan(2);
    expect(newestFirst((c) => legMatches(c, 'corr-S'))).toEqual(['hn@e', 's@a', 'se@c', 'hd@e']);
    expect(newestFirst((c) => legMatches(c, 'fc-1')).length).toBeGreaterThan(5);
  });

  it('sorted by caller and by duration, combined with an address and a duration bound', async () => {
    for (const sort of [{ key: 'caller', desc: false }, { key: 'duration', desc: true }, { key: 'mos_worst', desc: false }] as const) {
      const every = await allPages({ from: FROM, to: TO }, sort, 100);
      const want = every.filter((r) => legMatches(find(r.call_id), 'fc-1')).map((r) => r.call_id);
      const rows = await allPages({ from: FROM, to: TO, leg: 'fc-1' }, sort, 3);
      expect(rows.map((r) => r.call_id), sort.key).toEqual(want);
    }
    // Every seed call has caller_ip 192.0.2.10 (makeCall): 192.0.2.0/24 keeps all, 10.0.0.0/8 none.
    expect((await allPages({ from: FROM, to: TO, leg: 'fc-1', ip: parseIpRange('192.0.2.0/24')! }, { key: 'start', desc: true }, 4)).map((r) => r.call_id)).toEqual(
      newestFirst((c) => legMatches(c, 'fc-1')),
    );
    expect(await allPages({ from: FROM, to: TO, leg: 'fc-1', ip: parseIpRange('10.0.0.0/8')! }, { key: 'start', desc: true }, 4)).toEqual([]);
    const firstHalf = { from: FROM, to: isoAt(BASE_MS, S) };
    expect((await allPages({ ...firstHalf, leg: 'corr-S' }, { key: 'start', desc: true }, 1)).map((r) => r.call_id)).toEqual(['se@c', 'hd@e']);
  });

  it('a call carrying the value in two headers is listed once', async () => {
    const rows = await allPages({ from: FROM, to: TO, leg: 'fc-1' }, { key: 'start', desc: true }, 1);
    expect(new Set(rows.map((r) => r.call_id)).size).toBe(rows.length);
  });

  it('reads a UUID with dashes or in capitals as the stored Session-ID, and nothing else as one', () => {
    expect(sessionUuidOf(dashed)).toBe(U1);
    expect(sessionUuidOf(` ${U1.toUpperCase()} `)).toBe(U1);
    expect(sessionUuidOf(`${U1}0`)).toBeNull();
    expect(sessionUuidOf('c0ffee00-c0ffee00c0ffee00c0ffee01')).toBeNull();
    expect(sessionUuidOf('s@a')).toBeNull();
  });

  it('EXPLAIN: each identifier is an index lookup (Call-ID hash, X-CID, icid, Session-ID, correlation value), never the start range', async () => {
    const q = buildGuiKeyQuery({ from: FROM, to: TO, leg: U1 }, { key: 'start', desc: true }, null, 201);
    const [plan] = await pool.query<RowDataPacket[]>(`EXPLAIN ${q.sql}`, q.args);
    const used = plan.filter((r) => r.table === 'c' || r.table === 'k').map((r) => `${String(r.table)}:${String(r.key)}`);
    expect(used.sort()).toEqual(['c:PRIMARY', 'c:idx_icid', 'c:idx_session_uuid', 'c:idx_x_cid', 'c:uk_call_hash', 'k:idx_value']);
    for (const r of plan.filter((x) => x.table === 'c' || x.table === 'k')) expect(String(r.type), String(r.key)).not.toBe('ALL');
  });
});

describe('codec filter: any codec a main stream carried', () => {
  it('lists the codecs of each main stream', async () => {
    const rows = await allPages({ from: FROM, to: TO, call_id: 'codec-200@h' }, { key: 'start', desc: true }, 10);
    expect(rows.map((r) => [r.a_codec, r.a_codecs, r.b_codec, r.b_codecs])).toEqual([['PCMA', 'PCMA', 'PCMA', 'PCMA,PCMU']]);
    const none = await allPages({ from: FROM, to: TO, call_id: 'codec-202@h' }, { key: 'start', desc: true }, 10);
    expect(none.map((r) => [r.b_codec, r.b_codecs])).toEqual([[null, null]]);
  });

  const codecsOf = (c: CallRecord, side: 'caller' | 'callee'): string[] => {
    const s = c.streams.filter((x) => x.side === side).sort((a, b) => b.packets - a.packets)[0];
    return s === undefined ? [] : [s.codec ?? '', ...s.codecs.map((x) => x.codec ?? '')];
  };
  for (const codec of ['PCMU', 'pcmu', 'PCMA', 'G722', 'G729']) {
    it(`${codec}: the calls whose main streams used it at any time (a_codec, b_codec or the lists)`, async () => {
      const rows = await allPages({ from: FROM, to: TO, codec }, { key: 'start', desc: true }, 7);
      const want = newestFirst((c) => [...codecsOf(c, 'caller'), ...codecsOf(c, 'callee')].some((x) => x.toLowerCase() === codec.toLowerCase()));
      expect(rows.map((r) => r.call_id)).toEqual(want);
    });
  }

  it('finds a call stored before the codec lists by its b_codec, and a change to PCMU by its list only', async () => {
    expect((await allPages({ from: FROM, to: TO, codec: 'G722' }, { key: 'start', desc: true }, 7)).map((r) => r.call_id)).toEqual(['codec-203@h', 'codec-201@h']);
    const pcmu = await allPages({ from: FROM, to: TO, codec: 'PCMU' }, { key: 'start', desc: true }, 7);
    expect(pcmu.length).toBeGreaterThan(0);
    for (const r of pcmu) expect([r.a_codec, r.b_codec]).not.toContain('PCMU');
  });
});

/** The oracle of findRelatedCalls: the strongest relation of `c` to `me`, or null. */
function relationOf(me: CallRecord, c: CallRecord): { relation: GuiRelation; header: string | null } | null {
  if (c === me) return null;
  const dt = Math.abs(micros(c.start) - micros(me.start));
  if (dt <= RELATED_LEG_WINDOW_S * 1_000_000) {
    if ((me.x_cid !== null && (c.call_id === me.x_cid || c.x_cid === me.x_cid)) || c.x_cid === me.call_id) return { relation: 'x_cid', header: null };
    if (me.session_id !== null && c.session_id?.local_uuid === me.session_id.local_uuid) return { relation: 'session_id', header: null };
    if (me.icid !== null && c.icid === me.icid) return { relation: 'icid', header: null };
    const header = Object.entries(me.correlation).find(([name, value]) => c.correlation[name] === value);
    if (header !== undefined) return { relation: 'header', header: header[0] };
  }
  const numbers = (c.caller === me.caller && c.called === me.called) || (c.caller === me.called && c.called === me.caller);
  if (numbers && dt <= RELATED_WINDOW_S * 1_000_000) return { relation: 'same_numbers', header: null };
  return null;
}

describe('related legs: each identifier within the hour, strongest relation once', () => {
  const related = async (callId: string): Promise<string[]> => {
    const c = find(callId);
    const rows = await findRelatedCalls(pool, idOf.get(callId)!, c.start);
    if (rows === null) throw new Error(`${callId} not found`);
    return rows.map((r) => `${r.call_id} ${r.relation}${r.relation_header === null ? '' : ` ${r.relation_header}`}`);
  };
  const expectedFor = (callId: string): string[] => {
    const me = find(callId);
    return calls
      .map((c) => ({ c, r: relationOf(me, c) }))
      .filter((x) => x.r !== null)
      .sort((a, b) => micros(a.c.start) - micros(b.c.start))
      .map(({ c, r }) => `${c.call_id} ${r!.relation}${r!.header === null ? '' : ` ${r!.header}`}`);
  };

  it('the subject: its X-CID legs, Session-ID, icid, header and number relations, oldest first', async () => {
    expect(await related('s@a')).toEqual([
      'hd@e header X-Correlation-ID',
      'se@c session_id',
      'l1@b x_cid',
      'num@f same_numbers',
      'ho@e header X-Other',
      'ic@d icid',
      'l3@b x_cid',
    ]);
    expect(await related('s@a')).toEqual(expectedFor('s@a'));
  });

  it('seen from a leg: the call its X-CID names, and the legs sharing that X-CID within the hour', async () => {
    const l1 = await related('l1@b');
    expect(l1).toContain('s@a x_cid');
    expect(l1).toContain('l3@b x_cid');
    expect(l1.some((r) => r.startsWith('late@b'))).toBe(false);
    expect(l1).toEqual(expectedFor('l1@b'));
    expect(await related('late@b')).toEqual(expectedFor('late@b'));
  });

  it('agrees with the oracle for every seed call', async () => {
    let relations = 0;
    for (const c of calls) {
      const want = expectedFor(c.call_id);
      relations += want.length;
      expect(await related(c.call_id), c.call_id).toEqual(want);
    }
    expect(relations, 'the filler relates calls in every way').toBeGreaterThan(100);
    const kinds = new Set(calls.flatMap((c) => expectedFor(c.call_id).map((r) => r.split(' ')[1])));
    expect([...kinds].sort()).toEqual(['header', 'icid', 'same_numbers', 'session_id', 'x_cid']);
  });

  it('EXPLAIN: every relation is an index lookup within the window, never a scan', async () => {
    const s = find('s@a');
    const q = buildRelatedQuery({
      id: idOf.get('s@a')!, start: s.start, call_id: s.call_id, caller: s.caller, called: s.called, x_cid: 'l9@b', session_uuid: U1, icid: 'icid-S',
      headers: [{ name: 'X-Correlation-ID', value: 'corr-S' }, { name: 'X-Other', value: 'shared-v' }],
    });
    const [plan] = await pool.query<RowDataPacket[]>(`EXPLAIN ${q.sql}`, q.args);
    const rows = plan.filter((r) => r.table === 'c' || r.table === 'k');
    const keys = rows.map((r) => `${String(r.table)}:${String(r.key)}`).sort();
    // Call-ID hash, X-CID twice (my Call-ID, my X-CID), Session-ID, icid, two headers (each value index + the call's primary key), numbers.
    expect(keys.filter((k) => k !== 'c:PRIMARY' && !k.startsWith('c:idx_caller') && !k.startsWith('c:idx_called') && k !== 'c:idx_start_quality')).toEqual([
      'c:idx_icid', 'c:idx_session_uuid', 'c:idx_x_cid', 'c:idx_x_cid', 'c:uk_call_hash', 'k:idx_value', 'k:idx_value',
    ]);
    for (const r of rows) expect(String(r.type), `${String(r.table)}:${String(r.key)}`).not.toBe('ALL');
  });

  it('a call that does not exist: null', async () => {
    expect(await findRelatedCalls(pool, 999_999, isoAt(BASE_MS, 0))).toBeNull();
  });
});
