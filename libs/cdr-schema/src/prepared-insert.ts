/**
 * Multi-row INSERTs as server-side prepared statements.
 *
 * Why: with the text protocol MariaDB runs its SQL parser over every literal of every row; on the
 * CDR path that was about a third of the server's CPU per row (measured with `perf`: `MYSQLparse`,
 * the lexer, decimal literal conversion). A prepared statement is parsed once per connection and
 * each execution only binds values sent in binary (doubles as 8 bytes, no text round trip), so the
 * exact same rows cost the server about 30% less CPU.
 *
 * A prepared statement has a fixed number of placeholders, so rows are cut into a bounded set of
 * statement shapes: whole chunks of `maxRows`, then the remainder by its binary decomposition
 * (500 = 256 + 128 + 64 + 32 + 16 + 4). A table thus never needs more than `log2(maxRows) + 2`
 * distinct statements per connection, far below `max_prepared_stmt_count`, whatever the batch sizes.
 *
 * @packageDocumentation
 */

/** MariaDB's limit of placeholders in one prepared statement (a 16-bit count in the protocol). */
export const MAX_PLACEHOLDERS = 65_535;

/**
 * The row counts a multi-row insert of `rows` rows is cut into: `floor(rows / maxRows)` chunks of
 * `maxRows`, then the powers of two of the remainder, largest first. Sums to `rows`.
 *
 * @throws RangeError if `rows` is negative or `maxRows` is not a positive integer.
 */
export function chunkSizes(rows: number, maxRows: number): number[] {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a non-negative integer, got ${rows}`);
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`maxRows must be a positive integer, got ${maxRows}`);
  const out: number[] = [];
  for (let n = Math.floor(rows / maxRows); n > 0; n--) out.push(maxRows);
  let rest = rows % maxRows;
  for (let bit = 1 << 30; rest > 0; bit >>>= 1) {
    if (rest >= bit) {
      out.push(bit);
      rest -= bit;
    }
  }
  return out;
}

/**
 * The texts of one table's multi-row INSERT for each row count, built once and reused (mysql2
 * caches prepared statements per connection by their text).
 */
export class PreparedInsert {
  /** Columns per row. */
  readonly columns: number;
  /** Largest row count of one statement. */
  readonly maxRows: number;
  private readonly head: string;
  private readonly tail: string;
  private readonly tuple: string;
  private readonly texts = new Map<number, string>();

  /**
   * @param head `INSERT INTO t (a, b, ...) VALUES`
   * @param columns number of columns of a row
   * @param tail what follows the tuples (`ON DUPLICATE KEY UPDATE ...`, `RETURNING ...`)
   * @param maxRows upper bound of rows per statement; lowered to fit {@link MAX_PLACEHOLDERS}
   */
  constructor(head: string, columns: number, tail: string, maxRows: number) {
    if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`columns must be a positive integer, got ${columns}`);
    this.head = head;
    this.tail = tail;
    this.columns = columns;
    this.maxRows = Math.max(1, Math.min(Math.floor(maxRows), Math.floor(MAX_PLACEHOLDERS / columns)));
    this.tuple = `(${new Array<string>(columns).fill('?').join(',')})`;
  }

  /** Statement text for `rows` rows (1..maxRows). */
  sql(rows: number): string {
    let text = this.texts.get(rows);
    if (text === undefined) {
      text = `${this.head} ${new Array<string>(rows).fill(this.tuple).join(',')} ${this.tail}`;
      this.texts.set(rows, text);
    }
    return text;
  }

  /** The rows cut into statements: each entry is the statement text and its flat values. */
  *statements<T>(rows: readonly (readonly T[])[]): Generator<[string, T[]]> {
    let at = 0;
    for (const size of chunkSizes(rows.length, this.maxRows)) {
      const values: T[] = [];
      for (let i = at; i < at + size; i++) {
        const row = rows[i]!;
        if (row.length !== this.columns) throw new RangeError(`row ${i} has ${row.length} values, expected ${this.columns}`);
        for (const v of row) values.push(v);
      }
      at += size;
      yield [this.sql(size), values];
    }
  }

  /**
   * Flat values (`columns` per row, rows one after another) cut into statements of the same
   * shapes as {@link PreparedInsert.statements}. When the rows make exactly one statement (a full
   * batch), `values` is passed on as is: no per-row arrays and no copy on the writer's hot path.
   *
   * @throws RangeError if `values.length` is not a multiple of `columns`.
   */
  *flatStatements<T>(values: T[]): Generator<[string, T[]]> {
    if (values.length % this.columns !== 0) {
      throw new RangeError(`${values.length} values are not a whole number of ${this.columns}-value rows`);
    }
    const sizes = chunkSizes(values.length / this.columns, this.maxRows);
    if (sizes.length === 1) {
      // A full batch (or a power of two): one statement of one of the bounded shapes, no copy.
      yield [this.sql(sizes[0]!), values];
      return;
    }
    let at = 0;
    for (const size of sizes) {
      yield [this.sql(size), values.slice(at, at + size * this.columns)];
      at += size * this.columns;
    }
  }
}
