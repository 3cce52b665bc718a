/**
 * Issue 17, kill test: `sniffer analyze --spool` SIGKILLed while it writes a synthetic capture of
 * 3,000 calls (300 at once); `sniffer spool fsck` then rebuilds the indexes and cuts torn archive
 * tails. After it: GNU tar reads every archive, fsck --check finds nothing more, and calls are
 * retrieved with `sniffer pcap` exactly when their call name is among the archives' members,
 * each retrieved pcap read by tshark without complaint and holding only that call's SIP and RTP.
 *
 * The call names are recomputed here from the documented rule (README "Spool": sanitised Call-ID,
 * '-', 16 hex of SHA-256 over "<sec>.<usec>\n" and the Call-ID's UTF-16 code units), not taken
 * from the lib: the archives' member names are the independent evidence of what was written.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');
/** The repo's copy of the corpus generator (tests never read the shared folder beside the repository: a fresh clone has none). */
const SYNTH = join(root, 'tools/synth-pcap.py');
/** Archive bytes on disk before the kill: early in the run (the whole spool is ~280 MB). */
const KILL_AFTER_BYTES = 24 * 1024 * 1024;
const SAMPLE = 30;

const work = mkdtempSync(join(tmpdir(), 'callscope-spool-kill-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

interface SynthCall {
  call_id: string;
  invite_time: number;
  sip_messages: number;
  streams: { packets_written: number }[];
}

/** The spool's hash part of a call name (README "Spool", layout). */
function callHash(callId: string, startSec: number, startUsec: number): string {
  return createHash('sha256').update(`${startSec}.${String(startUsec).padStart(6, '0')}\n`, 'latin1').update(callId, 'utf16le').digest('hex').slice(0, 16);
}

/** tshark's complaints (a damaged file, a cut packet), without its note about running as root. */
function complaints(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('Running as user'))
    .join('\n');
}

function archivesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /^seg\.\d+\.tar$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

function archiveBytes(dir: string): number {
  try {
    return archivesUnder(dir).reduce((a, p) => a + statSync(p).size, 0);
  } catch {
    return 0; // a directory appeared or vanished under the walk: ask again
  }
}

describe('spool kill test (issue 17)', () => {
  test('a writer SIGKILLed mid-run: after fsck every call with a complete chunk is retrievable, nothing is corrupt', async () => {
    const capture = join(work, 'synth.pcap');
    const gen = spawnSync('python3', [SYNTH, '--calls', '3000', '--concurrent', '300', '--duration', '4', '--seed', '17', '--out', capture], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).toBe(0);
    const truth = (JSON.parse(readFileSync(`${capture}.json`, 'utf8')) as { calls: SynthCall[] }).calls;

    const spool = join(work, 'spool');
    const child = spawn(process.execPath, [sniffer, 'analyze', capture, '--spool', spool, '--no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => {
      child.on('exit', (code, signal) => {
        resolve(signal ?? code);
      });
    });
    let onDisk = 0;
    while (child.exitCode === null && (onDisk = archiveBytes(spool)) < KILL_AFTER_BYTES) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    expect(await exited, `analyze ended before the kill (${onDisk} archive bytes); stderr: ${stderr}`).toBe('SIGKILL');

    const fsck = spawnSync(process.execPath, [sniffer, 'spool', 'fsck', '--json', '--spool', spool], { encoding: 'utf8' });
    expect(fsck.status, fsck.stderr).toBe(0);
    const report = JSON.parse(fsck.stdout) as { segments: number; chunks: number; tornSegments: number; archivesCut: number; indexesWritten: number };
    expect(report.segments).toBeGreaterThan(0);
    expect(report.indexesWritten).toBe(report.segments);
    expect(report.archivesCut).toBe(report.tornSegments);
    const again = spawnSync(process.execPath, [sniffer, 'spool', 'fsck', '--check', '--json', '--spool', spool], { encoding: 'utf8' });
    expect(again.status, again.stdout).toBe(0);

    // GNU tar reads every archive whole; its member names say which calls have a complete chunk.
    const written = new Set<string>();
    let members = 0;
    for (const archive of archivesUnder(spool)) {
      const listed = spawnSync('tar', ['tf', archive], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      expect(listed.status, `${archive}: ${listed.stderr}`).toBe(0);
      for (const line of listed.stdout.split('\n')) {
        if (line === '') continue;
        members++;
        written.add(line.split('/')[0]!.slice(-16));
      }
    }
    expect(members).toBe(report.chunks);

    const key = (c: SynthCall) => {
      const us = Math.round(c.invite_time * 1e6);
      const startSec = Math.floor(us / 1e6);
      const startUsec = us % 1e6;
      const start = `${new Date(startSec * 1000).toISOString().slice(0, 19)}.${String(startUsec).padStart(6, '0')}Z`;
      return { start, hash: callHash(c.call_id, startSec, startUsec) };
    };
    const present = truth.filter((c) => written.has(key(c).hash));
    const absent = truth.filter((c) => !written.has(key(c).hash));
    // killed early: some calls made it to disk, most of the capture did not
    expect(present.length).toBeGreaterThan(50);
    expect(absent.length).toBeGreaterThan(0);
    expect(written.size).toBe(present.length); // no member of a call the capture does not have

    const step = Math.max(1, Math.floor(present.length / SAMPLE));
    const sample = present.filter((_, i) => i % step === 0).slice(0, SAMPLE);
    for (const c of [...sample, present.at(-1)!]) {
      const { start } = key(c);
      const got = await run(process.execPath, [sniffer, 'pcap', '--spool', spool, '--call-id', c.call_id, '--start', start], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
      const out = join(work, 'call.pcap');
      writeFileSync(out, got.stdout);
      const sip = await run('tshark', ['-n', '-r', out, '-Y', 'sip', '-T', 'fields', '-e', 'sip.Call-ID']);
      expect(complaints(sip.stderr), c.call_id).toBe('');
      const ids = sip.stdout.split('\n').filter((l) => l !== '');
      expect(new Set(ids).size <= 1 && ids.every((id) => id === c.call_id), c.call_id).toBe(true);
      expect(ids.length).toBeLessThanOrEqual(c.sip_messages);
      const all = await run('tshark', ['-n', '-r', out, '-T', 'fields', '-e', 'frame.number']);
      expect(complaints(all.stderr), c.call_id).toBe('');
      const packets = all.stdout.split('\n').filter((l) => l !== '').length;
      expect(packets).toBeGreaterThan(0);
      expect(packets).toBeLessThanOrEqual(c.sip_messages + c.streams.reduce((a, s) => a + s.packets_written, 0));
    }
    for (const c of absent.slice(0, 5)) {
      const r = spawnSync(process.execPath, [sniffer, 'pcap', '--spool', spool, '--call-id', c.call_id, '--start', key(c).start]);
      expect(r.status, c.call_id).toBe(6);
    }
  }, 300_000);
});
