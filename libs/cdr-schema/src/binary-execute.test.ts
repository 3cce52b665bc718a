import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { SqlValue } from './cdr-row.js';
import { enableLeanExecute, encodeStmtExecute } from './binary-execute.js';

/**
 * An independent reader of a COM_STMT_EXECUTE packet of `n` parameters, written from the protocol
 * description (https://mariadb.com/kb/en/com_stmt_execute/), to check what the encoder wrote.
 */
function decodeWith(b: Buffer, n: number): { id: number; types: number[]; values: SqlValue[] } {
  expect(b[4]).toBe(0x17);
  const id = b.readUInt32LE(5);
  expect(b[9]).toBe(0); // no cursor
  expect(b.readUInt32LE(10)).toBe(1); // iteration count
  const nullAt = 14;
  const nullBytes = (n + 7) >> 3;
  expect(b[nullAt + nullBytes]).toBe(1);
  let typeAt = nullAt + nullBytes + 1;
  let at = typeAt + 2 * n;
  const types: number[] = [];
  const values: SqlValue[] = [];
  const lenenc = (): number => {
    const first = b[at++]!;
    if (first < 251) return first;
    if (first === 0xfc) return (at += 2), b.readUInt16LE(at - 2);
    if (first === 0xfd) return (at += 3), b.readUIntLE(at - 3, 3);
    at += 8;
    return Number(b.readBigUInt64LE(at - 8));
  };
  for (let i = 0; i < n; i++, typeAt += 2) {
    const type = b[typeAt]!;
    expect(b[typeAt + 1]).toBe(0);
    types.push(type);
    const isNull = (b[nullAt + (i >> 3)]! & (1 << (i & 7))) !== 0;
    if (isNull) {
      expect(type).toBe(6);
      values.push(null);
      continue;
    }
    if (type === 3) values.push(b.readInt32LE((at += 4) - 4));
    else if (type === 8) values.push(Number(b.readBigInt64LE((at += 8) - 8)));
    else if (type === 5) values.push(b.readDoubleLE((at += 8) - 8));
    else if (type === 253) {
      const len = lenenc();
      values.push(b.toString('utf8', at, (at += len)));
    } else if (type === 252) {
      const len = lenenc();
      values.push(Buffer.from(b.subarray(at, (at += len))));
    } else throw new Error(`unexpected type ${type}`);
  }
  expect(at).toBe(b.length); // exactly sized: the packet header length is buffer.length - 4
  return { id, types, values };
}

describe('encodeStmtExecute', () => {
  it('writes every kind of value with the type the server stores best', () => {
    const values: SqlValue[] = [1, -5, 2 ** 31, -(2 ** 40), 0.25, Number.NaN, 'PCMA', '', 'ü€😀', Buffer.from([10, 0, 0, 1]), null, 2 ** 53];
    const b = encodeStmtExecute(0xdeadbeef, values);
    const d = decodeWith(b, values.length);
    expect(d.id).toBe(0xdeadbeef);
    expect(d.types).toEqual([3, 3, 8, 8, 5, 5, 253, 253, 253, 252, 6, 5]);
    expect(d.values).toEqual(values);
  });

  it('sets the NULL bitmap across byte boundaries', () => {
    const values: SqlValue[] = Array.from({ length: 17 }, (_, i) => (i % 3 === 0 ? null : i));
    const d = decodeWith(encodeStmtExecute(1, values), values.length);
    expect(d.values).toEqual(values);
    expect(encodeStmtExecute(1, values).subarray(14, 17)).toEqual(Buffer.from([0b01001001, 0b10010010, 0b00000000]));
  });

  it.each([
    ['250 bytes', 'x'.repeat(250)],
    ['251 bytes (3-byte length)', 'x'.repeat(251)],
    ['84 three-byte characters', '€'.repeat(84)],
    ['65,536 bytes (4-byte length)', 'y'.repeat(65_536)],
  ])('length-prefixes a string of %s', (_label, text) => {
    expect(decodeWith(encodeStmtExecute(7, [text, 1]), 2).values).toEqual([text, 1]);
  });

  it.each([
    ['undefined', undefined],
    ['an object', { a: 1 }],
    ['a bigint', 5n],
    ['a boolean', true],
  ])('rejects %s (a producer bug) with a TypeError', (_label, bad) => {
    expect(() => encodeStmtExecute(1, [1, bad as unknown as SqlValue])).toThrow(TypeError);
  });

  test.prop([
    fc.array(
      fc.oneof(
        fc.constant(null),
        fc.integer(),
        fc.maxSafeInteger(),
        fc.double({ noNaN: true }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      ),
      { maxLength: 200 },
    ),
  ])('decodes back to the values it was given', (values) => {
    const d = decodeWith(encodeStmtExecute(42, values), values.length);
    // Lone surrogates cannot survive UTF-8; MariaDB would see U+FFFD as well.
    const expected = values.map((v) => (typeof v === 'string' ? Buffer.from(v, 'utf8').toString('utf8') : Object.is(v, -0) ? 0 : v));
    expect(d.values).toEqual(expected);
  });
});

describe('enableLeanExecute', () => {
  it('finds the mysql2 internals it hooks (fails when a mysql2 upgrade loses the fast path)', () => {
    expect(enableLeanExecute()).toEqual({ enabled: true, reason: 'ok' });
    expect(enableLeanExecute()).toBe(enableLeanExecute()); // idempotent
  });
});
