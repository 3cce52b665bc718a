/**
 * `sniffer run -i` on a real link: two network namespaces joined by a veth pair with the kernel's
 * default offloads on; tcpreplay sends real captures into one end while the daemon captures the
 * other. Oracles we did not write: tcpreplay's count of packets sent, and tcpdump capturing the same
 * interface at the same time (the sensor's records must equal `sniffer analyze` of tcpdump's file,
 * times, jitter and MOS included: both read the kernel's capture timestamps).
 * Needs root, iproute2, tcpreplay and tcpdump (`npm test` installs them) and the live-capture
 * binding.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');
const corpus = (name: string) => join(root, 'fixtures/corpus', name);
const tag = `csl${process.pid % 100000}`;
const nsTx = `${tag}t`;
const nsRx = `${tag}r`;
const dir = mkdtempSync(join(tmpdir(), 'callscope-sensor-live-'));
const env = { ...process.env, CALLSCOPE_SNIFFER_CONFIG: '' };

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message || ''}`);
  return r.stdout;
}

beforeAll(() => {
  sh('ip', ['netns', 'add', nsTx]);
  sh('ip', ['netns', 'add', nsRx]);
  sh('ip', ['link', 'add', 'tx0', 'netns', nsTx, 'type', 'veth', 'peer', 'name', 'rx0', 'netns', nsRx]);
  for (const [ns, ifc] of [[nsTx, 'tx0'], [nsRx, 'rx0']] as const) {
    // No IPv6 autoconfiguration chatter on the link: every packet on it is one tcpreplay sent.
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${ifc}.disable_ipv6=1`]);
    sh('ip', ['-n', ns, 'link', 'set', ifc, 'up']);
  }
});

afterAll(() => {
  spawnSync('ip', ['netns', 'del', nsTx]);
  spawnSync('ip', ['netns', 'del', nsRx]);
});

interface Daemon {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startDaemon(control: string, jsonl: string, extra: string[] = []): Promise<Daemon> {
  // No capture filter: every frame tcpreplay sends counts (the default filter leaves out ARP and ICMP).
  const child = spawn('ip', ['netns', 'exec', nsRx, process.execPath, sniffer, 'run', '-i', 'rx0', '--filter=', '--control', control, '--jsonl', jsonl, ...extra], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (err.includes('sensor running')) {
        clearInterval(timer);
        resolve({ child, stderr: () => err, exited });
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`sniffer run exited early (${String(code)}): ${err}`));
    });
  });
}

function stats(control: string): { sources: { received: number; kernel_drops: number; if_drops: number; pcap_received: number }[]; calls_open: number } {
  const r = spawnSync('ip', ['netns', 'exec', nsRx, process.execPath, sniffer, 'stats', '--control', control], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sniffer stats: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof stats>;
}

/** tcpreplay's own count of packets it put on the wire. */
function tcpreplay(args: string[]): number {
  const out = sh('ip', ['netns', 'exec', nsTx, 'tcpreplay', '-i', 'tx0', ...args]);
  const m = /Successful packets:\s+(\d+)/.exec(out);
  if (m === null) throw new Error(`tcpreplay said: ${out}`);
  return Number(m[1]);
}

async function waitFor(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const records = (path: string) => readFileSync(path, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { type: string; call_id: string });
const byCallId = (a: { call_id: string }, b: { call_id: string }) => a.call_id.localeCompare(b.call_id);

describe('sniffer run -i (veth, tcpreplay, offloads on)', () => {
  test('at 1x the records equal analyze of a tcpdump taken at the same time, times, jitter and MOS included', async () => {
    const control = join(dir, 'one.sock');
    const jsonl = join(dir, 'one.jsonl');
    const dump = join(dir, 'one.pcap');
    const daemon = await startDaemon(control, jsonl);
    const tcpdump = spawn('ip', ['netns', 'exec', nsRx, 'tcpdump', '-i', 'rx0', '-w', dump, '--time-stamp-precision=nano', '-B', '65536', '-s', '0', '-U'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let dumpErr = '';
    tcpdump.stderr.on('data', (c: Buffer) => (dumpErr += c.toString()));
    await waitFor('tcpdump to listen', () => dumpErr.includes('listening on'));
    const files = [corpus('basic-caller-bye-pcma.pcap'), corpus('reject-486-busy.pcap')];
    const sent = tcpreplay(files);
    // Calls close on packet time (BYE + 5 s linger); on an idle link the wall clock moves it on.
    await waitFor('every call to close', () => stats(control).calls_open === 0);
    const st = stats(control);
    tcpdump.kill('SIGINT');
    await new Promise((r) => tcpdump.once('exit', r));
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited, daemon.stderr()).toBe(0);
    expect(st.sources[0]).toMatchObject({ received: sent, kernel_drops: 0, if_drops: 0 });

    const live = records(jsonl).sort(byCallId);
    const offline = spawnSync(process.execPath, [sniffer, 'analyze', dump], { env, encoding: 'utf8' });
    expect(offline.status).toBe(0);
    const fromDump = offline.stdout.trim().split('\n').map((l) => JSON.parse(l) as { call_id: string }).sort(byCallId);
    expect(live).toHaveLength(2);
    expect(live).toEqual(fromDump);
    // And the clock-free fields equal analyze of the files tcpreplay sent.
    const original = spawnSync(process.execPath, [sniffer, 'analyze', ...files], { env, encoding: 'utf8' });
    const essence = (r: Record<string, unknown>) => ({
      call_id: r['call_id'], last_sip_code: r['last_sip_code'], end_reason: r['end_reason'], sip_packets: r['sip_packets'],
      streams: (r['streams'] as { ssrc: string; packets: number; lost: number }[]).map((s) => `${s.ssrc} ${s.packets} ${s.lost}`).sort(),
    });
    expect(live.map((r) => essence(r as unknown as Record<string, unknown>))).toEqual(
      original.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).sort((a, b) => String(a['call_id']).localeCompare(String(b['call_id']))).map(essence),
    );
  }, 120_000);

  test('top speed three times in a row: the daemon survives, and received + reported drops equals what tcpreplay sent', async () => {
    for (let round = 1; round <= 3; round++) {
      const control = join(dir, `top${round}.sock`);
      const daemon = await startDaemon(control, join(dir, `top${round}.jsonl`));
      const sent = tcpreplay(['--topspeed', corpus('busy-hour-a.pcap')]);
      // The ring is emptied within a block timeout or two; then the counts are final.
      let st = stats(control);
      await waitFor('delivery to settle', () => {
        const next = stats(control);
        const settled = next.sources[0]!.received + next.sources[0]!.kernel_drops + next.sources[0]!.if_drops === sent;
        st = next;
        return settled;
      }, 20_000).catch(() => undefined);
      const s = st.sources[0]!;
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited, `round ${round}: ${daemon.stderr().slice(-2000)}`).toBe(0);
      expect({ round, accounted: s.received + s.kernel_drops + s.if_drops }).toEqual({ round, accounted: sent });
      expect(s.pcap_received).toBe(sent);
    }
  }, 240_000);
});
