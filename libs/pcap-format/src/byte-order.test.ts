import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { readU16, readU16BE, readU16LE, readU32, readU32BE, readU32LE } from './byte-order.js';

describe('byte-order readers', () => {
  const b = Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x01);

  it('read both byte orders, unsigned, at an offset', () => {
    expect(readU16BE(b, 0)).toBe(0xdead);
    expect(readU16LE(b, 0)).toBe(0xadde);
    expect(readU32BE(b, 0)).toBe(0xdeadbeef);
    expect(readU32LE(b, 0)).toBe(0xefbeadde);
    expect(readU32BE(b, 1)).toBe(0xadbeef01);
    expect(readU16(b, 2, false)).toBe(0xbeef);
    expect(readU16(b, 2, true)).toBe(0xefbe);
    expect(readU32(b, 1, true)).toBe(0x01efbead);
  });

  test.prop([fc.uint8Array({ minLength: 4, maxLength: 64 }), fc.nat()])('agree with DataView', (bytes, at) => {
    const o = at % (bytes.length - 3);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect([readU16BE(bytes, o), readU16LE(bytes, o), readU32BE(bytes, o), readU32LE(bytes, o)]).toEqual([
      view.getUint16(o, false), view.getUint16(o, true), view.getUint32(o, false), view.getUint32(o, true),
    ]);
    expect([readU16(bytes, o, true), readU32(bytes, o, false)]).toEqual([view.getUint16(o, true), view.getUint32(o, false)]);
  });
});
