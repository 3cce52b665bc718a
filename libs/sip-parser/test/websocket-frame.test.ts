import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import {
  SipMessage, SipMethod, SipStatus, WebSocketFrame, WebSocketOpcode, WebSocketStatus, parseSipMessage,
  parseWebSocketFrame, takeSipFromWebSocket, unmaskWebSocketPayload, webSocketHandshakeLength,
} from '../src/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Builds a frame the way RFC 6455 §5.2 lays it out (independent of the parser). */
function buildFrame(payload: Uint8Array, opts: { opcode?: number; fin?: boolean; mask?: number; force64?: boolean } = {}): Uint8Array {
  const { opcode = WebSocketOpcode.Text, fin = true, mask, force64 = false } = opts;
  const len = payload.length;
  const ext = force64 || len > 0xffff ? 8 : len >= 126 ? 2 : 0;
  const head = 2 + ext + (mask === undefined ? 0 : 4);
  const out = new Uint8Array(head + len);
  const dv = new DataView(out.buffer);
  out[0] = (fin ? 0x80 : 0) | opcode;
  out[1] = (mask === undefined ? 0 : 0x80) | (ext === 8 ? 127 : ext === 2 ? 126 : len);
  if (ext === 2) dv.setUint16(2, len);
  if (ext === 8) dv.setBigUint64(2, BigInt(len));
  if (mask !== undefined) dv.setUint32(2 + ext, mask >>> 0);
  for (let i = 0; i < len; i++) {
    const k = mask === undefined ? 0 : (mask >>> (24 - 8 * (i & 3))) & 0xff;
    out[head + i] = payload[i]! ^ k;
  }
  return out;
}

const SIP = enc('OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks\r\nCall-ID: ws1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n');

describe('WebSocket frames carrying SIP (RFC 7118)', () => {
  const f = new WebSocketFrame();
  const dst = new Uint8Array(1 << 17);

  it('takes a masked text frame with a 16-bit length and parses the SIP inside', () => {
    const frame = buildFrame(SIP, { mask: 0x37fa213d });
    expect(parseWebSocketFrame(frame, 0, frame.length, f)).toBe(WebSocketStatus.Ok);
    expect(f).toMatchObject({ fin: true, opcode: 1, masked: true, maskKey: 0x37fa213d, headerLength: 8, payloadLength: SIP.length });
    const n = takeSipFromWebSocket(frame, 0, frame.length, f, dst);
    expect(n).toBe(SIP.length);
    const m = new SipMessage();
    expect(parseSipMessage(dst, 0, n, m)).toBe(SipStatus.Ok);
    expect(m.method).toBe(SipMethod.Options);
    expect(m.text(m.via.transport)).toBe('WSS');
  });

  it('handles 7-bit and 64-bit lengths, unmasked binary frames', () => {
    const small = buildFrame(enc('hello'), { opcode: WebSocketOpcode.Binary });
    expect(parseWebSocketFrame(small, 0, small.length, f)).toBe(WebSocketStatus.Ok);
    expect(f.headerLength).toBe(2);
    const big = new Uint8Array(70000).fill(0x41);
    const frame = buildFrame(big, { mask: 0x01020304 });
    expect(parseWebSocketFrame(frame, 0, frame.length, f)).toBe(WebSocketStatus.Ok);
    expect(f.headerLength).toBe(14);
    expect(f.payloadLength).toBe(70000);
    expect(takeSipFromWebSocket(frame, 0, frame.length, f, dst)).toBe(70000);
    expect(dst.subarray(0, 70000).every((b) => b === 0x41)).toBe(true);
  });

  it('unmask is an involution and works in place', () => {
    const data = enc('INVITE sip:x SIP/2.0');
    const copy = data.slice();
    unmaskWebSocketPayload(data, 0, data.length, 0xdeadbeef, data, 0);
    expect(data).not.toEqual(copy);
    unmaskWebSocketPayload(data, 0, data.length, 0xdeadbeef, data, 0);
    expect(data).toEqual(copy);
  });

  it('returns 0 for control frames and non-final fragments, -1 for bad frames', () => {
    const ping = buildFrame(enc('p'), { opcode: WebSocketOpcode.Ping });
    expect(takeSipFromWebSocket(ping, 0, ping.length, f, dst)).toBe(0);
    const frag = buildFrame(SIP, { fin: false });
    expect(takeSipFromWebSocket(frag, 0, frag.length, f, dst)).toBe(0);
    expect(takeSipFromWebSocket(frag, 0, 3, f, dst)).toBe(-1);
  });

  const bad: [string, Uint8Array, WebSocketStatus][] = [
    ['1 byte', Uint8Array.of(0x81), WebSocketStatus.Truncated],
    ['16-bit length cut', Uint8Array.of(0x81, 126, 0), WebSocketStatus.Truncated],
    ['payload cut', Uint8Array.of(0x81, 5, 0x41), WebSocketStatus.Truncated],
    ['mask key cut', Uint8Array.of(0x81, 0x85, 1, 2), WebSocketStatus.Truncated],
    ['RSV1 set', Uint8Array.of(0xc1, 0), WebSocketStatus.ReservedBits],
    ['opcode 3', Uint8Array.of(0x83, 0), WebSocketStatus.BadOpcode],
    ['opcode 0xB', Uint8Array.of(0x8b, 0), WebSocketStatus.BadOpcode],
    ['non-minimal 16-bit', Uint8Array.of(0x81, 126, 0, 5), WebSocketStatus.BadLength],
    ['non-minimal 64-bit', Uint8Array.of(0x81, 127, 0, 0, 0, 0, 0, 0, 0, 5), WebSocketStatus.BadLength],
    ['64-bit top bit', Uint8Array.of(0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0), WebSocketStatus.BadLength],
    ['huge 64-bit', Uint8Array.of(0x81, 127, 0, 0, 1, 0, 0, 0, 0, 0), WebSocketStatus.TooLarge],
    ['fragmented ping', Uint8Array.of(0x09, 0), WebSocketStatus.BadControlFrame],
    ['long close', Uint8Array.of(0x88, 126, 0, 126), WebSocketStatus.BadControlFrame],
  ];
  it.each(bad)('malformed: %s', (_n, bytes, expected) => {
    expect(parseWebSocketFrame(bytes, 0, bytes.length, f)).toBe(expected);
  });

  it('recognises and measures the HTTP Upgrade handshake (RFC 6455 §4, RFC 7118 §4)', () => {
    const req = enc('GET / HTTP/1.1\r\nHost: proxy.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n');
    const withFrame = new Uint8Array(req.length + 5);
    withFrame.set(req);
    expect(webSocketHandshakeLength(withFrame, 0, withFrame.length)).toBe(req.length);
    expect(webSocketHandshakeLength(req, 0, req.length - 3)).toBe(-1);
    const resp = enc('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: sip\r\n\r\n');
    expect(webSocketHandshakeLength(resp, 0, resp.length)).toBe(resp.length);
    expect(webSocketHandshakeLength(SIP, 0, SIP.length)).toBe(0);
    const plainGet = enc('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(webSocketHandshakeLength(plainGet, 0, plainGet.length)).toBe(0);
  });

  test.prop([fc.uint8Array({ maxLength: 64 })], { numRuns: 500 })('never throws on random bytes', (b) => {
    const s = parseWebSocketFrame(b, 0, b.length, f);
    if (s === WebSocketStatus.Ok) expect(f.frameLength).toBeLessThanOrEqual(b.length);
    expect(webSocketHandshakeLength(b, 0, b.length)).toBeLessThanOrEqual(b.length);
  });

  test.prop([fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean()], { numRuns: 200 })(
    'round trip: any payload, masked or not, comes back out',
    (payload, mask, masked) => {
      const frame = buildFrame(payload, masked ? { mask } : {});
      expect(takeSipFromWebSocket(frame, 0, frame.length, f, dst)).toBe(payload.length);
      expect(dst.subarray(0, payload.length)).toEqual(payload);
    },
  );
});
