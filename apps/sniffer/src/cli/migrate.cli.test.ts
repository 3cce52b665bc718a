// `sniffer migrate` / `status` / `retention` in process against the real MariaDB (callscope issue
// 18, finding 8: the README documented them and `npm run migrate` called them, but they did not
// exist). Databases are named cs_h2_<pid>_<n> and dropped afterwards.
import { LATEST_SCHEMA_VERSION, ensurePartitions, openPool } from '@callscope/cdr-schema';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, describe, expect, test } from 'vitest';
import { ExitCode } from './exit-code.js';
import { runSchemaCommand, type SchemaCommand } from './migrate.cli.js';
import { TextSink } from '../../test/text-sink.js';

const serverUrl = process.env['CALLSCOPE_DB_URL'] ?? 'mysql://root@127.0.0.1:3306/';
const databases: string[] = [];
const DAY_MS = 86_400_000;

interface Run {
  code: ExitCode;
  stdout: string;
  stderr: string;
}

/** One command in process; `env` stands for the whole environment (no config file unless it names one). */
async function run(command: SchemaCommand, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const stdout = new TextSink();
  const stderr = new TextSink();
  const code = await runSchemaCommand(command, args, { stdout, stderr, env });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The single JSON line a command printed on stdout. */
function jsonOf(r: Run): Record<string, unknown> {
  const lines = r.stdout.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

/** A database name of this file (not created) and its URL. */
function newDatabase(): { name: string; url: string } {
  const name = `cs_h2_${process.pid}_${databases.length}`;
  databases.push(name);
  return { name, url: Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString() };
}

async function serverQuery(sql: string, values: unknown[] = []): Promise<RowDataPacket[]> {
  const conn = await createConnection({ uri: serverUrl });
  try {
    const [rows] = await conn.query<RowDataPacket[]>(sql, values);
    return rows;
  } finally {
    await conn.end();
  }
}

async function databaseExists(name: string): Promise<boolean> {
  return (await serverQuery('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name])).length === 1;
}

afterAll(async () => {
  for (const name of databases) await serverQuery(`DROP DATABASE IF EXISTS \`${name}\``);
});

describe('sniffer migrate / status / retention', () => {
  test.each(['migrate', 'status', 'retention'] as const)('%s --help prints its usage on stdout and exits 0', async (command) => {
    const r = await run(command, ['--help']);
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.stdout).toMatch(new RegExp(`^usage: sniffer ${command} `));
    expect(r.stdout).toContain('--db <mysql-url>');
    expect(r.stdout).toContain('exit codes:');
    expect(r.stderr).toBe('');
  });

  test('migrate creates a missing database and applies every migration; again, it applies nothing; status then shows it current', async () => {
    const db = newDatabase();
    expect(await databaseExists(db.name)).toBe(false);
    const first = await run('migrate', [`--db=${db.url}`]);
    expect(first.code, first.stderr).toBe(ExitCode.Ok);
    const all = Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1);
    expect(jsonOf(first)).toMatchObject({ applied: all, current: LATEST_SCHEMA_VERSION });
    expect(await databaseExists(db.name)).toBe(true);
    const versions = await serverQuery(`SELECT version FROM \`${db.name}\`.schema_migrations ORDER BY version`);
    expect(versions.map((v) => Number(v['version']))).toEqual(all);

    const again = await run('migrate', ['--db', db.url]);
    expect(again.code, again.stderr).toBe(ExitCode.Ok);
    expect(jsonOf(again)).toMatchObject({ applied: [], current: LATEST_SCHEMA_VERSION });

    const status = await run('status', ['--db', db.url]);
    expect(status.code, status.stderr).toBe(ExitCode.Ok);
    expect(jsonOf(status)).toMatchObject({ current: LATEST_SCHEMA_VERSION, latest: LATEST_SCHEMA_VERSION, pending: [], too_new: false });
  });

  test('status of an empty database lists every migration as pending and changes nothing', async () => {
    const db = newDatabase();
    await serverQuery(`CREATE DATABASE \`${db.name}\``);
    const r = await run('status', ['--db', db.url]);
    expect(r.code, r.stderr).toBe(ExitCode.Ok);
    expect(jsonOf(r)).toMatchObject({ current: 0, pending: Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1) });
    expect(await serverQuery('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [db.name])).toHaveLength(0);
  });

  test('status of a database that does not exist fails with exit 4 and does not create it', async () => {
    const db = newDatabase();
    const r = await run('status', ['--db', db.url]);
    expect(r.code).toBe(ExitCode.Storage);
    expect(r.stderr).toMatch(/^sniffer status: .*Unknown database/m);
    expect(r.stdout).toBe('');
    expect(await databaseExists(db.name)).toBe(false);
  });

  test('retention --keep-days N drops the daily partitions before the cutoff and keeps the later ones', async () => {
    const db = newDatabase();
    expect((await run('migrate', ['--db', db.url])).code).toBe(ExitCode.Ok);
    const today = Math.floor(Date.now() / DAY_MS); // days since 1970-01-01 (UTC)
    // Partition bounds are MariaDB TO_DAYS numbers.
    const epoch = Number((await serverQuery("SELECT TO_DAYS('1970-01-01') AS d"))[0]!['d']);
    const { pool } = openPool(db.url);
    try {
      await ensurePartitions(pool, [epoch + today - 40, epoch + today - 20]);
    } finally {
      await pool.end();
    }
    const name = (day: number) => `p${new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '')}`;
    const partitionsOfCdr = async () =>
      (await serverQuery("SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'cdr'", [db.name])).map((p) => String(p['PARTITION_NAME']));
    expect(await partitionsOfCdr()).toEqual(expect.arrayContaining([name(today - 40), name(today - 20)]));

    const r = await run('retention', ['--db', db.url, '--keep-days=30']);
    expect(r.code, r.stderr).toBe(ExitCode.Ok);
    const result = jsonOf(r);
    expect(result['cutoff']).toBe(new Date((today - 30) * DAY_MS).toISOString().slice(0, 10));
    expect(result['dropped']).toContain(`cdr.${name(today - 40)}`);
    const left = await partitionsOfCdr();
    expect(left).not.toContain(name(today - 40));
    expect(left).toContain(name(today - 20));
  });

  test('retention of a database that was never migrated fails with exit 4 and says to migrate first', async () => {
    const db = newDatabase();
    await serverQuery(`CREATE DATABASE \`${db.name}\``);
    const r = await run('retention', ['--db', db.url, '--keep-days', '7']);
    expect(r.code).toBe(ExitCode.Storage);
    expect(r.stderr).toContain('run migrate first');
  });

  test('without --db the database is config db.url when the environment or the config file sets it; --db wins; the default alone is no database', async () => {
    const db = newDatabase();
    const fromEnv = await run('migrate', [], { CALLSCOPE_SNIFFER_DB_URL: db.url });
    expect(fromEnv.code, fromEnv.stderr).toBe(ExitCode.Ok);
    expect(fromEnv.stderr).toContain(`sniffer migrate: database ${db.url} (config db.url)`);
    expect(await databaseExists(db.name)).toBe(true);

    const other = newDatabase();
    const flagWins = await run('status', ['--db', other.url], { CALLSCOPE_DB_URL: db.url });
    expect(flagWins.code).toBe(ExitCode.Storage); // `other` does not exist
    expect(flagWins.stderr).not.toContain('(config db.url)');

    const none = await run('status', []);
    expect(none.code).toBe(ExitCode.Usage);
    expect(none.stderr).toContain('no database: pass --db <mysql-url>');
    expect(none.stderr).toContain('usage: sniffer status');
  });

  test('a database that does not answer: exit 4 with the reason on stderr', async () => {
    const url = 'mysql://root@127.0.0.1:1/cs_h2_unreachable';
    for (const command of ['migrate', 'status'] as const) {
      const r = await run(command, ['--db', url]);
      expect(r.code).toBe(ExitCode.Storage);
      expect(r.stderr).toMatch(new RegExp(`^sniffer ${command}: .*ECONNREFUSED`, 'm'));
      expect(r.stdout).toBe('');
    }
    const retention = await run('retention', ['--db', url, '--keep-days', '1']);
    expect(retention.code).toBe(ExitCode.Storage);
  });

  test.each([
    ['retention', ['--db', 'mysql://127.0.0.1/x'], '--keep-days is required'],
    ['retention', ['--db', 'mysql://127.0.0.1/x', '--keep-days', 'ten'], '--keep-days must be a non-negative integer'],
    ['retention', ['--db', 'mysql://127.0.0.1/x', '--keep-days=-1'], '--keep-days must be a non-negative integer'],
    ['migrate', ['--db', 'postgres://127.0.0.1/x'], 'must start with mysql:// or mariadb://'],
    ['migrate', ['--db', 'mysql://127.0.0.1:3306/'], 'names no database'],
    ['status', ['--db', 'not a url'], 'is not a URL'],
    ['status', ['--db'], '--db needs a value'],
    ['status', ['--keep-days', '3'], 'unknown option --keep-days'],
    ['migrate', ['extra'], 'unexpected argument "extra"'],
  ] as const)('%s %j: exit 2, "%s" and the usage on stderr', async (command, args, message) => {
    const r = await run(command, args);
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(`usage: sniffer ${command}`);
    expect(r.stdout).toBe('');
  });
});
