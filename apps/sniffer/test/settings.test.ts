/**
 * Issue 11: every sniffer setting is read, and changing it changes what the commands do. Each test
 * runs a command in-process with a config file (or environment) that sets one setting and compares
 * with the defaults. Settings that need MySQL use the MariaDB at CALLSCOPE_DB_URL
 * (default mysql://root@127.0.0.1:3306), one throw-away database per test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, describe, expect, test } from 'vitest';
import { PacketPipeline } from '@callscope/call-engine';
import { createDecodedPacket, DecodeStatus, PacketDecoder, Transport } from '@callscope/packet';
import { PcapResolution, PCAP_GLOBAL_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH, serializePcapGlobalHeader, serializePcapRecordHeader, type PacketRecord } from '@callscope/pcap-format';
import { readCaptureFile } from '@callscope/pcap-store';
import type { CallRecord } from '@callscope/cdr-model';
import { loadSnifferConfig } from '../src/config.js';
import { pipelineOptionsFrom, runAnalyze } from '../src/cli/analyze.cli.js';
import { runLive } from '../src/cli/live.cli.js';
import { ExitCode } from '../src/cli/exit-code.js';
import { TextSink } from './text-sink.js';

const root = new URL('../../../', import.meta.url).pathname;
const corpus = (name: string) => join(root, 'fixtures/corpus', name);
const serverUrl = process.env['CALLSCOPE_DB_URL'] ?? 'mysql://root@127.0.0.1:3306/callscope';
const databases: string[] = [];

interface Run {
  code: number;
  records: CallRecord[];
  stderr: string;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sniffer-settings-'));
}

/** The environment of a run whose config file holds `config` (none: no file at all). */
function envWith(config: object | null, env: Record<string, string> = {}): Record<string, string> {
  if (config === null) return env;
  const file = join(tempDir(), 'sniffer.json');
  writeFileSync(file, JSON.stringify(config));
  return { ...env, CALLSCOPE_SNIFFER_CONFIG: file };
}

/** `sniffer analyze <args>` in-process with a config file holding `config`. */
async function analyze(args: readonly string[], config: object | null = null, env: Record<string, string> = {}): Promise<Run> {
  const stdout = new TextSink();
  const stderr = new TextSink();
  const code = await runAnalyze(args, { stdout, stderr, env: envWith(config, env) });
  const text = stdout.text.trim();
  return { code, records: text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as CallRecord), stderr: stderr.text };
}

/** A fresh database URL on the test server (dropped after the file). */
function freshDatabase(): string {
  const name = `callscope_t_settings_${process.pid}_${databases.length}_${Math.random().toString(36).slice(2, 8)}`;
  databases.push(name);
  return Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();
}

async function countCdrs(url: string): Promise<number> {
  const conn = await createConnection({ uri: url });
  try {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM cdr');
    return Number(rows[0]!['n']);
  } finally {
    await conn.end();
  }
}

afterAll(async () => {
  if (databases.length === 0) return;
  const conn = await createConnection({ uri: Object.assign(new URL(serverUrl), { pathname: '/' }).toString() });
  for (const name of databases) await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await conn.end();
});

/** Every file below `dir`, relative names. */
/** The members (chunk pcaps) of every segment archive under `dir`, as GNU tar lists them. */
function membersUnder(dir: string): string[] {
  return filesUnder(dir)
    .filter((f) => f.endsWith('.tar'))
    .flatMap((f) => execFileSync('tar', ['tf', f], { encoding: 'utf8' }).split('\n').filter((l) => l !== ''));
}

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** A copy of a corpus capture as a nanosecond pcap holding only the records `keep` accepts. */
async function filteredCapture(name: string, keep: (rec: PacketRecord) => boolean): Promise<string> {
  const kept: { tsSec: number; tsNsec: number; origLen: number; data: Uint8Array; linkType: number }[] = [];
  await readCaptureFile(corpus(name), (rec) => {
    if (keep(rec)) kept.push({ tsSec: rec.tsSec, tsNsec: rec.tsNsec, origLen: rec.origLen, data: rec.data.slice(0, rec.capLen), linkType: rec.linkType });
  });
  const size = PCAP_GLOBAL_HEADER_LENGTH + kept.reduce((n, r) => n + PCAP_RECORD_HEADER_LENGTH + r.data.length, 0);
  const out = new Uint8Array(size);
  let off = serializePcapGlobalHeader(out, 0, kept[0]!.linkType, 262_144, PcapResolution.NANOSECONDS);
  for (const r of kept) {
    off += serializePcapRecordHeader(out, off, r.tsSec, r.tsNsec, r.data.length, r.origLen, PcapResolution.NANOSECONDS);
    out.set(r.data, off);
    off += r.data.length;
  }
  const file = join(tempDir(), name);
  writeFileSync(file, out);
  return file;
}

/** Whether a record is SIP signalling (UDP/TCP to or from 5060) as the default decoder sees it. */
function isSip(rec: PacketRecord): boolean {
  const out = createDecodedPacket();
  const st = new PacketDecoder().decode(rec.data, 0, rec.capLen, rec.linkType, rec.tsSec, rec.tsNsec, out);
  return st === DecodeStatus.Ok && (out.transport === Transport.Udp || out.transport === Transport.Tcp) && (out.srcPort === 5060 || out.dstPort === 5060);
}

describe('sensor, sip, decode and calls settings change the analysis', () => {
  test('sensor.name names the records', async () => {
    expect((await analyze([corpus('cancel-487.pcap')])).records[0]?.sensor).toBe('sensor1');
    expect((await analyze([corpus('cancel-487.pcap')], { sensor: { name: 'edge-7' } })).records[0]?.sensor).toBe('edge-7');
  });

  test('sip.ports: SIP over TCP is followed on the listed ports only', async () => {
    expect((await analyze([corpus('sip-tcp.pcap')])).records).toHaveLength(1);
    expect((await analyze([corpus('sip-tcp.pcap')], { sip: { ports: [5070] } })).records).toHaveLength(0);
  });

  test('decode.vxlanPorts: every listed port decodes (4789 second in the list); an empty list turns VXLAN off', async () => {
    const capture = corpus('encap-vxlan-reinvite-hold.pcap');
    const plain = await analyze([capture]);
    expect(plain.records).toHaveLength(1);
    expect((await analyze([capture], { decode: { vxlanPorts: [8472, 4789] } })).records).toEqual(plain.records);
    expect((await analyze([capture], { decode: { vxlanPorts: [] } })).records).toHaveLength(0);
  });

  test('decode.tzspPorts and decode.hepPorts reach the decoder whole (the lib test decodes each port)', () => {
    const { config } = loadSnifferConfig([], { CALLSCOPE_SNIFFER_DECODE_TZSP_PORTS: '37008,37009', CALLSCOPE_SNIFFER_DECODE_HEP_PORTS: '9060,9061,9062' });
    const decoder = new PacketPipeline(pipelineOptionsFrom(config, 's'), { onCall: () => undefined, onRegister: () => undefined }).decoder;
    expect([decoder.options.tzspPorts, decoder.options.hepPorts]).toEqual([[37008, 37009], [9060, 9061, 9062]]);
  });

  test('decode.maxTunnelDepth: 0 refuses the VXLAN capture', async () => {
    const r = await analyze([corpus('encap-vxlan-reinvite-hold.pcap')], { decode: { maxTunnelDepth: 0 } });
    expect(r.records).toHaveLength(0);
    expect(r.stderr).toContain('TunnelDepthExceeded');
  });

  test('calls.maxOpen: a cap of 1 evicts calls of the busy hour', async () => {
    expect((await analyze([corpus('busy-hour-a.pcap')])).stderr).not.toContain('evicted');
    expect((await analyze([corpus('busy-hour-a.pcap')], { calls: { maxOpen: 1 } })).stderr).toMatch(/, [1-9]\d* calls evicted by the table cap/);
  });

  test('calls.noAnswerTimeoutS: a 1 s limit closes a call ringing longer than that', async () => {
    const [plain] = (await analyze([corpus('cancel-487.pcap')])).records;
    const [short] = (await analyze([corpus('cancel-487.pcap')], { calls: { noAnswerTimeoutS: 1 } })).records;
    expect(plain?.end_reason).toBe('cancelled');
    expect(short?.end_reason).not.toBe('cancelled');
  });

  test('calls.absoluteTimeoutS: a 2 s limit cuts an 8 s call', async () => {
    const base = { calls: { noAnswerTimeoutS: 1 } };
    const [plain] = (await analyze([corpus('basic-caller-bye-pcma.pcap')], base)).records;
    const [cut] = (await analyze([corpus('basic-caller-bye-pcma.pcap')], { calls: { noAnswerTimeoutS: 1, absoluteTimeoutS: 2 } })).records;
    expect(plain?.end_reason).toBe('bye_confirmed');
    expect(cut?.end_reason).not.toBe('bye_confirmed');
    expect(cut!.duration).toBeLessThan(plain!.duration);
  });

  test('calls.rtpTimeoutS: an answered call with no RTP closes after 1 s of silence', async () => {
    const sipOnly = await filteredCapture('basic-caller-bye-pcma.pcap', isSip);
    const [plain] = (await analyze([sipOnly])).records;
    const [quiet] = (await analyze([sipOnly], { calls: { rtpTimeoutS: 1 } })).records;
    expect(plain?.end_reason).toBe('bye_confirmed');
    expect(quiet?.end_reason).not.toBe('bye_confirmed');
  });

  test('calls.byeTimeoutS and rtp.acceptFromSipSource reach the call table (engine tests show their effect)', () => {
    const { config } = loadSnifferConfig([], { CALLSCOPE_SNIFFER_CALLS_BYE_TIMEOUT_S: '7', CALLSCOPE_SNIFFER_RTP_ACCEPT_FROM_SIP_SOURCE: 'true' });
    const calls = pipelineOptionsFrom(config, 's').calls;
    expect([calls.byeTimeoutS, calls.acceptRtpFromSipSource]).toEqual([7, true]);
  });
});

describe('spool settings', () => {
  test('spool.dir: from the config file, analyze spools there; the built-in default spools nothing', async () => {
    const dir = join(tempDir(), 'spool');
    const configured = await analyze([corpus('cancel-487.pcap')], { spool: { dir } });
    expect(configured.stderr).toContain(`spooling call packets under ${dir} (config spool.dir`);
    expect(filesUnder(dir).some((f) => f.endsWith('/seg.0.tar'))).toBe(true);
    expect(membersUnder(dir).some((m) => m.includes('.sip.'))).toBe(true);
    const plain = await analyze([corpus('cancel-487.pcap')]);
    expect(plain.stderr).not.toMatch(/^spool:/m);
    const off = join(tempDir(), 'spool');
    expect((await analyze([corpus('cancel-487.pcap'), '--no-spool'], { spool: { dir: off } })).stderr).not.toMatch(/^spool:/m);
    expect(filesUnder(off)).toEqual([]);
  });

  test('spool.dir from the environment, and --spool wins over it', async () => {
    const fromEnv = join(tempDir(), 'spool');
    const flag = join(tempDir(), 'spool');
    await analyze([corpus('cancel-487.pcap')], null, { CALLSCOPE_SNIFFER_SPOOL_DIR: fromEnv });
    expect(filesUnder(fromEnv)).not.toEqual([]);
    const other = join(tempDir(), 'spool');
    await analyze([corpus('cancel-487.pcap'), `--spool=${flag}`], null, { CALLSCOPE_SNIFFER_SPOOL_DIR: other });
    expect([filesUnder(flag).length > 0, filesUnder(other)]).toEqual([true, []]);
  });

  test('spool.mode: sip keeps no RTP chunks', async () => {
    const full = join(tempDir(), 'spool');
    const sip = join(tempDir(), 'spool');
    await analyze([corpus('basic-caller-bye-pcma.pcap'), '--spool', full]);
    await analyze([corpus('basic-caller-bye-pcma.pcap'), '--spool', sip], { spool: { mode: 'sip' } });
    expect(membersUnder(full).some((m) => m.includes('.rtp.'))).toBe(true);
    expect(membersUnder(sip).some((m) => m.includes('.rtp.'))).toBe(false);
    expect(membersUnder(sip).some((m) => m.includes('.sip.'))).toBe(true);
  });

  test.each([
    ['zstd', '.pcap.zst'],
    ['gzip', '.pcap.gz'],
    ['none', '.pcap'],
  ])('spool.compress: %s chunks', async (compress, suffix) => {
    const dir = join(tempDir(), 'spool');
    await analyze([corpus('cancel-487.pcap'), '--spool', dir], { spool: { compress } });
    const members = membersUnder(dir);
    expect(members.length).toBeGreaterThan(0);
    expect(members.every((m) => m.endsWith(suffix))).toBe(true);
  });

  // Regression (issue 11): analyze --spool deleted what it had just written.
  test.each([
    ['spool.maxSizeGb', { maxSizeGb: 1e-9 }],
    ['spool.maxAgeDays', { maxAgeDays: 1e-6 }],
  ])('%s applies only with --spool-retention: without it analyze keeps every call it writes', async (_name, limits) => {
    const kept = join(tempDir(), 'spool');
    const trimmed = join(tempDir(), 'spool');
    const capture = corpus('busy-hour-a.pcap');
    const plain = await analyze([capture, '--spool', kept], { spool: limits });
    expect(plain.code).toBe(ExitCode.Ok);
    const written = membersUnder(kept).length;
    expect(written).toBeGreaterThan(200);
    const retained = await analyze([capture, '--spool', trimmed, '--spool-retention'], { spool: limits });
    expect(retained.code).toBe(ExitCode.Ok);
    expect(membersUnder(trimmed).length).toBeLessThan(written);
  }, 120_000);

  test('--spool-retention without a spool is a usage error', async () => {
    const r = await analyze([corpus('cancel-487.pcap'), '--spool-retention']);
    expect([r.code, r.stderr]).toEqual([ExitCode.Usage, expect.stringContaining('--spool-retention needs a spool') as unknown]);
  });
});

describe('db settings (MariaDB)', () => {
  test('db.url: from the config file analyze writes there; the built-in default alone writes nowhere; --no-db skips it', async () => {
    const url = freshDatabase();
    const configured = await analyze([corpus('cancel-487.pcap')], { db: { url }, log: { level: 'error' } });
    expect(configured.code).toBe(ExitCode.Ok);
    expect(configured.stderr).toContain('(config db.url; --no-db to skip)');
    expect(configured.stderr).toMatch(/database: 1 records of this run: 1 in the database \(1 new, 0 already present\), 0 wait in the queue \S+, 0 lost/);
    expect(await countCdrs(url)).toBe(1);
    const skipped = await analyze([corpus('cancel-487.pcap'), '--no-db'], { db: { url } });
    expect(skipped.stderr).not.toMatch(/^database:/m);
    const plain = await analyze([corpus('cancel-487.pcap')]);
    expect(plain.stderr).not.toMatch(/^database:|writing records/m);
    expect(await countCdrs(url)).toBe(1);
  }, 60_000);

  test('db.url from CALLSCOPE_DB_URL applies too', async () => {
    const url = freshDatabase();
    const r = await analyze([corpus('reject-486-busy.pcap')], { log: { level: 'error' } }, { CALLSCOPE_DB_URL: url });
    expect(r.stderr).toContain('1 in the database (1 new, 0 already present)');
    expect(await countCdrs(url)).toBe(1);
  }, 60_000);

  test('db.batchSize: batches of 1 take one transaction per record', async () => {
    const capture = corpus('busy-hour-a.pcap');
    const batched = await analyze([capture, '--db', freshDatabase()], { log: { level: 'error' } });
    const single = await analyze([capture, '--db', freshDatabase()], { db: { batchSize: 1 }, log: { level: 'error' } });
    expect(batched.stderr).toMatch(/database: 200 records of this run: 200 in the database \(200 new, 0 already present\).*; ([1-9]|[1-9]\d) transactions/);
    expect(single.stderr).toMatch(/200 in the database \(200 new, 0 already present\).*; 200 transactions/);
  }, 120_000);

  test('log.level and log.pretty: what the database writer logs reaches stderr as configured', async () => {
    const info = await analyze([corpus('cancel-487.pcap'), '--db', freshDatabase()]);
    expect(info.stderr).toContain('"msg":"applying schema migration"');
    const quiet = await analyze([corpus('cancel-487.pcap'), '--db', freshDatabase()], { log: { level: 'error' } });
    expect(quiet.stderr).not.toContain('schema migration');
    const pretty = await analyze([corpus('cancel-487.pcap'), '--db', freshDatabase()], { log: { pretty: true } });
    expect(pretty.stderr).toContain('applying schema migration');
    expect(pretty.stderr).not.toContain('"msg":');
  }, 60_000);
});

describe('live settings', () => {
  test('interfaces: without -i, live captures on the configured interfaces (no interface: usage error)', async () => {
    const run = async (config: object | null) => {
      const stdout = new TextSink();
      const stderr = new TextSink();
      const code = await runLive(['--duration', '0.1'], { stdout, stderr, env: envWith(config) });
      return { code, stderr: stderr.text };
    };
    const none = await run(null);
    expect([none.code, none.stderr]).toEqual([ExitCode.Usage, expect.stringContaining('no interface given') as unknown]);
    // Past the interface check: captures on lo for 0.1 s, or says why the binding is unavailable.
    const configured = await run({ interfaces: ['lo'] });
    expect([ExitCode.Ok, ExitCode.LiveUnavailable]).toContain(configured.code);
    if (configured.code === ExitCode.LiveUnavailable) expect(configured.stderr).toMatch(/libpcap|cap/);
  });
});
