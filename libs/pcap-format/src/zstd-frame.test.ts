import { describe, expect, it } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { compress as zstdCompress } from '@cloudpss/zstd';
import { ZstdFrameStatus, inspectZstdFrame, inspectZstdFrames, type ZstdFrameInfo } from './zstd-frame.js';

const info = (): ZstdFrameInfo => ({ contentSize: -1 });

describe('inspectZstdFrame (RFC 8878 §3.1.1)', () => {
  it.each([0, 1, 255, 256, 65_791, 65_792, 1 << 20])('reads the declared content size of a %i-byte frame from @cloudpss/zstd', (n) => {
    const frame = zstdCompress(new Uint8Array(n).fill(7), 1);
    const out = info();
    expect(inspectZstdFrame(frame, 0, frame.length, out)).toBe(ZstdFrameStatus.Ok);
    expect(out.contentSize).toBe(n);
  });

  it('honours offset and length', () => {
    const frame = zstdCompress(new Uint8Array(300), 1);
    const buf = new Uint8Array(frame.length + 10);
    buf.set(frame, 5);
    const out = info();
    expect(inspectZstdFrame(buf, 5, frame.length, out)).toBe(ZstdFrameStatus.Ok);
    expect(out.contentSize).toBe(300);
    expect(() => inspectZstdFrame(buf, 5, buf.length, out)).toThrow(RangeError);
  });

  it.each<[string, number[], ZstdFrameStatus]>([
    ['empty', [], ZstdFrameStatus.TooShort],
    ['magic only', [0x28, 0xb5, 0x2f, 0xfd], ZstdFrameStatus.TooShort],
    ['skippable frame', [0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0], ZstdFrameStatus.BadMagic],
    ['reserved FHD bit', [0x28, 0xb5, 0x2f, 0xfd, 0x28, 5, 1, 0, 0], ZstdFrameStatus.Reserved],
    ['dictionary id', [0x28, 0xb5, 0x2f, 0xfd, 0x21, 1, 5, 1, 0, 0], ZstdFrameStatus.Dictionary],
    ['no content size', [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50, 0x19, 0x00, 0x00, 0x61, 0x62, 0x63], ZstdFrameStatus.UnknownSize],
    ['reserved block type', [0x28, 0xb5, 0x2f, 0xfd, 0x20, 3, 0x07, 0, 0], ZstdFrameStatus.Reserved],
    ['block longer than the input', [0x28, 0xb5, 0x2f, 0xfd, 0x20, 3, 0x19, 0, 0, 0x61], ZstdFrameStatus.TooShort],
    ['no last block', [0x28, 0xb5, 0x2f, 0xfd, 0x20, 1, 0x08, 0, 0, 0x61], ZstdFrameStatus.TooShort],
    ['bytes after the frame', [0x28, 0xb5, 0x2f, 0xfd, 0x20, 1, 0x09, 0, 0, 0x61, 0], ZstdFrameStatus.TrailingBytes],
    ['raw single-segment frame of 1 byte', [0x28, 0xb5, 0x2f, 0xfd, 0x20, 1, 0x09, 0, 0, 0x61], ZstdFrameStatus.Ok],
  ])('%s', (_name, bytes, status) => {
    expect(inspectZstdFrame(Uint8Array.from(bytes), 0, bytes.length, info())).toBe(status);
  });

  fcTest.prop([fc.uint8Array({ maxLength: 64 })])('never throws on arbitrary bytes', (bytes) => {
    const withMagic = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, ...bytes]);
    inspectZstdFrame(bytes, 0, bytes.length, info());
    inspectZstdFrame(withMagic, 0, withMagic.length, info());
  });

  it('inspectZstdFrames: sums the declared sizes of up to maxFrames frames back to back', () => {
    const a = zstdCompress(new Uint8Array(300).fill(1), 1);
    const b = zstdCompress(new Uint8Array(70_000).fill(2), -5);
    const buf = Buffer.concat([a, b]);
    const out = info();
    expect(inspectZstdFrames(buf, 0, buf.length, 2, out)).toBe(ZstdFrameStatus.Ok);
    expect(out.contentSize).toBe(70_300);
    expect(inspectZstdFrames(buf, 0, buf.length, 1, out)).toBe(ZstdFrameStatus.TrailingBytes);
    expect(out.contentSize).toBe(0);
    expect(inspectZstdFrames(buf, 0, a.length, 2, out)).toBe(ZstdFrameStatus.Ok);
    expect(out.contentSize).toBe(300);
    expect(inspectZstdFrames(buf, 0, buf.length - 1, 2, out)).toBe(ZstdFrameStatus.TooShort);
    expect(out.contentSize).toBe(0);
    expect(() => inspectZstdFrames(buf, 0, buf.length, 0, out)).toThrow(RangeError);
  });

  fcTest.prop([fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 4 })])('inspectZstdFrames never throws on a frame followed by arbitrary bytes', (bytes, frames) => {
    const buf = Buffer.concat([zstdCompress(new Uint8Array(10), 1), Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd]), bytes]);
    inspectZstdFrames(buf, 0, buf.length, frames, info());
  });
});
