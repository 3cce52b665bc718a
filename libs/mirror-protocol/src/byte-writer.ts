/**
 * Writes `v` (an integer, 0 .. 2^53 - 1) as a LEB128 varint at `b[at]` and returns the position
 * after it; the caller reserved the room (8 bytes suffice). The flow-block encoder calls it
 * directly into its sections, ByteWriter.varint through its growing buffer.
 */
export function putVarint(b: Uint8Array, at: number, v: number): number {
  if (v < 0x80) {
    b[at] = v;
    return at + 1;
  }
  while (v >= 0x80000000) {
    b[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  while (v >= 0x80) {
    b[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[at++] = v;
  return at;
}

/**
 * A growable byte buffer for the flow-block encoder: LEB128 varints (as protobuf writes them) and
 * raw bytes, reused across batches (`reset()` keeps the capacity), so the hot path allocates only
 * when a batch is larger than every batch before it.
 */
export class ByteWriter {
  /** The bytes; `[0, length)` is written. */
  buf: Uint8Array;
  /** A DataView of {@link buf} (word-wise writes), replaced with it when it grows. */
  view: DataView;
  /** Bytes written. */
  length = 0;

  constructor(capacity = 4096) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Forgets the content, keeps the capacity. */
  reset(): void {
    this.length = 0;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Writes one byte. */
  byte(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }

  /** Writes an unsigned integer (0 .. 2^53 - 1) as a LEB128 varint. */
  varint(v: number): void {
    this.ensure(8);
    this.length = putVarint(this.buf, this.length, v);
  }

  /** Writes `src[from, to)`. */
  bytes(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    this.ensure(n);
    copyBytes(src, from, this.buf, this.length, n);
    this.length += n;
  }
}

/** Zig-zag maps a signed integer (|v| < 2^52) to an unsigned one: 0, -1, 1, -2 -> 0, 1, 2, 3. */
export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** Inverse of {@link zigzag}. */
export function unzigzag(v: number): number {
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}

/**
 * Copies `n` bytes from `src[from]` to `dst[at]`. Runs up to 32 bytes by a loop; longer ones by
 * `set(subarray())`: a short-lived view object, 5x cheaper than a byte loop (measured, node 20:
 * 160 bytes 0.04 us against 0.22 us; 20 bytes 0.041 against 0.034). The flow-block encoder no
 * longer copies packets through it (it copies word by word through DataViews, summing the UDP
 * checksum on the way: no view per packet); the decoder and whole-section copies do.
 */
export function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, at: number, n: number): void {
  if (n > 32) {
    dst.set(src.subarray(from, from + n), at);
    return;
  }
  for (let k = 0; k < n; k++) dst[at + k] = src[from + k]!;
}
