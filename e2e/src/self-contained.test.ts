/**
 * A fresh clone has no `../shared` folder (the corpus, the tools and the design documents live
 * beside the repository only on the development machine): nothing the suite, the benches or the
 * scripts run may read from it. The spool kill test once ran `../shared/tools/synth-pcap.py` and
 * passed here, failing only on a fresh machine; this probe finds such a path in any tracked file.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
/** A path into the development machine's shared folder, absolute or relative to the repository. */
const SHARED_PATH = /\/work\/shared\b|(?:^|['"`\s(=])(?:\.\.\/)+shared\//m;
const CODE = /\.(?:ts|tsx|mts|mjs|cjs|js|json|sh|py)$/;

describe('the repository is self-contained', () => {
  test('no tracked source, test, bench or script reads ../shared', () => {
    const listed = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' });
    expect(listed.status, listed.stderr).toBe(0);
    const files = listed.stdout.split('\0').filter((f) => CODE.test(f) && !f.startsWith('fixtures/'));
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.filter((f) => f !== 'e2e/src/self-contained.test.ts' && SHARED_PATH.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  test('the probe finds the paths it is meant to find', () => {
    for (const text of ["const SYNTH = '/work/shared/tools/synth-pcap.py';", "readFileSync('../shared/corpus/a.pcap')", 'python3 ../../shared/tools/x.py']) {
      expect(SHARED_PATH.test(text), text).toBe(true);
    }
    for (const text of ["import { x } from '../shared-utils.js';", "join(root, 'tools/synth-pcap.py')", 'libs/shared/x.ts']) {
      expect(SHARED_PATH.test(text), text).toBe(false);
    }
  });
});
