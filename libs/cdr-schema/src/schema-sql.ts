/**
 * DDL of schema version 1. Kept as data so migrations can checksum it and the README can point at
 * one place. Every partitioned table starts with the single `pmax` catch-all; daily partitions are
 * split out of it by {@link ensurePartitions} (see partition-plan.ts for the layout).
 *
 * Keys, and why:
 * - `PRIMARY KEY (id, start)`: MariaDB requires the partitioning column in every unique key; `id`
 *   first keeps `AUTO_INCREMENT` valid and makes "one call by id" a point lookup per partition.
 * - `UNIQUE (call_id, sensor_id, start)`: the natural key that makes replays idempotent, and also
 *   the Call-ID search index. `call_id` is `utf8mb4_bin` because Call-IDs compare byte-exact
 *   (RFC 3261 §20.8): two calls differing only in case are two calls.
 *   Version 3 replaced it by `UNIQUE (call_id_hash, sensor_id, start)`: see {@link SCHEMA_V3}.
 * - child tables: `PRIMARY KEY (cdr_id, start, idx)` where `idx` is the position in the record's
 *   array, so a replayed batch hits the same keys and inserts nothing new. They have no secondary
 *   index: they are read only through their call, and every index costs insert throughput.
 *
 * @packageDocumentation
 */
import { CALL_DROPPED_KEYS, END_REASONS, REGISTER_RESULTS, SIP_TRANSPORTS } from '@callscope/cdr-model';

/**
 * `cdr.end_reason` values of schema version 1. Frozen: a migration's statements never change once
 * released (their checksum is stored), so reasons added later reach the column through their own
 * migration (`SCHEMA_V4`) while version 1 keeps creating the column it always created.
 */
const END_REASONS_V1 = ['bye_confirmed', 'bye_unconfirmed', 'cancelled', 'rejected', 'no_answer_timeout', 'rtp_timeout', 'absolute_timeout', 'capture_end', 'evicted'] as const;
/** `cdr.end_reason` values of schema version 4 (version 1 + `sensor_shutdown`). Frozen likewise. */
const END_REASONS_V4 = [...END_REASONS_V1, 'sensor_shutdown'] as const;

const enumOf = (values: readonly string[]): string => `ENUM(${values.map((v) => `'${v}'`).join(',')})`;

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
const partitionBy = (column: string): string =>
  `PARTITION BY RANGE (TO_DAYS(\`${column}\`)) (PARTITION pmax VALUES LESS THAN MAXVALUE)`;

/** Quality columns of the main stream of one side (`a_` caller, `b_` callee). */
const sideColumns = (p: 'a' | 'b'): string => `
  ${p}_ssrc INT UNSIGNED NULL,
  ${p}_payload_type TINYINT UNSIGNED NULL,
  ${p}_codec VARCHAR(32) NULL,
  ${p}_packets INT UNSIGNED NULL,
  ${p}_lost INT NULL,
  ${p}_lost_pct DOUBLE NULL,
  ${p}_jitter_max_ms DOUBLE NULL,
  ${p}_jitter_mean_ms DOUBLE NULL,
  ${p}_mos_f1 DOUBLE NULL,
  ${p}_mos_f2 DOUBLE NULL,
  ${p}_mos_adapt DOUBLE NULL,
  ${p}_mos_min DOUBLE NULL,`;

const registerTable = (name: string): string => `CREATE TABLE IF NOT EXISTS \`${name}\` (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  \`first\` DATETIME(6) NOT NULL,
  \`last\` DATETIME(6) NOT NULL,
  sensor_id SMALLINT UNSIGNED NOT NULL,
  call_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  \`user\` VARCHAR(128) NOT NULL,
  domain VARCHAR(128) NOT NULL,
  contact VARCHAR(255) NULL,
  expires INT UNSIGNED NULL,
  result ${enumOf(REGISTER_RESULTS)} NOT NULL,
  last_sip_code SMALLINT UNSIGNED NULL,
  client_ip VARBINARY(16) NOT NULL,
  client_port SMALLINT UNSIGNED NOT NULL,
  registrar_ip VARBINARY(16) NOT NULL,
  registrar_port SMALLINT UNSIGNED NOT NULL,
  user_agent VARCHAR(255) NULL,
  challenged TINYINT(1) NOT NULL,
  transactions INT UNSIGNED NOT NULL,
  PRIMARY KEY (id, \`first\`),
  UNIQUE KEY uk_register (call_id, sensor_id, \`first\`),
  KEY idx_first (\`first\`),
  KEY idx_user (\`user\`, \`first\`),
  KEY idx_sensor (sensor_id, \`first\`)
) ${TABLE_OPTIONS}
${partitionBy('first')}`;

/** Statements of schema version 1, in order; each is idempotent (`IF NOT EXISTS`). */
export const SCHEMA_V1: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS sensors (
  id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  first_seen DATETIME(6) NOT NULL,
  last_seen DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_name (name)
) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS cdr (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  start DATETIME(6) NOT NULL,
  answer DATETIME(6) NULL,
  \`end\` DATETIME(6) NOT NULL,
  duration DOUBLE NOT NULL,
  connect_duration DOUBLE NULL,
  pdd_ms DOUBLE NULL,
  sensor_id SMALLINT UNSIGNED NOT NULL,
  call_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  caller VARCHAR(128) NOT NULL,
  caller_reverse VARCHAR(128) NOT NULL,
  called VARCHAR(128) NOT NULL,
  called_reverse VARCHAR(128) NOT NULL,
  caller_name VARCHAR(128) NULL,
  caller_domain VARCHAR(128) NOT NULL,
  called_domain VARCHAR(128) NOT NULL,
  caller_ip VARBINARY(16) NOT NULL,
  caller_port SMALLINT UNSIGNED NOT NULL,
  callee_ip VARBINARY(16) NOT NULL,
  callee_port SMALLINT UNSIGNED NOT NULL,
  transport ${enumOf(SIP_TRANSPORTS)} NOT NULL,
  last_sip_code SMALLINT UNSIGNED NULL,
  last_sip_reason VARCHAR(128) NULL,
  bye_by ENUM('caller','callee') NULL,
  end_reason ${enumOf(END_REASONS_V1)} NOT NULL,
  sip_packets INT UNSIGNED NOT NULL,
  vlan SMALLINT UNSIGNED NULL,
  caller_user_agent VARCHAR(255) NULL,
  callee_user_agent VARCHAR(255) NULL,
  mos_worst DOUBLE NULL,${sideColumns('a')}${sideColumns('b')}
  PRIMARY KEY (id, start),
  UNIQUE KEY uk_call (call_id, sensor_id, start),
  KEY idx_start (start),
  KEY idx_sensor (sensor_id, start),
  KEY idx_caller (caller, start),
  KEY idx_called (called, start),
  KEY idx_caller_rev (caller_reverse, start),
  KEY idx_called_rev (called_reverse, start),
  KEY idx_mos (mos_worst, start)
) ${TABLE_OPTIONS}
${partitionBy('start')}`,
  `CREATE TABLE IF NOT EXISTS cdr_rtp (
  cdr_id BIGINT UNSIGNED NOT NULL,
  start DATETIME(6) NOT NULL,
  idx SMALLINT UNSIGNED NOT NULL,
  ssrc INT UNSIGNED NOT NULL,
  side ENUM('caller','callee') NOT NULL,
  src_ip VARBINARY(16) NOT NULL,
  src_port SMALLINT UNSIGNED NOT NULL,
  dst_ip VARBINARY(16) NOT NULL,
  dst_port SMALLINT UNSIGNED NOT NULL,
  payload_type TINYINT UNSIGNED NOT NULL,
  codec VARCHAR(32) NULL,
  packets INT UNSIGNED NOT NULL,
  lost INT NOT NULL,
  lost_pct DOUBLE NOT NULL,
  seq_errors INT UNSIGNED NOT NULL,
  duplicated INT UNSIGNED NOT NULL,
  reordered INT UNSIGNED NOT NULL,
  \`first\` DATETIME(6) NOT NULL,
  \`last\` DATETIME(6) NOT NULL,
  jitter_max_ms DOUBLE NOT NULL,
  jitter_mean_ms DOUBLE NOT NULL,
  delta_max_ms DOUBLE NOT NULL,
  loss_bursts VARCHAR(200) NOT NULL,
  mos_f1 DOUBLE NULL,
  mos_f2 DOUBLE NULL,
  mos_adapt DOUBLE NULL,
  mos_min DOUBLE NULL,
  rtcp_packets INT UNSIGNED NULL,
  rtcp_lost INT NULL,
  rtcp_fraction_lost_max_pct DOUBLE NULL,
  rtcp_jitter_max_ms DOUBLE NULL,
  rtcp_rtt_max_ms DOUBLE NULL,
  PRIMARY KEY (cdr_id, start, idx)
) ${TABLE_OPTIONS}
${partitionBy('start')}`,
  `CREATE TABLE IF NOT EXISTS cdr_sip_response (
  cdr_id BIGINT UNSIGNED NOT NULL,
  start DATETIME(6) NOT NULL,
  idx SMALLINT UNSIGNED NOT NULL,
  code SMALLINT UNSIGNED NOT NULL,
  reason VARCHAR(128) NOT NULL,
  \`time\` DATETIME(6) NOT NULL,
  cseq_method VARCHAR(32) NOT NULL,
  from_side ENUM('caller','callee') NOT NULL,
  PRIMARY KEY (cdr_id, start, idx)
) ${TABLE_OPTIONS}
${partitionBy('start')}`,
  `CREATE TABLE IF NOT EXISTS cdr_dtmf (
  cdr_id BIGINT UNSIGNED NOT NULL,
  start DATETIME(6) NOT NULL,
  idx SMALLINT UNSIGNED NOT NULL,
  digit VARCHAR(4) NOT NULL,
  ts DATETIME(6) NOT NULL,
  method ENUM('rfc2833','info','inband') NOT NULL,
  duration_ms DOUBLE NULL,
  PRIMARY KEY (cdr_id, start, idx)
) ${TABLE_OPTIONS}
${partitionBy('start')}`,
  registerTable('register'),
  registerTable('register_failed'),
];

/**
 * Statements of schema version 2: the secondary indexes cut down to what the GUI searches use,
 * since every index is one more B-tree write per inserted row (issue 6: 20 000 CDR/s).
 *
 * - `cdr.idx_start (start)` and `cdr.idx_mos (mos_worst, start)` become one `idx_start_mos
 *   (start, mos_worst)`: "newest calls in a range" walks it backwards as before, and "MOS below x
 *   in a range" walks the same index testing `mos_worst` on the index entries alone (the search
 *   finds keys first, see `buildCallSearch`), so only the rows returned are read. On 1M CDRs
 *   `idx_mos` sorted every bad call of the day before `LIMIT` (19 ms against 4 ms for MOS < 3.5),
 *   and its random key order made each insert touch a random page.
 * - `cdr.idx_sensor`, `register.idx_sensor`, `register_failed.idx_sensor`: no search filters by
 *   sensor alone; the few sensors make `sensor_id` a weak filter applied while walking the start
 *   index.
 *
 * `DROP INDEX IF EXISTS` / `ADD INDEX IF NOT EXISTS` (MariaDB) keep the step re-runnable.
 */
export const SCHEMA_V2: readonly string[] = [
  `ALTER TABLE cdr ADD INDEX IF NOT EXISTS idx_start_mos (start, mos_worst),
  DROP INDEX IF EXISTS idx_start, DROP INDEX IF EXISTS idx_mos, DROP INDEX IF EXISTS idx_sensor`,
  'ALTER TABLE `register` DROP INDEX IF EXISTS idx_sensor',
  'ALTER TABLE register_failed DROP INDEX IF EXISTS idx_sensor',
];

/**
 * Longest Call-ID text stored, in characters. RFC 3261 sets no limit; real ones are 20-100
 * characters. A longer one is stored cut to this many characters (counted in the writer's
 * `long_call_ids` and `truncated_fields`), while its `call_id_hash` is of the whole Call-ID: two
 * calls never merge because their Call-IDs share a long prefix, and a search by the exact whole
 * Call-ID still finds the row.
 */
export const CALL_ID_MAX_CHARS = 1024;

/**
 * SQL of `call_id_hash` computed by the server from a column or value (the first 16 bytes of the
 * SHA-256 of its UTF-8 text), identical to the writer's `callIdHash`. Only the default of the
 * column and the migration of existing rows use it; the writer sends the hash of the whole Call-ID.
 */
const CALL_ID_HASH_SQL = (expr: string): string => `UNHEX(LEFT(SHA2(${expr}, 256), 32))`;

/** `cdr` column holding `CallDropped` key `key` (`dropped_rtp_malformed`...). */
export const droppedColumn = (key: (typeof CALL_DROPPED_KEYS)[number]): string => `dropped_${key}`;

/** The Call-ID columns of version 3, for `cdr`, `register` and `register_failed`. */
const callIdColumnsV3 = `MODIFY call_id VARCHAR(${CALL_ID_MAX_CHARS}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  ADD COLUMN IF NOT EXISTS call_id_hash BINARY(16) NOT NULL DEFAULT (${CALL_ID_HASH_SQL('call_id')}) AFTER call_id,
  ADD COLUMN IF NOT EXISTS replays SMALLINT UNSIGNED NOT NULL DEFAULT 0`;

/**
 * Statements of schema version 3 (issue 12 finding 7, and the CDR's `dropped` field).
 *
 * Whole Call-IDs in the natural keys. Version 1 keyed calls and registrations on a
 * `VARCHAR(255)` Call-ID the writer cut to 255 characters, so two calls whose Call-IDs shared
 * their first 255 characters and their start merged into one row (and the second call's streams
 * were dropped as "replayed"). A unique key cannot hold a 1024-character utf8mb4 column (InnoDB's
 * 3072-byte key limit), so the keys hold `call_id_hash BINARY(16)` (first 16 bytes of the SHA-256
 * of the whole Call-ID: no accidental or crafted collision is known at that width) and the text
 * column grows to {@link CALL_ID_MAX_CHARS}. The hash also serves the search by exact Call-ID, with
 * a 16-byte key instead of the text. Existing rows get the hash of their stored text through the
 * column's default, computed while the table is rebuilt (one pass, no separate UPDATE).
 *
 * `replays`: how many times a writer offered a row that was already stored (a batch replayed
 * after a lost COMMIT acknowledgement, or the on-disk queue's at-least-once replay). The
 * `ON DUPLICATE KEY UPDATE` raises it, which is how the writer tells new rows from rows already
 * present, both through `RETURNING` (0 = inserted now) and through affected rows (1 per new row,
 * 2 per updated one, whatever the connection's `CLIENT_FOUND_ROWS` flag).
 *
 * `dropped_*`: one nullable `INT UNSIGNED` per {@link CALL_DROPPED_KEYS} key, all `NULL` when the
 * record's `dropped` is `null`. Columns rather than one JSON value so each count can be read,
 * summed and compared in SQL by the GUI and reports without JSON functions. `incomplete` is
 * derived from them by the server (a stored generated column, so no writer can get it wrong) and
 * appended to the start index as `idx_start_quality (start, mos_worst, incomplete)`: "calls whose
 * data is incomplete" in a range is then tested on the index entries alone, like "MOS below x",
 * for one byte per entry instead of a separate index (a B-tree write per inserted row).
 *
 * One `ALTER` per table so a big table is rebuilt once; every clause has `IF [NOT] EXISTS` or is
 * a no-op when repeated, so the step re-runs after an interruption.
 */
export const SCHEMA_V3: readonly string[] = [
  `ALTER TABLE cdr ${callIdColumnsV3},
  ${CALL_DROPPED_KEYS.map((k) => `ADD COLUMN IF NOT EXISTS ${droppedColumn(k)} INT UNSIGNED NULL`).join(',\n  ')},
  ADD COLUMN IF NOT EXISTS incomplete TINYINT(1) AS (GREATEST(${CALL_DROPPED_KEYS.map((k) => `COALESCE(${droppedColumn(k)}, 0)`).join(', ')}) > 0) PERSISTENT,
  DROP INDEX IF EXISTS uk_call, ADD UNIQUE KEY IF NOT EXISTS uk_call_hash (call_id_hash, sensor_id, start),
  DROP INDEX IF EXISTS idx_start_mos, ADD INDEX IF NOT EXISTS idx_start_quality (start, mos_worst, incomplete)`,
  ...['register', 'register_failed'].map(
    (t) => `ALTER TABLE \`${t}\` ${callIdColumnsV3},
  DROP INDEX IF EXISTS uk_register, ADD UNIQUE KEY IF NOT EXISTS uk_register_hash (call_id_hash, sensor_id, \`first\`)`,
  ),
];

/**
 * Statements of schema version 4 (issue 13, the sensor daemon):
 * - `cdr.end_reason` gains `sensor_shutdown` (a call still open when the daemon stopped): the
 *   ENUM is widened to every current {@link END_REASONS} value, appended after the version-1 ones
 *   so existing rows keep their values (MariaDB rewrites no row for an ENUM extended at its end).
 * - `sensors` gets the daemon's heartbeat: `version`, `started`, `heartbeat` (UTC), `state`
 *   (`running`/`stopped`) and the latest `stats` document (JSON), so the GUI shows which sensors
 *   are alive without asking each one.
 */
export const SCHEMA_V4: readonly string[] = [
  `ALTER TABLE cdr MODIFY end_reason ${enumOf(END_REASONS_V4)} NOT NULL`,
  `ALTER TABLE sensors ADD COLUMN IF NOT EXISTS version VARCHAR(32) NULL,
  ADD COLUMN IF NOT EXISTS started DATETIME(6) NULL,
  ADD COLUMN IF NOT EXISTS heartbeat DATETIME(6) NULL,
  ADD COLUMN IF NOT EXISTS state VARCHAR(16) NULL,
  ADD COLUMN IF NOT EXISTS stats LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL CHECK (stats IS NULL OR JSON_VALID(stats))`,
];

/**
 * Statements of schema version 5 (issue 15, the web GUI's logins):
 * - `users`: one row per GUI account. `name` is byte-exact (`utf8mb4_bin`: `Admin` and `admin`
 *   are two names, so no collation rule can merge accounts); `password_hash` holds the whole
 *   scrypt string `scrypt$N$r$p$salt$hash`, parameters and per-user salt included, so the cost
 *   can be raised later without invalidating stored hashes.
 * - `gui_sessions`: one row per logged-in browser, keyed by the SHA-256 of the session token (the
 *   token itself lives only in the browser's cookie, so a copy of this table logs nobody in).
 *   Sessions are in the database rather than in memory so they survive a GUI restart and are
 *   shared by several GUI processes behind one address; `created` bounds a session's absolute age
 *   and `last_seen` its idle time. Deleting a user deletes its sessions (foreign key).
 */
export const SCHEMA_V5: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS users (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  role ENUM('admin','viewer') NOT NULL,
  password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created DATETIME(6) NOT NULL,
  last_login DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_name (name)
) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS gui_sessions (
  token_hash BINARY(32) NOT NULL,
  user_id INT UNSIGNED NOT NULL,
  created DATETIME(6) NOT NULL,
  last_seen DATETIME(6) NOT NULL,
  PRIMARY KEY (token_hash),
  KEY idx_user (user_id),
  KEY idx_last_seen (last_seen),
  CONSTRAINT fk_gui_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ${TABLE_OPTIONS}`,
];

/**
 * Statements of schema version 6 (the GUI's address search and duration sort, task B2):
 * - `idx_caller_ip (caller_ip, start)` and `idx_callee_ip (callee_ip, start)`: the call list's
 *   "IP or CIDR" filter (either party) read every row of its range without them (1.4-1.8 s for
 *   one address over a day on 10 M CDRs). With them the search is two index range scans, one per
 *   party, whose keys are merged by the GUI query (a `UNION` of the two, each ordered and limited
 *   by itself: see gui-search.ts). An address or a CIDR is a byte range of the `VARBINARY(16)`
 *   column, so a /24 is one range scan, not 256 lookups; `start` second lets the scan test the
 *   start range on the index entry, and the primary key `(id, start)` appended to every secondary
 *   entry makes the scan covering (no row is read to find a page's keys).
 * - `idx_duration (duration, start)`: the list sorted by duration read and sorted every row of
 *   the range (1.6-2.5 s for a day). Its entries end with `(duration, start, id)`, exactly the
 *   list's keyset order, so the longest (or shortest) calls of a range are a backward (forward)
 *   walk that stops after a page. The table is partitioned by day, so a day's search walks only
 *   that day's small index, and ranges shorter than a day stop early too (an hour is 1/24 of the
 *   day's entries: ~24 entries walked per row kept).
 *
 * Each index is one more B-tree write per CDR (the README's index table has the measured cost).
 * A day's entries of each index (~30-40 bytes each) stay in the buffer pool while that day is
 * being written, so the random key order of the address and duration keys costs CPU, not a disk
 * read per insert, as long as the pool holds the current day's indexes.
 *
 * `ALGORITHM=INPLACE, LOCK=NONE`: the indexes are built online, sensors keep writing CDRs while a
 * big table is migrated (the statement fails rather than silently copying the table under a lock);
 * `ADD INDEX IF NOT EXISTS` keeps the step re-runnable after an interruption.
 */
export const SCHEMA_V6: readonly string[] = [
  `ALTER TABLE cdr ADD INDEX IF NOT EXISTS idx_caller_ip (caller_ip, start),
  ADD INDEX IF NOT EXISTS idx_callee_ip (callee_ip, start),
  ADD INDEX IF NOT EXISTS idx_duration (duration, start), ALGORITHM=INPLACE, LOCK=NONE`,
];

/**
 * Version 7 (issue 18): the database's own identity. An on-disk CDR queue records the identity of
 * the database its records belong to and refuses to replay them into another one (a URL names a
 * place, not a database: the same host and name may hold a restored or recreated database). The
 * UUID is made by the server once, when the step runs; a copy of the database keeps it.
 */
export const SCHEMA_V7: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS instance (
  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  uuid CHAR(36) CHARACTER SET ascii NOT NULL,
  created DATETIME(6) NOT NULL
) ${TABLE_OPTIONS}`,
  'INSERT IGNORE INTO instance (id, uuid, created) VALUES (1, UUID(), UTC_TIMESTAMP(6))',
];

/**
 * Version 8 (issue 19): `cdr.end_reason` gains `bye_failed` (a BYE answered with a failure), the
 * ENUM widened at its end to every current {@link END_REASONS} value (no row rewritten).
 */
export const SCHEMA_V8: readonly string[] = [`ALTER TABLE cdr MODIFY end_reason ${enumOf(END_REASONS)} NOT NULL`];

/**
 * Version 9 (issue 19): `cdr_rtp.codecs`, every codec a stream carried with the time it started
 * (`StreamRecord.codecs` as JSON text; NULL for rows written before, read back as `[]`). At most
 * 32 entries of ~60 bytes.
 */
export const SCHEMA_V9: readonly string[] = [
  'ALTER TABLE cdr_rtp ADD COLUMN IF NOT EXISTS codecs VARCHAR(4096) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL CHECK (codecs IS NULL OR JSON_VALID(codecs))',
];

/**
 * Version 10 (issue 19): the identifiers that link the legs of one conversation, and forks.
 * - `x_cid`, `session_uuid`/`session_remote_uuid` (RFC 7989, 32 lowercase hex digits) and `icid`
 *   (P-Charging-Vector), each indexed with `start` so "every leg with this id" is a range of one
 *   index per day partition, like the Call-ID search.
 * - `cdr_correlation`: the values of a sensor's configured correlation headers, one row per
 *   header, indexed by value: carriers name their own headers, so they cannot be columns.
 * - `linked_legs`, `branches`, `correlation`: the record's lists as JSON text (read back whole for
 *   the detail; NULL for rows written before, read back as empty).
 * - `a_codecs`/`b_codecs`: every codec of the side's main stream in order, comma-separated
 *   (`PCMA,PCMU` after a re-INVITE switched codecs), for the call list and the codec filter.
 */
export const SCHEMA_V10: readonly string[] = [
  `ALTER TABLE cdr
  ADD COLUMN IF NOT EXISTS x_cid VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  ADD COLUMN IF NOT EXISTS session_uuid CHAR(32) CHARACTER SET ascii NULL,
  ADD COLUMN IF NOT EXISTS session_remote_uuid CHAR(32) CHARACTER SET ascii NULL,
  ADD COLUMN IF NOT EXISTS icid VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  ADD COLUMN IF NOT EXISTS correlation VARCHAR(4096) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL CHECK (correlation IS NULL OR JSON_VALID(correlation)),
  ADD COLUMN IF NOT EXISTS linked_legs TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL CHECK (linked_legs IS NULL OR JSON_VALID(linked_legs)),
  ADD COLUMN IF NOT EXISTS branches TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL CHECK (branches IS NULL OR JSON_VALID(branches)),
  ADD COLUMN IF NOT EXISTS a_codecs VARCHAR(128) CHARACTER SET ascii NULL,
  ADD COLUMN IF NOT EXISTS b_codecs VARCHAR(128) CHARACTER SET ascii NULL`,
  `ALTER TABLE cdr ADD INDEX IF NOT EXISTS idx_x_cid (x_cid, start),
  ADD INDEX IF NOT EXISTS idx_session_uuid (session_uuid, start),
  ADD INDEX IF NOT EXISTS idx_icid (icid, start), ALGORITHM=INPLACE, LOCK=NONE`,
  `CREATE TABLE IF NOT EXISTS cdr_correlation (
  cdr_id BIGINT UNSIGNED NOT NULL,
  start DATETIME(6) NOT NULL,
  idx TINYINT UNSIGNED NOT NULL,
  name VARCHAR(64) CHARACTER SET ascii NOT NULL,
  value VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (cdr_id, start, idx),
  KEY idx_value (value, start)
) ${TABLE_OPTIONS}
${partitionBy('start')}`,
];

/** A partitioned table and the `DATETIME(6)` column its daily partitions follow. */
export interface PartitionedTable {
  /** Table name. */
  table: string;
  /** Partitioning column. */
  column: string;
}

/** Every partitioned table; children first so retention never leaves orphans behind a parent. */
export const PARTITIONED_TABLES: readonly PartitionedTable[] = [
  { table: 'cdr_rtp', column: 'start' },
  { table: 'cdr_sip_response', column: 'start' },
  { table: 'cdr_dtmf', column: 'start' },
  { table: 'cdr_correlation', column: 'start' },
  { table: 'cdr', column: 'start' },
  { table: 'register', column: 'first' },
  { table: 'register_failed', column: 'first' },
];
