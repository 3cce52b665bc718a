// The lean COM_STMT_EXECUTE encoder against the real server: the same rows inserted through it and
// through mysql2's own encoder must read back identical, for every column type the writer fills.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlValue } from '../src/cdr-row.js';
import { enableLeanExecute, markLean, markLeanStatement } from '../src/binary-execute.js';
import { createTestDb } from './helpers.js';
import type { TestDb } from './helpers.js';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
  await db.pool.query(`CREATE TABLE t (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, via VARCHAR(8) NOT NULL,
    i INT NULL, u INT UNSIGNED NULL, s SMALLINT UNSIGNED NULL, big BIGINT UNSIGNED NULL, d DOUBLE NULL,
    txt VARCHAR(255) NULL, bin VARBINARY(16) NULL, ts DATETIME(6) NULL, side ENUM('caller','callee') NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
});
afterAll(async () => {
  await db.drop();
});

const ROWS: SqlValue[][] = [
  [-7, 4_294_967_295, 65_535, 2 ** 53 - 1, 0.1 + 0.2, 'PCMA ü€😀', Buffer.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), '2026-11-29 23:59:59.999999', 'callee'],
  [null, null, null, null, null, null, null, null, null],
  [0, 0, 0, 0, -1e-300, '', Buffer.from([192, 0, 2, 1]), '1970-01-01 00:00:00.000000', 'caller'],
  [2_147_483_647, 3_000_000_000, 5060, 1, 4.41, 'x'.repeat(255), Buffer.alloc(0), '2038-01-19 03:14:08.000001', 'caller'],
];

describe('lean COM_STMT_EXECUTE on a real MariaDB', () => {
  it('stores exactly what mysql2’s own encoding stores, for every column type', async () => {
    expect(enableLeanExecute().enabled).toBe(true);
    const sql = `INSERT INTO t (via, i, u, s, big, d, txt, bin, ts, side) VALUES ${ROWS.map(() => '(?,?,?,?,?,?,?,?,?,?)').join(',')}`;
    for (const via of ['mysql2', 'lean']) {
      const values: SqlValue[] = ROWS.flatMap((r) => [via, ...r]);
      await db.pool.execute(sql, via === 'lean' ? markLean(values) : values);
    }
    const [rows] = await db.pool.query('SELECT via, i, u, s, big, d, txt, HEX(bin) AS bin, ts, side FROM t ORDER BY id');
    const list = rows as Record<string, unknown>[];
    const strip = (r: Record<string, unknown>): Record<string, unknown> => ({ ...r, via: undefined });
    expect(list).toHaveLength(2 * ROWS.length);
    expect(list.slice(ROWS.length).map(strip)).toEqual(list.slice(0, ROWS.length).map(strip));
    // And what both stored is what was meant, not merely the same.
    expect(list[0]).toMatchObject({ i: -7, u: 4_294_967_295, big: 9_007_199_254_740_991, txt: 'PCMA ü€😀', bin: '20010DB8000000000000000000000001', ts: '2026-11-29 23:59:59.999999', side: 'callee' });
    expect(list[0]!['d']).toBeCloseTo(0.3, 15);
  });

  it('leaves unmarked statements and out-of-range values to the server’s checks', async () => {
    // 2^32 does not fit INT UNSIGNED: strict mode rejects it whichever encoder sent it.
    await expect(db.pool.execute('INSERT INTO t (via, u) VALUES (?, ?)', markLean(['lean', 2 ** 32]))).rejects.toThrow(/Out of range/);
    await expect(db.pool.execute('INSERT INTO t (via, u) VALUES (?, ?)', ['mysql2', 2 ** 32])).rejects.toThrow(/Out of range/);
  });
});

describe('prepared statements marked with markLeanStatement', () => {
  it('are prepared without parameter definitions, run the same, and still read their result columns', async () => {
    expect(enableLeanExecute().enabled).toBe(true);
    const conn = await db.pool.getConnection();
    try {
      // Texts no other test prepares: mysql2 caches statements per connection by their text.
      const marked = 'INSERT INTO t (via, i, txt) VALUES (?,?,?),(?,?,?) RETURNING via, i, txt /* marked */';
      const plain = 'INSERT INTO t (via, i, txt) VALUES (?,?,?),(?,?,?) RETURNING via, i, txt /* plain */';
      // mysql2's promise wrapper keeps the statement (with its parameter definitions) as `statement`.
      const definitions = (info: object): unknown[] => (info as { statement: { parameters: unknown[] } }).statement.parameters;
      expect(definitions(await conn.prepare(markLeanStatement(marked)))).toEqual([]);
      expect(definitions(await conn.prepare(plain))).toHaveLength(6);
      const values: SqlValue[] = ['stmt', 1, 'one', 'stmt', 2, 'zwei ü'];
      const [leanRows] = await conn.execute(marked, markLean([...values]));
      const [fullRows] = await conn.execute(plain, [...values]);
      expect(leanRows).toEqual(fullRows);
      expect(leanRows).toEqual([{ via: 'stmt', i: 1, txt: 'one' }, { via: 'stmt', i: 2, txt: 'zwei ü' }]);
    } finally {
      conn.release();
    }
  });
});
