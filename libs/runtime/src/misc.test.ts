import { describe, expect, it } from 'vitest';
import { parseServiceArgs, findConfigPath } from './cli-args.js';
import { ConfigError } from './config-error.js';
import { listConfigLeaves } from './config-schema.js';
import { describeConfig } from './describe-config.js';
import { configEnvName, toEnvSegment } from './env-names.js';
import { isLoopbackHost } from './is-loopback-host.js';
import { parseHostPort } from './host-port.js';
import { formatPrettyLine } from './pretty-stream.js';

describe('env names', () => {
  it.each([
    ['maxSizeGb', 'MAX_SIZE_GB'],
    ['manager-api', 'MANAGER_API'],
    ['bpfFilter', 'BPF_FILTER'],
    ['absoluteTimeoutS', 'ABSOLUTE_TIMEOUT_S'],
    ['url', 'URL'],
    ['vxlanPorts', 'VXLAN_PORTS'],
  ])('%s -> %s', (input, expected) => {
    expect(toEnvSegment(input)).toBe(expected);
  });

  it('maps sniffer spool.maxSizeGb to CALLSCOPE_SNIFFER_SPOOL_MAX_SIZE_GB', () => {
    expect(configEnvName('sniffer', ['spool', 'maxSizeGb'])).toBe('CALLSCOPE_SNIFFER_SPOOL_MAX_SIZE_GB');
  });

  it('rejects schemas where two leaves share a variable (TypeError)', () => {
    const schema = {
      type: 'object',
      additionalProperties: false,
      properties: {
        a: { type: 'object', additionalProperties: false, properties: { bC: { type: 'string' } } },
        aB: { type: 'object', additionalProperties: false, properties: { c: { type: 'string' } } },
      },
    };
    expect(() => listConfigLeaves('x', schema)).toThrow(/both map to CALLSCOPE_X_A_B_C/);
  });
});

describe('command line', () => {
  it('parses --config both ways, --help and --check-config', () => {
    expect(parseServiceArgs('demo', ['--config', 'a.json', '--check-config'])).toEqual({ configPath: 'a.json', help: false, checkConfig: true });
    expect(parseServiceArgs('demo', ['--config=b.json', '-h'])).toEqual({ configPath: 'b.json', help: true, checkConfig: false });
    expect(findConfigPath('demo', ['analyze', 'x.pcap', '--format', 'jsonl'])).toBeNull();
  });

  it.each([
    [['--port', '1'], 'unknown argument "--port"'],
    [['--config', 'a', '--config', 'b'], '--config given more than once'],
    [['--config', '--help'], '--config needs a file path'],
    [['--config='], '--config= needs a file path'],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => parseServiceArgs('demo', argv)).toThrow(ConfigError);
    expect(() => parseServiceArgs('demo', argv)).toThrow(message);
  });
});

describe('describeConfig', () => {
  it('lists each leaf with its variable, type and default, and hides secret defaults', () => {
    const text = describeConfig('demo', {
      type: 'object',
      additionalProperties: false,
      properties: {
        db: { type: 'object', additionalProperties: false, properties: { url: { type: 'string', default: 'mysql://root@h/cs' } } },
        ports: { type: 'array', items: { type: 'integer' }, default: [5060] },
        token: { type: 'string', nullable: true, default: 'do-not-print', 'x-secret': true },
      },
    });
    expect(text).toContain('db.url  string, default "mysql://root@h/cs"');
    expect(text).toContain('env CALLSCOPE_DEMO_DB_URL (or CALLSCOPE_DB_URL)');
    expect(text).toContain('ports  list of integer, default [5060]');
    expect(text).toContain('token  string | null, secret');
    expect(text).not.toContain('do-not-print');
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['sensor1.example.net', false],
  ])('%s -> %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('formatPrettyLine', () => {
  it('passes non-JSON through unchanged', () => {
    expect(formatPrettyLine('plain text')).toBe('plain text');
    expect(formatPrettyLine('42')).toBe('42');
  });
});

describe('parseHostPort', () => {
  it.each([
    ['0.0.0.0:5030', { host: '0.0.0.0', port: 5030 }],
    ['sensor-1.example.net:9060', { host: 'sensor-1.example.net', port: 9060 }],
    ['[::]:5030', { host: '::', port: 5030 }],
    ['[2001:db8::1]:1', { host: '2001:db8::1', port: 1 }],
    ['host:0', null],
    ['host:65536', null],
    ['host', null],
    [':5030', null],
    ['::1:5030', null],
  ])('%s -> %j', (text, expected) => {
    expect(parseHostPort(text)).toEqual(expected);
  });
});
