import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import {
  INDEX_ENTRY_BYTES,
  memberName,
  parseMemberName,
  parseTarHeader,
  readIndexEntry,
  sensorHashOf,
  sensorTag,
  spoolCallName,
  TAR_BLOCK,
  TarHeaderProblem,
  TarHeaderTemplate,
  writeIndexEntry,
  writeTarHeader,
} from '../src/index.js';
import { ChunkCompression } from '../src/index.js';
import { readZstdCrcTrailer, ZSTD_CRC_TRAILER_BYTES, zstdCrcTrailer } from '../src/spool/segment-format.js';
import type { IndexEntry } from '../src/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const CALL = spoolCallName('a84b4c76e66710@pc33.atlanta.example.com', 1_795_975_860, 123_456);
const NAME = memberName(sensorTag('sensor-a'), 'rtp', 3, 1, 'none');

function header(size = 100, prefix = CALL, name = NAME): Buffer {
  const b = Buffer.alloc(TAR_BLOCK);
  writeTarHeader(b, 0, prefix, name, size, 1_795_975_861);
  return b;
}

/** Sets bytes then fixes the checksum, so the test reaches the check after it. */
function patched(at: number, bytes: string, fixSum = true): Buffer {
  const b = header();
  b.write(bytes, at, 'latin1');
  if (fixSum) {
    b.fill(0x20, 148, 156);
    let sum = 0;
    for (const c of b) sum += c;
    b.write(sum.toString(8).padStart(6, '0'), 148, 'latin1');
    b[154] = 0;
  }
  return b;
}

describe('tar member headers', () => {
  it('are ustar headers GNU tar lists as <call name>/<sensor tag>.<group>.<chunk>.<link type>.pcap with their size', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-tar-'));
    dirs.push(dir);
    const data = Buffer.alloc(100, 7);
    const archive = Buffer.concat([header(100), data, Buffer.alloc(TAR_BLOCK - 100)]);
    writeFileSync(join(dir, 'seg.0.tar'), archive);
    const listing = execFileSync('tar', ['tvf', join(dir, 'seg.0.tar')], { encoding: 'utf8' }).trim();
    expect(listing).toContain(` 100 `);
    expect(listing.endsWith(`${CALL}/${NAME}`)).toBe(true);
    expect(execFileSync('tar', ['xOf', join(dir, 'seg.0.tar')])).toEqual(data);
  });

  it('parse back to the member the writer described', () => {
    const m = parseTarHeader(header(100), 0);
    expect(m).toEqual({ ...parseMemberName(CALL, NAME), size: 100, span: TAR_BLOCK + TAR_BLOCK });
    expect(m).toMatchObject({ group: 'rtp', chunkNo: 3, linkType: 1, compression: 'none', sensorHash: sensorHashOf('sensor-a') });
  });

  it.each([
    ['all zero (end of archive)', Buffer.alloc(TAR_BLOCK), TarHeaderProblem.END],
    ['shorter than a block', header().subarray(0, 511), TarHeaderProblem.SHORT],
    ['empty', Buffer.alloc(0), TarHeaderProblem.SHORT],
    ['one flipped name byte', (() => { const b = header(); b[3] = b[3]! ^ 1; return b; })(), TarHeaderProblem.CHECKSUM],
    ['checksum field not octal', patched(148, '99999999', false), TarHeaderProblem.CHECKSUM],
    ['no ustar magic', patched(257, 'xxxxx'), TarHeaderProblem.FORMAT],
    ['a directory member', patched(156, '5'), TarHeaderProblem.FORMAT],
    ['a symlink member', patched(156, '2'), TarHeaderProblem.FORMAT],
    ['size not octal', patched(124, '0000000009x'), TarHeaderProblem.FORMAT],
    ['size empty', patched(124, '\0\0\0\0\0\0\0\0\0\0\0\0'), TarHeaderProblem.FORMAT],
    ['size over 32 MiB', patched(124, '00400000001'), TarHeaderProblem.TOO_LARGE],
    ['name with a path', (() => header(100, CALL, `../${NAME}`))(), TarHeaderProblem.FORMAT],
    ['name of another kind', (() => header(100, CALL, NAME.replace('.rtp.', '.sdp.')))(), TarHeaderProblem.FORMAT],
    ['link type over 65535', (() => header(100, CALL, NAME.replace('.1.pcap', '.70000.pcap')))(), TarHeaderProblem.FORMAT],
    ['prefix without a call hash', (() => header(100, 'not-a-call', NAME))(), TarHeaderProblem.FORMAT],
    ['prefix with a slash', (() => header(100, `x/${CALL}`, NAME))(), TarHeaderProblem.FORMAT],
  ])('%s -> %s', (_name, bytes, problem) => {
    expect(parseTarHeader(bytes, 0)).toBe(problem);
  });

  test.prop([fc.string({ maxLength: 200 }), fc.string({ maxLength: 60 }), fc.nat({ max: 0o77777777777 }), fc.nat({ max: 0xffff_ffff })], { numRuns: 200 })(
    'a TarHeaderTemplate writes the same bytes as writeTarHeader',
    (callId, sensor, size, mtime) => {
      const prefix = spoolCallName(callId, 1_795_975_860, 1);
      const name = memberName(sensorTag(sensor), 'sip', size % 1000, 1, 'none');
      const a = Buffer.alloc(TAR_BLOCK + 7, 9);
      const b = Buffer.alloc(TAR_BLOCK + 7, 9);
      writeTarHeader(a, 7, prefix, name, size, mtime);
      new TarHeaderTemplate(prefix).write(b, 7, name, size, mtime);
      expect(b).toEqual(a);
    },
  );

  test.prop([fc.uint8Array({ minLength: 0, maxLength: 1100 }), fc.integer({ min: -2, max: 1100 })], { numRuns: 300 })(
    'random bytes at any offset: a problem or a member, never a throw',
    (bytes, at) => {
      const r = parseTarHeader(bytes, at);
      expect(typeof r === 'string' || (r.size >= 0 && r.span % TAR_BLOCK === 0)).toBe(true);
    },
  );

  test.prop([fc.integer({ min: 0, max: TAR_BLOCK - 1 }), fc.integer({ min: 1, max: 255 })], { numRuns: 200 })(
    'any single changed byte of a header is caught (checksum) or still parses to a chunk member',
    (at, xor) => {
      const b = header(100);
      b[at] = b[at]! ^ xor;
      const r = parseTarHeader(b, 0);
      // A change inside the checksum field itself, or one that keeps the sum (impossible for one byte), is the only way through.
      if (typeof r !== 'string') expect(at >= 148 && at < 156).toBe(true);
    },
  );
});

describe('sensor tags and member names', () => {
  test.prop([fc.string({ maxLength: 200 }), fc.constantFrom('sip' as const, 'rtp' as const), fc.nat({ max: 999_999_999 }), fc.nat({ max: 0xffff }), fc.constantFrom(...Object.values(ChunkCompression))], { numRuns: 300 })(
    'any sensor name gives a name of at most 100 safe characters that parses back',
    (sensor, group, chunkNo, linkType, compression) => {
      const name = memberName(sensorTag(sensor), group, chunkNo, linkType, compression);
      expect(name.length).toBeLessThanOrEqual(100);
      expect(name).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(parseMemberName(CALL, name)).toMatchObject({ sensorHash: sensorHashOf(sensor), group, chunkNo, linkType, compression });
    },
  );

  it('distinct sensors that sanitise alike keep distinct hashes', () => {
    expect(sensorTag('a/b')).not.toBe(sensorTag('a_b'));
    expect(sensorHashOf('a/b')).not.toBe(sensorHashOf('a_b'));
    expect(sensorTag('')).toMatch(/^[0-9a-f]{8}$/);
  });
});

describe('index entries', () => {
  const entryArb = fc.record({
    callHi: fc.nat({ max: 0xffff_ffff }),
    callLo: fc.nat({ max: 0xffff_ffff }),
    sensorHash: fc.nat({ max: 0xffff_ffff }),
    chunkNo: fc.nat({ max: 0xffff_ffff }),
    offset: fc.nat({ max: 2 ** 40 }).map((n) => n * TAR_BLOCK),
    size: fc.nat({ max: 32 * 1024 * 1024 }),
    linkType: fc.nat({ max: 0xffff }),
    group: fc.constantFrom('sip' as const, 'rtp' as const),
    compression: fc.constantFrom(...Object.values(ChunkCompression)),
  });

  test.prop([entryArb], { numRuns: 300 })('write -> read round-trips every field', (e: IndexEntry) => {
    const b = Buffer.alloc(INDEX_ENTRY_BYTES);
    writeIndexEntry(b, 0, e);
    expect(readIndexEntry(b, 0)).toEqual(e);
  });

  it.each([
    ['group 2', 30, 2],
    ['unknown flag bit', 31, 4],
    ['gzip and zstd both', 31, 3],
    ['size over 32 MiB', 27, 0x10],
    ['offset past 2^53', 23, 0x01],
  ])('%s -> rejected', (_name, at, value) => {
    const b = Buffer.alloc(INDEX_ENTRY_BYTES);
    writeIndexEntry(b, 0, { callHi: 1, callLo: 2, sensorHash: 3, chunkNo: 0, offset: 0, size: 10, linkType: 1, group: 'sip', compression: 'none' });
    b[at] = value;
    expect(readIndexEntry(b, 0)).toBeNull();
  });
});

describe('the CRC-32 frame after a zstd member', () => {
  test.prop([fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 0xffff_ffff })], { numRuns: 200 })('is read back after any data', (data, crc) => {
    expect(readZstdCrcTrailer(Buffer.concat([data, zstdCrcTrailer(crc)]))).toBe(crc);
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['shorter than the frame', zstdCrcTrailer(7).subarray(1)],
    ['another skippable magic', Buffer.from('512a4d18040000000700000000', 'hex').subarray(0, ZSTD_CRC_TRAILER_BYTES)],
    ['a content size other than 4', Buffer.from('502a4d18050000000700000000', 'hex').subarray(0, ZSTD_CRC_TRAILER_BYTES)],
    ['no trailer at all (a bare zstd frame)', Buffer.from('28b52ffd2000010000', 'hex')],
  ])('%s -> -1', (_name, data) => {
    expect(readZstdCrcTrailer(data)).toBe(-1);
  });
});
