// The call search API on a real MariaDB: a seeded database written through the real CdrWriter,
// the routes plugin on a bare Fastify instance (inject()), and every expected answer computed here
// from the seed records in plain TypeScript (never by the SQL under test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastify } from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
import { createPool } from 'mysql2/promise';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { formatIsoMicros } from '@callscope/cdr-model';
import type { CallRecord, EndReason, StreamRecord } from '@callscope/cdr-model';
import { CdrWriter, migrate, openPool } from '@callscope/cdr-schema';
import { httpErrorCode } from '@callscope/runtime';
import { API_ERRORS, sendApiError } from '../api-errors.js';
import type { CallDetailBody, CallListRow, CallSearchPage, RelatedCallsBody } from '../api-types.js';
import { callRoutes } from './call-routes.js';
import { EXPORT_COLUMNS } from './call-export.js';

const SERVER_URL = process.env.CALLSCOPE_DB_URL ?? 'mysql://root@127.0.0.1:3306/';
const DB_NAME = `cs_b_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
/** Seed calls start in the three hours after BASE; "now" for the routes is the end of that. */
const BASE_MS = Date.UTC(2026, 10, 25, 9, 0, 0);
const NOW_MS = BASE_MS + 3 * 3600_000;
const iso = (ms: number, micros = 0): string => formatIsoMicros(Math.floor(ms / 1000), (ms % 1000) * 1000 + micros);
const isoQ = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

let seed = 20261204;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

/** Values that must come back as the text they are, never as SQL or markup. */
const HOSTILE = [
  "' OR 1=1 --",
  '"; DROP TABLE cdr; --',
  '<script>alert(1)</script>',
  '=HYPERLINK("http://x","y")',
  '100%_\\done',
  '@SUM(1,2)',
  'a,"b"\r\nc',
];

function stream(side: 'caller' | 'callee', packets: number, q: { mos: number | null; loss: number; jitter: number; codec: string | null }, at: number): StreamRecord {
  return {
    ssrc: `0x${Math.floor(rand() * 0xffffffff).toString(16).padStart(8, '0')}`,
    side,
    src_ip: '10.9.0.1',
    src_port: 4000,
    dst_ip: '10.9.0.2',
    dst_port: 4002,
    payload_type: 8,
    codec: q.codec,
    codecs: q.codec === null ? [] : [{ payload_type: 8, codec: q.codec, from: iso(at + 1000) }],
    packets,
    lost: Math.round((packets * q.loss) / 100),
    lost_pct: q.loss,
    seq_errors: 0,
    duplicated: 0,
    reordered: 0,
    first: iso(at + 1000),
    last: iso(at + 9000),
    jitter_max_ms: q.jitter,
    jitter_mean_ms: q.jitter / 2,
    delta_max_ms: 40,
    loss_bursts: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    mos_f1: q.mos === null ? null : q.mos + 0.05,
    mos_f2: q.mos === null ? null : q.mos + 0.02,
    mos_adapt: q.mos,
    mos_min: q.mos,
    rtcp: null,
  };
}

const CALLERS = ['442071234567', '442079998888', '441612345678', '12125551234', '4930123456', '1415 555', 'alice', 'Bob.Smith'];
const IPS = ['10.0.0.1', '10.0.1.77', '10.1.2.3', '192.0.2.44', '2001:db8::1', '2001:db8:0:1::99', '2001:db9::5'];
const CODES: readonly (number | null)[] = [200, 200, 200, 486, 487, 404, 503, 603, 183, null];

/** A varied call `i` starting at `startMs` (+ `micros`). */
function makeCall(i: number, startMs: number, micros = 0): CallRecord {
  const code = pick(CODES);
  const answered = code === 200;
  const duration = answered ? Math.round(rand() * 600_000) / 1000 : Math.round(rand() * 20_000) / 1000;
  const endReason: EndReason = code === null ? 'capture_end' : answered ? pick(['bye_confirmed', 'rtp_timeout'] as const) : code === 487 ? 'cancelled' : 'rejected';
  const q = (): { mos: number | null; loss: number; jitter: number; codec: string | null } => ({
    mos: rand() < 0.1 ? null : Math.round((1 + rand() * 3.5) * 100) / 100,
    loss: Math.round(rand() * 2000) / 100,
    jitter: Math.round(rand() * 8000) / 100,
    codec: pick(['PCMA', 'PCMU', 'G729', null]),
  });
  const streams: StreamRecord[] = [];
  if (answered) {
    // Two caller-side streams: the main one is the one with more packets.
    streams.push(stream('caller', 300, q(), startMs), stream('caller', 900 + i, q(), startMs), stream('callee', 800, q(), startMs));
    if (rand() < 0.2) streams.pop(); // one-way call: no callee stream
  }
  const hostile = i % 17 === 0;
  return {
    type: 'call',
    sensor: i % 3 === 0 ? 'sensor-b' : 'sensor-a',
    call_id: `c${i}-${Math.floor(rand() * 1e9).toString(36)}@pbx.example.com`,
    caller: hostile ? HOSTILE[i % HOSTILE.length]! : `${pick(CALLERS)}${i % 10}`,
    called: hostile ? HOSTILE[(i + 1) % HOSTILE.length]! : `${pick(['4420', '3314', '1212'])}${String(i).padStart(5, '0')}`,
    caller_domain: 'pbx.example.com',
    called_domain: 'carrier.example.net',
    caller_name: hostile ? HOSTILE[(i + 2) % HOSTILE.length]! : null,
    caller_ip: pick(IPS),
    caller_port: 5060,
    callee_ip: pick(IPS),
    callee_port: 5060,
    transport: 'udp',
    start: iso(startMs, micros),
    answer: answered ? iso(startMs + 2000, micros) : null,
    end: iso(startMs + Math.round(duration * 1000), micros),
    duration,
    connect_duration: answered ? Math.round((duration - 2) * 1000) / 1000 : null,
    pdd_ms: answered ? 1500 : null,
    last_sip_code: code,
    last_sip_reason: code === null ? null : 'Reason',
    bye_by: answered ? 'caller' : null,
    end_reason: endReason,
    sip_packets: 7,
    vlan: null,
    caller_user_agent: hostile ? HOSTILE[(i + 3) % HOSTILE.length]! : 'Linphone/5.2',
    callee_user_agent: null,
    dtmf: [],
    sip_responses: [],
    streams,
    x_cid: null,
    session_id: null,
    icid: null,
    correlation: {},
    linked_legs: [],
    branches: [],
    dropped: null,
  };
}

// ---- the independent oracle: what each CallListRow field is, from the record ----

/** Main stream of a side: the one with the most packets (first one on a tie). */
function mainOf(c: CallRecord, side: 'caller' | 'callee'): StreamRecord | null {
  let best: StreamRecord | null = null;
  for (const s of c.streams) if (s.side === side && (best === null || s.packets > best.packets)) best = s;
  return best;
}
/** `a_codecs`/`b_codecs` of a main stream: its codecs in order, comma-separated, else its codec. */
const codecsOf = (s: StreamRecord | null): string | null =>
  s === null ? null : s.codecs.length > 0 ? s.codecs.map((c) => c.codec ?? `PT${c.payload_type}`).join(',') : s.codec;
const mosOf = (s: StreamRecord | null): number | null => (s === null ? null : (s.mos_adapt ?? s.mos_f2 ?? s.mos_f1));
function mosWorst(c: CallRecord): number | null {
  const v = [mosOf(mainOf(c, 'caller')), mosOf(mainOf(c, 'callee'))].filter((x): x is number => x !== null);
  return v.length === 0 ? null : Math.min(...v);
}

function ipBits(text: string): { v6: boolean; n: bigint } {
  if (text.includes(':')) {
    const [head, tail] = text.split('::') as [string, string | undefined];
    const h = head === '' ? [] : head.split(':');
    const t = tail === undefined || tail === '' ? [] : tail.split(':');
    const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    return { v6: true, n: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
  }
  return { v6: false, n: text.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
}
function inCidr(ip: string, cidr: string): boolean {
  const [net, len] = cidr.split('/') as [string, string | undefined];
  const a = ipBits(ip);
  const b = ipBits(net);
  if (a.v6 !== b.v6) return false;
  const bits = a.v6 ? 128n : 32n;
  const keep = len === undefined ? bits : BigInt(len);
  return a.n >> (bits - keep) === b.n >> (bits - keep);
}

// ---- fixtures ----

let pool: Pool;
let app: FastifyInstance;
let queueDir: string;
const calls: CallRecord[] = [];
/** Calls sharing one start microsecond, so a page boundary falls inside a tie. */
const TIE_MS = BASE_MS + 2 * 3600_000 + 1234;
/** RFC 7989 Session-ID of two issue-19 legs. */
const LEG_UUID = '8d1b2c3a4e5f60718293a4b5c6d7e8f9';

async function writeCalls(list: readonly CallRecord[]): Promise<void> {
  const writer = await CdrWriter.open({ db: pool, queueDir: mkdtempSync(join(queueDir, 'q-')), batchSize: 100, flushIntervalMs: 5 });
  await Promise.all(list.map((c) => writer.write(c)));
  await writer.close();
}

beforeAll(async () => {
  const admin = createPool({ uri: SERVER_URL, connectionLimit: 1 });
  await admin.query(`CREATE DATABASE \`${DB_NAME}\` CHARACTER SET utf8mb4`);
  await admin.end();
  pool = openPool(`${SERVER_URL.replace(/\/?$/, '/')}${DB_NAME}`, { connectionLimit: 4 }).pool;
  await migrate(pool);
  queueDir = mkdtempSync(join(tmpdir(), 'web-gui-calls-'));
  for (let i = 0; i < 300; i++) calls.push(makeCall(i, BASE_MS + Math.floor(rand() * 3 * 3600_000), Math.floor(rand() * 1000)));
  for (let i = 300; i < 325; i++) calls.push(makeCall(i, TIE_MS, 5));
  // Related legs of call 400: same numbers (one swapped) within 10 s, and decoys just outside.
  const leg = makeCall(400, BASE_MS + 1800_000);
  calls.push(
    { ...leg, caller: '4477001', called: '4488002' },
    { ...makeCall(401, BASE_MS + 1800_000 + 9_000), caller: '4477001', called: '4488002' },
    { ...makeCall(402, BASE_MS + 1800_000 - 10_000), caller: '4488002', called: '4477001' },
    { ...makeCall(403, BASE_MS + 1800_000 + 10_001), caller: '4477001', called: '4488002' },
    { ...makeCall(404, BASE_MS + 1800_000 + 3_000), caller: '4477001', called: '4488003' },
  );
  // Issue 19: two legs of a B2BUA (X-CID, the same numbers, a fork and a codec change on the
  // first), a leg with the same Session-ID, one with the same carrier header, and a decoy with
  // the header's value under another name.
  const b2bA = makeCall(600, BASE_MS + 2400_000);
  const b2bB = makeCall(601, BASE_MS + 2401_500);
  const change = (s: StreamRecord): StreamRecord =>
    s.codec === null ? s : { ...s, codec: 'PCMA', codecs: [{ payload_type: 8, codec: 'PCMA', from: s.first }, { payload_type: 0, codec: 'PCMU', from: s.last }] };
  calls.push(
    { ...b2bA, call_id: 'b2b-a@pbx.example.com', caller: '4499001', called: '4499002', session_id: { local_uuid: LEG_UUID, remote_uuid: null },
      correlation: { 'X-Carrier-Ref': 'ref-9' }, streams: b2bA.streams.map(change) },
    { ...b2bB, call_id: 'b2b-b@sbc.example.com', caller: '4499001', called: '4499002', x_cid: 'b2b-a@pbx.example.com',
      linked_legs: [{ call_id: 'b2b-a@pbx.example.com', start: b2bA.start, by: 'x_cid', header: null }],
      branches: [
        { to_tag: 'br-1', ip: '10.9.0.7', port: 5060, invite: b2bB.start, provisional: [{ code: 180, time: iso(BASE_MS + 2401_900) }], final_code: 200, final: iso(BASE_MS + 2403_000), cancel: null, chosen: true },
        { to_tag: 'br-2', ip: '10.9.0.8', port: 5060, invite: b2bB.start, provisional: [], final_code: 487, final: iso(BASE_MS + 2403_100), cancel: iso(BASE_MS + 2403_050), chosen: false },
      ] },
    { ...makeCall(602, BASE_MS + 2400_000 + 1200_000), call_id: 'hdr@carrier.example.net', correlation: { 'X-Carrier-Ref': 'ref-9' } },
    { ...makeCall(603, BASE_MS + 2400_000 + 30_000), call_id: 'sess@pbx2.example.com', session_id: { local_uuid: LEG_UUID, remote_uuid: 'ffeeddccbbaa99887766554433221100' } },
    { ...makeCall(604, BASE_MS + 2400_000 + 60_000), call_id: 'other-hdr@carrier.example.net', correlation: { 'X-Other-Ref': 'ref-9' } },
  );
  // Outside every default range: the day before.
  for (let i = 500; i < 510; i++) calls.push(makeCall(i, BASE_MS - 86_400_000 + i * 1000));
  await writeCalls(calls);
  app = fastify();
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const { code, detail } = httpErrorCode(API_ERRORS, error);
    return sendApiError(reply, code, detail);
  });
  await app.register(callRoutes, { prefix: '/api/v1', db: pool, nowUs: () => NOW_MS * 1000, artifactsFor: (id, name) => name === 'sensor-b' && id > 0 });
  await app.ready();
}, 120_000);

afterAll(async () => {
  await app.close();
  await pool.end();
  const admin = createPool({ uri: SERVER_URL, connectionLimit: 1 });
  await admin.query(`DROP DATABASE IF EXISTS \`${DB_NAME}\``);
  await admin.end();
  rmSync(queueDir, { recursive: true, force: true });
});

const query = (q: Record<string, string>): string => new URLSearchParams(q).toString();

async function getPage(q: Record<string, string>): Promise<CallSearchPage> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/calls?${query(q)}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<CallSearchPage>();
}

/** Every row of a search, page by page; fails on a repeated row. */
async function allRows(q: Record<string, string>, between?: (page: number) => Promise<void>): Promise<CallListRow[]> {
  const out: CallListRow[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 1000; n++) {
    const page: CallSearchPage = await getPage(cursor === null ? q : { ...q, cursor });
    out.push(...page.calls);
    if (page.next === null) break;
    cursor = page.next;
    if (between !== undefined) await between(n);
  }
  const keys = out.map((r) => `${r.id}/${r.start}`);
  expect(new Set(keys).size, 'no row repeated').toBe(keys.length);
  return out;
}

const ids = (rows: readonly { call_id: string }[]): string[] => rows.map((r) => r.call_id).sort();
const inRange = (c: CallRecord, fromMs: number, toMs: number): boolean => c.start >= iso(fromMs) && c.start < iso(toMs);
const ALL = { from: isoQ(BASE_MS - 2 * 86_400_000), to: isoQ(NOW_MS + 60_000) };

describe('GET /api/v1/calls filters (expected ids computed from the seed records)', () => {
  const lc = (s: string): string => s.toLowerCase();
  const cases: [string, Record<string, string>, (c: CallRecord) => boolean][] = [
    ['default: the last hour before now', {}, (c) => inRange(c, NOW_MS - 3600_000, NOW_MS)],
    ['explicit range', { from: isoQ(BASE_MS + 600_000), to: isoQ(BASE_MS + 4200_000) }, (c) => inRange(c, BASE_MS + 600_000, BASE_MS + 4200_000)],
    ['caller prefix', { ...ALL, caller: '4420' }, (c) => c.caller.startsWith('4420')],
    ['caller prefix, case-insensitive', { ...ALL, caller: 'BOB' }, (c) => lc(c.caller).startsWith('bob')],
    ['caller suffix', { ...ALL, caller: '5673', caller_match: 'suffix' }, (c) => c.caller.endsWith('5673')],
    ['caller contains', { ...ALL, caller: '555', caller_match: 'contains' }, (c) => c.caller.includes('555')],
    ['caller contains LIKE metacharacters literally', { ...ALL, caller: '%_\\', caller_match: 'contains' }, (c) => c.caller.includes('%_\\')],
    ['caller SQL-looking text', { ...ALL, caller: "' OR 1=1 --" }, (c) => c.caller.startsWith("' OR 1=1 --")],
    ['called prefix', { ...ALL, called: '3314' }, (c) => c.called.startsWith('3314')],
    ['called suffix', { ...ALL, called: '07', called_match: 'suffix' }, (c) => c.called.endsWith('07')],
    ['called contains', { ...ALL, called: '001', called_match: 'contains' }, (c) => c.called.includes('001')],
    ['ip exact v4', { ...ALL, ip: '10.0.1.77' }, (c) => c.caller_ip === '10.0.1.77' || c.callee_ip === '10.0.1.77'],
    ['ip CIDR v4 /16', { ...ALL, ip: '10.0.0.0/16' }, (c) => inCidr(c.caller_ip, '10.0.0.0/16') || inCidr(c.callee_ip, '10.0.0.0/16')],
    ['ip CIDR v4 /0 (every IPv4, no IPv6)', { ...ALL, ip: '0.0.0.0/0' }, (c) => !c.caller_ip.includes(':') || !c.callee_ip.includes(':')],
    ['ip exact v6', { ...ALL, ip: '2001:db8::1' }, (c) => c.caller_ip === '2001:db8::1' || c.callee_ip === '2001:db8::1'],
    ['ip CIDR v6 /32', { ...ALL, ip: '2001:db8::/32' }, (c) => inCidr(c.caller_ip, '2001:db8::/32') || inCidr(c.callee_ip, '2001:db8::/32')],
    ['call_id', { ...ALL, call_id: 'CALL_ID_OF_7' }, (c) => c.call_id === calls[7]!.call_id],
    ['code exact', { ...ALL, code: '486' }, (c) => c.last_sip_code === 486],
    ['code class 4xx', { ...ALL, code: '4xx' }, (c) => c.last_sip_code !== null && c.last_sip_code >= 400 && c.last_sip_code <= 499],
    ['code class 6XX', { ...ALL, code: '6XX' }, (c) => c.last_sip_code !== null && c.last_sip_code >= 600 && c.last_sip_code <= 699],
    ['duration bounds (included)', { ...ALL, duration_min: '10', duration_max: '120.5' }, (c) => c.duration >= 10 && c.duration <= 120.5],
    ['mos_below', { ...ALL, mos_below: '3.1' }, (c) => (mosWorst(c) ?? Infinity) < 3.1],
    ['loss_above (either main stream)', { ...ALL, loss_above: '15' }, (c) => [mainOf(c, 'caller'), mainOf(c, 'callee')].some((s) => s !== null && s.lost_pct >= 15)],
    ['jitter_above (either main stream)', { ...ALL, jitter_above: '60' }, (c) => [mainOf(c, 'caller'), mainOf(c, 'callee')].some((s) => s !== null && s.jitter_max_ms >= 60)],
    ['codec (either main stream, any case)', { ...ALL, codec: 'g729' }, (c) => [mainOf(c, 'caller'), mainOf(c, 'callee')].some((s) => s?.codec === 'G729')],
    ['codec changed to (any codec a main stream carried)', { ...ALL, codec: 'pcmu' },
      (c) => [mainOf(c, 'caller'), mainOf(c, 'callee')].some((s) => s !== null && (s.codec === 'PCMU' || s.codecs.some((x) => x.codec === 'PCMU')))],
    ['leg: a Call-ID finds the call and the legs whose X-CID names it', { ...ALL, leg: 'b2b-a@pbx.example.com' }, (c) => c.call_id.startsWith('b2b-')],
    ['leg: a Session-ID with dashes, in capitals', { ...ALL, leg: '8D1B2C3A-4E5F-6071-8293-A4B5C6D7E8F9' }, (c) => c.session_id?.local_uuid === LEG_UUID],
    ['leg: a correlation header value, whatever the header', { ...ALL, leg: 'ref-9' }, (c) => Object.values(c.correlation).includes('ref-9')],
    ['end_reason', { ...ALL, end_reason: 'cancelled' }, (c) => c.end_reason === 'cancelled'],
    ['combined: 4xx on 10/8 in two hours', { from: isoQ(BASE_MS), to: isoQ(BASE_MS + 7200_000), code: '4xx', ip: '10.0.0.0/8' },
      (c) => inRange(c, BASE_MS, BASE_MS + 7200_000) && c.last_sip_code !== null && c.last_sip_code >= 400 && c.last_sip_code < 500 && (inCidr(c.caller_ip, '10.0.0.0/8') || inCidr(c.callee_ip, '10.0.0.0/8'))],
  ];
  it.each(cases)('%s', async (_name, q, expected) => {
    const want = calls.filter((c) => {
      const from = q.from === undefined ? NOW_MS - 3600_000 : Date.parse(q.from);
      const to = q.to === undefined ? NOW_MS : Date.parse(q.to);
      return inRange(c, from, to) && expected(c);
    });
    // The seed's Call-IDs are random: the Call-ID case names call 7's once the seed exists.
    const resolved = q.call_id === 'CALL_ID_OF_7' ? { ...q, call_id: calls[7]!.call_id } : q;
    const rows = await allRows({ ...resolved, limit: '37' });
    expect(ids(rows)).toEqual(ids(want));
    expect(want.length, 'the seed exercises this filter').toBeGreaterThan(0);
  });

  it('sensor filter takes the sensor id', async () => {
    const [rows] = await pool.query<RowDataPacket[]>("SELECT id FROM sensors WHERE name = 'sensor-b'");
    const id = String(rows[0]!.id);
    const got = await allRows({ ...ALL, sensor: id, limit: '50' });
    expect(ids(got)).toEqual(ids(calls.filter((c) => c.sensor === 'sensor-b')));
    expect(got.every((r) => r.sensor === 'sensor-b' && r.sensor_id === Number(id))).toBe(true);
  });

  it('rows carry every CallListRow field, equal to the record', async () => {
    const rows = await allRows({ ...ALL, limit: '1000' });
    expect(rows).toHaveLength(calls.length);
    const byCallId = new Map(calls.map((c) => [c.call_id, c]));
    for (const r of rows) {
      const c = byCallId.get(r.call_id)!;
      const a = mainOf(c, 'caller');
      const b = mainOf(c, 'callee');
      expect(r).toEqual({
        id: r.id, start: c.start, answer: c.answer, end: c.end, duration: c.duration, connect_duration: c.connect_duration, pdd_ms: c.pdd_ms,
        sensor_id: r.sensor_id, sensor: c.sensor, call_id: c.call_id, caller: c.caller, called: c.called, caller_ip: c.caller_ip,
        callee_ip: c.callee_ip, last_sip_code: c.last_sip_code, last_sip_reason: c.last_sip_reason, end_reason: c.end_reason, bye_by: c.bye_by,
        mos_worst: mosWorst(c), a_mos: mosOf(a), b_mos: mosOf(b), a_loss_pct: a?.lost_pct ?? null, b_loss_pct: b?.lost_pct ?? null,
        a_jitter_max_ms: a?.jitter_max_ms ?? null, b_jitter_max_ms: b?.jitter_max_ms ?? null, a_codec: a?.codec ?? null, b_codec: b?.codec ?? null,
        a_codecs: codecsOf(a), b_codecs: codecsOf(b), incomplete: false,
      });
    }
  });
});

describe('sorting and keyset pages', () => {
  type Key = 'start' | 'duration' | 'mos_worst' | 'last_sip_code';
  const valueOf = (c: CallRecord, key: Key): number | string => {
    if (key === 'start') return c.start;
    if (key === 'duration') return c.duration;
    if (key === 'mos_worst') return mosWorst(c) ?? -1;
    return c.last_sip_code ?? -1;
  };
  for (const key of ['start', 'duration', 'mos_worst', 'last_sip_code'] as const) {
    for (const desc of [true, false]) {
      it(`${desc ? '-' : ''}${key}: pages of 7 give every row once, in (value, start, id) order`, async () => {
        const rows = await allRows({ ...ALL, sort: `${desc ? '-' : ''}${key}`, limit: '7' });
        const byCallId = new Map(calls.map((c) => [c.call_id, c]));
        const keyed = rows.map((r) => ({ v: valueOf(byCallId.get(r.call_id)!, key), start: r.start, id: r.id }));
        const sorted = [...keyed].sort((x, y) => {
          const c = x.v < y.v ? -1 : x.v > y.v ? 1 : x.start < y.start ? -1 : x.start > y.start ? 1 : x.id - y.id;
          return desc ? -c : c;
        });
        expect(keyed).toEqual(sorted);
        expect(ids(rows)).toEqual(ids(calls));
      });
    }
  }

  it('caller sort (index order, case-insensitive) pages through every matching row once', async () => {
    const rows = await allRows({ ...ALL, caller: '44', sort: 'caller', limit: '5' });
    expect(ids(rows)).toEqual(ids(calls.filter((c) => c.caller.startsWith('44'))));
    const callers = rows.map((r) => r.caller);
    expect(callers).toEqual([...callers].sort());
  });

  for (const sort of ['caller', '-caller', 'called', '-called']) {
    it(`${sort}: pages of 3 through ties on the number give every row once, ties in (start, id) order`, async () => {
      const key = sort.replace('-', '') as 'caller' | 'called';
      const desc = sort.startsWith('-');
      const rows = await allRows({ ...ALL, sort, limit: '3' });
      expect(ids(rows)).toEqual(ids(calls));
      // Equal numbers (case-insensitively, as the column compares) form one block, in (start, id) order.
      const blocks = new Map<string, { start: string; id: number }[]>();
      let prev: string | null = null;
      for (const r of rows) {
        const v = r[key].toLowerCase();
        if (v !== prev) expect(blocks.has(v), `${v} in one block`).toBe(false);
        blocks.set(v, [...(blocks.get(v) ?? []), { start: r.start, id: r.id }]);
        prev = v;
      }
      // Callers repeat (8 numbers x 10 endings over 300 calls); called numbers repeat only for the hostile ones.
      expect(Math.max(...[...blocks.values()].map((b) => b.length)), 'the seed has ties').toBeGreaterThan(key === 'caller' ? 3 : 1);
      for (const b of blocks.values()) {
        const sorted = [...b].sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : x.id - y.id) * (desc ? -1 : 1));
        expect(b).toEqual(sorted);
      }
    });
  }

  it('a page boundary inside 25 calls sharing one start microsecond loses and repeats nothing', async () => {
    const tied = calls.filter((c) => c.start === iso(TIE_MS, 5));
    expect(tied).toHaveLength(25);
    for (const limit of ['1', '4', '10', '24']) {
      const rows = await allRows({ from: isoQ(TIE_MS - 1000), to: isoQ(TIE_MS + 1000), limit });
      expect(ids(rows)).toEqual(ids(tied));
      const order = rows.map((r) => r.id);
      expect(order, `limit ${limit}`).toEqual([...order].sort((a, b) => b - a));
    }
  });

  it('is stable under concurrent inserts: every call that existed is read exactly once', async () => {
    const q = { ...ALL, limit: '13' };
    const before = calls.filter((c) => inRange(c, Date.parse(ALL.from), Date.parse(ALL.to)));
    let n = 1000;
    const added: CallRecord[] = [];
    const rows = await allRows(q, async (page) => {
      // Between pages: new calls before, inside and after the current position, some tied with seed calls.
      const batch = [
        makeCall(n++, BASE_MS + Math.floor(rand() * 3 * 3600_000)),
        makeCall(n++, NOW_MS - 10_000),
        makeCall(n++, BASE_MS + 1000 * page),
        makeCall(n++, TIE_MS, 5),
      ];
      added.push(...batch);
      await writeCalls(batch);
    });
    const seen = new Set(rows.map((r) => r.call_id));
    for (const c of before) expect(seen.has(c.call_id), c.call_id).toBe(true);
    for (const r of rows) expect(before.some((c) => c.call_id === r.call_id) || added.some((c) => c.call_id === r.call_id)).toBe(true);
    calls.push(...added);
  });

  it('the cursor keeps the resolved range: a defaulted "last hour" does not slide between pages', async () => {
    let now = NOW_MS;
    const slide = fastify();
    await slide.register(callRoutes, { prefix: '/api/v1', db: pool, nowUs: () => now * 1000 });
    const first = (await slide.inject({ url: '/api/v1/calls?limit=5' })).json<CallSearchPage>();
    now += 1800_000; // half an hour later the user asks for page 2
    const rest: CallListRow[] = [...first.calls];
    let cursor = first.next;
    while (cursor !== null) {
      const page: CallSearchPage = (await slide.inject({ url: `/api/v1/calls?limit=50&cursor=${cursor}` })).json<CallSearchPage>();
      rest.push(...page.calls);
      cursor = page.next;
    }
    await slide.close();
    expect(ids(rest)).toEqual(ids(calls.filter((c) => inRange(c, NOW_MS - 3600_000, NOW_MS))));
  });
});

describe('bad input gets a 400 with a catalogue code', () => {
  const longText = 'x'.repeat(10 * 1024);
  const cursorOf = async (q: Record<string, string>): Promise<string> => (await getPage({ ...q, limit: '1' })).next!;
  const table: [string, Record<string, string> | (() => Promise<Record<string, string>>), string][] = [
    ['limit 10^9', { limit: '1000000000' }, 'BAD_FILTER'],
    ['limit 0', { limit: '0' }, 'BAD_FILTER'],
    ['limit 1001', { limit: '1001' }, 'BAD_FILTER'],
    ['limit not a number', { limit: '1e3' }, 'BAD_FILTER'],
    ['10 KB caller', { caller: longText }, 'BAD_FILTER'],
    ['10 KB call_id', { call_id: longText }, 'BAD_FILTER'],
    ['10 KB leg', { leg: longText }, 'BAD_FILTER'],
    ['empty leg', { leg: '' }, 'BAD_FILTER'],
    ['bad caller_match', { caller: '44', caller_match: 'regex' }, 'BAD_FILTER'],
    ['bad CIDR prefix', { ip: '10.0.0.0/33' }, 'BAD_FILTER'],
    ['bad IPv6 prefix', { ip: '2001:db8::/129' }, 'BAD_FILTER'],
    ['not an address', { ip: '10.0.0.256' }, 'BAD_FILTER'],
    ['hostname', { ip: 'pbx.example.com' }, 'BAD_FILTER'],
    ['from after to', { from: '2026-11-25T10:00:00Z', to: '2026-11-25T09:00:00Z' }, 'BAD_FILTER'],
    ['from equals to', { from: '2026-11-25T10:00:00Z', to: '2026-11-25T10:00:00Z' }, 'BAD_FILTER'],
    ['range over 400 days', { from: '2025-01-01T00:00:00Z', to: '2026-11-25T00:00:00Z' }, 'BAD_FILTER'],
    ['time with an offset', { from: '2026-11-25T10:00:00+01:00' }, 'BAD_FILTER'],
    ['impossible date', { from: '2026-02-31T10:00:00Z', to: '2026-03-05T10:00:00Z' }, 'BAD_FILTER'],
    ['bad code', { code: '4x' }, 'BAD_FILTER'],
    ['code 700', { code: '700' }, 'BAD_FILTER'],
    ['negative duration', { duration_min: '-1' }, 'BAD_FILTER'],
    ['duration_min above duration_max', { duration_min: '10', duration_max: '5' }, 'BAD_FILTER'],
    ['mos_below above 5', { mos_below: '7' }, 'BAD_FILTER'],
    ['loss_above above 100', { loss_above: '101' }, 'BAD_FILTER'],
    ['sensor not a number', { sensor: 'edge-a' }, 'BAD_FILTER'],
    ['sensor over 65535', { sensor: '70000' }, 'BAD_FILTER'],
    ['unknown end_reason', { end_reason: 'hangup' }, 'BAD_FILTER'],
    ['unknown sort', { sort: 'caller_ip' }, 'BAD_FILTER'],
    ['unknown parameter', { colour: 'red' }, 'BAD_FILTER'],
    ['cursor with characters outside base64url', { cursor: 'abc=+/' }, 'BAD_CURSOR'],
    ['cursor of garbage', { cursor: 'bm90LWpzb24' }, 'BAD_CURSOR'],
    ['cursor of another search', async () => ({ ...ALL, caller: '12', cursor: await cursorOf({ ...ALL, caller: '44' }) }), 'BAD_CURSOR'],
    ['cursor of another sort', async () => ({ ...ALL, sort: 'duration', cursor: await cursorOf({ ...ALL, sort: '-duration' }) }), 'BAD_CURSOR'],
    ['cursor of another range', async () => ({ ...ALL, from: isoQ(BASE_MS), cursor: await cursorOf(ALL) }), 'BAD_CURSOR'],
    ['cursor with a forged position', async () => {
      const c = JSON.parse(Buffer.from(await cursorOf(ALL), 'base64url').toString()) as unknown[];
      c[3] = 'DROP';
      return { ...ALL, cursor: Buffer.from(JSON.stringify(c)).toString('base64url') };
    }, 'BAD_CURSOR'],
  ];
  it.each(table)('%s -> %s', async (_name, q, code) => {
    const params = typeof q === 'function' ? await q() : q;
    const res = await app.inject({ method: 'GET', url: `/api/v1/calls?${query(params)}` });
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(5);
  });

  it('the export refuses the same input, and a missing or unknown format', async () => {
    for (const q of ['format=csv&ip=10.0.0.0/40', 'format=csv&limit=5', 'format=xml', '']) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/calls/export?${q}` });
      expect(res.statusCode, q).toBe(400);
      expect(res.json<{ error: { code: string } }>().error.code, q).toBe('BAD_FILTER');
    }
  });
});

/** Minimal RFC 4180 reader for the test: fields with quotes, doubled quotes and CRLF inside. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  return rows;
}

describe('GET /api/v1/calls/export', () => {
  it('CSV: header, one quoted row per call, formulas defused, cap and row count stated', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/calls/export?${query({ ...ALL, format: 'csv' })}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="calls-\d{8}T\d{6}Z-\d{8}T\d{6}Z\.csv"$/);
    expect(res.headers['x-export-row-cap']).toBe('1000000');
    expect(res.trailers).toEqual({ 'x-export-rows': String(calls.length), 'x-export-truncated': 'false' });
    const table = parseCsv(res.body);
    expect(table[0]).toEqual([...EXPORT_COLUMNS]);
    expect(table).toHaveLength(calls.length + 1);
    const callerCol = EXPORT_COLUMNS.indexOf('caller');
    const idCol = EXPORT_COLUMNS.indexOf('call_id');
    const byCallId = new Map(calls.map((c) => [c.call_id, c]));
    for (const row of table.slice(1)) {
      const c = byCallId.get(row[idCol]!)!;
      expect(row, 'every row has every column').toHaveLength(EXPORT_COLUMNS.length);
      // OWASP: text starting with = + - @ is prefixed with a quote; everything else is as stored.
      expect(row[callerCol]).toBe(/^[=+\-@]/.test(c.caller) ? `'${c.caller}` : c.caller);
    }
    expect(table.some((r) => r[callerCol] === `'=HYPERLINK("http://x","y")`)).toBe(true);
    expect(table.some((r) => r[callerCol] === 'a,"b"\r\nc')).toBe(true);
  });

  it('stops at the row cap and says so in its trailers', async () => {
    const capped = fastify();
    await capped.register(callRoutes, { prefix: '/api/v1', db: pool, exportRowCap: 50 });
    const res = await capped.inject({ method: 'GET', url: `/api/v1/calls/export?${query({ ...ALL, format: 'jsonl' })}` });
    await capped.close();
    expect(res.headers['x-export-row-cap']).toBe('50');
    expect(res.trailers).toEqual({ 'x-export-rows': '50', 'x-export-truncated': 'true' });
    const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l) as CallListRow);
    expect(lines).toEqual((await getPage({ ...ALL, limit: '50' })).calls);
  });

  it('JSON lines: one CallListRow per line, the same rows and order as the list', async () => {
    const q = { ...ALL, code: '4xx', sort: 'duration' };
    const res = await app.inject({ method: 'GET', url: `/api/v1/calls/export?${query({ ...q, format: 'jsonl' })}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l) as CallListRow);
    expect(lines).toEqual(await allRows({ ...q, limit: '1000' }));
  });
});

describe('GET /api/v1/calls/{id} and /related', () => {
  async function keyOf(callId: string): Promise<{ id: number; start: string }> {
    const [rows] = await pool.query<RowDataPacket[]>("SELECT id, DATE_FORMAT(start, '%Y-%m-%dT%H:%i:%s.%fZ') AS s FROM cdr WHERE call_id = ?", [callId]);
    return { id: Number(rows[0]!.id), start: rows[0]!.s as string };
  }

  it('answers the record as written, hostile text as plain JSON strings, and artifacts per sensor', async () => {
    for (const c of [calls[17]!, calls[18]!, calls[51]!]) {
      const key = await keyOf(c.call_id);
      const res = await app.inject({ url: `/api/v1/calls/${key.id}?start=${key.start}` });
      expect(res.statusCode).toBe(200);
      const body = res.json<CallDetailBody>();
      expect(body.call).toEqual(c);
      expect(body.id).toBe(key.id);
      expect(body.artifacts).toBe(c.sensor === 'sensor-b');
    }
    const hostile = calls[17]!;
    expect(hostile.caller_user_agent).toMatch(/[<'"=]/);
    const res = await app.inject({ url: `/api/v1/calls/${(await keyOf(hostile.call_id)).id}?start=${hostile.start}` });
    // Served as JSON data (the browser renders it as text), byte-exact.
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toMatchObject({ call: { caller: hostile.caller, called: hostile.called, caller_user_agent: hostile.caller_user_agent } });
  });

  it('404 for an unknown id or a start that is not the call\'s; 400 for a malformed key', async () => {
    const key = await keyOf(calls[3]!.call_id);
    const wrongStart = key.start.replace(/\.\d{6}Z$/, '.999999Z');
    for (const url of [`/api/v1/calls/999999999?start=${key.start}`, `/api/v1/calls/${key.id}?start=${wrongStart}`, `/api/v1/calls/${key.id}/related?start=${wrongStart}`]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('NOT_FOUND');
    }
    for (const url of [`/api/v1/calls/${key.id}`, `/api/v1/calls/abc?start=${key.start}`, `/api/v1/calls/${key.id}?start=yesterday`, `/api/v1/calls/0?start=${key.start}`]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('BAD_REQUEST');
    }
  });

  it('related: same numbers either way within 10 s, itself excluded', async () => {
    const leg = calls.find((c) => c.call_id.startsWith('c400-'))!;
    const key = await keyOf(leg.call_id);
    const res = await app.inject({ url: `/api/v1/calls/${key.id}/related?start=${key.start}` });
    expect(res.statusCode).toBe(200);
    const body = res.json<RelatedCallsBody>();
    const t = Date.parse(leg.start);
    const want = calls.filter(
      (c) =>
        c !== leg &&
        Math.abs(Date.parse(c.start) - t) <= 10_000 &&
        ((c.caller === leg.caller && c.called === leg.called) || (c.caller === leg.called && c.called === leg.caller)),
    );
    expect(want.map((c) => c.call_id.split('-')[0])).toEqual(['c401', 'c402']);
    expect(ids(body.calls)).toEqual(ids(want));
    expect(body.calls.every((c) => c.relation === 'same_numbers' && c.relation_header === null)).toBe(true);
  });

  it('related (issue 19): X-CID, Session-ID and carrier header legs within the hour, each once with its strongest relation', async () => {
    const key = await keyOf('b2b-a@pbx.example.com');
    const res = await app.inject({ url: `/api/v1/calls/${key.id}/related?start=${key.start}` });
    expect(res.statusCode).toBe(200);
    const body = res.json<RelatedCallsBody>();
    // b2b-b has the same numbers too: listed once, as x_cid. The decoy's header has another name.
    expect(body.calls.map((c) => [c.call_id, c.relation, c.relation_header])).toEqual([
      ['b2b-b@sbc.example.com', 'x_cid', null],
      ['sess@pbx2.example.com', 'session_id', null],
      ['hdr@carrier.example.net', 'header', 'X-Carrier-Ref'],
    ]);
    const b = body.calls[0]!;
    expect(b).toMatchObject({ a_codecs: expect.any(String) as string, sensor: calls.find((c) => c.call_id === b.call_id)!.sensor });
  });

  it('the detail carries the identifiers, linked legs and fork branches as written', async () => {
    const c = calls.find((x) => x.call_id === 'b2b-b@sbc.example.com')!;
    const key = await keyOf(c.call_id);
    const body = (await app.inject({ url: `/api/v1/calls/${key.id}?start=${key.start}` })).json<CallDetailBody>();
    expect(body.call.x_cid).toBe('b2b-a@pbx.example.com');
    expect(body.call.linked_legs).toEqual(c.linked_legs);
    expect(body.call.branches).toEqual(c.branches);
    expect(body.call).toEqual(c);
  });
});
