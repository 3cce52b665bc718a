import { CR, LF, ascii, equalsLower, lower } from './bytes.js';

/** WebSocket opcodes (RFC 6455 §5.2, §11.8). */
export const WebSocketOpcode = {
  /** Continuation of a fragmented message. */
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** Result of {@link parseWebSocketFrame}. */
export const WebSocketStatus = {
  /** Header parsed and the whole payload is inside the buffer. */
  Ok: 0,
  /** The buffer ends inside the header or the payload: `frameLength` (when known) says how much is needed. */
  Truncated: 1,
  /** RSV1-3 set without a negotiated extension (RFC 6455 §5.2: fail the connection). */
  ReservedBits: 2,
  /** Opcode 0x3-0x7 or 0xB-0xF (reserved, RFC 6455 §5.2). */
  BadOpcode: 3,
  /** 64-bit length with the top bit set, or a non-minimal length encoding (RFC 6455 §5.2). */
  BadLength: 4,
  /** Control frame fragmented or longer than 125 bytes (RFC 6455 §5.5). */
  BadControlFrame: 5,
  /** Payload larger than the caller's limit. */
  TooLarge: 6,
} as const;
/** A value of {@link WebSocketStatus}. */
export type WebSocketStatus = (typeof WebSocketStatus)[keyof typeof WebSocketStatus];

/**
 * A parsed WebSocket frame header (RFC 6455 §5.2), caller-owned and reused.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-------+-+-------------+-------------------------------+
 * |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 * |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 * |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 * | |1|2|3|       |K|             |                               |
 * +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 * |     Extended payload length continued, if payload len == 127  |
 * + - - - - - - - - - - - - - - - +-------------------------------+
 * |                               |Masking-key, if MASK set to 1  |
 * +-------------------------------+-------------------------------+
 * | Masking-key (continued)       |          Payload Data         |
 * +-------------------------------- - - - - - - - - - - - - - - - +
 * ```
 */
export class WebSocketFrame {
  /** Final fragment of a message. */
  fin = false;
  /** RSV1..RSV3 as a 3-bit value. */
  rsv = 0;
  /** Opcode ({@link WebSocketOpcode}). */
  opcode = 0;
  /** Payload is masked (always for client-to-server frames, RFC 6455 §5.3). */
  masked = false;
  /** Masking key as a big-endian 32-bit number (0 when not masked). */
  maskKey = 0;
  /** Header length: 2 + 0/2/8 + 0/4 bytes. */
  headerLength = 0;
  /** Payload start in the buffer. */
  payloadOffset = 0;
  /** Payload length in bytes. */
  payloadLength = 0;
  /** headerLength + payloadLength (0 while the header itself is incomplete). */
  frameLength = 0;
}

const FIN_BIT = 0x80;
const RSV_MASK = 0x70;
const RSV_SHIFT = 4;
const OPCODE_MASK = 0x0f;
const MASK_BIT = 0x80;
const LEN7_MASK = 0x7f;
const LEN16 = 126;
const LEN64 = 127;

/**
 * Parses a WebSocket frame header at `buf[offset, offset+length)` (RFC 6455 §5.2) into `out`.
 * Does not unmask: use {@link unmaskWebSocketPayload}. `maxPayload` bounds what a caller will
 * buffer (default 1 MiB; a SIP message is far smaller). Never throws on wire input.
 *
 * @throws RangeError when offset/length lie outside `buf` (a programmer error).
 */
export function parseWebSocketFrame(buf: Uint8Array, offset: number, length: number, out: WebSocketFrame, maxPayload = 1 << 20): WebSocketStatus {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buf.length) {
    throw new RangeError(`range ${offset}+${length} outside buffer of ${buf.length}`);
  }
  out.fin = false;
  out.rsv = 0;
  out.opcode = 0;
  out.masked = false;
  out.maskKey = 0;
  out.headerLength = 0;
  out.payloadOffset = 0;
  out.payloadLength = 0;
  out.frameLength = 0;
  if (length < 2) return WebSocketStatus.Truncated;
  const b0 = buf[offset]!;
  const b1 = buf[offset + 1]!;
  out.fin = (b0 & FIN_BIT) !== 0;
  out.rsv = (b0 & RSV_MASK) >> RSV_SHIFT;
  out.opcode = b0 & OPCODE_MASK;
  out.masked = (b1 & MASK_BIT) !== 0;
  if (out.rsv !== 0) return WebSocketStatus.ReservedBits;
  const op = out.opcode;
  const control = op >= 0x8;
  if ((op > 0x2 && op < 0x8) || op > 0xa) return WebSocketStatus.BadOpcode;
  let len = b1 & LEN7_MASK;
  let h = 2;
  if (len === LEN16) {
    if (length < 4) return WebSocketStatus.Truncated;
    len = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    if (len < LEN16) return WebSocketStatus.BadLength;
    h = 4;
  } else if (len === LEN64) {
    if (length < 10) return WebSocketStatus.Truncated;
    const hi = ((buf[offset + 2]! << 24) | (buf[offset + 3]! << 16) | (buf[offset + 4]! << 8) | buf[offset + 5]!) >>> 0;
    const lo = ((buf[offset + 6]! << 24) | (buf[offset + 7]! << 16) | (buf[offset + 8]! << 8) | buf[offset + 9]!) >>> 0;
    if (hi >= 0x80000000) return WebSocketStatus.BadLength;
    // Lengths above 2^53 cannot be represented; they are far above any maxPayload anyway.
    if (hi > 0x1fffff) return WebSocketStatus.TooLarge;
    len = hi * 0x100000000 + lo;
    if (len <= 0xffff) return WebSocketStatus.BadLength;
    h = 10;
  }
  if (control && (!out.fin || len > 125)) return WebSocketStatus.BadControlFrame;
  if (len > maxPayload) return WebSocketStatus.TooLarge;
  if (out.masked) {
    if (length < h + 4) return WebSocketStatus.Truncated;
    out.maskKey = ((buf[offset + h]! << 24) | (buf[offset + h + 1]! << 16) | (buf[offset + h + 2]! << 8) | buf[offset + h + 3]!) >>> 0;
    h += 4;
  }
  out.headerLength = h;
  out.payloadOffset = offset + h;
  out.payloadLength = len;
  out.frameLength = h + len;
  return length < h + len ? WebSocketStatus.Truncated : WebSocketStatus.Ok;
}

/**
 * XORs `length` payload bytes from `src[srcOffset..]` with the masking key (RFC 6455 §5.3) into
 * `dst[dstOffset..]`. `dst` may be `src` (in place). Returns the bytes written.
 * @throws RangeError when a range lies outside its buffer (a programmer error).
 */
export function unmaskWebSocketPayload(src: Uint8Array, srcOffset: number, length: number, maskKey: number, dst: Uint8Array, dstOffset: number): number {
  if (srcOffset < 0 || length < 0 || srcOffset + length > src.length || dstOffset < 0 || dstOffset + length > dst.length) {
    throw new RangeError(`unmask ${srcOffset}+${length} -> ${dstOffset} outside buffers of ${src.length}/${dst.length}`);
  }
  const k0 = (maskKey >>> 24) & 0xff;
  const k1 = (maskKey >>> 16) & 0xff;
  const k2 = (maskKey >>> 8) & 0xff;
  const k3 = maskKey & 0xff;
  for (let i = 0; i < length; i++) {
    const k = (i & 3) === 0 ? k0 : (i & 3) === 1 ? k1 : (i & 3) === 2 ? k2 : k3;
    dst[dstOffset + i] = src[srcOffset + i]! ^ k;
  }
  return length;
}

const UPGRADE = ascii('upgrade');
const WEBSOCKET = ascii('websocket');
const GET = ascii('GET ');
const HTTP11 = ascii('http/1.1 101');

/**
 * Recognises the HTTP/1.1 Upgrade handshake that opens a SIP WebSocket connection (RFC 6455 §4;
 * RFC 7118 §4: `Sec-WebSocket-Protocol: sip`): a `GET` request carrying `Upgrade: websocket`,
 * or a `HTTP/1.1 101` response. Returns the handshake length (through the empty line) so the
 * caller skips it, 0 when the bytes are not a handshake, or -1 when it is one but incomplete.
 */
export function webSocketHandshakeLength(buf: Uint8Array, offset: number, length: number): number {
  const end = offset + length;
  if (offset < 0 || length < 0 || end > buf.length) throw new RangeError(`range ${offset}+${length} outside buffer of ${buf.length}`);
  const isGet = length >= GET.length && startsWith(buf, offset, GET, false);
  const is101 = length >= HTTP11.length && startsWith(buf, offset, HTTP11, true);
  if (!isGet && !is101) return 0;
  let upgrade = is101;
  let i = offset;
  let first = true;
  while (i < end) {
    let lf = i;
    while (lf < end && buf[lf] !== LF) lf++;
    if (lf >= end) return -1;
    const lineEnd = lf > i && buf[lf - 1] === CR ? lf - 1 : lf;
    if (lineEnd === i) return upgrade ? lf + 1 - offset : 0;
    if (!first && !upgrade) {
      let c = i;
      while (c < lineEnd && buf[c] !== 0x3a) c++;
      if (equalsLower(buf, i, c, UPGRADE)) {
        let v = c + 1;
        while (v < lineEnd && buf[v] === 0x20) v++;
        upgrade = equalsLower(buf, v, Math.min(lineEnd, v + WEBSOCKET.length), WEBSOCKET);
      }
    }
    first = false;
    i = lf + 1;
  }
  return -1;
}

function startsWith(buf: Uint8Array, offset: number, pattern: Uint8Array, caseless: boolean): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = buf[offset + i]!;
    if ((caseless ? lower(c) : c) !== pattern[i]) return false;
  }
  return true;
}

/**
 * Takes one complete WebSocket frame carrying SIP (RFC 7118 §5: one SIP message per text or
 * binary message): parses the header, and for a final text/binary frame unmasks the payload
 * into `dst` at 0. Returns the number of SIP bytes written to `dst`; 0 for control frames and
 * fragments (`out` says which); -1 when the frame is malformed, truncated or larger than `dst`
 * (call {@link parseWebSocketFrame} for the exact status to count).
 */
export function takeSipFromWebSocket(buf: Uint8Array, offset: number, length: number, out: WebSocketFrame, dst: Uint8Array): number {
  const status = parseWebSocketFrame(buf, offset, length, out, dst.length);
  if (status !== WebSocketStatus.Ok) return -1;
  if (!out.fin || (out.opcode !== WebSocketOpcode.Text && out.opcode !== WebSocketOpcode.Binary)) return 0;
  if (out.masked) return unmaskWebSocketPayload(buf, out.payloadOffset, out.payloadLength, out.maskKey, dst, 0);
  dst.set(buf.subarray(out.payloadOffset, out.payloadOffset + out.payloadLength), 0);
  return out.payloadLength;
}
