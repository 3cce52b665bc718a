import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, describeConfig, redactConfig } from '@callscope/runtime';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BPF_FILTER, loadSnifferConfig, snifferConfigSchema } from './config.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('sniffer config', () => {
  it('is valid with defaults only, with the values a VoIP engineer expects', () => {
    const { config } = loadSnifferConfig([], {});
    expect(config.sensor).toEqual({ id: 1, name: 'sensor1' });
    expect(config.interfaces).toEqual([]);
    expect(config.capture).toEqual({ snaplen: 65_535, bufferMb: 128, timeoutMs: 100, filters: [] });
    expect(config.hep).toEqual({ listen: null, maxConnections: 256, maxMessageBytes: 65_535, idleTimeoutS: 300 });
    expect(config.replay).toEqual({ files: [], speed: 1, loop: false, shiftToNow: false });
    expect(config.mirror).toEqual({ listen: null, secretFile: null, tlsCert: null, tlsKey: null, maxConnections: 64, maxSensors: 1024, handshakeTimeoutS: 10, idleTimeoutS: 60, maxBatchMb: 64 });
    expect(config.daemon).toEqual({ control: 'var/run/sniffer.sock', statusIntervalS: 10, heartbeatS: 30, memoryLimitMb: 2048, stopTimeoutS: 10 });
    expect(config.bpfFilter).toBe(DEFAULT_BPF_FILTER);
    expect(config.sip).toEqual({ ports: [5060, 5061, 5080] });
    expect(config.rtp.acceptFromSipSource).toBe(false);
    expect(config.decode).toEqual({ vxlanPorts: [4789], tzspPorts: [37008], hepPorts: [9060], maxTunnelDepth: 4 });
    expect(config.calls).toEqual({ maxOpen: 200_000, noAnswerTimeoutS: 300, rtpTimeoutS: 300, absoluteTimeoutS: 14_400, byeTimeoutS: 32, correlationHeaders: [] });
    expect(config.db).toEqual({ url: 'mysql://root@127.0.0.1:3306/callscope', batchSize: 500, batchMs: 200, queueDir: 'var/cdr-queue', queueMaxMb: 1024, waitS: 60, holdS: 60 });
    expect(config.spool).toEqual({ dir: 'var/spool', mode: 'sip_rtp', maxSizeGb: 50, maxAgeDays: 14, compress: 'none', writerThread: true });
    expect(config.log).toEqual({ level: 'info', pretty: null });
  });

  it('takes env overrides named after the JSON path, above the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sniffer-config-'));
    const file = join(dir, 'sniffer.json');
    writeFileSync(file, JSON.stringify({ spool: { maxSizeGb: 10, mode: 'sip' }, interfaces: ['eth1'] }));
    const { config, envOverrides } = loadSnifferConfig(['analyze', 'x.pcap', '--config', file], {
      CALLSCOPE_SNIFFER_SPOOL_MAX_SIZE_GB: '200',
      CALLSCOPE_SNIFFER_SIP_PORTS: '5060,5070',
      CALLSCOPE_DB_URL: 'mysql://cdr:pw@db.example.net/callscope',
    });
    expect(config.spool).toMatchObject({ maxSizeGb: 200, mode: 'sip' });
    expect(config.interfaces).toEqual(['eth1']);
    expect(config.sip.ports).toEqual([5060, 5070]);
    expect(config.db.url).toBe('mysql://cdr:pw@db.example.net/callscope');
    expect(envOverrides).toEqual(['CALLSCOPE_DB_URL', 'CALLSCOPE_SNIFFER_SIP_PORTS', 'CALLSCOPE_SNIFFER_SPOOL_MAX_SIZE_GB']);
  });

  it.each([
    [{ CALLSCOPE_SNIFFER_SPOOL_MODE: 'all' }, 'spool.mode: must be one of "sip_rtp", "sip", "rtp_headers", got "all" (from env CALLSCOPE_SNIFFER_SPOOL_MODE)'],
    [{ CALLSCOPE_SNIFFER_SIP_PORTS: '5060,70000' }, 'sip.ports[1]: must be <= 65535, got 70000 (from env CALLSCOPE_SNIFFER_SIP_PORTS)'],
    [{ CALLSCOPE_SNIFFER_DECODE_HEP_PORTS: '9060,4789' }, 'decode.hepPorts[1]: port 4789 is already in decode.vxlanPorts (from env CALLSCOPE_SNIFFER_DECODE_HEP_PORTS)'],
    [{ CALLSCOPE_SNIFFER_MIRROR_LISTEN: '0.0.0.0:5030' }, 'mirror.secretFile: is required when mirror.listen is set'],
    [{ CALLSCOPE_SNIFFER_MIRROR_TLS_CERT: 'cert.pem' }, 'mirror.tlsKey: mirror.tlsCert and mirror.tlsKey go together'],
    [{ CALLSCOPE_SNIFFER_MIRROR_SECRET: 'x' }, 'unknown setting: CALLSCOPE_SNIFFER_MIRROR_SECRET'],
    [{ CALLSCOPE_SNIFFER_SENSOR_ID: '-1' }, 'sensor.id: must be >= 0, got -1'],
    [{ CALLSCOPE_SNIFFER_HEP_LISTEN: '0.0.0.0:4789' }, "hep.listen: port 4789 is in decode.vxlanPorts: the HEP collector's port must decode as HEP"],
    [{ CALLSCOPE_SNIFFER_HEP_LISTEN: 'everywhere' }, 'hep.listen: must match pattern'],
    [{ CALLSCOPE_SNIFFER_CAPTURE_BUFFER_MB: '0' }, 'capture.bufferMb: must be >= 1, got 0'],
    [{ CALLSCOPE_SNIFFER_DB_URL: 'postgres://x@y/z' }, 'db.url: must match pattern "^(mysql|mariadb)://", got "postgres://x@y/z"'],
    [{ CALLSCOPE_SNIFFER_CALLS_ABSOLUTE_TIMEOUT_S: '60' }, 'calls.absoluteTimeoutS: must be at least calls.noAnswerTimeoutS (300)'],
    [{ CALLSCOPE_SNIFFER_SPOOL_MAXSIZE: '1' }, 'unknown setting: CALLSCOPE_SNIFFER_SPOOL_MAXSIZE'],
  ])('rejects %j with a clear message', (env, message) => {
    expect(configError(() => loadSnifferConfig([], env)).message).toContain(message);
  });

  it('redacts the database password when the config is logged', () => {
    const { config } = loadSnifferConfig([], { CALLSCOPE_DB_URL: 'mysql://cdr:pw-123@db/callscope' });
    const text = JSON.stringify(redactConfig(config, snifferConfigSchema));
    expect(text).not.toContain('pw-123');
    expect(text).toContain('mysql://cdr:');
  });

  it('tells settings given by the file or environment from built-in defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sniffer-config-'));
    const file = join(dir, 'sniffer.json');
    writeFileSync(file, JSON.stringify({ spool: { dir: 'var/spool' }, calls: { maxOpen: 10 } }));
    expect([...loadSnifferConfig([], {}).explicit]).toEqual([]);
    const fromFile = loadSnifferConfig(['--config', file], {});
    // The file repeats the default spool.dir: still explicit, the user asked for it.
    expect([...fromFile.explicit].sort()).toEqual(['calls.maxOpen', 'spool.dir']);
    expect(loadSnifferConfig([], { CALLSCOPE_DB_URL: 'mysql://x@db/cs' }).explicit.has('db.url')).toBe(true);
    expect(loadSnifferConfig([], { CALLSCOPE_SNIFFER_DB_URL: 'mysql://x@db/cs' }).explicit.has('db.url')).toBe(true);
    expect(loadSnifferConfig([], { CALLSCOPE_SNIFFER_CONFIG: file }).explicit.has('spool.dir')).toBe(true);
  });

  it('documents every setting with its variable for --help', () => {
    const help = describeConfig('sniffer', snifferConfigSchema);
    expect(help).toContain('env CALLSCOPE_SNIFFER_SPOOL_MAX_SIZE_GB');
    expect(help).toContain('env CALLSCOPE_SNIFFER_DB_URL (or CALLSCOPE_DB_URL)');
  });
});
