import protobuf from 'protobufjs/minimal.js';

/**
 * Reads a uint64 varint as a JS number without allocating.
 *
 * protobufjs returns uint64 fields as `Long` objects whenever the `long` package is loaded (it is a
 * dependency of protobufjs, so always), whatever `--force-number` says about the types. That is
 * one object per packet timestamp on the hot path, and a type lie. Our uint64 values (sequences,
 * unix seconds) stay far below 2^53, so a number is exact; larger values round, and the checks
 * (`checkBatch`) reject unsafe sequences. Truncated input throws like protobufjs does, so the
 * caller's single catch turns it into a Malformed status.
 */
function readUint64AsNumber(this: protobuf.Reader): number {
  const buf = this.buf;
  const end = this.len;
  let pos = this.pos;
  let value = 0;
  let scale = 1;
  // A uint64 varint is at most 10 bytes (RFC-less: https://protobuf.dev/programming-guides/encoding/#varints).
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new RangeError('index out of range');
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    scale *= 0x80;
    if (byte < 0x80) {
      this.pos = pos;
      return value;
    }
  }
  throw new Error('invalid varint encoding');
}

/**
 * Creates a protobufjs Reader whose `uint64()` yields numbers (see {@link readUint64AsNumber}).
 * Only this instance is changed: the global protobufjs configuration is left alone.
 */
export function createNumberReader(buf: Uint8Array): protobuf.Reader {
  const reader = new protobuf.Reader(buf);
  (reader as unknown as { uint64: () => number }).uint64 = readUint64AsNumber;
  return reader;
}
