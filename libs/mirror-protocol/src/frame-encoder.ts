import protobuf from 'protobufjs/minimal.js';
import { Envelope, type EnvelopeInit } from './messages.js';
import { DEFAULT_MAX_FRAME_LENGTH, FRAME_HEADER_LENGTH } from './protocol-constants.js';

/**
 * Serialises one envelope as a frame: `u32 big-endian length | Envelope protobuf`.
 *
 * The length prefix is reserved inside the same protobuf writer (4 placeholder bytes) and patched
 * afterwards, so the frame is built in one allocation and never copied. The returned array is
 * fresh on purpose: `socket.write()` keeps a reference until it is flushed, so a reused output
 * buffer would be overwritten under the kernel's feet.
 *
 * @param envelope - the message; exactly one `oneof body` member should be set.
 * @param maxFrameLength - the receiver's bound; an envelope above it is a sender bug (batches must
 *   be cut smaller), reported as a `RangeError` rather than sent to be refused.
 * @param writer - optional reused protobufjs writer (it resets itself on `finish()`).
 * @returns the complete frame, header included.
 * @throws RangeError when the envelope is longer than `maxFrameLength`.
 */
export function encodeFrame(
  envelope: EnvelopeInit,
  maxFrameLength: number = DEFAULT_MAX_FRAME_LENGTH,
  writer: protobuf.Writer = protobuf.Writer.create(),
): Uint8Array {
  // fixed32 writes 4 bytes (little-endian); they are overwritten with the big-endian length below.
  writer.fixed32(0);
  Envelope.encode(envelope, writer);
  const frame = writer.finish();
  const length = frame.length - FRAME_HEADER_LENGTH;
  if (length > maxFrameLength) {
    throw new RangeError(`mirror frame of ${length} bytes exceeds the ${maxFrameLength}-byte bound`);
  }
  new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_LENGTH).setUint32(0, length, false);
  return frame;
}

/** `PacketBatch` bytes fields a batch frame can carry after its header: `compressed_packets` (4) or `block` (5). */
export type BatchBodyField = 4 | 5;

/** Bytes of `value` as a protobuf varint (non-negative safe integer). */
function varintLength(value: number): number {
  let n = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Writes `value` as a varint at `o` (division, not shifts: sequences go above 2^32); returns the next offset. */
function writeVarint(out: Uint8Array, o: number, value: number): number {
  while (value >= 128) {
    out[o++] = (value % 128) | 128;
    value = Math.floor(value / 128);
  }
  out[o++] = value;
  return o;
}

/**
 * The start of a batch frame whose last field is a `bytes` field of `bodyLength` bytes: the u32
 * length, the Envelope's `batch` tag and length, `sequence`, `compression` and the body field's
 * tag and length. Followed on the wire by the body itself, it gives exactly the bytes of
 * `encodeFrame({ batch: { sequence, compression, block | compressedPackets: body } })`, so a
 * connection writes the compressed block as it came from the compressor (two buffers, corked)
 * instead of copying it into a frame. The header is fresh (the socket keeps it until flushed);
 * so must the body be: a body aliasing a reused buffer must go through {@link encodeFrame}.
 *
 * @param sequence - the batch's sequence (non-negative safe integer; 0 is not written, as proto3).
 * @param compression - the `Compression` wire value (0 is not written).
 * @param field - 4 (`compressed_packets`, version 1) or 5 (`block`, version 2).
 * @param bodyLength - bytes of the body (0: the field is not written, as proto3).
 * @throws RangeError when the frame would exceed `maxFrameLength`, or on a sequence,
 *   compression or length that is not a non-negative safe integer.
 */
export function encodeBatchFrameHeader(
  sequence: number,
  compression: number,
  field: BatchBodyField,
  bodyLength: number,
  maxFrameLength: number = DEFAULT_MAX_FRAME_LENGTH,
): Uint8Array {
  for (const [name, v] of [['sequence', sequence], ['compression', compression], ['bodyLength', bodyLength]] as const) {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw new RangeError(`${name} must be a non-negative safe integer, got ${v}`);
  }
  const inner =
    (sequence !== 0 ? 1 + varintLength(sequence) : 0) +
    (compression !== 0 ? 1 + varintLength(compression) : 0) +
    (bodyLength !== 0 ? 1 + varintLength(bodyLength) + bodyLength : 0);
  const length = 1 + varintLength(inner) + inner;
  if (length > maxFrameLength) {
    throw new RangeError(`mirror frame of ${length} bytes exceeds the ${maxFrameLength}-byte bound`);
  }
  const header = new Uint8Array(FRAME_HEADER_LENGTH + length - bodyLength);
  new DataView(header.buffer, header.byteOffset, FRAME_HEADER_LENGTH).setUint32(0, length, false);
  let o = FRAME_HEADER_LENGTH;
  header[o++] = (5 << 3) | 2; // Envelope.batch, length-delimited
  o = writeVarint(header, o, inner);
  if (sequence !== 0) {
    header[o++] = (1 << 3) | 0;
    o = writeVarint(header, o, sequence);
  }
  if (compression !== 0) {
    header[o++] = (2 << 3) | 0;
    o = writeVarint(header, o, compression);
  }
  if (bodyLength !== 0) {
    header[o++] = (field << 3) | 2;
    o = writeVarint(header, o, bodyLength);
  }
  return header;
}
