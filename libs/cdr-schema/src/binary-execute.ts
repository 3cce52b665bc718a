/**
 * A lean encoder of `COM_STMT_EXECUTE`, the packet that runs a prepared statement, for the
 * writer's multi-row INSERTs.
 *
 * Why: a full batch is one statement of 500 rows, 32,500 parameters for `cdr` alone. mysql2 builds
 * that packet through one descriptor object per parameter (type, length, writer function) and one
 * intermediate Buffer per string, then walks them again to write: measured about 10 µs of writer
 * CPU per CDR (of about 35) plus the garbage it leaves, which shows up again as GC time. Writing
 * the values straight into one buffer costs about 3.5 µs per CDR and leaves one allocation.
 *
 * Wire format (https://mariadb.com/kb/en/com_stmt_execute/, MySQL's "COM_STMT_EXECUTE"): command
 * byte 0x17, statement id (4), cursor flags (1), iteration count (4, always 1), NULL bitmap
 * ((n + 7) / 8), new-params-bound flag (1), per parameter its type (1) and flags (1), then the
 * values of the non-NULL parameters. Integers travel as LONG / LONGLONG instead of mysql2's DOUBLE
 * for every number, so the server stores them without a float conversion; strings as
 * length-encoded UTF-8 (the connection charset is utf8mb4); Buffers as BLOB, as mysql2 sends them,
 * so the server never converts binary values through a character set.
 *
 * {@link enableLeanExecute} plugs the encoder into mysql2 for parameter arrays the writer marks
 * with {@link markLean}; every other statement of the process keeps mysql2's own encoding.
 *
 * @packageDocumentation
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SqlValue } from './cdr-row.js';

/** Command byte of COM_STMT_EXECUTE. */
const COM_STMT_EXECUTE = 0x17;
/** Field types of the binary protocol (include/mysql_com.h `enum_field_types`). */
const TYPE_LONG = 0x03;
const TYPE_DOUBLE = 0x05;
const TYPE_NULL = 0x06;
const TYPE_LONGLONG = 0x08;
const TYPE_BLOB = 0xfc;
const TYPE_VAR_STRING = 0xfd;
/** Fixed part after the 4-byte packet header: command, statement id, flags, iteration count. */
const FIXED_BYTES = 1 + 4 + 1 + 4;
/** A string of at most this many UTF-16 units is at most 250 UTF-8 bytes: a 1-byte length prefix. */
const SHORT_STRING_UNITS = 83;

/**
 * The COM_STMT_EXECUTE packet for `values`, with 4 bytes left at the front for the packet header
 * (length and sequence id, which the connection writes when it sends it). The Buffer is exactly
 * the packet's size.
 *
 * @throws TypeError for a value that is not a string, a finite or non-finite number, a Buffer or
 *   null (the writer never produces one: a bug, not bad input).
 */
export function encodeStmtExecute(statementId: number, values: readonly SqlValue[]): Buffer {
  const n = values.length;
  const nullBytes = (n + 7) >> 3;
  // An upper bound, so the values are written in one pass: 3 UTF-8 bytes per UTF-16 unit at most,
  // and a length prefix of at most 9 bytes.
  let bound = 4 + FIXED_BYTES + nullBytes + 1 + 2 * n;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null) continue;
    if (typeof v === 'number') bound += 8;
    else if (typeof v === 'string') bound += 9 + 3 * v.length;
    else if (Buffer.isBuffer(v)) bound += 9 + v.length;
    else throw new TypeError(`parameter ${i} is a ${typeof v}; expected string, number, Buffer or null`);
  }
  const b = Buffer.allocUnsafe(bound);
  b[4] = COM_STMT_EXECUTE;
  b.writeUInt32LE(statementId, 5);
  b[9] = 0; // CURSOR_TYPE_NO_CURSOR
  b.writeUInt32LE(1, 10);
  const nullAt = 4 + FIXED_BYTES;
  b.fill(0, nullAt, nullAt + nullBytes);
  b[nullAt + nullBytes] = 1; // types follow
  let typeAt = nullAt + nullBytes + 1;
  let at = typeAt + 2 * n;
  for (let i = 0; i < n; i++, typeAt += 2) {
    const v = values[i] as SqlValue; // checked above
    b[typeAt + 1] = 0; // signed
    if (v === null) {
      b[nullAt + (i >> 3)]! |= 1 << (i & 7);
      b[typeAt] = TYPE_NULL;
    } else if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) {
        b[typeAt] = TYPE_LONG;
        at = b.writeInt32LE(v, at);
      } else if (Number.isSafeInteger(v)) {
        b[typeAt] = TYPE_LONGLONG;
        at = b.writeBigInt64LE(BigInt(v), at);
      } else {
        b[typeAt] = TYPE_DOUBLE;
        at = b.writeDoubleLE(v, at);
      }
    } else if (typeof v === 'string') {
      b[typeAt] = TYPE_VAR_STRING;
      if (v.length <= SHORT_STRING_UNITS) {
        // Most values are short ASCII (numbers, codecs, enum names, timestamps): copied by hand
        // they skip Buffer#write's argument handling, which cost more than the copy itself.
        const units = v.length;
        let j = 0;
        for (; j < units; j++) {
          const c = v.charCodeAt(j);
          if (c >= 0x80) break;
          b[at + 1 + j] = c;
        }
        const len = j === units ? units : b.write(v, at + 1);
        b[at] = len;
        at += 1 + len;
      } else {
        at = writeLengthPrefix(b, at, Buffer.byteLength(v));
        at += b.write(v, at);
      }
    } else {
      b[typeAt] = TYPE_BLOB;
      at = writeLengthPrefix(b, at, v.length);
      at += v.copy(b, at);
    }
  }
  return b.subarray(0, at);
}

/** A length-encoded integer (1, 3, 4 or 9 bytes) at `at`; returns the offset after it. */
function writeLengthPrefix(b: Buffer, at: number, len: number): number {
  if (len < 251) {
    b[at] = len;
    return at + 1;
  }
  if (len < 0x10000) {
    b[at] = 0xfc;
    return b.writeUInt16LE(len, at + 1);
  }
  if (len < 0x1000000) {
    b[at] = 0xfd;
    return b.writeUIntLE(len, at + 1, 3);
  }
  b[at] = 0xfe;
  return b.writeBigUInt64LE(BigInt(len), at + 1);
}

/** Parameter arrays whose packet {@link encodeStmtExecute} builds. */
const leanParams = new WeakSet<readonly SqlValue[]>();

/**
 * Marks a parameter array for the lean encoder (see {@link enableLeanExecute}); returns it. The
 * array must hold only strings, numbers, Buffers and nulls, and must not change until the
 * statement has been sent.
 */
export function markLean<T extends SqlValue[]>(values: T): T {
  leanParams.add(values);
  return values;
}

/** Statement texts whose PREPARE answer mysql2 need not turn into parameter definitions. */
const leanStatements = new Set<string>();

/**
 * Marks a statement text whose prepared statement's parameter definitions nobody reads (see
 * {@link enableLeanExecute}); returns it. Its `PreparedStatementInfo.parameters` is then empty.
 */
export function markLeanStatement(sql: string): string {
  leanStatements.add(sql);
  return sql;
}

/** `CLIENT_QUERY_ATTRIBUTES` (MySQL 8.0.23+): the packet carries a parameter count and names. */
const CLIENT_QUERY_ATTRIBUTES = 1 << 27;

/** The part of mysql2's internal `Packets.Execute` the hook reads. */
interface MysqlExecutePacket {
  id: number;
  parameters: SqlValue[] | undefined;
  clientFlags: number;
  toPacket: (this: MysqlExecutePacket, sequenceId: number) => unknown;
}

type PacketCtor = new (id: number, buffer: Buffer, start: number, end: number) => unknown;

/** A state of mysql2's command state machine: the next state, or null when the command is done. */
type CommandState = (this: MysqlPrepareCommand, packet: { isEOF(): boolean }, connection: unknown) => CommandState | null;

/** The part of mysql2's internal `Prepare` command the hook reads. */
interface MysqlPrepareCommand {
  query: string;
  parameterCount: number;
  /** Parameter definitions passed over (this hook's own field). */
  skippedParameters?: number;
  readParameter: CommandState;
  parametersEOF: CommandState;
}

let state: { enabled: boolean; reason: string } | null = null;

/**
 * Makes mysql2 encode the COM_STMT_EXECUTE of parameter arrays marked with {@link markLean} with
 * {@link encodeStmtExecute}, and skip the parameter definitions in the PREPARE answer of statements
 * marked with {@link markLeanStatement}; idempotent, process-wide. Every other statement, and every
 * statement on a MySQL connection that negotiated query attributes, keeps mysql2's encoding.
 *
 * Why the second: the server answers a PREPARE with one column definition per placeholder, and
 * mysql2 parses each into an object that only `PreparedStatementInfo.parameters` exposes (its own
 * encoder ignores them, and so does encodeStmtExecute). For the writer's 34,000-placeholder INSERT
 * that was ~50 ms of the packet thread per connection and statement (60 ms against 12 ms,
 * measured), 0.3 s per run of `sniffer analyze --db` at three connections.
 *
 * mysql2 has no public hook for this, so it wraps `toPacket` of its internal execute packet and
 * `readParameter` of its internal prepare command, found next to the resolved package. The shapes
 * are checked first; if this mysql2 differs, nothing is changed and the writer runs on mysql2's own
 * (slower) paths: `enabled` is false and `reason` says why. `libs/cdr-schema/src/binary-execute.test.ts`
 * fails in that case, so an upgrade that loses the fast path is noticed.
 */
export function enableLeanExecute(): { enabled: boolean; reason: string } {
  if (state !== null) return state;
  try {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve('mysql2'));
    const Execute = require(join(root, 'lib/packets/execute.js')) as { prototype: MysqlExecutePacket } | undefined;
    const Packet = require(join(root, 'lib/packets/packet.js')) as PacketCtor | undefined;
    const original = Execute?.prototype.toPacket;
    if (Execute === undefined || typeof original !== 'function' || typeof Packet !== 'function') {
      state = { enabled: false, reason: 'mysql2 internals changed: lib/packets/execute.js has no toPacket' };
      return state;
    }
    const Prepare = require(join(root, 'lib/commands/prepare.js')) as { prototype: MysqlPrepareCommand } | undefined;
    const readParameter = Prepare?.prototype.readParameter;
    const parametersEOF = Prepare?.prototype.parametersEOF;
    if (Prepare === undefined || typeof readParameter !== 'function' || typeof parametersEOF !== 'function') {
      state = { enabled: false, reason: 'mysql2 internals changed: lib/commands/prepare.js has no readParameter/parametersEOF' };
      return state;
    }
    Prepare.prototype.readParameter = function leanReadParameter(this: MysqlPrepareCommand, packet, connection): CommandState | null {
      if (!leanStatements.has(this.query) || packet.isEOF()) return readParameter.call(this, packet, connection);
      const seen = (this.skippedParameters ?? 0) + 1;
      this.skippedParameters = seen;
      return seen === this.parameterCount ? parametersEOF : leanReadParameter;
    };
    Execute.prototype.toPacket = function toPacket(this: MysqlExecutePacket, sequenceId: number): unknown {
      const values = this.parameters;
      if (values === undefined || !leanParams.has(values) || (this.clientFlags & CLIENT_QUERY_ATTRIBUTES) !== 0) {
        return original.call(this, sequenceId);
      }
      const buf = encodeStmtExecute(this.id, values);
      return new Packet(0, buf, 0, buf.length);
    };
    state = { enabled: true, reason: 'ok' };
  } catch (err) {
    state = { enabled: false, reason: `mysql2 internals not found: ${err instanceof Error ? err.message : String(err)}` };
  }
  return state;
}
