/**
 * `sniffer live` when libpcap refuses the capture: a filter that does not compile, an interface
 * that does not exist, no permission to capture. Each must print the reason and exit 5
 * (ExitCode.LiveUnavailable) — not die afterwards. Regression guard: cap 0.2.1 (the binding used
 * before libs/live-capture) left a handle
 * whose open() failed half-open, and its destructor (run when garbage collection takes the handle)
 * stopped a libuv watcher that was never started: SIGSEGV (exit 139) or SIGABRT (134) after the
 * message. Garbage collection is forced throughout and once more before exit, so a collectable
 * failed handle is always collected and the crash does not depend on timing. Needs root and the libpcap addon.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');
/** ExitCode.LiveUnavailable (apps/sniffer/src/cli/exit-code.ts). */
const LIVE_UNAVAILABLE = 5;
const GC_MARK = 'forced gc before exit';
let hook = '';

beforeAll(() => {
  hook = join(mkdtempSync(join(tmpdir(), 'callscope-gc-hook-')), 'force-gc.mjs');
  writeFileSync(
    hook,
    [
      "if (typeof globalThis.gc !== 'function') throw new Error('force-gc.mjs needs node --expose-gc');",
      'setInterval(() => globalThis.gc(), 2).unref();',
      `process.once('beforeExit', () => { globalThis.gc(); process.stderr.write(${JSON.stringify(`${GC_MARK}\n`)}); });`,
    ].join('\n'),
  );
});

/** `sniffer live` with `args`, under forced garbage collection; `prefix` runs it (e.g. setpriv). */
function live(args: string[], prefix: string[] = []): { status: number | null; signal: NodeJS.Signals | null; stderr: string } {
  const argv = [...prefix, process.execPath, '--expose-gc', '--import', pathToFileURL(hook).href, sniffer, 'live', ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

describe('sniffer live: a capture libpcap refuses exits 5 with the reason, and does not crash', () => {
  test.each([
    ['a filter that does not compile', ['-i', 'lo', '--filter', 'bogus (('], [], /sniffer live: cannot capture on "lo": can't parse filter expression/],
    ['an interface that does not exist', ['-i', 'csnosuch0'], [], /sniffer live: cannot capture on "csnosuch0": .*(No such device|doesn't exist)/],
    // Root without CAP_NET_RAW/CAP_NET_ADMIN: libpcap's packet socket is refused.
    ['no permission to capture', ['-i', 'lo'], ['setpriv', '--bounding-set', '-net_raw,-net_admin'], /sniffer live: cannot capture on "lo": .*(Operation not permitted|permission)/i],
  ] as const)('%s', (_what, args, prefix, message) => {
    const run = live([...args], [...prefix]);
    expect(run.signal, `sniffer live ended by ${String(run.signal)}: ${run.stderr}`).toBeNull();
    expect(run.status, run.stderr).toBe(LIVE_UNAVAILABLE);
    expect(run.stderr).toMatch(message);
    // The process lived on after the message: the last collection ran and it exited normally.
    expect(run.stderr).toContain(GC_MARK);
  });
});
