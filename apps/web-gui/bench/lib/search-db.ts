/**
 * The call search bench's database: N CDRs (10 million by default) over 30 days, generated inside
 * MariaDB with `INSERT ... SELECT` from the SEQUENCE engine's `seq_1_to_N` table, so no row crosses
 * the network. Kept between runs: a `bench_meta` row, written last, says the database is complete
 * (row count, time span); anything else (an interrupted build, another size) is dropped and rebuilt.
 *
 * Realistic spreads rather than uniform noise, so each filter has the selectivity it has on a real
 * switch: 8 number plans as caller/called prefixes over 10^7 subscribers each; ~2 000 signalling
 * addresses (15 % IPv6) over 4 sensors; 70 % answered, the rest spread over 487/486/480/404/503/
 * 408/603 with consistent end reasons; talk time exponential (mean 3 min); codecs PCMA 55 %,
 * PCMU 25 %, G.729 12 %, opus 8 %; 5 % of streams with 1-15 % loss and 4 % with 20-120 ms jitter,
 * MOS derived from both (about 2.5 % of calls below 3.5); 0.1 % of calls flagged incomplete.
 * Calls arrive at a constant rate in start order (ids ascend with start, as a sensor writes them).
 *
 * Only `cdr` is filled: the list, export and related searches read no child table, and the call
 * detail reads one call's children by primary key whatever their number.
 *
 * @packageDocumentation
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { ensurePartitions, migrate, openPool } from '@callscope/cdr-schema';

/** What the bench needs to know of its database. */
export interface SearchBenchDb {
  /** CDRs held. */
  readonly rows: number;
  /** First call start (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC). */
  readonly first: string;
  /** Last call start, the bench's "now". */
  readonly last: string;
  /** Seconds the build took (null when the database was reused as found). */
  readonly buildS: number | null;
  /** Seconds of the build spent inserting rows, and building the secondary indexes afterwards. */
  readonly insertS: number | null;
  readonly indexS: number | null;
}

const DAY_US = 86_400_000_000;
/** Days the calls are spread over. */
export const SPAN_DAYS = 30;
/** Rows per INSERT ... SELECT statement (one transaction each: bounded undo log, visible progress). */
const CHUNK = 250_000;

/**
 * The `cdr` secondary indexes of schema version 4 (libs/cdr-schema README), dropped during the
 * bulk load and rebuilt afterwards: one sorted build per index instead of a random B-tree insert
 * per row, which on the shared server's 128 MB buffer pool costs a disk read per row.
 */
const SECONDARY_INDEXES = [
  'UNIQUE KEY uk_call_hash (call_id_hash, sensor_id, start)',
  'KEY idx_start_quality (start, mos_worst, incomplete)',
  'KEY idx_caller (caller, start)',
  'KEY idx_called (called, start)',
  'KEY idx_caller_rev (caller_reverse, start)',
  'KEY idx_called_rev (called_reverse, start)',
] as const;

const indexName = (def: string): string => /KEY (\w+)/.exec(def)![1]!;

/** `h` = a 32-bit hash; `FLOOR(h / d) % m` picks independent-enough digits of it. */
const pick = (h: string, d: number, m: number): string => `(FLOOR(${h} / ${d}) % ${m})`;

/**
 * The INSERT ... SELECT of rows `lo..hi`. Level `t` draws eight 32-bit hashes per sequence number
 * (CRC32 of distinct strings: deterministic, so a rebuild gives the same data), level `u` the
 * call's shape (start, outcome, times, per-side loss and jitter), the outer SELECT the columns.
 */
function insertSql(lo: number, hi: number, n: number, baseSql: string): string {
  const step = Math.floor((SPAN_DAYS * DAY_US) / n);
  const hashes = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `CRC32(CONCAT('${String.fromCharCode(96 + i)}', seq)) AS h${i}`).join(', ');
  const codeOf = `CASE WHEN ${pick('h2', 1, 1000)} < 700 THEN 200 WHEN ${pick('h2', 1, 1000)} < 780 THEN 487
    WHEN ${pick('h2', 1, 1000)} < 860 THEN 486 WHEN ${pick('h2', 1, 1000)} < 900 THEN 480 WHEN ${pick('h2', 1, 1000)} < 940 THEN 404
    WHEN ${pick('h2', 1, 1000)} < 970 THEN 503 WHEN ${pick('h2', 1, 1000)} < 985 THEN 408 ELSE 603 END`;
  // Per side: 5 % of streams lose 1-15 %, the rest 0-0.5 %; 4 % have 20-120 ms jitter, the rest 0.3-5 ms.
  const loss = (h: string): string => `IF(${pick(h, 1, 100)} < 5, 1 + ${pick(h, 100, 14000)} / 1000, ${pick(h, 100, 500)} / 1000)`;
  const jitter = (h: string): string => `IF(${pick(h, 1400000, 100)} < 4, 20 + ${pick(h, 100, 100000)} / 1000, 0.3 + ${pick(h, 100, 4700)} / 1000)`;
  const plans = `'+4420', '+44161', '+1212', '+4930', '+3314', '+61290', '0044113', '+1415'`;
  const number = (h: string): string => `CONCAT(ELT(1 + ${pick(h, 1, 8)}, ${plans}), LPAD(${pick(h, 8, 10_000_000)}, 7, '0'))`;
  const ip = (h: string): string =>
    `INET6_ATON(IF(${pick(h, 1, 100)} < 15, CONCAT('2001:db8:', sensor_id, '::', HEX(${pick(h, 100, 300)})),
      CONCAT('10.', sensor_id, '.', ${pick(h, 100, 8)}, '.', ${pick(h, 800, 220)})))`;
  const side = (p: 'a' | 'b', h: string): string => {
    const mos = `ROUND(GREATEST(1.0, 4.41 - ${p}_loss * 0.12 - ${p}_jit * 0.012), 2)`;
    return `IF(answered, ${h}, NULL), IF(answered, ELT(1 + codec_i, 8, 0, 18, 111), NULL), IF(answered, ELT(1 + codec_i, 'PCMA', 'PCMU', 'G729', 'opus'), NULL),
      IF(answered, ROUND(talk_s * 50), NULL), IF(answered, ROUND(talk_s * 50 * ${p}_loss / 100), NULL), IF(answered, ${p}_loss, NULL),
      IF(answered, ${p}_jit, NULL), IF(answered, ${p}_jit / 3, NULL),
      IF(answered, ${mos}, NULL), IF(answered, ${mos}, NULL), IF(answered, ${mos}, NULL), IF(answered, GREATEST(1.0, ${mos} - 0.3), NULL)`;
  };
  const mosA = `ROUND(GREATEST(1.0, 4.41 - a_loss * 0.12 - a_jit * 0.012), 2)`;
  const mosB = `ROUND(GREATEST(1.0, 4.41 - b_loss * 0.12 - b_jit * 0.012), 2)`;
  return `INSERT INTO cdr (start, answer, \`end\`, duration, connect_duration, pdd_ms, sensor_id, call_id, caller, caller_reverse,
    called, called_reverse, caller_name, caller_domain, called_domain, caller_ip, caller_port, callee_ip, callee_port, transport,
    last_sip_code, last_sip_reason, bye_by, end_reason, sip_packets, vlan, caller_user_agent, callee_user_agent, mos_worst,
    a_ssrc, a_payload_type, a_codec, a_packets, a_lost, a_lost_pct, a_jitter_max_ms, a_jitter_mean_ms, a_mos_f1, a_mos_f2, a_mos_adapt, a_mos_min,
    b_ssrc, b_payload_type, b_codec, b_packets, b_lost, b_lost_pct, b_jitter_max_ms, b_jitter_mean_ms, b_mos_f1, b_mos_f2, b_mos_adapt, b_mos_min,
    dropped_rtp_streams_over_cap, dropped_rtp_packets_over_cap, dropped_rtp_malformed, dropped_rtcp_malformed, dropped_sip_oversize)
  SELECT start, IF(answered, TIMESTAMPADD(MICROSECOND, ROUND(ring_s * 1e6), start), NULL),
    TIMESTAMPADD(MICROSECOND, ROUND((ring_s + talk_s) * 1e6), start), ROUND(ring_s + talk_s, 6), IF(answered, ROUND(talk_s, 6), NULL),
    IF(code = 408, NULL, 40 + ${pick('h4', 9000, 3000)}), sensor_id,
    CONCAT(LPAD(HEX(h1), 8, '0'), LPAD(HEX(h2), 8, '0'), '-', seq, '@sbc', sensor_id, '.example.net'),
    caller, REVERSE(caller), called, REVERSE(called), IF(${pick('h3', 1, 10)} < 3, CONCAT('Subscriber ', ${pick('h3', 10, 10000)}), NULL),
    'pbx.example.net', 'carrier.example.com', ${ip('h7')}, 5060, ${ip('h8')}, 5060,
    ELT(1 + (CASE WHEN ${pick('h6', 1000, 100)} < 80 THEN 0 WHEN ${pick('h6', 1000, 100)} < 90 THEN 1 WHEN ${pick('h6', 1000, 100)} < 98 THEN 2 ELSE 3 END), 'udp', 'tcp', 'tls', 'ws'),
    code, ELT(FIELD(code, 200, 487, 486, 480, 404, 503, 408, 603), 'OK', 'Request Terminated', 'Busy Here', 'Temporarily Unavailable', 'Not Found', 'Service Unavailable', 'Request Timeout', 'Decline'),
    IF(answered, IF(${pick('h4', 3, 2)} = 0, 'caller', 'callee'), NULL),
    CASE code WHEN 200 THEN IF(${pick('h4', 7, 100)} < 3, 'rtp_timeout', 'bye_confirmed') WHEN 487 THEN 'cancelled' WHEN 408 THEN 'no_answer_timeout' ELSE 'rejected' END,
    IF(answered, 9 + ${pick('h4', 11, 7)}, 5 + ${pick('h4', 11, 3)}), NULL,
    ELT(1 + ${pick('h5', 1000, 5)}, 'Yealink SIP-T46S 66.86.0.15', 'Asterisk PBX 18.20.0', 'Grandstream GXP2170 1.0.11.23', 'Linphone/5.2.0', 'PolycomVVX-VVX_411-UA/6.4.3'),
    'FreeSWITCH-mod_sofia/1.10.11', IF(answered, LEAST(${mosA}, ${mosB}), NULL),
    ${side('a', 'h7')},
    ${side('b', 'h8')},
    IF(incomplete_, 0, NULL), IF(incomplete_, 0, NULL), IF(incomplete_, 3, NULL), IF(incomplete_, 0, NULL), IF(incomplete_, 0, NULL)
  FROM (
    SELECT seq, h1, h2, h3, h4, h5, h6, h7, h8, code, code = 200 AS answered, sensor_id,
      TIMESTAMPADD(MICROSECOND, (seq - 1) * ${step} + ${pick('h1', 1, step)}, '${baseSql}') AS start,
      ${number('h3')} AS caller, ${number('h5')} AS called,
      1 + ${pick('h4', 1, 8000)} / 1000 AS ring_s,
      IF(code = 200, -180 * LN((1 + ${pick('h6', 1, 100000)}) / 100001), 0) AS talk_s,
      ${loss('h7')} AS a_loss, ${loss('h8')} AS b_loss, ${jitter('h7')} AS a_jit, ${jitter('h8')} AS b_jit,
      CASE WHEN ${pick('h5', 1, 100)} < 55 THEN 0 WHEN ${pick('h5', 1, 100)} < 80 THEN 1 WHEN ${pick('h5', 1, 100)} < 92 THEN 2 ELSE 3 END AS codec_i,
      ${pick('h6', 100000, 1000)} = 0 AS incomplete_
    FROM (SELECT seq, ${hashes}, 1 + ${pick(`CRC32(CONCAT('s', seq))`, 1, 4)} AS sensor_id,
            ${codeOf.replaceAll('h2', `CRC32(CONCAT('b', seq))`)} AS code
          FROM seq_1_to_${n} WHERE seq BETWEEN ${lo} AND ${hi}) t
  ) u`;
}

/** `YYYY-MM-DD HH:MM:SS.000000` of a UTC instant (minute precision is all the anchor needs). */
const sqlTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}.000000`;

/**
 * Makes sure database `db` on the server of `serverUrl` (`mysql://user@host:port/`) holds a
 * complete set of `rows` bench CDRs, building it when it does not. `log` receives progress lines.
 */
export async function ensureSearchBenchDb(serverUrl: string, db: string, rows: number, log: (line: string) => void): Promise<SearchBenchDb> {
  const { pool } = openPool(serverUrl, { connectionLimit: 2 });
  try {
    return await ensureOn(pool, serverUrl, db, rows, log);
  } finally {
    await pool.end();
  }
}

async function ensureOn(pool: Pool, serverUrl: string, db: string, rows: number, log: (line: string) => void): Promise<SearchBenchDb> {
  const [meta] = await pool.query<RowDataPacket[]>(
    `SELECT rows_, DATE_FORMAT(first_, '%Y-%m-%d %H:%i:%s.%f') AS first_, DATE_FORMAT(last_, '%Y-%m-%d %H:%i:%s.%f') AS last_
     FROM information_schema.TABLES t JOIN \`${db}\`.bench_meta m ON 1 WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = 'bench_meta'`,
    [db],
  ).catch(() => [[] as RowDataPacket[]]);
  const found = meta[0];
  if (found !== undefined && Number(found.rows_) === rows) {
    return { rows, first: found.first_ as string, last: found.last_ as string, buildS: null, insertS: null, indexS: null };
  }
  const t0 = performance.now();
  log(`building ${db}: ${rows} CDRs over ${SPAN_DAYS} days (drops any incomplete copy)`);
  await pool.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await pool.query(`CREATE DATABASE \`${db}\``);
  const url = `${serverUrl.replace(/\/?$/, '/')}${db}`;
  await migrate(url, { partitionDaysAhead: 2 });
  const conn = await pool.getConnection();
  try {
    await conn.query(`USE \`${db}\``);
    const endMs = Math.floor(Date.now() / 60_000) * 60_000;
    const baseMs = endMs - SPAN_DAYS * 86_400_000;
    const firstDay = Math.floor(baseMs / 86_400_000);
    // TO_DAYS of a Unix day number: 719528 is TO_DAYS('1970-01-01').
    const days = Array.from({ length: SPAN_DAYS + 1 }, (_, i) => 719_528 + firstDay + i);
    const { pool: dbPool } = openPool(url, { connectionLimit: 1 });
    try {
      await ensurePartitions(dbPool, days, { aheadDays: 2 });
    } finally {
      await dbPool.end();
    }
    for (let s = 1; s <= 4; s++) {
      await conn.query('INSERT INTO sensors (id, name, first_seen, last_seen) VALUES (?, ?, ?, ?)', [s, `sensor-${s}`, sqlTime(baseMs), sqlTime(endMs)]);
    }
    await conn.query(`ALTER TABLE cdr ${SECONDARY_INDEXES.map((d) => `DROP INDEX ${indexName(d)}`).join(', ')}`);
    const tInsert = performance.now();
    for (let lo = 1; lo <= rows; lo += CHUNK) {
      const hi = Math.min(rows, lo + CHUNK - 1);
      await conn.query(insertSql(lo, hi, rows, sqlTime(baseMs)));
      const s = (performance.now() - tInsert) / 1000;
      log(`  ${hi} rows, ${s.toFixed(0)} s (${Math.round(hi / s)} rows/s)`);
    }
    const insertS = (performance.now() - tInsert) / 1000;
    const tIndex = performance.now();
    log('  building secondary indexes');
    await conn.query(`ALTER TABLE cdr ${SECONDARY_INDEXES.map((d) => `ADD ${d}`).join(', ')}, ALGORITHM=INPLACE`);
    const indexS = (performance.now() - tIndex) / 1000;
    await conn.query('ANALYZE TABLE cdr');
    await conn.query('CREATE TABLE bench_meta (rows_ BIGINT NOT NULL, first_ DATETIME(6) NOT NULL, last_ DATETIME(6) NOT NULL, build_s DOUBLE NOT NULL)');
    const [span] = await conn.query<RowDataPacket[]>(
      `SELECT DATE_FORMAT(MIN(start), '%Y-%m-%d %H:%i:%s.%f') AS first_, DATE_FORMAT(MAX(start), '%Y-%m-%d %H:%i:%s.%f') AS last_, COUNT(*) AS n FROM cdr`,
    );
    const buildS = (performance.now() - t0) / 1000;
    await conn.query('INSERT INTO bench_meta VALUES (?, ?, ?, ?)', [Number(span[0]!.n), span[0]!.first_, span[0]!.last_, buildS]);
    log(`built ${db} in ${buildS.toFixed(0)} s (insert ${insertS.toFixed(0)} s, indexes ${indexS.toFixed(0)} s)`);
    return { rows: Number(span[0]!.n), first: span[0]!.first_ as string, last: span[0]!.last_ as string, buildS, insertS, indexS };
  } finally {
    conn.release();
  }
}
