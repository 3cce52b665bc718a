/**
 * Issue 7: every corpus capture analysed with a spool, then each call retrieved with
 * `sniffer pcap`; tshark (an independent reader) must find exactly that call's SIP messages and
 * RTP streams in the retrieved pcap — the counts of the truth file. Issue 17 (segment archives):
 * GNU tar lists every archive the analysis wrote, and `sniffer spool fsck --check` finds nothing
 * to repair in a spool a writer closed.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { corpusCaptures, corpusPath } from '@callscope/testing';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');
/** busy-hour-a has 200 calls; a sample keeps the suite fast. */
const MAX_CALLS_PER_CAPTURE = 6;

const truths = corpusCaptures()
  .map((c) => c.truth)
  .filter((t) => t.calls.length > 0);

/** tshark's view of a pcap: SIP messages per Call-ID and RTP streams decoded from its SDP. */
async function tsharkView(file: string): Promise<{ sipCallIds: string[]; streams: string[] }> {
  const sip = await run('tshark', ['-n', '-r', file, '-Y', 'sip', '-T', 'fields', '-e', 'sip.Call-ID']);
  const rtp = await run('tshark', ['-n', '-q', '-r', file, '-z', 'rtp,streams']);
  // start end src port dst port SSRC payload(s, may contain spaces) packets lost (pct) ...
  const row = /^\s*[\d.]+\s+[\d.]+\s+\S+\s+(\d+)\s+\S+\s+(\d+)\s+(0x[0-9A-F]+)\s+.*?\s(\d+)\s+-?\d+ \(/i;
  const streams = rtp.stdout
    .split('\n')
    .map((l) => row.exec(l))
    .filter((m) => m !== null)
    .map((m) => `${m[3]!.toLowerCase()} ${m[1]} ${m[2]} ${m[4]}`);
  return { sipCallIds: sip.stdout.split('\n').filter((l) => l !== ''), streams: streams.sort() };
}

describe('spool retrieval read back by tshark', () => {
  test('tshark is installed (npm test installs it as the independent oracle)', () => {
    expect(spawnSync('tshark', ['--version']).status).toBe(0);
  });

  // The captures take turns at the chunk compressions (spool.compress): every member kind is read back by tshark.
  test.each(truths.map((t, i) => [t.file, (['none', 'zstd', 'gzip'] as const)[i % 3]!, t] as const))('%s (compress %s)', async (file, compress, truth) => {
    const spool = mkdtempSync(join(tmpdir(), 'callscope-spool-'));
    const analyzed = spawnSync(process.execPath, [sniffer, 'analyze', corpusPath(file), '--spool', spool], {
      encoding: 'utf8',
      env: { ...process.env, CALLSCOPE_SNIFFER_SPOOL_COMPRESS: compress },
    });
    expect(analyzed.status).toBe(0);
    const archives = readdirSync(spool, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && /^seg\.\d+\.tar$/.test(e.name));
    expect(archives.length).toBeGreaterThan(0);
    const suffix = { none: '.pcap', zstd: '.pcap.zst', gzip: '.pcap.gz' }[compress];
    for (const a of archives) {
      const listed = spawnSync('tar', ['tf', join(a.parentPath, a.name)], { encoding: 'utf8' });
      expect(listed.status, a.name).toBe(0);
      expect(listed.stdout.trim().split('\n').filter((m) => !m.endsWith(suffix)), a.name).toEqual([]);
    }
    // A member as tar extracts it is a capture of its own: tshark opens .pcap, .pcap.gz and .pcap.zst
    // (the zstd member's CRC frame is a skippable frame, which readers pass over).
    const unpacked = mkdtempSync(join(tmpdir(), 'callscope-members-'));
    expect(spawnSync('tar', ['xf', join(archives[0]!.parentPath, archives[0]!.name), '-C', unpacked]).status).toBe(0);
    const member = readdirSync(unpacked, { recursive: true, withFileTypes: true }).find((e) => e.isFile() && e.name.endsWith(suffix))!;
    const shown = spawnSync('tshark', ['-r', join(member.parentPath, member.name), '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout.trim(), `${member.name}: tshark shows its packets`).toMatch(/^1\n2\n/);
    rmSync(unpacked, { recursive: true, force: true });
    const fsck = spawnSync(process.execPath, [sniffer, 'spool', 'fsck', '--check', '--json', '--spool', spool], { encoding: 'utf8' });
    expect(fsck.status, fsck.stderr).toBe(0);
    expect(JSON.parse(fsck.stdout)).toMatchObject({ segments: archives.length, tornSegments: 0, badIndexEntries: 0, tornIndexBytes: 0 });
    const records = analyzed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; call_id: string; start: string });
    const calls = truth.calls.slice(0, MAX_CALLS_PER_CAPTURE);
    await Promise.all(
      calls.map(async (t) => {
        const rec = records.find((r) => r.type === 'call' && r.call_id === t.call_id)!;
        const out = join(spool, `${calls.indexOf(t)}.pcap`);
        const got = await run(process.execPath, [sniffer, 'pcap', '--spool', spool, '--call-id', rec.call_id, '--start', rec.start], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
        writeFileSync(out, got.stdout);
        const view = await tsharkView(out);
        expect(view.sipCallIds.length, `SIP messages of ${t.call_id}`).toBe(t.sip_messages);
        expect(new Set(view.sipCallIds)).toEqual(new Set([t.call_id]));
        const expected = truth.rtp_streams
          .filter((s) => s.call_id === t.call_id)
          .map((s) => `${s.ssrc} ${s.src_port} ${s.dst_port} ${s.packets}`)
          .sort();
        expect(view.streams, `RTP streams of ${t.call_id}`).toEqual(expected);
      }),
    );
  }, 120_000);
});
