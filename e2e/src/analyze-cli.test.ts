/**
 * The built sniffer as a user runs it: `node dist/apps/sniffer/main.js analyze ...` — stdout
 * carries only jsonl, diagnostics go to stderr, exit codes follow the usage text.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');
const corpus = (name: string) => join(root, 'fixtures/corpus', name);

function analyze(...args: string[]) {
  const r = spawnSync(process.execPath, [sniffer, 'analyze', ...args], { encoding: 'utf8', env: { ...process.env, CALLSCOPE_SNIFFER_CONFIG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sniffer analyze (built bundle)', () => {
  test('jsonl on stdout: one parseable record per line, nothing else', () => {
    const r = analyze(corpus('cancel-487.pcap'), corpus('register-auth.pcapng'));
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as { type: string; call_id: string; end_reason?: string });
    expect(records.map((x) => x.type).sort()).toEqual(['call', 'register', 'register', 'register', 'register']);
    expect(records.find((x) => x.type === 'call')).toMatchObject({ call_id: '1-3302@192.0.2.10', end_reason: 'cancelled' });
    expect(r.stderr).toMatch(/analyzed \d+ packets: 1 calls, 4 registrations/);
  });

  test('gzip-compressed captures read like plain ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-e2e-'));
    const gz = join(dir, 'reject.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(corpus('reject-486-busy.pcap'))));
    const plain = analyze(corpus('reject-486-busy.pcap'));
    const zipped = analyze(gz);
    expect(zipped.code).toBe(0);
    expect(zipped.stdout).toBe(plain.stdout);
  });

  test('a missing file and a non-capture give exit 3 and a clear message; the other files are still analysed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-e2e-'));
    const junk = join(dir, 'notes.txt');
    writeFileSync(junk, 'this is not a capture file at all\n');
    const r = analyze(join(dir, 'nope.pcap'), junk, corpus('reject-404-not-found.pcap'));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('nope.pcap: no such file');
    expect(r.stderr).toMatch(/notes\.txt: not a readable capture/);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  test('a capture cut in the middle of a record: every complete packet analysed, a warning, exit 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-e2e-'));
    const cut = join(dir, 'cut.pcap');
    copyFileSync(corpus('reject-486-busy.pcap'), cut);
    const bytes = readFileSync(cut);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 7));
    const r = analyze(cut);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('cut short');
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ last_sip_code: 486 });
  });

  test('bad usage: exit 2 with the usage text', () => {
    const r = analyze('--format', 'xml', corpus('cancel-487.pcap'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format must be jsonl or table');
    expect(analyze().code).toBe(2);
  });

  test('table format for people', () => {
    const r = analyze('--format', 'table', join(root, 'fixtures/demo/demo-calls.pcap'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('6 call(s)');
    expect(r.stdout).toMatch(/walter\s+ivan\s+200 bye_confirmed/);
  });
});
