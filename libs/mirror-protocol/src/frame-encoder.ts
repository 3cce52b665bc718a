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
