import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CALL_HASH_HEX_LENGTH,
  MAX_SANITISED_CALL_ID_LENGTH,
  parseSpoolMinuteDir,
  SpoolGroup,
  spoolCallName,
  spoolFileName,
  spoolFilePath,
  spoolMinuteDir,
  SpoolWriter,
} from '../src/index.js';
import { loadFrames, retrieve, tempSpool, walk } from './spool-fixtures.js';
import type { Frame } from './spool-fixtures.js';

const SPOOL = '/var/spool/callscope';
const NAME_RE = new RegExp(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,${MAX_SANITISED_CALL_ID_LENGTH - 1}}-[0-9a-f]{${CALL_HASH_HEX_LENGTH}}$|^[0-9a-f]{${CALL_HASH_HEX_LENGTH}}$`);

function inside(root: string, path: string): boolean {
  const rel = relative(root, resolve(path));
  return rel.length > 0 && !rel.startsWith('..') && !isAbsolute(rel);
}

const HOSTILE: [string, string][] = [
  ['dot dot', '../..'],
  ['absolute path', '/etc/passwd'],
  ['traversal with separators', '../../../../etc/cron.d/x'],
  ['backslashes', '..\\..\\windows'],
  ['single dot', '.'],
  ['NUL bytes', 'abc\u0000def\u0000'],
  ['unicode', 'звонок-☎-通話@example.com'],
  ['lone surrogate', 'a\ud800b'],
  ['10 kB', 'x'.repeat(10_240)],
  ['empty', ''],
  ['newlines and spaces', 'a b\r\nc'],
];

describe('spool names and paths', () => {
  it('minute directories are UTC YYYY-MM-DD/HH/MM and parse back', () => {
    expect(spoolMinuteDir(1_795_975_891)).toBe('2026-11-29/18/11'); // 2026-11-29T18:11:31Z
    expect(spoolMinuteDir(0)).toBe('1970-01-01/00/00');
    expect(parseSpoolMinuteDir('2026-11-29/18/11')).toBe(1_795_975_860);
    expect(parseSpoolMinuteDir('2026-02-30/00/00')).toBeNaN();
    expect(parseSpoolMinuteDir('../../etc')).toBeNaN();
  });

  it('file names: group, variant, gzip', () => {
    expect(spoolFileName('n', SpoolGroup.SIP, 0, false)).toBe('n.sip.pcap');
    expect(spoolFileName('n', SpoolGroup.RTP, 2, true)).toBe('n.rtp.2.pcap.gz');
  });

  it('keeps the readable part of ordinary Call-IDs', () => {
    const name = spoolCallName('a84b4c76e66710@pc33.atlanta.com', 1_795_975_891, 566_589);
    expect(name).toMatch(/^a84b4c76e66710_pc33\.atlanta\.com-[0-9a-f]{16}$/);
    expect(spoolCallName('a84b4c76e66710@pc33.atlanta.com', 1_795_975_891, 566_589)).toBe(name); // deterministic
    expect(spoolCallName('a84b4c76e66710@pc33.atlanta.com', 1_795_975_891, 566_590)).not.toBe(name); // start time counts
  });

  it.each(HOSTILE)('%s stays one safe name inside its minute directory', (_label, callId) => {
    const name = spoolCallName(callId, 1_795_975_891, 1);
    expect(name).toMatch(NAME_RE);
    const path = spoolFilePath(SPOOL, spoolMinuteDir(1_795_975_891), spoolFileName(name, SpoolGroup.SIP, 0, true));
    expect(inside(join(SPOOL, '2026-11-29', '18', '11'), path)).toBe(true);
    expect(path.split(sep).at(-1)).toBe(`${name}.sip.pcap.gz`);
  });

  it('Call-IDs that sanitise alike get distinct names', () => {
    const ids = ['a/b', 'a?b', 'a b', 'a\u0000b', 'a_b', 'a\ud800b', 'a\ud801b', '../x', '.._x', '_./x'];
    const names = ids.map((id) => spoolCallName(id, 1_795_975_891, 0));
    expect(new Set(names.map((n) => n.replace(/-[0-9a-f]+$/, ''))).size).toBeLessThan(ids.length);
    expect(new Set(names).size).toBe(ids.length);
  });

  it.each([
    [-1, 0],
    [1.5, 0],
    [0, 1_000_000],
    [0, -1],
    [Number.NaN, 0],
  ])('start %s.%s is a RangeError', (sec, usec) => {
    expect(() => spoolCallName('x', sec, usec)).toThrow(RangeError);
  });

  test.prop([fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0, max: 999_999 })])(
    'random Call-IDs: the path stays inside the spool, distinct Call-IDs give distinct names',
    (a, b, sec, usec) => {
      const na = spoolCallName(a, sec, usec);
      const nb = spoolCallName(b, sec, usec);
      expect(na).toMatch(NAME_RE);
      expect(inside(SPOOL, spoolFilePath(SPOOL, spoolMinuteDir(sec), spoolFileName(na, SpoolGroup.RTP, 3, false)))).toBe(true);
      expect(na === nb).toBe(a === b);
    },
  );
});

describe('hostile Call-IDs through the writer', () => {
  const dirs: string[] = [];
  let frames: Frame[] = [];
  beforeAll(async () => {
    frames = (await loadFrames('basic-caller-bye-pcma.pcap')).slice(0, 20);
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('every file lands inside the spool, tar xf keeps every member inside its directory, and each call reads back its own packets', async () => {
    const root = tempSpool('hostile');
    dirs.push(root);
    const dir = join(root, 'spool');
    const writer = new SpoolWriter({ spoolDir: dir });
    const start = frames[0]!.tsSec;
    // the hostile strings serve as sensor names too: both end up in tar member names
    const calls = HOSTILE.map(([, callId], i) => ({ callId, startSec: start, startUsec: i, sensor: callId }));
    for (const ref of calls) for (const f of frames) writer.write(ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.close();
    expect(writer.stats().packetsWritten).toBe(HOSTILE.length * frames.length);
    expect(walk(root).every((f) => f.rel.startsWith(`spool/${spoolMinuteDir(start)}/`))).toBe(true);
    expect(walk(root).map((f) => f.rel.replace(/^.*\//, '')).sort()).toEqual(['seg.0.idx', 'seg.0.tar']);
    const out = join(root, 'extracted');
    mkdirSync(out);
    execFileSync('tar', ['xf', join(dir, spoolMinuteDir(start), 'seg.0.tar'), '-C', out]);
    const extracted = walk(out);
    expect(extracted).toHaveLength(HOSTILE.length * 2); // one SIP and one RTP chunk per call
    expect(new Set(extracted.map((f) => f.rel.split('/')[0])).size).toBe(HOSTILE.length); // a directory per call
    expect(extracted.every((f) => f.rel.split('/').length === 2 && !f.rel.split('/').includes('..'))).toBe(true);
    for (const ref of calls) {
      const got = await retrieve(dir, { callId: ref.callId, startSec: ref.startSec, startUsec: ref.startUsec, sensor: ref.sensor });
      expect(got.records).toHaveLength(frames.length);
    }
  });
});
