/**
 * A fresh clone has no shared folder beside it (the corpus, the tools and the design documents
 * live there only on the development machine): nothing the suite, the benches or the
 * scripts run may read from it. The spool kill test once ran that folder's `tools/synth-pcap.py` and
 * passed here, failing only on a fresh machine; this probe finds such a path in any tracked file.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
// The folder's name is assembled, never written out whole: this file must not itself be a file
// that names a path into it (the project's own contract check reads every tracked file).
const FOLDER = ['sha', 'red'].join('');
/** A path into the development machine's shared folder, absolute or relative to the repository. */
const SHARED_PATH = new RegExp(`/work/${FOLDER}\\b|(?:^|['"\`\\s(=])(?:\\.\\./)+${FOLDER}/`, 'm');
/** `../<folder>/<rest>` or `/work/<folder>/<rest>`, for the probe's own cases. */
const up = (levels: number, rest: string): string => `${'../'.repeat(levels)}${FOLDER}/${rest}`;
const CODE = /\.(?:ts|tsx|mts|mjs|cjs|js|json|sh|py)$/;

describe('the repository is self-contained', () => {
  test('no tracked source, test, bench or script reads the shared folder', () => {
    const listed = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' });
    expect(listed.status, listed.stderr).toBe(0);
    const files = listed.stdout.split('\0').filter((f) => CODE.test(f) && !f.startsWith('fixtures/'));
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.filter((f) => SHARED_PATH.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  test('the probe finds the paths it is meant to find', () => {
    for (const text of [`const SYNTH = '/work/${FOLDER}/tools/synth-pcap.py';`, `readFileSync('${up(1, 'corpus/a.pcap')}')`, `python3 ${up(2, 'tools/x.py')}`]) {
      expect(SHARED_PATH.test(text), text).toBe(true);
    }
    for (const text of [`import { x } from '../${FOLDER}-utils.js';`, "join(root, 'tools/synth-pcap.py')", 'libs/shared/x.ts']) {
      expect(SHARED_PATH.test(text), text).toBe(false);
    }
  });
});
